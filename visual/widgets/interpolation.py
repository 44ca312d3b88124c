"""Slider explorers for notebook 03: each draws its figure once (``draw_*``); its callback keeps a few
numbers in ``explorer.state`` and calls the matching ``update_*``. Out-of-range initial values raise."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import torch.nn.functional as F

from visual.checks import check_bool, check_choice, check_float, check_int, check_tensor
from visual.data import load_sample_image
from visual.interpolation import (RESAMPLING_METHODS, bilinear_neighbours, interpolation_matrix, linear_interpolate,
                                  resample_image, source_coordinates)
from visual.label_upsampling import SEGMENTATION_UPSAMPLING, toy_label_map, upsample_segmentation
from visual.plots.interpolation import (draw_bilinear_neighbours, draw_feature_alignment, draw_interpolation_matrix,
    draw_linear_interpolation, draw_resampling, draw_sample_grids, feature_drift, plot_data,
    update_bilinear_neighbours, update_feature_alignment, update_interpolation_matrix, update_linear_interpolation,
    update_resampling, update_sample_grids)
from visual.plots.label_upsampling import draw_class_map, update_class_map
from visual.widgets.controls import slider
from visual.widgets.core import Explorer, figure, finish_explorer

__all__ = ["explore_linear_interpolation", "explore_align_corners", "explore_bilinear_point", "explore_resampling",
           "explore_interpolation_matrix", "explore_segmentation_upsampling", "explore_feature_alignment"]

DEFAULT_SIGNAL = (10.0, 20.0, 15.0, 5.0)  # a small 1-D signal with a peak and a slope
# value[r, c] = (r + 1) * (c + 1) is bilinear in (x, y): bilinear interpolation reproduces it exactly.
DEFAULT_POINT_IMAGE = tuple(tuple(float((r + 1) * (c + 1)) for c in range(4)) for r in range(4))  # (4, 4)
PHOTO_SIDE = 256  # the sample photo is resized once to this square before exploring


def _checkbox(value: Any) -> Any:
    return widgets.Checkbox(value=check_bool(value, "align_corners"), description="align_corners")


def explore_linear_interpolation(values: Any = DEFAULT_SIGNAL, size: int = 7, *, align_corners: bool = False,
                                 max_size: int = 24) -> Explorer:
    """Slide the output size (``1..max_size``) and toggle ``align_corners`` on a 1-D signal ``(L,)``; the title shows
    the largest difference to ``F.interpolate(mode="linear")``. ``state``: ``out_val`` ``(size,)``, ``max_error``."""
    max_size = check_int(max_size, "max_size", minimum=1, maximum=512)
    controls = {"size": slider(widgets.IntSlider, size, 1, max_size, "output size", name="size"),
                "align_corners": _checkbox(align_corners)}
    signal = plot_data(values, "values", 1, "(L,)")  # checked before a figure exists
    fig, ax = figure((7.0, 3.6))
    artists = draw_linear_interpolation(ax, signal)
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        out_size, flag = controls["size"].value, controls["align_corners"].value
        signal = artists.values[None, None]  # (1, 1, L)
        ours = linear_interpolate(signal, size=out_size, align_corners=flag)[0, 0]  # (out_size,)
        reference = F.interpolate(signal, size=out_size, mode="linear", align_corners=flag)[0, 0]
        state.update(out_val=ours, max_error=float((ours - reference).abs().max()))
        update_linear_interpolation(artists, out_size, flag,
                                    note=f"max |ours \u2212 F.interpolate| = {state['max_error']:.1e}")
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))


def explore_align_corners(in_size: int = 4, scale_factor: float = 2.0, *, align_corners: bool = False) -> Explorer:
    """Slide the scale factor (0.5..4; output ``floor(in_size * scale_factor)``) and toggle ``align_corners``.
    ``state`` holds ``out_size`` and ``out_centres`` (input pixels)."""
    in_size = check_int(in_size, "in_size", minimum=1, maximum=64)
    controls = {"scale_factor": slider(widgets.FloatSlider, scale_factor, 0.5, 4.0, "scale factor",
                                       name="scale_factor", step=0.25),
                "align_corners": _checkbox(align_corners)}
    fig, ax = figure((5.2, 5.6))
    artists = draw_sample_grids(ax, in_size)
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        flag = controls["align_corners"].value
        out_size = max(1, int(artists.in_size * controls["scale_factor"].value))
        state.update(out_size=out_size, out_centres=source_coordinates(out_size, artists.in_size, flag, raw=True))
        update_sample_grids(artists, out_size, flag)
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))


def explore_bilinear_point(image: Any = DEFAULT_POINT_IMAGE, x: float = 1.3, y: float = 0.6) -> Explorer:
    """Move a point ``P`` inside an image ``(H, W)`` with two sliders and watch its four neighbours' weights.
    ``state`` holds ``neighbours`` and ``value`` (the weighted sum)."""
    img = plot_data(image, "image", 2, "(H, W)")
    h, w = img.shape
    controls = {"x": slider(widgets.FloatSlider, x, 0.0, w - 1.0, "x", name="x", step=0.05),
                "y": slider(widgets.FloatSlider, y, 0.0, h - 1.0, "y", name="y", step=0.05)}
    fig, ax = figure((5.0, 4.8))
    artists = draw_bilinear_neighbours(ax, img)
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        px, py = controls["x"].value, controls["y"].value
        neighbours = bilinear_neighbours(px, py, h, w)
        value = sum(n.weight * float(artists.image[n.row, n.col]) for n in neighbours)
        state.update(neighbours=neighbours, value=value, x=px, y=py)
        update_bilinear_neighbours(artists, px, py)
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))


def explore_resampling(image: Any = None, size: int = 48, method: str = "bilinear") -> Explorer:
    """Shrink a photo ``(3, H, W)`` in ``[0, 1]`` (default: the sample photo) to ``size`` (8..128) pixels.
    ``state`` holds the resampled ``image`` ``(3, size, size)``."""
    if image is None:
        image = load_sample_image(PHOTO_SIDE)
    photo = check_tensor(image, "image", ndim=3, layout="(3, H, W)", dtype="float").detach().float().cpu()
    controls = {"size": slider(widgets.IntSlider, size, 8, 128, "output side", name="size", step=8),
                "method": widgets.Dropdown(options=list(RESAMPLING_METHODS), description="method",
                                           value=check_choice(method, "method", RESAMPLING_METHODS))}
    fig, axes = figure((7.5, 4.0), ncols=2)
    update_resampling(draw_resampling(axes[0]), photo, "original")
    artists = draw_resampling(axes[1])
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        side, name = controls["size"].value, controls["method"].value
        state.update(image=resample_image(photo, side, name))  # (3, side, side)
        update_resampling(artists, state["image"], name)
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))


def explore_interpolation_matrix(out_size: int = 8, in_size: int = 4, *, align_corners: bool = False) -> Explorer:
    """Slide the sizes (output 1..24, input 1..12) and watch the band of the matrix ``A`` (``state``: ``matrix``)."""
    controls = {"out_size": slider(widgets.IntSlider, out_size, 1, 24, "output size", name="out_size"),
                "in_size": slider(widgets.IntSlider, in_size, 1, 12, "input size", name="in_size"),
                "align_corners": _checkbox(align_corners)}
    fig, ax = figure((4.6, 5.0))
    artists = draw_interpolation_matrix(ax)
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        matrix = interpolation_matrix(controls["out_size"].value, controls["in_size"].value,
                                      controls["align_corners"].value)
        state.update(matrix=matrix)
        update_interpolation_matrix(artists, matrix)
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))


def explore_segmentation_upsampling(labels: Any = None, factor: int = 4, method: str = "labels bilinear") -> Explorer:
    """Upsample a label map ``(H, W)`` (default ``toy_label_map()``) by ``factor`` (1..8), count invented ids.
    ``state`` holds ``labels`` (upsampled) and ``invented`` (sorted ids not in the input)."""
    source = toy_label_map() if labels is None else check_tensor(labels, "labels", ndim=2, layout="(H, W)",
                                                                 dtype="integer").detach().long().cpu()
    original = set(source.flatten().tolist())
    controls = {"factor": slider(widgets.IntSlider, factor, 1, 8, "factor", name="factor"),
                "method": widgets.Dropdown(options=list(SEGMENTATION_UPSAMPLING), description="method",
                                           value=check_choice(method, "method", SEGMENTATION_UPSAMPLING))}
    fig, ax = figure((6.2, 4.4))
    artists = draw_class_map(ax)
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        k, name = controls["factor"].value, controls["method"].value
        out = upsample_segmentation(source, (source.shape[0] * k, source.shape[1] * k), name)  # (H*k, W*k)
        invented = sorted(set(out.flatten().tolist()) - original)
        state.update(labels=out, invented=invented)
        update_class_map(artists, out, title=f"{name}, \u00d7{k}: {len(invented)} invented classes",
                         invented=invented)
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))


def explore_feature_alignment(in_size: int = 473, output_stride: int = 8, *, align_corners: bool = True) -> Explorer:
    """Slide the input side (225..545 px): do upsampled features (stride 8 or 16) land where they were computed?
    ``state`` holds ``feature_size`` and ``max_drift`` (pixels)."""
    controls = {"in_size": slider(widgets.IntSlider, in_size, 225, 545, "input side", name="in_size"),
                "output_stride": widgets.Dropdown(options=[8, 16], description="output stride",
                                                  value=check_choice(output_stride, "output_stride", (8, 16))),
                "align_corners": _checkbox(align_corners)}
    fig, ax = figure((7.0, 3.2))
    artists = draw_feature_alignment(ax)
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        side, stride, flag = (controls[k].value for k in ("in_size", "output_stride", "align_corners"))
        drift = feature_drift(side, stride, flag)
        state.update(feature_size=len(drift), max_drift=float(drift.abs().max()))
        update_feature_alignment(artists, side, stride, flag)
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))
