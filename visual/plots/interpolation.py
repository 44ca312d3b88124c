"""Pictures for the interpolation lesson (notebook 03).

Every helper draws on ``ax`` (a new figure when ``None``) and returns the Axes; the
numbers come from :mod:`visual.interpolation`. Positions are in *input pixels*: pixel
``j`` has its centre at ``j`` and covers ``[j - 0.5, j + 0.5]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from visual.plots.core import get_axes

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch
    from matplotlib.axes import Axes

__all__ = [
    "plot_values",
    "plot_linear_interpolation",
    "plot_sample_grids",
    "plot_bilinear_neighbours",
    "plot_interpolation_matrix",
    "plot_resampling",
    "plot_resampling_comparison",
    "plot_class_map",
    "plot_feature_alignment",
    "plot_timings",
]

# Colours (matplotlib's colour-blind-friendly "tab" palette; distinguished by marker and
# line style too, so the figures survive greyscale printing).
INPUT_COLOUR = "tab:blue"
OUTPUT_COLOUR = "tab:orange"
POINT_COLOUR = "tab:red"
SEQUENTIAL_CMAP = "cividis"  # lightness rises monotonically: readable in greyscale
ANNOTATE_MAX_CELLS = 256  # write values into image cells only when they stay legible


def _as_tensor(values: "Sequence[float] | torch.Tensor") -> "torch.Tensor":
    import torch

    return torch.as_tensor(values, dtype=torch.float64).detach().cpu()


def plot_values(image: "torch.Tensor", *, ax: "Axes | None" = None, title: str | None = None,
                vmin: float | None = None, vmax: float | None = None) -> "Axes":
    """A small 2-D array as an image with every value written in its cell.

    Args:
        image: tensor ``(H, W)``, a few pixels per side.
        ax: Axes to draw on.
        title: optional title (default: the shape).
        vmin, vmax: colour range (default: the data's), so several panels can share it.

    Returns:
        The Axes.
    """
    ax = get_axes(ax, (3.4, 3.4))
    img = _as_tensor(image)
    ax.imshow(img.numpy(), cmap=SEQUENTIAL_CMAP, interpolation="nearest", vmin=vmin, vmax=vmax)
    low = float(img.min()) if vmin is None else vmin
    high = float(img.max()) if vmax is None else vmax
    if img.numel() <= ANNOTATE_MAX_CELLS:
        for (r, c), value in zip(((r, c) for r in range(img.shape[0]) for c in range(img.shape[1])),
                                 img.flatten().tolist()):
            dark = (value - low) / max(high - low, 1e-12) < 0.5  # cividis: dark at the low end
            ax.text(c, r, f"{value:g}", ha="center", va="center", fontsize="small",
                    color="white" if dark else "black")
    ax.set(xlabel="x (pixels)", ylabel="y (pixels)", title=title or f"{img.shape[0]}\u00d7{img.shape[1]}",
           xticks=range(img.shape[1]), yticks=range(img.shape[0]))
    return ax


def linear_layout(
    values: "Sequence[float] | torch.Tensor",
    size: int,
    align_corners: bool,
) -> dict[str, "torch.Tensor"]:
    """Positions and values of a 1-D linear interpolation, for drawing (no plotting here).

    Returns:
        dict with ``in_pos`` ``(L,)``, ``in_val`` ``(L,)``, ``raw_pos`` ``(size,)`` (the bare
        coordinate formula), ``out_pos`` ``(size,)`` (where PyTorch reads, clamped) and
        ``out_val`` ``(size,)`` (``linear_interpolate`` of ``values``).
    """
    import torch

    from visual.interpolation import linear_interpolate, source_coordinates

    values = _as_tensor(values)
    out = linear_interpolate(values[None, None], size=size, align_corners=align_corners)[0, 0]  # (size,)
    return {
        "in_pos": torch.arange(len(values), dtype=torch.float64),
        "in_val": values,
        "raw_pos": source_coordinates(size, len(values), align_corners, raw=True),
        "out_pos": source_coordinates(size, len(values), align_corners),
        "out_val": out,
    }


def plot_linear_interpolation(
    values: "Sequence[float] | torch.Tensor",
    size: int,
    *,
    align_corners: bool = False,
    ax: "Axes | None" = None,
) -> "Axes":
    """Input samples, the line through them, and where the output samples read it.

    Args:
        values: the 1-D input signal, shape ``(L,)``.
        size: number of output samples.
        align_corners: PyTorch's flag.
        ax: Axes to draw on (new figure when ``None``).

    Returns:
        The Axes, with input samples (circles), the interpolating line (dashed), output
        samples (squares) at their source positions, and clamped reads marked by arrows.
    """
    ax = get_axes(ax, (7.0, 3.6))
    layout = linear_layout(values, size, align_corners)
    n = len(layout["in_pos"])
    for edge in range(n + 1):  # input pixel boundaries
        ax.axvline(edge - 0.5, color="0.85", lw=0.8, zorder=0)
    ax.plot(layout["in_pos"], layout["in_val"], "--", color=INPUT_COLOUR, lw=1.2, alpha=0.7,
            label="line through the input samples")
    ax.plot(layout["in_pos"], layout["in_val"], "o", color=INPUT_COLOUR, ms=10,
            label=f"input samples ({n})")
    ax.vlines(layout["out_pos"], 0, layout["out_val"], color=OUTPUT_COLOUR, lw=0.8, alpha=0.6)
    ax.plot(layout["out_pos"], layout["out_val"], "s", color=OUTPUT_COLOUR, ms=6,
            label=f"output samples ({size})")
    clamped = (layout["raw_pos"] - layout["out_pos"]).abs() > 1e-12
    for raw, pos, val in zip(layout["raw_pos"][clamped], layout["out_pos"][clamped],
                             layout["out_val"][clamped]):
        ax.annotate("", xy=(pos, val), xytext=(raw, val),
                    arrowprops={"arrowstyle": "->", "color": POINT_COLOUR, "lw": 1.2})
    if clamped.any():
        ax.plot([], [], color=POINT_COLOUR, label="clamped at the border")
    ax.set(xlabel="position (input pixels; pixel j is centred at j)", ylabel="value",
           title=f"linear interpolation {n} \u2192 {size} samples, align_corners={align_corners}",
           xlim=(-0.8, n - 0.2))
    ax.legend(loc="best", fontsize="small")
    return ax


def grid_layout(in_size: int, out_size: int, align_corners: bool) -> dict[str, "torch.Tensor"]:
    """Pixel centres and edges of an ``in_size``-pixel input and ``out_size``-pixel output
    along one axis, both in input-pixel coordinates (no plotting here).

    The output pixel centres sit at the *raw* source coordinates; the output pixel edges
    halfway between centres (extended by half a step at both ends).
    """
    import torch

    from visual.interpolation import source_coordinates

    centres = source_coordinates(out_size, in_size, align_corners, raw=True)  # (out,)
    if align_corners:
        step = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    else:
        step = in_size / out_size
    edges = torch.cat([centres - step / 2, centres[-1:] + step / 2])  # (out + 1,)
    return {
        "in_centres": torch.arange(in_size, dtype=torch.float64),
        "in_edges": torch.arange(in_size + 1, dtype=torch.float64) - 0.5,
        "out_centres": centres,
        "out_edges": edges,
    }


def plot_sample_grids(
    in_size: int = 4,
    out_size: int = 8,
    *,
    align_corners: bool = False,
    ax: "Axes | None" = None,
) -> "Axes":
    """The classic picture: an ``in x in`` pixel grid and where an ``out x out`` grid lands on it.

    ``align_corners=False``: the outer *edges* of both grids coincide (half-pixel
    centres). ``align_corners=True``: the *centres* of the corner pixels coincide, so the
    output grid covers a smaller area than the input.

    Args:
        in_size: input pixels per side.
        out_size: output pixels per side.
        align_corners: PyTorch's flag.
        ax: Axes to draw on.

    Returns:
        The Axes (y axis pointing down, as in images).
    """
    ax = get_axes(ax, (4.8, 4.8))
    grid = grid_layout(in_size, out_size, align_corners)
    lo, hi = float(grid["in_edges"][0]), float(grid["in_edges"][-1])
    olo, ohi = float(grid["out_edges"][0]), float(grid["out_edges"][-1])
    for e in grid["in_edges"].tolist():
        ax.plot([e, e], [lo, hi], color=INPUT_COLOUR, lw=1.6)
        ax.plot([lo, hi], [e, e], color=INPUT_COLOUR, lw=1.6)
    for e in grid["out_edges"].tolist():
        ax.plot([e, e], [olo, ohi], color=OUTPUT_COLOUR, lw=0.9, ls="--")
        ax.plot([olo, ohi], [e, e], color=OUTPUT_COLOUR, lw=0.9, ls="--")
    cy, cx = _mesh(grid["in_centres"])
    ax.plot(cx, cy, "o", color=INPUT_COLOUR, ms=9, label=f"input pixel centres ({in_size}\u00d7{in_size})")
    oy, ox = _mesh(grid["out_centres"])
    ax.plot(ox, oy, "x", color=OUTPUT_COLOUR, ms=6, mew=1.6,
            label=f"output pixel centres ({out_size}\u00d7{out_size})")
    pad = 0.15 + max(0.0, lo - olo, ohi - hi)
    ax.set(xlim=(lo - pad, hi + pad), ylim=(hi + pad, lo - pad), aspect="equal",
           xlabel="x (input pixels)", ylabel="y (input pixels)",
           title=f"{in_size}\u00d7{in_size} \u2192 {out_size}\u00d7{out_size}, align_corners={align_corners}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize="small", ncol=1)
    return ax


def _mesh(coords: "torch.Tensor") -> tuple[list[float], list[float]]:
    import torch

    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    return yy.flatten().tolist(), xx.flatten().tolist()


def plot_bilinear_neighbours(
    image: "torch.Tensor",
    x: float,
    y: float,
    *,
    ax: "Axes | None" = None,
) -> "Axes":
    """A small image, a point ``P = (x, y)``, its four neighbours and their weights.

    Each neighbour's weight is the area of the rectangle opposite to it inside the cell
    spanned by the four neighbours; the title shows ``sum(w * value)``.

    Args:
        image: tensor of shape ``(H, W)``, a few pixels per side.
        x, y: position of ``P`` in pixels (centres at integers).
        ax: Axes to draw on.

    Returns:
        The Axes.
    """
    from matplotlib.patches import Rectangle

    from visual.interpolation import bilinear_neighbours

    ax = get_axes(ax, (5.0, 4.6))
    img = _as_tensor(image)
    h, w = img.shape
    neighbours = bilinear_neighbours(x, y, h, w)
    value = sum(n.weight * float(img[n.row, n.col]) for n in neighbours)
    ax.imshow(img.numpy(), cmap=SEQUENTIAL_CMAP, interpolation="nearest")
    if h * w <= ANNOTATE_MAX_CELLS:
        for r in range(h):
            for c in range(w):
                ax.text(c, r + 0.32, f"{float(img[r, c]):g}", ha="center", va="center",
                        fontsize="small", color="white",
                        bbox={"boxstyle": "round,pad=0.1", "fc": "black", "alpha": 0.35, "lw": 0})
    top_left, _, _, bottom_right = neighbours
    x0, y0, x1, y1 = top_left.col, top_left.row, bottom_right.col, bottom_right.row
    ax.add_patch(Rectangle((x0, y0), max(x1 - x0, 1e-9), max(y1 - y0, 1e-9), fill=False,
                           ec="white", lw=1.5, ls="--"))
    for n in neighbours:
        ax.plot(n.col, n.row, "o", mfc="none", mec="white", ms=8 + 28 * n.weight, mew=2)
        ax.annotate(f"w={n.weight:.2f}", (n.col, n.row), xytext=(6, -10), textcoords="offset points",
                    color="white", fontsize="small", fontweight="bold")
    ax.plot(x, y, "*", color=POINT_COLOUR, ms=16, mec="white", label=f"P = ({x:.2f}, {y:.2f})")
    ax.set(xlabel="x (pixels)", ylabel="y (pixels)",
           title=f"value at P = \u03a3 w\u00b7v = {value:.3f}")
    ax.legend(loc="upper right", fontsize="small")
    return ax


def plot_interpolation_matrix(
    matrix: "torch.Tensor", *, ax: "Axes | None" = None, title: str | None = None
) -> "Axes":
    """An interpolation matrix ``A`` (``out x in``) as an image: the band of non-zeros.

    Args:
        matrix: tensor of shape ``(out_size, in_size)``.
        ax: Axes to draw on.
        title: optional title (default: the shape and the number of non-zeros).

    Returns:
        The Axes, with a colour bar of the weights.
    """
    from matplotlib.ticker import MaxNLocator

    ax = get_axes(ax, (4.0, 5.0))
    a = _as_tensor(matrix)
    im = ax.imshow(a.numpy(), cmap=SEQUENTIAL_CMAP, vmin=0.0, vmax=1.0, interpolation="nearest",
                   aspect="auto")
    ax.figure.colorbar(im, ax=ax, label="weight")
    nonzero = int((a != 0).sum())
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="input index", ylabel="output index",
           title=title or f"A: {a.shape[0]}\u00d7{a.shape[1]}, {nonzero} non-zeros")
    return ax


def plot_resampling(image: "torch.Tensor", size: int | tuple[int, int], method: str, *,
                    ax: "Axes | None" = None) -> "Axes":
    """The photo resized by one method, shown pixel for pixel (no display smoothing).

    Args:
        image: tensor ``(3, H, W)`` in ``[0, 1]``.
        size: output size (int or ``(H, W)``).
        method: a key of ``visual.interpolation.RESAMPLING_METHODS``.
        ax: Axes to draw on.

    Returns:
        The Axes.
    """
    from visual.interpolation import resample_image

    ax = get_axes(ax, (3.2, 3.6))
    out = resample_image(image, size, method)  # (3, H_out, W_out)
    ax.imshow(out.permute(1, 2, 0).cpu().numpy(), interpolation="nearest")
    ax.set_title(f"{method}\n{out.shape[1]}\u00d7{out.shape[2]} px", fontsize="medium")
    ax.set(xticks=[], yticks=[])
    return ax


def plot_resampling_comparison(
    image: "torch.Tensor",
    size: int | tuple[int, int],
    *,
    methods: Sequence[str] | None = None,
    axes: "Sequence[Axes] | None" = None,
) -> list["Axes"]:
    """The same photo resized by several methods, side by side.

    Args:
        image: tensor ``(3, H, W)`` in ``[0, 1]``.
        size: output size.
        methods: keys of ``RESAMPLING_METHODS`` (default: all of them).
        axes: one Axes per method (a new row of subplots when ``None``).

    Returns:
        The list of Axes.
    """
    import matplotlib.pyplot as plt

    from visual.interpolation import RESAMPLING_METHODS

    methods = list(RESAMPLING_METHODS) if methods is None else list(methods)
    if axes is None:
        _, axes = plt.subplots(1, len(methods), figsize=(2.6 * len(methods), 3.2), layout="constrained")
        axes = list(axes) if len(methods) > 1 else [axes]
    if len(axes) != len(methods):
        raise ValueError(f"need one Axes per method: {len(methods)} methods, {len(axes)} axes")
    for method, ax in zip(methods, axes):
        plot_resampling(image, size, method, ax=ax)
    return list(axes)


def label_colours(class_ids: Sequence[int]) -> dict[int, tuple[float, float, float, float]]:
    """One colour per class id, evenly spread along the (greyscale-safe) cividis map."""
    import matplotlib

    cmap = matplotlib.colormaps[SEQUENTIAL_CMAP]
    ids = sorted(set(int(i) for i in class_ids))
    return {cid: cmap(k / max(len(ids) - 1, 1)) for k, cid in enumerate(ids)}


def plot_class_map(
    labels: "torch.Tensor",
    *,
    ax: "Axes | None" = None,
    title: str | None = None,
    class_names: Sequence[str] | None = None,
    colours: Mapping[int, tuple[float, float, float, float]] | None = None,
) -> "Axes":
    """A segmentation label map: one colour per class, ids written in small maps, named legend.

    Args:
        labels: int tensor ``(H, W)`` of class ids.
        ax: Axes to draw on.
        title: optional title.
        class_names: names indexed by class id (default: PASCAL VOC).
        colours: class id -> RGBA (default: :func:`label_colours` over all of ``class_names``,
            so a class keeps its colour from one map to the next).

    Returns:
        The Axes.
    """
    import numpy as np
    from matplotlib.patches import Patch

    from visual.interpolation import VOC_CLASSES

    ax = get_axes(ax, (4.0, 4.0))
    lab = labels.detach().cpu().long()
    names = VOC_CLASSES if class_names is None else class_names
    present = sorted(set(lab.flatten().tolist()))
    colours = dict(label_colours(range(len(names))) if colours is None else colours)
    missing = [c for c in present if c not in colours]
    colours.update(label_colours(missing) if missing else {})
    rgba = np.array([colours[int(c)] for c in lab.flatten().tolist()]).reshape(*lab.shape, 4)
    ax.imshow(rgba, interpolation="nearest")
    h, w = lab.shape
    if h * w <= ANNOTATE_MAX_CELLS:
        for r in range(h):
            for c in range(w):
                ax.text(c, r, str(int(lab[r, c])), ha="center", va="center", fontsize="x-small",
                        color="white" if _luminance(colours[int(lab[r, c])]) < 0.5 else "black")
    handles = [Patch(color=colours[c], label=f"{c} {names[c] if c < len(names) else ''}".strip())
               for c in present]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="x-small",
              title=f"{len(present)} classes", title_fontsize="small")
    ax.set(xlabel="x (pixels)", ylabel="y (pixels)", title=title or f"{h}\u00d7{w} label map")
    return ax


def _luminance(rgba: Sequence[float]) -> float:
    r, g, b = rgba[:3]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b  # Rec. 709 luma weights


def feature_drift(in_size: int, output_stride: int, align_corners: bool) -> "torch.Tensor":
    """How far (input pixels) each feature lands from the pixel it was computed around.

    A ResNet feature ``i`` at output stride ``s`` is centred on input pixel ``s * i``;
    upsampling back puts it at ``source_coordinates(h, in_size, align_corners, raw=True)[i]``
    (the resizing formula read from the small grid to the big one).

    Returns:
        Tensor ``(h,)`` of ``landed - s * i`` with ``h = feature_map_size(in_size, s)``.
    """
    import torch

    from visual.interpolation import feature_map_size, source_coordinates

    h = feature_map_size(in_size, output_stride)
    landed = source_coordinates(h, in_size, align_corners, raw=True)  # (h,)
    return landed - output_stride * torch.arange(h, dtype=torch.float64)


def plot_feature_alignment(
    in_size: int,
    output_stride: int = 8,
    *,
    align_corners: bool,
    ax: "Axes | None" = None,
) -> "Axes":
    """Where each feature lands after upsampling, relative to the pixel it was computed around.

    Args:
        in_size: input pixels per side (e.g. 473).
        output_stride: 8, 16 or 32.
        align_corners: PyTorch's flag used when upsampling the features back.
        ax: Axes to draw on.

    Returns:
        The Axes: one stem per feature, at height ``landed - stride * i`` (pixels).
    """
    ax = get_axes(ax, (7.0, 3.0))
    drift = feature_drift(in_size, output_stride, align_corners)
    markers = ax.stem(range(len(drift)), drift.tolist(), basefmt="k-")
    markers.markerline.set_color(OUTPUT_COLOUR)
    markers.stemlines.set_color(OUTPUT_COLOUR)
    limit = max(1.0, float(drift.abs().max()) * 1.15)
    ax.set(xlabel="feature index i", ylabel=f"landed − {output_stride}·i (px)", ylim=(-limit, limit),
           title=(f"{in_size} px, {len(drift)} features (stride {output_stride}), align_corners={align_corners}:"
                  f"\nfeatures land up to {float(drift.abs().max()):.2f} px from where they were computed"))
    return ax


def plot_timings(
    timings: Mapping[str, float], *, ax: "Axes | None" = None, reference: str | None = None
) -> "Axes":
    """Horizontal bars of median run times in milliseconds.

    Args:
        timings: name -> median time in milliseconds.
        ax: Axes to draw on.
        reference: optional name whose time the others are compared with (ratio labels).

    Returns:
        The Axes.
    """
    ax = get_axes(ax, (6.5, 0.5 + 0.45 * len(timings)))
    names = list(timings)
    values = [timings[n] for n in names]
    bars = ax.barh(names, values, color=[OUTPUT_COLOUR if n == reference else INPUT_COLOUR for n in names])
    for bar, name, value in zip(bars, names, values):
        label = f" {value:.0f} ms"
        if reference is not None and name != reference:
            label += f" ({value / timings[reference]:.2f}\u00d7)"
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, label, va="center", fontsize="small")
    ax.invert_yaxis()
    ax.set(xlabel="median time (ms)", xlim=(0, max(values) * 1.35), title="run time (lower is faster)")
    return ax
