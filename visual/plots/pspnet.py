"""Plot helpers for the PSPNet lesson (notebook 04): architecture, pyramid bins and features, sizes,
costs and gradients. What a slider moves is a ``draw_x`` / ``update_x`` pair; ``plot_x`` wraps both."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
from matplotlib import patheffects
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import FancyBboxPatch, Patch
from matplotlib.text import Text

from visual.checks import as_size, check_int
from visual.models.pspnet import MAX_BIN, adaptive_pool_windows
from visual.plots.core import get_axes
from visual.plots.segmentation import image_hwc

__all__ = ["plot_pspnet_architecture", "bin_window_boxes", "window_coverage", "windows_per_cell", "PyramidBinsArtists",
           "draw_pyramid_bins", "update_pyramid_bins", "plot_pyramid_bins", "plot_pyramid_features", "BarsArtists",
           "draw_part_costs", "update_part_costs", "plot_part_costs", "draw_size_bars", "update_size_bars",
           "draw_gradient_norms", "update_gradient_norms"]

OVERLAP_COLOURS = {2: (1.0, 0.55, 0.0, 0.8), 4: (0.85, 0.0, 0.0, 0.85)}  # cells in 2 / 4 windows
PARAMS_COLOUR, FLOPS_COLOUR, AUX_COLOUR = "#3b528b", "#5ec962", "#fde725"
PART_COLOURS = {"input": "#d9d9d9", "backbone": "#3b528b", "ppm": "#5ec962", "head": "#21918c",
                "aux_head": "#b5de2b", "output": "#d9d9d9"}
# (trace row name, label, column, row, part) of each box of the diagram; the pyramid branches go in column 7
NODES = (*((f"backbone.{name}", name, i + 1, 0.0, "backbone")
           for i, name in enumerate(("conv1", "maxpool", "layer1", "layer2", "layer3", "layer4"))),
         ("ppm", "concat", 8, 0.0, "ppm"), ("head", "head", 9, 0.0, "head"),
         ("aux_head", "aux head\n(training)", 6.4, -4.3, "aux_head"))
BOX_WIDTH, BRANCH_SPACING = 0.84, 1.55  # box width and vertical distance between pyramid branches
LABEL_FONT, NOTE_FONT = 13, 11  # points: readable on a projector at the notebook's 14 x 6.5 inches
ARROW = {"arrowstyle": "->", "color": "0.25", "lw": 1.3}


def plot_pspnet_architecture(trace: Any, *, ax: Axes | None = None) -> Axes:
    """A block diagram of PSPNet, one box per stage labelled ``H x W x C``, from ``visual.trace(model)``."""
    ax = get_axes(ax, (14.0, 6.5))
    height, width = trace.input_size
    branches = sorted((name for name in trace if name.count(".") == 2 and name.startswith("ppm.stages.")),
                      key=lambda n: int(n.split(".")[2]))  # the b x b output of each branch
    offsets = [((len(branches) - 1) / 2 - i) * BRANCH_SPACING for i in range(len(branches))]  # bin 1 on top
    boxes: dict[str, tuple[float, float, float]] = {}

    def draw(key: str, x: float, y: float, side: tuple[int, int], channels: int, label: str, part: str) -> None:
        h = 0.45 + 2.2 * (side[0] / height) ** 0.5
        ax.add_patch(FancyBboxPatch((x - BOX_WIDTH / 2, y - h / 2), BOX_WIDTH, h, boxstyle="round,pad=0.02",
                                    facecolor=PART_COLOURS[part], edgecolor="black", lw=1.0))
        ax.text(x, y, label, ha="center", va="center", fontsize=LABEL_FONT,
                color="white" if part in ("backbone", "head") else "black")
        ax.text(x, y - h / 2 - 0.1, f"{side[0]}x{side[1]}\nx{channels}", ha="center", va="top", fontsize=NOTE_FONT)
        boxes[key] = (x, y, h)

    def arrow(a: str, b: str) -> None:
        (xa, ya, _), (xb, yb, _) = boxes[a], boxes[b]
        ax.annotate("", xy=(xb - BOX_WIDTH / 2, yb), xytext=(xa + BOX_WIDTH / 2, ya), arrowprops=ARROW)

    draw("input", 0, 0.0, (height, width), 3, "image", "input")
    previous = "input"
    for name, label, column, row, part in NODES:
        if name in trace:
            draw(name, column, row, trace[name].size, trace[name].channels, label, part)
            if name != "aux_head":
                if name != "ppm":  # the concatenation's inputs are drawn below
                    arrow(previous, name)
                previous = name
    for branch, offset in zip(branches, offsets):
        draw(branch, 7, offset, trace[branch].size, trace[branch].channels, f"bin {trace[branch].size[0]}", "ppm")
        arrow("backbone.layer4", branch)
        arrow(branch, "ppm")
    if "ppm" in boxes:  # the one identity path, above the branches: layer4 is concatenated unchanged
        (x4, y4, h4), (xc, yc, hc) = boxes["backbone.layer4"], boxes["ppm"]
        top = max(offsets, default=0.0) + 1.0
        ax.plot([x4, x4, xc], [y4 + h4 / 2, top, top], color="0.25", lw=ARROW["lw"])
        ax.annotate("", xy=(xc, yc + hc / 2), xytext=(xc, top), arrowprops=ARROW)
        ax.text((x4 + xc) / 2, top + 0.08, "identity: layer4 itself", ha="center", va="bottom", fontsize=NOTE_FONT)
        ax.text(8.7, min(offsets, default=0.0) - 1.05, "each branch: adaptive avg-pool to b x b, 1x1 conv, BN, "
                "ReLU,\nbilinear upsampling back to layer4's size", ha="center", va="top", fontsize=NOTE_FONT)
    draw("output", 10.5, 0.0, (height, width), trace["head"].channels, "output", "output")
    arrow("head", "output")
    (xh, yh, _), (xo, _, _) = boxes["head"], boxes["output"]
    ax.text((xh + xo) / 2, yh + 0.15, "bilinear\nupsampling", ha="center", va="bottom", fontsize=NOTE_FONT)
    if "aux_head" in boxes:
        (xa, ya, _), (x3, y3, h3) = boxes["aux_head"], boxes["backbone.layer3"]
        ax.annotate("", xy=(xa - BOX_WIDTH / 2, ya), xytext=(x3, y3 - h3 / 2 - 0.7), arrowprops={**ARROW, "ls": "--"})
    ax.set(xlim=(-0.6, 11.1), ylim=(-5.7, 4.1), aspect="auto")
    ax.set_title(f"PSPNet at {height}x{width}: every size from visual.trace (H x W x channels)", fontsize=LABEL_FONT)
    ax.axis("off")
    return ax


def bin_window_boxes(feature_size: int | tuple[int, int], bin_size: int,
                     output_stride: float = 1.0) -> list[tuple[float, float, float, float]]:
    """Boxes ``(x0, y0, width, height)`` (input pixels; cell ``i`` centred on ``i * output_stride``) of each window.

    Example:
        >>> bin_window_boxes(9, 2)[:2]
        [(-0.5, -0.5, 5.0, 5.0), (3.5, -0.5, 5.0, 5.0)]
    """
    h, w = as_size(feature_size, "feature_size")
    rows, cols = adaptive_pool_windows(h, bin_size), adaptive_pool_windows(w, bin_size)
    half = 0.5 * output_stride
    return [(c0 * output_stride - half, r0 * output_stride - half, (c1 - c0) * output_stride,
             (r1 - r0) * output_stride) for r0, r1 in rows for c0, c1 in cols]


def window_coverage(feature_size: int | tuple[int, int], bin_size: int) -> np.ndarray:
    """How many ``b x b`` pooling windows average each feature cell: ``(h, w)`` ints (1 where they tile).

    Example:
        >>> window_coverage(5, 2)[0].tolist()
        [1, 1, 2, 1, 1]
    """
    rows, cols = (windows_per_cell(n, bin_size) for n in as_size(feature_size, "feature_size"))
    return rows[:, None] * cols[None, :]  # (h, w)


def windows_per_cell(in_size: int, bin_size: int) -> np.ndarray:
    """How many pooling windows hold each of ``in_size`` cells along one axis: ``(in_size,)`` ints."""
    counts = np.zeros(in_size, dtype=int)
    for start, end in adaptive_pool_windows(in_size, bin_size):
        counts[start:end] += 1
    return counts


@dataclass
class PyramidBinsArtists:
    """The photo, the overlap overlay and the window outlines (white lines with a black rim)."""
    photo: AxesImage
    overlay: AxesImage
    outline: PolyCollection
    output_stride: int


def draw_pyramid_bins(ax: Axes, image: Any, *, output_stride: int = 8) -> PyramidBinsArtists:
    """Draw the photo and empty window artists; :func:`update_pyramid_bins` fills them. The overlap
    overlay lies above the outlines, so that one shared cell (8 px at 512 px) stays visible."""
    artists = PyramidBinsArtists(
        ax.imshow(image_hwc(image)), ax.imshow(np.zeros((1, 1, 4)), interpolation="nearest", zorder=3),
        ax.add_collection(PolyCollection([], facecolors="none", edgecolors="white", linewidths=0.8, path_effects=[
            patheffects.withStroke(linewidth=2.0, foreground="black")])),
        check_int(output_stride, "output_stride", minimum=1, maximum=64))
    handles = [Patch(facecolor=colour, edgecolor="black", label=f"cell in {count} windows")
               for count, colour in OVERLAP_COLOURS.items()]
    ax.legend(handles=handles, loc="upper right", fontsize="small", framealpha=0.85)
    ax.set(xlabel="x (input pixels)", ylabel="y (input pixels)")
    return artists


def update_pyramid_bins(artists: PyramidBinsArtists, bin_size: int, feature_size: int | tuple[int, int],
                        side: tuple[int, int] | None = None) -> None:
    """Show the ``b x b`` windows on a ``feature_size`` map; stretch the photo to ``side`` (H, W) pixels."""
    bin_size = check_int(bin_size, "bin_size", minimum=1, maximum=MAX_BIN)
    feature = as_size(feature_size, "feature_size", maximum=MAX_BIN * 8)
    stride, half = artists.output_stride, 0.5 * artists.output_stride
    height, width = side if side is not None else artists.photo.get_array().shape[:2]
    artists.photo.set_extent((-0.5, width - 0.5, height - 0.5, -0.5))
    coverage = window_coverage(feature, bin_size)  # (h, w)
    overlay = np.zeros((*coverage.shape, 4))  # (h, w, 4) RGBA: transparent where one window covers a cell
    for count, colour in OVERLAP_COLOURS.items():
        overlay[coverage >= count] = colour
    artists.overlay.set_data(overlay)
    artists.overlay.set_extent((-half, feature[1] * stride - half, feature[0] * stride - half, -half))
    artists.outline.set_verts([[(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h)]
                               for x0, y0, w, h in bin_window_boxes(feature, bin_size, stride)])
    per_axis = windows_per_cell(feature[1], bin_size)  # along one row
    shared = int((per_axis > 1).sum())
    ax = artists.photo.axes
    ax.set(xlim=(-0.5, width - 0.5), ylim=(height - 0.5, -0.5))
    ax.set_title(f"{height} px, layer4 {feature[0]}x{feature[1]}, bin {bin_size}x{bin_size}:\n"
                 + (f"{shared} cells per axis in {'2' if per_axis.max() == 2 else '2 or more'} windows" if shared
                    else "windows tile the map"), fontsize="medium")


def plot_pyramid_bins(image: Any, bin_size: int, *, feature_size: int | None = None, output_stride: int = 8,
                      ax: Axes | None = None) -> Axes:
    """Draw over an image ``(3, H, W)`` / ``(H, W, 3)`` the windows each output of a ``b x b`` bin averages;
    cells in two windows are orange, in four red. ``feature_size``: ``None`` means ``ceil(H / output_stride)``."""
    bin_size = check_int(bin_size, "bin_size", minimum=1, maximum=MAX_BIN)
    ax = get_axes(ax, (5.0, 5.0))
    artists = draw_pyramid_bins(ax, image, output_stride=output_stride)
    height, width = artists.photo.get_array().shape[:2]
    stride = artists.output_stride
    feature = (-(-height // stride), -(-width // stride)) if feature_size is None else feature_size
    update_pyramid_bins(artists, bin_size, feature)
    return ax


def plot_pyramid_features(features: Sequence[torch.Tensor], image: Any, *, bins: Sequence[int],
                          feature_size: tuple[int, int], align_corners: bool = True,
                          fig: Figure | None = None) -> np.ndarray:
    """Each pyramid branch's channel L2 norm: the ``b x b`` map (top), upsampled over the image (bottom).

    ``features``: one ``(C', b, b)`` tensor per bin (``pyramid_features(model, x)[i][0]``); ``feature_size``:
    layer4's ``(h, w)``. Returns the ``(2, len(bins))`` array of Axes."""
    if len(features) != len(bins):
        raise ValueError(f"features and bins must have the same length, got {len(features)} and {len(bins)}")
    picture = image_hwc(image)
    height, width = picture.shape[:2]
    if fig is None:
        fig = plt.figure(figsize=(3.0 * len(bins), 6.2), layout="constrained")
    axes = np.asarray(fig.subplots(2, len(bins), squeeze=False))
    norms = [f.detach().float().cpu().norm(dim=0) for f in features]  # [(b, b)]
    vmin = min(float(n.min()) for n in norms)  # one colour scale for all bins, stretched to their range
    vmax = max(max(float(n.max()) for n in norms), vmin + 1e-6)
    # feature cell (i, j) sits on input pixel (i * sy, j * sx) (align_corners geometry, 8 at 8k+1 sizes)
    sy, sx = ((side - 1) / max(n - 1, 1) for side, n in zip((height, width), feature_size))
    cells = (-sx / 2, (feature_size[1] - 0.5) * sx, (feature_size[0] - 0.5) * sy, -sy / 2)
    for i, (size, norm) in enumerate(zip(bins, norms)):
        up = F.interpolate(norm[None, None], size=feature_size, mode="bilinear",
                           align_corners=align_corners)[0, 0]  # (h, w)
        top = axes[0, i].imshow(norm.numpy(), cmap="magma", vmin=vmin, vmax=vmax, interpolation="nearest")
        axes[0, i].set(title=f"bin {size}x{size}: pooled", xlabel="bin column", ylabel="bin row",
                       xticks=range(size), yticks=range(size))
        axes[1, i].imshow(picture, extent=(-0.5, width - 0.5, height - 0.5, -0.5))
        axes[1, i].imshow(up.numpy(), cmap="magma", vmin=vmin, vmax=vmax, alpha=0.6, extent=cells,
                          interpolation="nearest")
        axes[1, i].set(title=f"upsampled to {feature_size[0]}x{feature_size[1]}", xlabel="x (input pixels)",
                       ylabel="y (input pixels)", xlim=(-0.5, width - 0.5), ylim=(height - 0.5, -0.5))
    fig.colorbar(top, ax=axes[:, -1].tolist(), label="L2 norm over the branch's channels")
    return axes


@dataclass
class BarsArtists:
    """Horizontal bars with a value label each; ``fixed`` is a second, static set of bars (or ``None``)."""
    bars: Any
    labels: list[Text]
    fixed: Any = None
    fixed_labels: list[Text] | None = None
    floor: float = 0.0


def _bar_label(ax: Axes, x: float, y: float) -> Text:
    return ax.text(x, y, "", va="center", fontsize="small")


def _paired_bars(ax: Axes, names: Sequence[str], widths: tuple[Any, Any], colours: tuple[str, str],
                 labels: tuple[str, str], edge: str = "white") -> tuple[Any, Any, np.ndarray, float]:
    """Two horizontal bars per name, top to bottom (the first hatched); returns both, the rows, the height."""
    y, height = np.arange(len(names)), 0.38
    first = ax.barh(y - height / 2, widths[0], height, color=colours[0], hatch="//", edgecolor="white",
                    label=labels[0])
    second = ax.barh(y + height / 2, widths[1], height, color=colours[1], edgecolor=edge, label=labels[1])
    ax.set_yticks(y, list(names))
    ax.invert_yaxis()
    ax.legend(loc="lower right", fontsize="small")
    return first, second, y, height


def draw_part_costs(ax: Axes, parts: Sequence[str]) -> BarsArtists:
    """Empty bars of the parameter share (hatched) and the FLOP share of each part."""
    params, flops, y, height = _paired_bars(ax, parts, (np.zeros(len(parts)),) * 2, (PARAMS_COLOUR, FLOPS_COLOUR),
                                            ("parameters", "FLOPs (forward)"))
    ax.set(xlim=(0, 110), xlabel="share of the whole network (%)")
    return BarsArtists(params, [_bar_label(ax, 0, yy - height / 2) for yy in y], flops,
                       [_bar_label(ax, 0, yy + height / 2) for yy in y])


def update_part_costs(artists: BarsArtists, costs: Sequence[Any], *, title: str | None = None,
                      name: str = "") -> dict[str, dict]:
    """Show the shares (%) of ``PartCost`` rows, skipping ``"total"``, and return them; the title is
    ``title`` or the totals (after ``"PSPNet-{name}: "`` when a backbone ``name`` is given)."""
    parts = [row for row in costs if row.part != "total"]
    total_params, total_flops = sum(r.parameters for r in parts), sum(r.flops for r in parts)
    shares = {"parameters": {r.part: 100.0 * r.parameters / max(total_params, 1) for r in parts},
              "flops": {r.part: 100.0 * r.flops / max(total_flops, 1) for r in parts}}
    for bars, labels, key in ((artists.bars, artists.labels, "parameters"),
                              (artists.fixed, artists.fixed_labels, "flops")):
        for bar, label, value in zip(bars, labels, shares[key].values()):
            bar.set_width(value)
            label.set_x(value + 1)
            label.set_text(f"{value:.1f}%")
    totals = f"{total_params / 1e6:.1f} M parameters, {total_flops / 1e9:.0f} GFLOPs per image"
    artists.bars[0].axes.set_title(title or (f"PSPNet-{name}: {totals}" if name else totals))
    return shares


def plot_part_costs(costs: Sequence[Any], *, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Horizontal bars of the share of parameters and FLOPs of each part (``PartCost`` rows)."""
    ax = get_axes(ax, (6.5, 3.2))
    update_part_costs(draw_part_costs(ax, [row.part for row in costs if row.part != "total"]), costs, title=title)
    return ax


def draw_size_bars(ax: Axes, names: Sequence[str], max_size: int) -> BarsArtists:
    """One bar per stage (backbone blue, pyramid green, head teal), log-scaled side in pixels."""
    y = np.arange(len(names))
    colours = [FLOPS_COLOUR if n in ("ppm", "head") else "#21918c" if n == "out" else PARAMS_COLOUR for n in names]
    bars = ax.barh(y, np.ones(len(names)), color=colours)
    ax.set_yticks(y, list(names))
    ax.invert_yaxis()
    ax.set(xscale="log", xlim=(1, 2.5 * max_size), xlabel="side of the tensor (pixels or feature cells, log scale)")
    return BarsArtists(bars, [_bar_label(ax, 1.0, yy) for yy in y])


def update_size_bars(artists: BarsArtists, sides: Sequence[int], title: str) -> None:
    """Set each bar to its stage's side and label it ``S x S``."""
    for bar, label, side in zip(artists.bars, artists.labels, sides):
        bar.set_width(side)
        label.set_x(side * 1.08)
        label.set_text(f"{side}x{side}")
    artists.bars[0].axes.set_title(title, fontsize="medium")


def draw_gradient_norms(ax: Axes, main: Mapping[str, float], aux: Mapping[str, float]) -> BarsArtists:
    """Fixed bars of ``||g_main||`` per part and bars for ``||alpha g_aux||`` (log scale, zero drawn at a floor)."""
    positive = [v for v in [*main.values(), *aux.values()] if v > 0] or [1.0]
    floor = min(positive) / 10  # bars of zero gradient are drawn down to this floor
    fixed, bars, _, _ = _paired_bars(ax, list(main), ([max(v, floor) for v in main.values()], [floor] * len(main)),
                                     (PARAMS_COLOUR, AUX_COLOUR),
                                     ("main loss: ||g_main||", "auxiliary loss: ||alpha g_aux||"), edge="black")
    ax.set(xscale="log", xlim=(floor, max(positive) * 3), xlabel="gradient L2 norm (log scale)")
    return BarsArtists(bars, [], fixed, [], floor)


def update_gradient_norms(artists: BarsArtists, alpha: float, scaled: Mapping[str, float],
                          ratio: Mapping[str, float]) -> None:
    """Set the auxiliary bars to ``||alpha g_aux||``; the title lists the ratios to the main gradient."""
    for bar, value in zip(artists.bars, scaled.values()):
        bar.set_width(max(value, artists.floor))
    shown = ", ".join(f"{p.removeprefix('backbone.')} {r:.2f}" for p, r in ratio.items() if 0 < r < float("inf"))
    artists.bars[0].axes.set_title(f"alpha = {alpha:.2f}; ||alpha g_aux|| / ||g_main||:\n{shown}", fontsize="medium")
