"""Plot helpers for the dilation and receptive-field lesson (notebook 01).

Every helper draws on ``ax`` (a new figure when ``None``) and returns the Axes. Images keep
their artists in ``ax.images[0]`` so slider explorers can update them in place.
Colour maps are sequential with monotonic lightness (Blues, magma), so they survive greyscale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from visual.conv_arithmetic import (
    effective_kernel_size,
    gridding_count_map,
    hdc_max_distance,
    receptive_field_cone,
    satisfies_hdc,
    stack_receptive_field,
)
from visual.plots.core import get_axes

if TYPE_CHECKING:  # pragma: no cover - typing only
    import numpy as np
    import torch
    from matplotlib.axes import Axes

__all__ = [
    "kernel_footprint_image",
    "cone_image",
    "plot_dilated_kernel",
    "plot_receptive_field_stack",
    "plot_receptive_field_growth",
    "plot_gridding",
    "plot_effective_receptive_field",
]

TAP_COLOUR = "#08306b"  # darkest Blues: the pixels a kernel reads
SPAN_COLOUR = "#e6550d"  # orange outline: the effective kernel span / receptive field
FREE_UNIT_GREY = 0.85  # light grey: a unit of the layer that does not feed the output
CONE_FLOOR = 0.3  # the faintest colour (fraction of the colour map) of a unit in the cone


def kernel_footprint_image(kernel_size: int, dilation: int, grid: int | None = None) -> "np.ndarray":
    """A ``grid x grid`` image: 1 where a dilated ``k x k`` kernel reads the input, else 0.

    The kernel is centred in the grid (``grid`` defaults to the effective kernel size + 2).

    Args:
        kernel_size: taps per side (>= 1).
        dilation: spacing between taps (>= 1).
        grid: side of the image in pixels (>= effective kernel size).

    Returns:
        Float array ``(grid, grid)``.

    Raises:
        ValueError: if the kernel does not fit in ``grid``.
    """
    import numpy as np

    k_eff = effective_kernel_size(kernel_size, dilation)
    grid = k_eff + 2 if grid is None else grid
    if grid < k_eff:
        raise ValueError(f"grid={grid} is smaller than the effective kernel size {k_eff}")
    image = np.zeros((grid, grid))
    first = (grid - k_eff) // 2
    taps = first + dilation * np.arange(kernel_size)
    image[np.ix_(taps, taps)] = 1.0
    return image


def cone_image(kernel_size: int, stride: int, dilation: int, n_layers: int) -> "np.ndarray":
    """The receptive-field cone of one output unit, as an image (rows: input first).

    Values: ``NaN`` where a layer has no unit, ``-1`` for a unit outside the cone, and
    ``CONE_FLOOR .. 1`` for units in the cone (more paths, darker), per layer.

    Args:
        kernel_size, stride, dilation: the same for every layer.
        n_layers: number of layers (>= 1).

    Returns:
        Float array ``(n_layers + 1, rf)`` where ``rf`` is the output unit's receptive field.
    """
    import numpy as np

    rows = receptive_field_cone([kernel_size] * n_layers, stride, dilation)
    steps = stack_receptive_field([kernel_size] * n_layers, stride, dilation)
    jumps = [1] + [s.jump for s in steps]
    rfs = [1] + [s.rf for s in steps]
    width = rfs[-1]
    image = np.full((n_layers + 1, width), np.nan)
    for layer, row in enumerate(rows):
        offset = ((rfs[layer] - 1) // 2) % jumps[layer]
        image[layer, offset::jumps[layer]] = -1.0  # every unit of this layer
        counts = np.asarray(row, dtype=float)
        inside = counts > 0
        image[layer, inside] = CONE_FLOOR + (1 - CONE_FLOOR) * counts[inside] / counts.max()
    return image


def _cone_cmap() -> Any:
    import matplotlib as mpl

    # bad (NaN): no unit at this position; under (-1): a unit that does not feed the output
    return mpl.colormaps["Blues"].with_extremes(bad="white", under=str(FREE_UNIT_GREY))


def plot_dilated_kernel(
    kernel_size: int, dilation: int, *, grid: int | None = None, ax: "Axes | None" = None, **kwargs: Any
) -> "Axes":
    """Draw the input pixels a dilated ``k x k`` kernel reads, and its effective span.

    Args:
        kernel_size: taps per side.
        dilation: spacing between taps in input pixels.
        grid: side of the drawn input patch (default: effective kernel size + 2).
        ax: Axes to draw on; a new figure when ``None``.
        **kwargs: passed to ``ax.imshow``.

    Returns:
        The Axes (``ax.images[0]`` is the footprint, ``ax.patches[0]`` the span outline).
    """
    from matplotlib.patches import Rectangle

    ax = get_axes(ax, figsize=(4.0, 4.0))
    image = kernel_footprint_image(kernel_size, dilation, grid)
    side = image.shape[0]
    k_eff = effective_kernel_size(kernel_size, dilation)
    ax.imshow(image, cmap=kwargs.pop("cmap", "Blues"), vmin=0, vmax=1, **kwargs)
    first = (side - k_eff) // 2
    ax.add_patch(Rectangle((first - 0.5, first - 0.5), k_eff, k_eff, fill=False,
                           edgecolor=SPAN_COLOUR, linewidth=2.5, linestyle="--"))
    _pixel_grid(ax, side, side)
    ax.set_title(f"k={kernel_size}, d={dilation}: effective kernel {k_eff}x{k_eff}\n"
                 f"(dark: the {kernel_size * kernel_size} pixels read; dashed: the span)")
    ax.set_xlabel("input column (pixels)")
    ax.set_ylabel("input row (pixels)")
    return ax


def pixel_grid_segments(height: int, width: int) -> list[list[tuple[float, float]]]:
    """Line segments between the pixels of a ``height x width`` image (for a LineCollection)."""
    rows = [[(-0.5, y - 0.5), (width - 0.5, y - 0.5)] for y in range(height + 1)]
    cols = [[(x - 0.5, -0.5), (x - 0.5, height - 0.5)] for x in range(width + 1)]
    return rows + cols


def _pixel_grid(ax: "Axes", height: int, width: int) -> None:
    """Thin lines between pixels (one LineCollection: cheap to redraw) and integer ticks."""
    from matplotlib.collections import LineCollection
    from matplotlib.ticker import MaxNLocator

    ax.add_collection(LineCollection(pixel_grid_segments(height, width), colors="0.75", linewidths=0.5),
                      autolim=False)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))


def plot_receptive_field_stack(
    kernel_size: int, stride: int = 1, dilation: int = 1, n_layers: int = 3, *,
    ax: "Axes | None" = None, **kwargs: Any,
) -> "Axes":
    """Draw the cone of units (one axis) that feed one output unit after ``n_layers`` layers.

    Rows are layers (input at the bottom), columns input pixels; each layer's units sit at the
    centre of their own receptive field. Darker cells feed the output along more paths; light
    grey units of a layer do not feed it; white columns have no unit (stride) or are holes.

    Args:
        kernel_size, stride, dilation: the same for every layer.
        n_layers: number of layers.
        ax: Axes to draw on; a new figure when ``None``.
        **kwargs: passed to ``ax.imshow``.

    Returns:
        The Axes (``ax.images[0]`` is the cone, ``ax.texts[0]`` the RF label).
    """
    ax = get_axes(ax, figsize=(8.0, 3.0))
    image = cone_image(kernel_size, stride, dilation, n_layers)
    width = image.shape[1]
    ax.imshow(image, cmap=_cone_cmap(), vmin=0.0, vmax=1.0, origin="lower", aspect="auto",
              interpolation="nearest", extent=(-0.5, width - 0.5, -0.5, n_layers + 0.5), **kwargs)
    ax.set_yticks(range(n_layers + 1), ["input"] + [f"layer {i}" for i in range(1, n_layers + 1)])
    ax.set_xlabel("input pixel (from the left edge of the receptive field)")
    ax.set_title(f"{_layers(n_layers)} of k={kernel_size}, stride={stride}, dilation={dilation}: "
                 f"receptive field {width} px")
    ax.text(0.99, 0.03, f"RF = {width} px", transform=ax.transAxes, ha="right", va="bottom",
            fontsize="medium", color=SPAN_COLOUR, fontweight="bold")
    return ax


def plot_receptive_field_growth(
    curves: Mapping[str, Sequence[float]], *, x: Sequence[float] | None = None, ax: "Axes | None" = None,
    xlabel: str = "number of layers", ylabel: str = "receptive field (pixels)",
    title: str = "Receptive field growth", **kwargs: Any,
) -> "Axes":
    """Line plot of receptive-field sizes per layer, one line per stack.

    Args:
        curves: label -> RF values (pixels), one per entry of ``x``.
        x: the x positions (e.g. depths); default ``1, 2, ..., len(values)``.
        ax: Axes to draw on; a new figure when ``None``.
        xlabel, ylabel, title: axis labels and title.
        **kwargs: passed to every ``ax.plot``.

    Returns:
        The Axes.
    """
    ax = get_axes(ax, figsize=(5.5, 4.0))
    markers = "osD^vP*X"
    for i, (label, values) in enumerate(curves.items()):
        xs = list(range(1, len(values) + 1)) if x is None else list(x)
        if len(xs) != len(values):
            raise ValueError(f"curve {label!r} has {len(values)} values for {len(xs)} x positions")
        ax.plot(xs, values, marker=markers[i % len(markers)], label=label, **kwargs)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


def plot_gridding(
    kernel_size: int, dilations: Sequence[int], *, ax: "Axes | None" = None, **kwargs: Any
) -> "Axes":
    """Count map of a stack of dilated ``k x k`` convs: paths from each input pixel to one output.

    Holes (pixels inside the receptive field that never reach the output) are white.

    Args:
        kernel_size: side of every kernel.
        dilations: one rate per layer, first layer first.
        ax: Axes to draw on; a new figure when ``None``.
        **kwargs: passed to ``ax.imshow``.

    Returns:
        The Axes (``ax.images[0]`` is the count map).
    """
    import numpy as np

    ax = get_axes(ax, figsize=(4.5, 4.5))
    counts = np.asarray(gridding_count_map(kernel_size, dilations), dtype=float)
    side = counts.shape[0]
    half = (side - 1) // 2
    shown = np.where(counts > 0, counts, np.nan)
    cmap = kwargs.pop("cmap", _cone_cmap())
    ax.imshow(shown, cmap=cmap, vmin=0, vmax=counts.max(), interpolation="nearest",
              extent=(-half - 0.5, side - half - 0.5, side - half - 0.5, -half - 0.5), **kwargs)
    ax.set_title(_gridding_title(kernel_size, dilations, counts))
    ax.set_xlabel("input column offset (pixels)")
    ax.set_ylabel("input row offset (pixels)")
    return ax


def _gridding_title(kernel_size: int, dilations: Sequence[int], counts: "np.ndarray") -> str:
    holes = int((counts == 0).sum())
    side = counts.shape[0]
    rates = ", ".join(str(d) for d in dilations)
    lines = [f"rates ({rates}), k={kernel_size}, RF {side}x{side}",
             f"{holes} of {side * side} pixels are holes" if holes else "no holes: every pixel counts"]
    if len(dilations) >= 2:
        ok = satisfies_hdc(dilations, kernel_size)
        lines.append(f"HDC rule (M2={hdc_max_distance(dilations)}): {'satisfied' if ok else 'violated'}")
    return "\n".join(lines)


def plot_effective_receptive_field(
    heatmap: "torch.Tensor | np.ndarray",
    *,
    box: tuple[float, float, float, float] | None = None,
    log: bool = False,
    ax: "Axes | None" = None,
    title: str = "Effective receptive field",
    **kwargs: Any,
) -> "Axes":
    """Show an ERF heatmap with the theoretical receptive field drawn over it.

    Args:
        heatmap: ``(H, W)`` values (e.g. ``effective_receptive_field(...)``, max 1).
        box: theoretical RF as ``(top, left, height, width)`` in input pixels
            (``TraceRow.box()``); not drawn when ``None``.
        log: show ``log10(value / max)`` so that small but non-zero values (the border of a
            gradient map) stay visible; exact zeros are white.
        ax: Axes to draw on; a new figure when ``None``.
        title: the Axes title.
        **kwargs: passed to ``ax.imshow``.

    Returns:
        The Axes (``ax.images[0]`` is the heatmap; the box, if any, is ``ax.patches[0]``).
    """
    import matplotlib as mpl
    import numpy as np
    from matplotlib.patches import Rectangle

    ax = get_axes(ax, figsize=(5.0, 4.2))
    values = heatmap.detach().cpu().numpy() if hasattr(heatmap, "detach") else np.asarray(heatmap)
    values = np.asarray(values, dtype=float)
    cmap = kwargs.pop("cmap", "magma")
    if log:
        with np.errstate(divide="ignore"):
            shown = np.where(values > 0, np.log10(values / values.max()), np.nan)
        image = ax.imshow(shown, cmap=mpl.colormaps[cmap].with_extremes(bad="white") if isinstance(cmap, str) else cmap,
                          vmax=0, interpolation="nearest", **kwargs)
        label = "log10 |d output / d input| (max = 0)"
    else:
        image = ax.imshow(values, cmap=cmap, vmin=0, interpolation="nearest", **kwargs)
        label = "|d output / d input| (max = 1)"
    ax.figure.colorbar(image, ax=ax, label=label)
    if box is not None:
        top, left, height, width = box
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, fill=False,
                               edgecolor="#4dac26", linewidth=2, linestyle="--",
                               label=f"theoretical RF {_fmt(height)}x{_fmt(width)}"))
        ax.legend(loc="upper right", fontsize="small")
    ax.set_xlim(-0.5, values.shape[1] - 0.5)
    ax.set_ylim(values.shape[0] - 0.5, -0.5)
    ax.set_title(title)
    ax.set_xlabel("input column (pixels)")
    ax.set_ylabel("input row (pixels)")
    return ax


def _layers(n: int) -> str:
    return "1 layer" if n == 1 else f"{n} layers"


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
