"""Figures of notebook 05: the sliding-window grid, its overlap-count map, the protocols' cost."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colorbar import Colorbar
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from visual.checks import check_tensor
from visual.inference import IMAGENET_MEAN, count_map, sliding_windows
from visual.plots.core import get_axes

__all__ = ["WindowGridArtists", "window_grid_title", "draw_window_grid", "update_window_grid",
           "plot_window_grid", "plot_protocol_costs"]

COUNT_CMAP = "viridis"  # sequential, readable in greyscale: 1 window dark, many windows bright
WINDOW_COLOUR = "#ffd400"
FIRST_COLOUR = "#e4003a"


@dataclass
class WindowGridArtists:
    """What ``draw_window_grid`` made: the padded photo with its windows, and the count map."""
    photo: AxesImage
    windows: PolyCollection
    first: Rectangle
    counts: AxesImage
    colorbar: Colorbar


def window_grid_title(height: int, width: int, crop_size: int, stride_rate: float) -> tuple[str, str]:
    """The two panel titles: windows and stride, and the range of the count map."""
    windows = sliding_windows(height, width, crop_size, stride_rate)
    rows = len({w[0] for w in windows})
    counts = count_map(height, width, crop_size, stride_rate)
    return (f"{len(windows)} crops of {crop_size}x{crop_size} px ({rows} x {len(windows) // rows}), "
            f"stride {math.ceil(crop_size * stride_rate)} px",
            f"windows per pixel: {int(counts.min())} to {int(counts.max())}")


def _canvas(image: torch.Tensor, crop_size: int) -> np.ndarray:
    """The photo on the padded canvas of test.py (mean colour, top/left half of the padding)."""
    _, h, w = image.shape
    pad_h, pad_w = max(crop_size - h, 0), max(crop_size - w, 0)
    canvas = torch.tensor(IMAGENET_MEAN).div(255).view(3, 1, 1).expand(3, h + pad_h, w + pad_w).clone()
    canvas[:, pad_h // 2:pad_h // 2 + h, pad_w // 2:pad_w // 2 + w] = image.float().clamp(0, 1)
    return canvas.permute(1, 2, 0).numpy()  # (H', W', 3)


def draw_window_grid(ax_grid: Axes, ax_counts: Axes, image: torch.Tensor, crop_size: int = 473,
                     stride_rate: float = 2 / 3) -> WindowGridArtists:
    """Draw the crops of the official protocol over a ``(3, H, W)`` photo in ``[0, 1]`` (already at the scale
    tested) in ``ax_grid``, and how often each pixel is covered in ``ax_counts``."""
    image = check_tensor(image, "image", ndim=3, layout="(3, H, W)", dtype="float", finite=True)
    photo = ax_grid.imshow(_canvas(image, crop_size), interpolation="nearest")
    windows = ax_grid.add_collection(PolyCollection([], facecolors="none", edgecolors=WINDOW_COLOUR, linewidths=1.5))
    first = ax_grid.add_patch(Rectangle((-0.5, -0.5), crop_size, crop_size, fill=False, edgecolor=FIRST_COLOUR,
                                        linewidth=2.5, linestyle="--", label="first crop"))
    ax_grid.legend(handles=[first], loc="lower right")
    counts = ax_counts.imshow(np.ones((1, 1)), cmap=COUNT_CMAP, interpolation="nearest", vmin=1, vmax=4)
    colorbar = ax_counts.figure.colorbar(counts, ax=ax_counts, label="windows covering the pixel")
    colorbar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts are whole numbers
    for ax in (ax_grid, ax_counts):
        ax.set(xlabel="x (pixels, padded canvas)", ylabel="y (pixels)")
    artists = WindowGridArtists(photo, windows, first, counts, colorbar)
    update_window_grid(artists, image, crop_size, stride_rate)
    return artists


def update_window_grid(artists: WindowGridArtists, image: torch.Tensor, crop_size: int,
                       stride_rate: float) -> None:
    """Move the windows and the count map to a new crop size / stride rate (or photo)."""
    _, h, w = image.shape
    windows = sliding_windows(h, w, crop_size, stride_rate)
    counts = count_map(h, w, crop_size, stride_rate).numpy()  # (H', W')
    canvas_h, canvas_w = counts.shape
    extent = (-0.5, canvas_w - 0.5, canvas_h - 0.5, -0.5)
    artists.photo.set_data(_canvas(image, crop_size))
    artists.photo.set_extent(extent)
    artists.windows.set_verts([[(l - 0.5, t - 0.5), (r - 0.5, t - 0.5), (r - 0.5, b - 0.5), (l - 0.5, b - 0.5)]
                               for t, l, b, r in windows])  # pixel edges
    artists.first.set_bounds(-0.5, -0.5, crop_size, crop_size)
    artists.counts.set_data(counts)
    artists.counts.set_extent(extent)
    artists.counts.set_clim(1, max(2, int(counts.max())))
    grid_title, counts_title = window_grid_title(h, w, crop_size, stride_rate)
    for ax, title in ((artists.photo.axes, grid_title), (artists.counts.axes, counts_title)):
        ax.set(xlim=extent[:2], ylim=extent[2:])
        ax.title.set_text(title)  # keeps the height freeze_layout gave it


def plot_window_grid(image: torch.Tensor, crop_size: int = 473, stride_rate: float = 2 / 3,
                     *, axes: Sequence[Axes] | None = None) -> tuple[Axes, Axes]:
    """Static :func:`draw_window_grid` in two ``axes`` (``None``: a new figure); returns ``(ax_grid, ax_counts)``."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11.0, 5.0), layout="constrained")
    ax_grid, ax_counts = axes
    draw_window_grid(ax_grid, ax_counts, image, crop_size, stride_rate)
    return ax_grid, ax_counts


def plot_protocol_costs(labels: Sequence[str], seconds: Sequence[float], passes: Sequence[int],
                        *, ax: Axes | None = None) -> Axes:
    """Horizontal bars: measured seconds per image of each test protocol (``labels``, e.g. ``"whole image"``),
    labelled with its forward passes (``passes``, crops per image)."""
    if not len(labels) == len(seconds) == len(passes) or not labels:
        raise ValueError(f"labels, seconds and passes must have one equal, non-zero length, got "
                         f"{len(labels)}, {len(seconds)}, {len(passes)}")
    ax = get_axes(ax, figsize=(7.0, 0.6 + 0.5 * len(labels)))
    positions = np.arange(len(labels))
    bars = ax.barh(positions, seconds, color="#4477aa")
    ax.bar_label(bars, labels=[f"{s:.2f} s, {p} crops" for s, p in zip(seconds, passes)], padding=3)
    ax.set_yticks(positions, labels)
    ax.invert_yaxis()
    ax.set(xlabel="seconds per image (measured)", xlim=(0, max(seconds) * 1.45), title="cost of the test protocols")
    return ax
