"""Pictures for the interpolation lesson (notebook 03), as ``draw_x``/``update_x``/``plot_x`` trios.

Positions are in *input pixels*: pixel ``j`` has its centre at ``j`` and covers ``[j - 0.5, j + 0.5]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from visual.checks import check_int, check_tensor
from visual.interpolation import (RESAMPLING_METHODS, bilinear_neighbours, linear_interpolate, resample_image,
                                  source_coordinates)
from visual.label_upsampling import feature_map_size
from visual.plots.core import get_axes

__all__ = [
    "INPUT_COLOUR", "OUTPUT_COLOUR", "POINT_COLOUR", "SEQUENTIAL_CMAP", "ANNOTATE_MAX_CELLS", "plot_data",
    "plot_values", "LinearArtists", "draw_linear_interpolation", "update_linear_interpolation",
    "plot_linear_interpolation",
    "GridArtists", "draw_sample_grids", "update_sample_grids", "plot_sample_grids",
    "NeighbourArtists", "draw_bilinear_neighbours", "update_bilinear_neighbours", "plot_bilinear_neighbours",
    "ImageArtists", "draw_interpolation_matrix", "update_interpolation_matrix", "plot_interpolation_matrix",
    "draw_resampling", "update_resampling", "plot_resampling_comparison",
    "feature_drift", "AlignmentArtists", "draw_feature_alignment", "update_feature_alignment",
    "plot_feature_alignment", "plot_timings",
]

# matplotlib's colour-blind-friendly "tab" palette; marker and line style differ too (greyscale).
INPUT_COLOUR = "tab:blue"
OUTPUT_COLOUR = "tab:orange"
POINT_COLOUR = "tab:red"
SEQUENTIAL_CMAP = "cividis"  # lightness rises monotonically: readable in greyscale
ANNOTATE_MAX_CELLS = 256  # write values into image cells only when they stay legible


def plot_data(values: Any, name: str, ndim: int, layout: str) -> torch.Tensor:
    """A real tensor (or nested list) with values, as float64 on the CPU."""
    try:
        values = values if isinstance(values, torch.Tensor) else torch.as_tensor(values, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"{name} must be a tensor or a list of numbers {layout}, got {type(values).__name__}") from err
    check_tensor(values, name, ndim=ndim, layout=layout, dtype="real")
    if values.numel() == 0 or values.device.type == "meta":
        raise ValueError(f"{name} must hold values {layout}, got an empty or meta tensor")
    return values.detach().cpu().double()


def plot_values(image: Any, *, ax: Axes | None = None, title: str | None = None,
                vmin: float | None = None, vmax: float | None = None) -> Axes:
    """A small ``(H, W)`` array as an image, each value written in its cell; ``vmin``/``vmax`` share a range."""
    ax = get_axes(ax, (3.4, 3.4))
    img = plot_data(image, "image", 2, "(H, W)")
    ax.imshow(img.numpy(), cmap=SEQUENTIAL_CMAP, interpolation="nearest", vmin=vmin, vmax=vmax)
    low, high = float(img.min()) if vmin is None else vmin, float(img.max()) if vmax is None else vmax
    if img.numel() <= ANNOTATE_MAX_CELLS:
        for (r, c), value in np.ndenumerate(img.numpy()):
            dark = (value - low) / max(high - low, 1e-12) < 0.5  # cividis: dark at the low end
            ax.text(c, r, f"{value:g}", ha="center", va="center", fontsize="small", color="white" if dark else "black")
    ax.set(xlabel="x (pixels)", ylabel="y (pixels)", title=title or f"{img.shape[0]}\u00d7{img.shape[1]}",
           xticks=range(img.shape[1]), yticks=range(img.shape[0]))
    return ax


# ----------------------------------------------------------------------- 1-D linear interpolation
@dataclass
class LinearArtists:
    ax: Axes
    values: torch.Tensor  # (L,) the input signal
    outputs: Any  # Line2D: output samples at the positions they read
    unclamped: Any  # Line2D: where the bare formula would read
    stems: LineCollection
    low: float  # bottom of the stems


def draw_linear_interpolation(ax: Axes, values: Any) -> LinearArtists:
    """The input samples of ``values`` ``(L,)`` and the line through them; empty output artists."""
    signal = plot_data(values, "values", 1, "(L,)")
    n = len(signal)
    for edge in range(n + 1):  # input pixel boundaries
        ax.axvline(edge - 0.5, color="0.85", lw=0.8, zorder=0)
    ax.plot(range(n), signal, "--", color=INPUT_COLOUR, alpha=0.7, label="line through the input samples")
    ax.plot(range(n), signal, "o", color=INPUT_COLOUR, ms=10, label=f"input samples ({n})")
    stems = ax.add_collection(LineCollection([], colors=OUTPUT_COLOUR, linewidths=0.8, alpha=0.6))
    (outputs,) = ax.plot([], [], "s", color=OUTPUT_COLOUR, ms=6, label="output samples")
    (unclamped,) = ax.plot([], [], "s", mfc="none", mec=POINT_COLOUR, ms=6, label="bare formula (clamped)")
    low, high = min(0.0, float(signal.min())), float(signal.max())
    ax.set(xlim=(-1.0, n), ylim=(low, high + 0.1 * (high - low) + 1e-9),
           xlabel="position (input pixels; pixel j is centred at j)", ylabel="value")
    ax.legend(loc="upper right", fontsize="small")
    return LinearArtists(ax, signal, outputs, unclamped, stems, low)


def update_linear_interpolation(artists: LinearArtists, size: int, align_corners: bool, *, note: str = "") -> None:
    """Show ``linear_interpolate`` of the signal to ``size`` samples; ``note`` ends the title."""
    n = len(artists.values)
    out = linear_interpolate(artists.values[None, None], size=size, align_corners=align_corners)[0, 0]  # (size,)
    pos = source_coordinates(size, n, align_corners).tolist()
    raw = source_coordinates(size, n, align_corners, raw=True).tolist()
    artists.outputs.set_data(pos, out.tolist())
    off = [(r, v) for r, p, v in zip(raw, pos, out.tolist()) if abs(r - p) > 1e-12]
    artists.unclamped.set_data([r for r, _ in off], [v for _, v in off])
    artists.stems.set_segments([[(p, artists.low), (p, v)] for p, v in zip(pos, out.tolist())])
    artists.ax.set_title(f"linear interpolation {n} \u2192 {size} samples, align_corners={align_corners}"
                         + (f"\n{note}" if note else ""))


def plot_linear_interpolation(values: Any, size: int, *, align_corners: bool = False, ax: Axes | None = None) -> Axes:
    """Input samples (circles), the line through them (dashed) and the output samples (squares)
    where they read it; hollow squares mark reads the border clamped."""
    ax = get_axes(ax, (7.0, 3.6))
    update_linear_interpolation(draw_linear_interpolation(ax, values), size, align_corners)
    return ax


# ----------------------------------------------------------------------- two pixel grids
@dataclass
class GridArtists:
    ax: Axes
    in_size: int
    out_grid: LineCollection
    out_centres: Any  # Line2D
    readout: Any  # Text under the axes


def draw_sample_grids(ax: Axes, in_size: int) -> GridArtists:
    """The ``in_size x in_size`` input pixel grid and its centres; empty output artists."""
    in_size = check_int(in_size, "in_size", minimum=1, maximum=64)
    edges = [e - 0.5 for e in range(in_size + 1)]
    lines = [[(e, edges[0]), (e, edges[-1])] for e in edges] + [[(edges[0], e), (edges[-1], e)] for e in edges]
    ax.add_collection(LineCollection(lines, colors=INPUT_COLOUR, linewidths=1.6))
    yy, xx = np.mgrid[0:in_size, 0:in_size]
    ax.plot(xx.ravel(), yy.ravel(), "o", color=INPUT_COLOUR, ms=9,
            label=f"input pixel centres ({in_size}\u00d7{in_size})")
    out_grid = ax.add_collection(LineCollection([], colors=OUTPUT_COLOUR, linewidths=0.9, linestyles="--"))
    (out_centres,) = ax.plot([], [], "x", color=OUTPUT_COLOUR, ms=6, mew=1.6, label="output pixel centres")
    readout = ax.text(0.5, -0.14, "", transform=ax.transAxes, ha="center", va="top", fontsize="small")
    ax.set(aspect="equal", xlabel="x (input pixels)", ylabel="y (input pixels)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.08), fontsize="small", ncol=2)
    return GridArtists(ax, in_size, out_grid, out_centres, readout)


def update_sample_grids(artists: GridArtists, out_size: int, align_corners: bool) -> None:
    """Lay the ``out_size``-pixel grid over the input: centres at the *raw* source coordinates."""
    n = artists.in_size
    c = source_coordinates(out_size, n, align_corners, raw=True).tolist()
    step = ((n - 1) / (out_size - 1) if out_size > 1 else 0.0) if align_corners else n / out_size
    e = [x - step / 2 for x in c] + [c[-1] + step / 2]
    artists.out_grid.set_segments([[(x, e[0]), (x, e[-1])] for x in e] + [[(e[0], y), (e[-1], y)] for y in e])
    artists.out_centres.set_data([x for _ in c for x in c], [y for y in c for _ in c])
    pad = 0.2 + max(0.0, -0.5 - e[0], e[-1] - (n - 0.5))
    artists.ax.set(xlim=(-0.5 - pad, n - 0.5 + pad), ylim=(n - 0.5 + pad, -0.5 - pad))
    artists.ax.set_title(f"{n}\u00d7{n} \u2192 {out_size}\u00d7{out_size}, align_corners={align_corners}")
    shown = ", ".join(f"{v:.2f}" for v in c[:8]) + (", \u2026" if len(c) > 8 else "")
    artists.readout.set_text(f"output centres read input x = [{shown}]")


def plot_sample_grids(in_size: int = 4, out_size: int = 8, *, align_corners: bool = False,
                      ax: Axes | None = None) -> Axes:
    """An ``in x in`` pixel grid and where an ``out x out`` grid lands on it: the outer *edges*
    coincide (``align_corners=False``) or the corner pixel *centres* (``True``)."""
    ax = get_axes(ax, (4.8, 5.4))
    update_sample_grids(draw_sample_grids(ax, in_size), out_size, align_corners)
    return ax


# ----------------------------------------------------------------------- one point, four neighbours
@dataclass
class NeighbourArtists:
    ax: Axes
    image: torch.Tensor  # (H, W)
    cell: Rectangle
    rings: list[Any]  # one Line2D per neighbour, size ~ weight
    labels: list[Any]  # one Text per neighbour
    point: Any  # Line2D: the star at P


def draw_bilinear_neighbours(ax: Axes, image: Any) -> NeighbourArtists:
    """A small ``(H, W)`` image with its values; empty artists for the point and its neighbours."""
    img = plot_data(image, "image", 2, "(H, W)")
    ax.imshow(img.numpy(), cmap=SEQUENTIAL_CMAP, interpolation="nearest")
    if img.numel() <= ANNOTATE_MAX_CELLS:
        for (r, c), value in np.ndenumerate(img.numpy()):
            ax.text(c, r + 0.3, f"{value:g}", ha="center", va="center", fontsize="small", color="white",
                    bbox={"boxstyle": "round,pad=0.1", "fc": "black", "alpha": 0.35, "lw": 0})
    cell = ax.add_patch(Rectangle((0, 0), 1, 1, fill=False, ec="white", lw=1.5, ls="--"))
    rings = [ax.plot([], [], "o", mfc="none", mec="white", mew=2)[0] for _ in range(4)]
    labels = [ax.text(0, 0, "", color="white", fontsize="small", fontweight="bold") for _ in range(4)]
    (point,) = ax.plot([], [], "*", color=POINT_COLOUR, ms=16, mec="white", label="P")
    ax.set(xlabel="x (pixels)", ylabel="y (pixels)")
    ax.legend(loc="upper right", fontsize="small")
    return NeighbourArtists(ax, img, cell, rings, labels, point)


def update_bilinear_neighbours(artists: NeighbourArtists, x: float, y: float) -> None:
    """Move ``P`` to ``(x, y)``: rings sized by the four weights, title ``sum(w * v)``."""
    h, w = artists.image.shape
    neighbours = bilinear_neighbours(x, y, h, w)
    value = sum(n.weight * float(artists.image[n.row, n.col]) for n in neighbours)
    for ring, label, n in zip(artists.rings, artists.labels, neighbours):
        ring.set_data([n.col], [n.row])
        ring.set_markersize(8 + 28 * n.weight)
        label.set_position((n.col + 0.08, n.row - 0.12))
        label.set_text(f"w={n.weight:.2f}")
    top_left, bottom_right = neighbours[0], neighbours[3]
    width, height = bottom_right.col - top_left.col, bottom_right.row - top_left.row
    artists.cell.set_bounds(top_left.col, top_left.row, width, height)
    artists.point.set_data([x], [y])
    artists.ax.set_title(f"P = ({x:.2f}, {y:.2f}):  \u03a3 w\u00b7v = {value:.3f}")


def plot_bilinear_neighbours(image: Any, x: float, y: float, *, ax: Axes | None = None) -> Axes:
    """A small image, a point ``P = (x, y)``, its four neighbours and their weights."""
    ax = get_axes(ax, (5.0, 4.6))
    update_bilinear_neighbours(draw_bilinear_neighbours(ax, image), x, y)
    return ax


# ----------------------------------------------------------------------- matrices and photos
@dataclass
class ImageArtists:
    ax: Axes
    image: Any  # AxesImage, shown pixel for pixel


def draw_interpolation_matrix(ax: Axes) -> ImageArtists:
    """An empty image of weights in ``[0, 1]`` with a colour bar and integer ticks."""
    image = ax.imshow([[0.0]], cmap=SEQUENTIAL_CMAP, vmin=0.0, vmax=1.0, interpolation="nearest", aspect="auto")
    ax.figure.colorbar(image, ax=ax, label="weight")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="input index", ylabel="output index")
    return ImageArtists(ax, image)


def _show(artists: ImageArtists, pixels: np.ndarray) -> None:
    h, w = pixels.shape[:2]
    artists.image.set_data(pixels)
    artists.image.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
    artists.ax.set(xlim=(-0.5, w - 0.5), ylim=(h - 0.5, -0.5))


def update_interpolation_matrix(artists: ImageArtists, matrix: Any, *, title: str | None = None) -> None:
    """Show ``matrix`` ``(out_size, in_size)``; default title: its shape and non-zeros."""
    a = plot_data(matrix, "matrix", 2, "(out_size, in_size)")
    _show(artists, a.numpy())
    artists.ax.set_title(title or f"A: {a.shape[0]}\u00d7{a.shape[1]}, {int((a != 0).sum())} non-zeros")


def plot_interpolation_matrix(matrix: Any, *, ax: Axes | None = None, title: str | None = None) -> Axes:
    """An interpolation matrix ``A`` (``out x in``) as an image: the band of non-zeros."""
    ax = get_axes(ax, (4.0, 5.0))
    update_interpolation_matrix(draw_interpolation_matrix(ax), matrix, title=title)
    return ax


def draw_resampling(ax: Axes) -> ImageArtists:
    """An empty image without ticks."""
    image = ax.imshow(np.zeros((1, 1, 3)), interpolation="nearest")
    ax.set(xticks=[], yticks=[])
    return ImageArtists(ax, image)


def update_resampling(artists: ImageArtists, resampled: torch.Tensor, method: str) -> None:
    """Show a photo ``(3, H, W)`` resampled by ``method``, pixel for pixel (no display smoothing)."""
    pixels = plot_data(resampled, "resampled", 3, "(3, H, W)").permute(1, 2, 0).float().numpy()  # (H, W, 3)
    _show(artists, pixels)
    artists.ax.set_title(f"{method}: {pixels.shape[0]}\u00d7{pixels.shape[1]} px", fontsize="medium")


def plot_resampling_comparison(image: torch.Tensor, size: Any, *, methods: Sequence[str] | None = None,
                               axes: Sequence[Axes] | None = None) -> list[Axes]:
    """The photo ``(3, H, W)`` resized by several methods (default: all), one Axes per method."""
    methods = list(RESAMPLING_METHODS) if methods is None else list(methods)
    if axes is None:
        _, axes = plt.subplots(1, len(methods), figsize=(2.6 * len(methods), 3.2), layout="constrained",
                               squeeze=False)
        axes = list(axes[0])
    if len(axes) != len(methods):
        raise ValueError(f"axes must hold one Axes per method: {len(methods)} methods, {len(axes)} axes")
    for method, ax in zip(methods, axes):
        update_resampling(draw_resampling(ax), resample_image(image, size, method), method)
    return list(axes)


# ----------------------------------------------------------------------- feature alignment
def feature_drift(in_size: int, output_stride: int, align_corners: bool) -> torch.Tensor:
    """``(h,)``: how far (input pixels) feature ``i``, computed around input pixel ``s * i``, lands
    after upsampling back, at ``source_coordinates(h, in_size, align_corners, raw=True)[i]``."""
    h = feature_map_size(in_size, output_stride)
    landed = source_coordinates(h, in_size, align_corners, raw=True)  # (h,)
    return landed - output_stride * torch.arange(h, dtype=torch.float64)


@dataclass
class AlignmentArtists:
    ax: Axes
    stems: LineCollection
    heads: Any  # Line2D: one dot per feature


def draw_feature_alignment(ax: Axes) -> AlignmentArtists:
    """Empty stems around a zero line."""
    stems = ax.add_collection(LineCollection([], colors=OUTPUT_COLOUR, linewidths=1.0))
    (heads,) = ax.plot([], [], "o", color=OUTPUT_COLOUR, ms=4, label="features")
    ax.axhline(0.0, color="black", lw=0.8)
    return AlignmentArtists(ax, stems, heads)


def update_feature_alignment(artists: AlignmentArtists, in_size: int, output_stride: int, align_corners: bool) -> None:
    """One stem per feature at its drift, ``landed - stride * i`` (px; positive: moved right/down, as notebook 02)."""
    drift = feature_drift(in_size, output_stride, align_corners).tolist()
    worst = max(abs(d) for d in drift)
    artists.stems.set_segments([[(i, 0.0), (i, d)] for i, d in enumerate(drift)])
    artists.heads.set_data(list(range(len(drift))), drift)
    limit = max(1.0, 1.15 * worst)
    artists.ax.set(xlim=(-1, len(drift)), ylim=(-limit, limit), xlabel="feature index i",
                   ylabel=f"drift: landed \u2212 {output_stride}\u00b7i\n(px, + = moved right)")
    artists.ax.set_title(f"{in_size} px \u2192 {len(drift)} features (stride {output_stride}), "
                         f"align_corners={align_corners}:\nfeatures land up to {worst:.2f} px from where they "
                         "were computed")


def plot_feature_alignment(in_size: int, output_stride: int = 8, *, align_corners: bool,
                           ax: Axes | None = None) -> Axes:
    """Where each feature lands after upsampling, relative to the pixel it was computed around."""
    ax = get_axes(ax, (7.0, 3.0))
    update_feature_alignment(draw_feature_alignment(ax), in_size, output_stride, align_corners)
    return ax


def plot_timings(timings: Mapping[str, float], *, ax: Axes | None = None, reference: str | None = None) -> Axes:
    """Horizontal bars of median run times (name -> milliseconds), with ratios to ``reference``."""
    if not isinstance(timings, Mapping) or not timings or reference not in (None, *timings):
        raise TypeError(f"timings must be a non-empty dict of name -> ms holding reference={reference!r}")
    ax = get_axes(ax, (6.5, 0.5 + 0.45 * len(timings)))
    names = list(timings)
    values = [timings[n] for n in names]
    bars = ax.barh(names, values, color=[OUTPUT_COLOUR if n == reference else INPUT_COLOUR for n in names])
    for bar, name, value in zip(bars, names, values):
        ratio = f" ({value / timings[reference]:.2f}\u00d7)" if reference is not None and name != reference else ""
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {value:.0f} ms{ratio}", va="center",
                fontsize="small")
    ax.invert_yaxis()
    ax.set(xlabel="median time (ms)", xlim=(0, max(values) * 1.35), title="run time (lower is faster)")
    return ax
