"""Slider explorer of notebook 05: the official protocol's sliding windows for any crop and stride rate."""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as widgets
import torch
import torch.nn.functional as F

from visual.checks import check_float, check_int, check_tensor
from visual.data import load_sample_image
from visual.inference import count_map, scaled_size, sliding_windows
from visual.plots.evaluation import draw_window_grid, update_window_grid
from visual.widgets.controls import slider
from visual.widgets.core import Explorer, figure, finish_explorer

__all__ = ["MIN_CROP", "MAX_CROP", "window_summary", "scaled_photo", "explore_sliding_windows"]

MIN_CROP = 97  # 8 * 12 + 1: the smallest crop the slider offers (still a few features at stride 8)
MAX_CROP = 713  # 8 * 89 + 1: the paper's Cityscapes crop; 473 = 8 * 59 + 1 is VOC's and ADE20K's
CROP_STEP = 8  # crops of 8k + 1 pixels keep the output-stride-8 features aligned (notebook 02)
MIN_RATE, MAX_RATE = 0.25, 1.0


def window_summary(height: int, width: int, crop_size: int = 473, stride_rate: float = 2 / 3) -> dict[str, Any]:
    """The numbers the explorer shows for an ``height x width`` image: ``windows``, ``passes`` (without flip),
    ``stride``, ``canvas`` ``(H', W')``, ``counts`` (the count map), ``max_count``, ``overlap`` (fraction of
    pixels seen more than once) and ``work`` (pixels run through the network / canvas pixels)."""
    windows = sliding_windows(height, width, crop_size, stride_rate)
    counts = count_map(height, width, crop_size, stride_rate)
    return {"windows": windows, "passes": len(windows), "stride": math.ceil(crop_size * stride_rate),
            "canvas": tuple(counts.shape), "counts": counts, "max_count": int(counts.max()),
            "overlap": float((counts > 1).float().mean()), "work": len(windows) * crop_size**2 / counts.numel()}


def scaled_photo(image: torch.Tensor, base_size: int = 512) -> torch.Tensor:
    """The photo as the protocol sees it at scale 1.0: long side ``base_size`` (bilinear)."""
    image = check_tensor(image, "image", ndim=3, layout="(3, H, W)", dtype="float", finite=True)
    base_size = check_int(base_size, "base_size", minimum=MIN_CROP, maximum=MAX_CROP * 3)
    size = scaled_size(image.shape[1], image.shape[2], base_size)
    return F.interpolate(image[None], size=size, mode="bilinear", align_corners=False)[0]  # (3, h, w)


def _readout(summary: dict[str, Any], flip: bool = True) -> str:
    passes = summary["passes"] * (2 if flip else 1)
    return (f"<b>{summary['passes']}</b> crops (<b>{passes}</b> forward passes with flip), stride "
            f"{summary['stride']} px, canvas {summary['canvas'][0]} x {summary['canvas'][1]} px; "
            f"{summary['overlap']:.0%} of the pixels are seen by more than one crop (at most "
            f"{summary['max_count']}); the network runs over {summary['work']:.2f}x the canvas area.")


def explore_sliding_windows(image: torch.Tensor | None = None, *, crop_size: int = 473,
                            stride_rate: float = 2 / 3, base_size: int = 512) -> Explorer:
    """Crop size (8k + 1 px) and stride rate -> the windows over the ``(3, H, W)`` photo (default: the sample
    photo, resized to long side ``base_size`` as the protocol does) and the overlap-count map. Initial values out
    of range raise (never clamped); ``state`` holds the last :func:`window_summary`."""
    crop_size = check_int(crop_size, "crop_size", minimum=MIN_CROP, maximum=MAX_CROP)
    if (crop_size - MIN_CROP) % CROP_STEP:
        raise ValueError(f"crop_size must be {MIN_CROP} + {CROP_STEP} k (8k + 1 px, e.g. 473 or 713), "
                         f"got {crop_size}")
    stride_rate = check_float(stride_rate, "stride_rate", minimum=MIN_RATE, maximum=MAX_RATE)
    photo = scaled_photo(load_sample_image() if image is None else image, base_size)
    _, height, width = photo.shape
    fig, (ax_grid, ax_counts) = figure((11.0, 5.4), 1, 2)
    artists = draw_window_grid(ax_grid, ax_counts, photo, crop_size, stride_rate)
    controls = {"crop_size": slider(widgets.IntSlider, crop_size, MIN_CROP, MAX_CROP, "crop size (px)",
                                   step=CROP_STEP),
                "stride_rate": slider(widgets.FloatSlider, stride_rate, MIN_RATE, MAX_RATE, "stride rate", step=0.01)}
    readout = widgets.HTML()
    explorer = Explorer(widget=None, controls=controls, fig=fig, update=lambda *_: None)

    def update(*_: Any) -> None:
        crop, rate = controls["crop_size"].value, controls["stride_rate"].value
        summary = window_summary(height, width, crop, rate)
        update_window_grid(artists, photo, crop, rate)
        readout.value = _readout(summary)
        explorer.state = summary
        fig.canvas.draw_idle()

    explorer.update = update
    return finish_explorer(explorer, readouts=[readout])
