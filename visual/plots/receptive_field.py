"""Plot helpers for the dilation and receptive-field lesson (notebook 01): ``draw_x`` / ``update_x`` pairs
for what a slider moves, ``plot_x`` for a static figure. Blues and magma survive greyscale."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from visual.checks import check_bool, check_float, check_int, check_tensor
from visual.conv_arithmetic import (
    MAX_MAP_SIDE, effective_kernel_size, gridding_count_map, hdc_max_distance, receptive_field_cone,
    satisfies_hdc, stack_receptive_field,
)
from visual.plots.core import get_axes

__all__ = [
    "kernel_footprint_image", "cone_image", "pixel_grid_segments",
    "KernelArtists", "draw_dilated_kernel", "update_dilated_kernel", "plot_dilated_kernel",
    "ConeArtists", "draw_receptive_field_stack", "update_receptive_field_stack", "plot_receptive_field_stack",
    "GriddingArtists", "draw_gridding", "update_gridding", "plot_gridding",
    "HeatmapArtists", "heatmap_values", "draw_effective_receptive_field", "update_effective_receptive_field",
    "plot_effective_receptive_field", "plot_receptive_field_growth",
]

SPAN_COLOUR = "#e6550d"  # orange outline: the effective kernel span / receptive field
BOX_COLOUR = "#4dac26"  # green dashed box: the theoretical receptive field over a gradient map
FREE_UNIT_GREY = 0.85  # light grey: a unit of the layer that does not feed the output
CONE_FLOOR = 0.3  # the faintest colour (fraction of the colour map) of a unit in the cone
MAX_LAYERS = 64  # layers of a drawn cone (checks.check_ints' default length bound)


def kernel_footprint_image(kernel_size: int, dilation: int, grid: int | None = None) -> np.ndarray:
    """A ``grid x grid`` image (default: effective kernel + 2; not smaller): 1 where a centred kernel reads."""
    k_eff = effective_kernel_size(kernel_size, dilation)
    grid = check_int(k_eff + 2 if grid is None else grid, "grid", minimum=k_eff, maximum=MAX_MAP_SIDE)
    image = np.zeros((grid, grid))
    taps = (grid - k_eff) // 2 + dilation * np.arange(kernel_size)
    image[np.ix_(taps, taps)] = 1.0
    return image


def cone_image(kernel_size: int, stride: int, dilation: int, n_layers: int) -> np.ndarray:
    """The receptive-field cone of one output unit of ``n_layers`` equal layers: ``(n_layers + 1, rf)``, input
    first; ``NaN`` where a layer has no unit, ``-1`` outside the cone, ``CONE_FLOOR .. 1`` inside (more paths)."""
    n_layers = check_int(n_layers, "n_layers", minimum=1, maximum=MAX_LAYERS)
    kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
    rows = receptive_field_cone([kernel_size] * n_layers, stride, dilation)
    steps = stack_receptive_field([kernel_size] * n_layers, stride, dilation)
    jumps, rfs = [1] + [s.jump for s in steps], [1] + [s.rf for s in steps]
    image = np.full((n_layers + 1, rfs[-1]), np.nan)
    for layer, row in enumerate(rows):
        image[layer, ((rfs[layer] - 1) // 2) % jumps[layer]::jumps[layer]] = -1.0  # every unit of this layer
        counts = np.asarray(row, dtype=float)
        inside = counts > 0
        image[layer, inside] = CONE_FLOOR + (1 - CONE_FLOOR) * counts[inside] / counts.max()
    return image


def _cone_cmap() -> Any:
    # bad (NaN): no unit at this position; under (-1): a unit that does not feed the output
    return mpl.colormaps["Blues"].with_extremes(bad="white", under=str(FREE_UNIT_GREY))


def pixel_grid_segments(height: int, width: int) -> list[list[tuple[float, float]]]:
    """Line segments between the pixels of a ``height x width`` image (sides up to ``MAX_MAP_SIDE``)."""
    height = check_int(height, "height", minimum=1, maximum=MAX_MAP_SIDE)
    width = check_int(width, "width", minimum=1, maximum=MAX_MAP_SIDE)
    rows = [[(-0.5, y - 0.5), (width - 0.5, y - 0.5)] for y in range(height + 1)]
    return rows + [[(x - 0.5, -0.5), (x - 0.5, height - 0.5)] for x in range(width + 1)]


@dataclass
class KernelArtists:
    """What ``draw_dilated_kernel`` made: the footprint image, the span outline, the pixel grid."""
    ax: Axes
    image: AxesImage
    span: Rectangle
    grid: LineCollection


def draw_dilated_kernel(ax: Axes, kernel_size: int, dilation: int, *, grid: int | None = None,
                        **kwargs: Any) -> KernelArtists:
    """Draw the input pixels a dilated ``k x k`` kernel reads, and its effective span (dashed)."""
    image = ax.imshow(np.zeros((1, 1)), cmap=kwargs.pop("cmap", "Blues"), vmin=0, vmax=1, **kwargs)
    span = ax.add_patch(Rectangle((0, 0), 1, 1, fill=False, edgecolor=SPAN_COLOUR, linewidth=2.5, linestyle="--"))
    lines = ax.add_collection(LineCollection([], colors="0.75", linewidths=0.5), autolim=False)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
    ax.set(xlabel="input column (pixels)", ylabel="input row (pixels)")
    artists = KernelArtists(ax, image, span, lines)
    update_dilated_kernel(artists, kernel_size, dilation, grid=grid)
    return artists


def update_dilated_kernel(artists: KernelArtists, kernel_size: int, dilation: int, *,
                          grid: int | None = None) -> None:
    """Redraw ``artists`` for a new kernel size and dilation (see ``kernel_footprint_image``)."""
    footprint = kernel_footprint_image(kernel_size, dilation, grid)
    side, k_eff = footprint.shape[0], effective_kernel_size(kernel_size, dilation)
    artists.image.set_data(footprint)
    artists.image.set_extent((-0.5, side - 0.5, side - 0.5, -0.5))
    first = (side - k_eff) // 2
    artists.span.set_bounds(first - 0.5, first - 0.5, k_eff, k_eff)
    artists.grid.set_segments(pixel_grid_segments(side, side))
    artists.ax.set(xlim=(-0.5, side - 0.5), ylim=(side - 0.5, -0.5))
    artists.ax.set_title(f"k={kernel_size}, d={dilation}: effective kernel {k_eff}x{k_eff}\n"
                         f"{kernel_size * kernel_size} pixels read (dark), span dashed", fontsize="medium")


def plot_dilated_kernel(kernel_size: int, dilation: int, *, grid: int | None = None, ax: Axes | None = None,
                        **kwargs: Any) -> Axes:
    """Draw the pixels a dilated ``k x k`` kernel reads in a ``grid`` patch (``kwargs``: ``imshow``'s)."""
    ax = get_axes(ax, figsize=(4.0, 4.0))
    draw_dilated_kernel(ax, kernel_size, dilation, grid=grid, **kwargs)
    return ax


@dataclass
class ConeArtists:
    """What ``draw_receptive_field_stack`` made: the cone image and the "RF = ..." label."""
    ax: Axes
    image: AxesImage
    label: Text


def draw_receptive_field_stack(ax: Axes, kernel_size: int, stride: int = 1, dilation: int = 1,
                               n_layers: int = 3, **kwargs: Any) -> ConeArtists:
    """Draw the cone of ``cone_image`` with an "RF = ..." label (``kwargs``: ``imshow``'s)."""
    image = ax.imshow(np.full((1, 1), np.nan), cmap=_cone_cmap(), vmin=0.0, vmax=1.0, origin="lower",
                      aspect="auto", interpolation="nearest", **kwargs)
    label = ax.text(0.99, 0.03, "", transform=ax.transAxes, ha="right", va="bottom", fontsize="medium",
                    color=SPAN_COLOUR, fontweight="bold")
    ax.set_xlabel("input pixel (from the left edge of the receptive field)")
    artists = ConeArtists(ax, image, label)
    update_receptive_field_stack(artists, kernel_size, stride, dilation, n_layers)
    return artists


def update_receptive_field_stack(artists: ConeArtists, kernel_size: int, stride: int, dilation: int,
                                 n_layers: int) -> None:
    """Redraw the cone for new layer arguments (see ``cone_image``)."""
    image = cone_image(kernel_size, stride, dilation, n_layers)
    width, ax = image.shape[1], artists.ax
    artists.image.set_data(image)
    artists.image.set_extent((-0.5, width - 0.5, -0.5, n_layers + 0.5))
    ax.set(xlim=(-0.5, width - 0.5), ylim=(-0.5, n_layers + 0.5))
    ax.set_yticks(range(n_layers + 1), ["input"] + [f"layer {i}" for i in range(1, n_layers + 1)])
    layers = "1 layer" if n_layers == 1 else f"{n_layers} layers"
    ax.set_title(f"{layers} of k={kernel_size}, stride={stride}, dilation={dilation}: receptive field {width} px")
    artists.label.set_text(f"RF = {width} px")


def plot_receptive_field_stack(kernel_size: int, stride: int = 1, dilation: int = 1, n_layers: int = 3, *,
                               ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Draw the cone of units (one axis) that feed one output unit after ``n_layers`` layers (input at the
    bottom): darker cells feed it along more paths, grey units not at all, white columns have no unit."""
    ax = get_axes(ax, figsize=(8.0, 3.0))
    draw_receptive_field_stack(ax, kernel_size, stride, dilation, n_layers, **kwargs)
    return ax


@dataclass
class GriddingArtists:
    """What ``draw_gridding`` made: the count-map image."""
    ax: Axes
    image: AxesImage


def draw_gridding(ax: Axes, kernel_size: int, dilations: Sequence[int], **kwargs: Any) -> GriddingArtists:
    """Draw the count map of a stack of dilated ``k x k`` convs (holes white)."""
    image = ax.imshow(np.full((1, 1), np.nan), cmap=kwargs.pop("cmap", _cone_cmap()), interpolation="nearest",
                      **kwargs)
    ax.set(xlabel="input column offset (pixels)", ylabel="input row offset (pixels)")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(integer=True))  # offsets are whole pixels
    artists = GriddingArtists(ax, image)
    update_gridding(artists, kernel_size, dilations)
    return artists


def update_gridding(artists: GriddingArtists, kernel_size: int, dilations: Sequence[int]) -> None:
    """Redraw the count map for new rates; the title counts holes and gives the HDC verdict."""
    counts = np.asarray(gridding_count_map(kernel_size, dilations), dtype=float)
    side, half = counts.shape[0], (counts.shape[0] - 1) // 2
    artists.image.set_data(np.where(counts > 0, counts, np.nan))
    artists.image.set_extent((-half - 0.5, side - half - 0.5, side - half - 0.5, -half - 0.5))
    artists.image.set_clim(0, counts.max())
    holes = int((counts == 0).sum())
    lines = [f"rates ({', '.join(str(d) for d in dilations)}), k={kernel_size}, RF {side}x{side}",
             f"{holes} of {side * side} pixels are holes" if holes else "no holes: every pixel counts"]
    if len(dilations) >= 2:
        verdict = "satisfied" if satisfies_hdc(dilations, kernel_size) else "violated"
        lines.append(f"HDC rule (M2={hdc_max_distance(dilations)}): {verdict}")
    artists.ax.set_title("\n".join(lines))


def plot_gridding(kernel_size: int, dilations: Sequence[int], *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Count map of dilated ``k x k`` convs (rates first layer first): paths from each input pixel to
    one output; holes (pixels inside the receptive field that never reach the output) are white."""
    ax = get_axes(ax, figsize=(4.5, 4.5))
    artists = draw_gridding(ax, kernel_size, dilations, **kwargs)
    ax.figure.colorbar(artists.image, ax=ax, label="paths to the output", ticks=MaxNLocator(integer=True))
    return ax


@dataclass
class HeatmapArtists:
    """What ``draw_effective_receptive_field`` made: the heatmap and the theoretical-RF box."""
    ax: Axes
    image: AxesImage
    box: Rectangle
    log: bool


def heatmap_values(heatmap: Any) -> np.ndarray:
    """A finite real ``(H, W)`` tensor or array as a float64 numpy array (TypeError/ValueError otherwise)."""
    if isinstance(heatmap, np.ndarray):
        heatmap = torch.from_numpy(heatmap)
    check_tensor(heatmap, "heatmap", ndim=2, layout="(H, W)", dtype="real", finite=True)
    if heatmap.device.type == "meta":
        raise ValueError("heatmap is on the meta device (no data to draw)")
    return heatmap.detach().cpu().double().numpy()


def draw_effective_receptive_field(ax: Axes, heatmap: Any, *, box: Sequence[float] | None = None, log: bool = False,
                                   title: str = "Effective receptive field", **kwargs: Any) -> HeatmapArtists:
    """Draw a heatmap with its colour bar and a (hidden when ``box`` is ``None``) RF box."""
    log = check_bool(log, "log")
    cmap = kwargs.pop("cmap", "magma")
    cmap = mpl.colormaps[cmap].with_extremes(bad="white") if isinstance(cmap, str) else cmap
    image = ax.imshow(np.zeros((1, 1)), cmap=cmap, interpolation="nearest", **kwargs)
    ax.figure.colorbar(image, ax=ax, label="log10 |d output / d input| (max = 0)" if log else
                       "|d output / d input| (max = 1)")
    rect = ax.add_patch(Rectangle((0, 0), 1, 1, fill=False, edgecolor=BOX_COLOUR, linewidth=2, linestyle="--"))
    ax.set(xlabel="input column (pixels)", ylabel="input row (pixels)")
    artists = HeatmapArtists(ax, image, rect, log)
    update_effective_receptive_field(artists, heatmap, box=box, title=title)
    return artists


def update_effective_receptive_field(artists: HeatmapArtists, heatmap: Any, *, box: Sequence[float] | None = None,
                                     title: str = "Effective receptive field") -> None:
    """Show a new heatmap (``log10(value / max)`` when drawn with ``log=True``) and RF box."""
    values = heatmap_values(heatmap)
    if artists.log:
        with np.errstate(divide="ignore", invalid="ignore"):
            shown = np.where(values > 0, np.log10(values / values.max()), np.nan)  # exact zeros: white
        artists.image.set_data(shown)
        artists.image.set_clim(min(float(np.nanmin(shown)), -1.0) if np.isfinite(shown).any() else -1.0, 0.0)
    else:
        artists.image.set_data(values)
        artists.image.set_clim(0.0, max(float(values.max()), 1e-12))
    artists.image.set_extent((-0.5, values.shape[1] - 0.5, values.shape[0] - 0.5, -0.5))
    artists.box.set_visible(box is not None)
    if box is not None:
        top, left, height, width = (check_float(v, f"box[{i}]") for i, v in enumerate(box))
        artists.box.set_bounds(left - 0.5, top - 0.5, width, height)
        artists.box.set_label(f"theoretical RF {height:g}x{width:g}")
        artists.ax.legend(handles=[artists.box], loc="upper right", fontsize="small")
    artists.ax.set_title(title)


def plot_effective_receptive_field(heatmap: Any, *, box: Sequence[float] | None = None, log: bool = False,
                                   ax: Axes | None = None, title: str = "Effective receptive field",
                                   **kwargs: Any) -> Axes:
    """Show an ERF heatmap, finite ``(H, W)``, with the theoretical RF ``box`` over it.

    Args:
        box: ``(top, left, height, width)`` (``TraceRow.box()``) or ``None``.
        log: show ``log10(value / max)`` so that small values stay visible; exact zeros are white.
    """
    ax = get_axes(ax, figsize=(5.0, 4.2))
    draw_effective_receptive_field(ax, heatmap, box=box, log=log, title=title, **kwargs)
    return ax


def plot_receptive_field_growth(
    curves: Mapping[str, Sequence[float]], *, x: Sequence[float] | None = None, ax: Axes | None = None,
    xlabel: str = "number of layers", ylabel: str = "receptive field (pixels)",
    title: str = "Receptive field growth", **kwargs: Any,
) -> Axes:
    """Line plot of receptive-field sizes per layer, one line per stack (a repeated curve is dashed).

    ``curves``: label -> RF values (pixels), one per entry of ``x`` (default ``1, 2, ..., len(values)``)."""
    if not isinstance(curves, Mapping) or not curves:
        raise TypeError(f"curves must be a non-empty dict label -> values, got {type(curves).__name__}")
    xs_given = None if x is None else [check_float(v, f"x[{i}]") for i, v in enumerate(x)]
    ax = get_axes(ax, figsize=(5.5, 4.0))
    drawn: dict[tuple[float, ...], str] = {}  # curves already drawn, to flag one hidden under another
    for i, (label, values) in enumerate(curves.items()):
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise TypeError(f"curves[{label!r}] must be a sequence of numbers, got {type(values).__name__}")
        ys = [check_float(v, f"curves[{label!r}][{j}]") for j, v in enumerate(values)]
        xs = list(range(1, len(ys) + 1)) if xs_given is None else xs_given
        if len(xs) != len(ys):
            raise ValueError(f"curves[{label!r}] has {len(ys)} values for {len(xs)} x positions")
        same = drawn.setdefault(tuple(ys), label)
        style = {} if same == label else {"linestyle": "--", "label": f"{label} (= {same}, drawn on top)"}
        ax.plot(xs, ys, marker="osD^vP*X"[i % 8], **{"label": label, **kwargs, **style})
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return ax
