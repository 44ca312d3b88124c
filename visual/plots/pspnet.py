"""Plot helpers for the PSPNet lesson (notebook 04).

Training curves, input / ground truth / prediction panels, the pyramid bins drawn over an
image (with adaptive pooling's overlapping windows when the bin does not divide the feature
map), the sizes through the network, each part's cost and each loss's gradient. What a slider
moves is a ``draw_x(ax, ...) -> XArtists`` / ``update_x(artists, ...)`` pair; ``plot_x`` wraps
both for a static figure. Label maps use ``viridis`` sampled at one colour per class: distinct
hues *and* distinct lightness, so they survive greyscale printing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import FancyBboxPatch, Patch
from matplotlib.text import Text

from visual.checks import check_int
from visual.models.pspnet import MAX_BIN, MAX_CLASSES, adaptive_pool_windows
from visual.plots.core import get_axes
from visual.train import History

__all__ = [
    "ARCHITECTURE_NODES", "plot_pspnet_architecture", "label_colormap", "image_hwc", "plot_training_history",
    "plot_label_map", "SegmentationArtists", "draw_segmentation", "update_segmentation",
    "plot_segmentation_panels", "draw_class_legend", "bin_window_boxes", "window_coverage", "coverage_overlay", "box_polygons",
    "PyramidBinsArtists", "draw_pyramid_bins", "update_pyramid_bins", "plot_pyramid_bins",
    "plot_pyramid_features", "BarsArtists", "draw_part_costs", "update_part_costs", "plot_part_costs",
    "draw_stage_sizes", "update_stage_sizes", "draw_gradient_norms", "update_gradient_norms",
]

LOSS_COLOUR = "tab:blue"
MIOU_COLOUR = "tab:orange"
OVERLAP_COLOURS = {2: (1.0, 0.55, 0.0, 0.55), 4: (0.85, 0.0, 0.0, 0.65)}  # cells in 2 / 4 windows
PARAMS_COLOUR, FLOPS_COLOUR, AUX_COLOUR = "#3b528b", "#5ec962", "#fde725"


# (trace row name, short label, column, row offset, part) of each box in the architecture diagram
ARCHITECTURE_NODES = (
    ("backbone.conv1", "conv1", 1, 0.0, "backbone"),
    ("backbone.maxpool", "maxpool", 2, 0.0, "backbone"),
    ("backbone.layer1", "layer1", 3, 0.0, "backbone"),
    ("backbone.layer2", "layer2", 4, 0.0, "backbone"),
    ("backbone.layer3", "layer3", 5, 0.0, "backbone"),
    ("backbone.layer4", "layer4", 6, 0.0, "backbone"),
    ("ppm", "concat", 8, 0.0, "ppm"),
    ("head", "head", 9, 0.0, "head"),
    ("aux_head", "aux head\n(training)", 7.0, -4.3, "aux_head"),
)
PART_COLOURS = {"input": "#d9d9d9", "backbone": "#3b528b", "ppm": "#5ec962", "head": "#21918c",
                "aux_head": "#b5de2b", "output": "#d9d9d9"}
PART_TEXT = {"backbone": "white", "head": "white"}  # dark boxes get white text
BOX_WIDTH = 0.78
BRANCH_SPACING = 1.55  # vertical distance between pyramid branches in the diagram


def plot_pspnet_architecture(trace: Any, *, ax: Axes | None = None) -> Axes:
    """A block diagram of PSPNet whose every size comes from a trace of the real model.

    Each box is one stage (``conv1`` ... ``layer4``, the pyramid branches, the concatenation,
    the head, the auxiliary head); its height grows with the square root of the stage's side
    and its label gives ``H x W x C`` from the trace. The final bilinear upsampling is the
    arrow to the output box (the input size with the head's channels).

    Args:
        trace: ``visual.trace(pspnet_model, input_size)`` of a :class:`visual.PSPNet` (in
            training mode if the auxiliary head should appear).
        ax: where to draw; ``None`` makes a new figure.

    Returns:
        The Axes.
    """
    ax = get_axes(ax, (14.0, 6.0))
    height, width = trace.input_size
    branches = sorted((name for name in trace if name.count(".") == 2 and name.startswith("ppm.stages.")),
                      key=lambda n: int(n.split(".")[2]))  # the b x b output of each branch

    def box_height(side: int) -> float:
        return 0.45 + 2.2 * (side / height) ** 0.5

    boxes: dict[str, tuple[float, float, float]] = {}

    def draw(key: str, x: float, y: float, side: tuple[int, int], channels: int, label: str, part: str) -> None:
        h = box_height(side[0])
        ax.add_patch(FancyBboxPatch((x - BOX_WIDTH / 2, y - h / 2), BOX_WIDTH, h, boxstyle="round,pad=0.02",
                                    facecolor=PART_COLOURS[part], edgecolor="black", lw=1.0))
        ax.text(x, y, label, ha="center", va="center", fontsize="small", color=PART_TEXT.get(part, "black"))
        ax.text(x, y - h / 2 - 0.12, f"{side[0]}x{side[1]}\nx{channels}", ha="center", va="top", fontsize="x-small")
        boxes[key] = (x, y, h)

    def arrow(a: str, b: str, text: str = "") -> None:
        (xa, ya, _), (xb, yb, _) = boxes[a], boxes[b]
        ax.annotate("", xy=(xb - BOX_WIDTH / 2, yb), xytext=(xa + BOX_WIDTH / 2, ya),
                    arrowprops={"arrowstyle": "->", "color": "0.25", "lw": 1.0})
        if text:
            ax.text((xa + xb) / 2, (ya + yb) / 2 + 0.15, text, ha="center", va="bottom", fontsize="x-small")

    draw("input", 0, 0.0, (height, width), 3, "image", "input")
    previous = "input"
    for name, label, column, row, part in ARCHITECTURE_NODES:
        if name not in trace:
            continue
        r = trace[name]
        draw(name, column, row, r.size, r.channels, label, part)
        if name not in ("aux_head", "ppm"):
            arrow(previous, name)
            previous = name
    offsets = [((len(branches) - 1) / 2 - i) * BRANCH_SPACING for i in range(len(branches))]  # bin 1 on top
    for branch, offset in zip(branches, offsets):
        r = trace[branch]
        draw(branch, 7, offset, r.size, r.channels, f"bin {r.size[0]}", "ppm")
        arrow("backbone.layer4", branch)
        arrow(branch, "ppm")
    if "ppm" in boxes:
        # the identity path, above the branches: layer4's features are concatenated unchanged
        (x4, y4, h4), (xc, yc, hc) = boxes["backbone.layer4"], boxes["ppm"]
        top = max(offsets, default=0.0) + 0.9
        ax.plot([x4, x4, xc], [y4 + h4 / 2, top, top], color="0.25", lw=1.0)
        ax.annotate("", xy=(xc, yc + hc / 2), xytext=(xc, top),
                    arrowprops={"arrowstyle": "->", "color": "0.25", "lw": 1.0})
        ax.text((x4 + xc) / 2, top + 0.08, "identity (layer4 features)", ha="center", va="bottom",
                fontsize="x-small")
        arrow("ppm", "head")
        ax.text(7.5, min(offsets, default=0.0) - 0.95, "branch: adaptive avg-pool to b x b, 1x1 conv, BN, ReLU;\n"
                "bilinear upsampling back to layer4's size", ha="center", va="top", fontsize="x-small")
    draw("output", 10.4, 0.0, (height, width), trace["head"].channels, "output", "output")
    arrow("head", "output", "bilinear\nupsampling")
    if "aux_head" in boxes:
        (xa, ya, _), (x3, y3, h3) = boxes["aux_head"], boxes["backbone.layer3"]
        ax.annotate("", xy=(xa - BOX_WIDTH / 2, ya), xytext=(x3, y3 - h3 / 2 - 0.5),
                    arrowprops={"arrowstyle": "->", "color": "0.25", "lw": 1.0, "ls": "--"})
    ax.set(xlim=(-0.7, 11.0), ylim=(-5.6, 3.9), aspect="auto",
           title=f"PSPNet at {height}x{width}: every size from visual.trace (H x W x channels)")
    ax.axis("off")
    return ax


def label_colormap(num_classes: int) -> ListedColormap:
    """A discrete colour map, one ``viridis`` colour per class (lightness grows with the index).

    Raises:
        TypeError, ValueError: ``num_classes`` not an int in ``[1, MAX_CLASSES]``.
    """
    num_classes = check_int(num_classes, "num_classes", minimum=1, maximum=MAX_CLASSES)
    return ListedColormap(colormaps["viridis"](np.linspace(0.0, 1.0, num_classes)), name=f"labels{num_classes}")


def as_array(x: Any, name: str, ndim: int, layout: str) -> np.ndarray:
    """A tensor or array of rank ``ndim`` as a numpy array; a clear error otherwise."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a tensor or numpy array {layout}, got {type(x).__name__}")
    if x.ndim != ndim:
        raise ValueError(f"{name} must have shape {layout}, got shape {x.shape}")
    return x


def image_hwc(image: Any, name: str = "image") -> np.ndarray:
    """``(3, H, W)`` tensor or ``(H, W, 3)`` array in ``[0, 1]`` -> ``(H, W, 3)`` array."""
    array = as_array(image, name, 3, "(3, H, W) or (H, W, 3)")
    if array.shape[0] == 3 and array.shape[-1] != 3:
        array = array.transpose(1, 2, 0)  # (H, W, 3)
    if array.shape[-1] != 3:
        raise ValueError(f"{name} must have shape (3, H, W) or (H, W, 3), got {array.shape}")
    return np.clip(array, 0.0, 1.0)


def plot_training_history(history: History, *, ax: Axes | None = None, target_miou: float | None = None) -> Axes:
    """Training loss per step (left axis) and held-out mIoU (right axis) against the step.

    Args:
        history: from :func:`visual.train.train_model`.
        ax: where to draw; ``None`` makes a new figure.
        target_miou: draw this mIoU as a dashed reference line (e.g. 0.7).

    Returns:
        The loss Axes (the mIoU Axes is its twin, ``ax.right_ax``).
    """
    if not isinstance(history, History):
        raise TypeError(f"history must be the History returned by train_model, got {type(history).__name__}")
    ax = get_axes(ax, (7.0, 4.0))
    lines = ax.plot(history.step, history.loss, color=LOSS_COLOUR, lw=1.2, label="training loss (main + 0.4 aux)")
    ax.set(xlabel="SGD step", ylabel="cross-entropy loss (nats per pixel)",
           title="Training PSPNet: loss falls, held-out mIoU rises")
    ax.set_ylim(bottom=0.0)
    right = ax.twinx()
    lines += right.plot(history.eval_step, history.miou, "o-", color=MIOU_COLOUR, ms=6, label="held-out mIoU")
    if target_miou is not None:
        lines.append(right.axhline(target_miou, color=MIOU_COLOUR, ls="--", lw=1,
                                   label=f"target mIoU = {target_miou:g}"))
    right.set(ylim=(0.0, 1.0), ylabel="mean IoU on held-out images")
    ax.legend(lines, [line.get_label() for line in lines], loc="upper center", fontsize="small")
    ax.right_ax = right
    return ax


def draw_label_map(ax: Axes, labels: Any, num_classes: int, alpha: float = 1.0) -> AxesImage:
    """Draw ``(H, W)`` class indices in the discrete class colours; return the image artist."""
    labels = as_array(labels, "labels", 2, "(H, W) of class indices")
    return ax.imshow(labels, cmap=label_colormap(num_classes), vmin=-0.5, vmax=num_classes - 0.5,
                     interpolation="nearest", alpha=alpha)


def plot_label_map(labels: Any, *, num_classes: int, ax: Axes | None = None, image: Any = None,
                   alpha: float = 1.0, title: str | None = None) -> Axes:
    """A label map ``(H, W)`` in the discrete class colours, optionally over a ``(3, H, W)`` image."""
    ax = get_axes(ax, (4.0, 4.0))
    if image is not None:
        ax.imshow(image_hwc(image), interpolation="nearest")
    draw_label_map(ax, labels, num_classes, alpha)
    ax.set(xlabel="x (pixels)", ylabel="y (pixels)")
    if title is not None:
        ax.set_title(title)
    return ax


@dataclass
class SegmentationArtists:
    """The three images of one input / ground truth / prediction row."""

    image: AxesImage
    target: AxesImage
    prediction: AxesImage


def draw_segmentation(axes: Sequence[Axes], image: Any, target: Any, prediction: Any,
                      num_classes: int) -> SegmentationArtists:
    """Draw one row: the input, the true labels and the predicted labels on three Axes."""
    artists = SegmentationArtists(axes[0].imshow(image_hwc(image)), draw_label_map(axes[1], target, num_classes),
                                  draw_label_map(axes[2], prediction, num_classes))
    for ax in axes:
        ax.set(xlabel="x (pixels)", ylabel="y (pixels)")
    return artists


def update_segmentation(artists: SegmentationArtists, image: Any, target: Any, prediction: Any,
                        *, title: str = "", note: str = "") -> None:
    """Show another row; ``title`` over the input, ``note`` after "prediction" (e.g. its mIoU)."""
    artists.image.set_data(image_hwc(image))
    artists.target.set_data(as_array(target, "target", 2, "(H, W)"))
    artists.prediction.set_data(as_array(prediction, "prediction", 2, "(H, W)"))
    artists.image.axes.set_title(title or "input")
    artists.target.axes.set_title("ground truth")
    artists.prediction.axes.set_title("prediction" + (f" ({note})" if note else ""))


def plot_segmentation_panels(images: Any, targets: Any, predictions: Any, *, class_names: Sequence[str],
                             fig: Figure | None = None, titles: Sequence[str] | None = None) -> np.ndarray:
    """Rows of input / ground truth / prediction, with one legend for the classes.

    Args:
        images: ``(N, 3, H, W)``; targets, predictions: ``(N, H, W)`` labels.
        class_names: one name per class index.
        fig: the figure to fill; ``None`` makes one.
        titles: optional per-row text put in the prediction panel's title (e.g. the image's mIoU).

    Returns:
        The ``(N, 3)`` array of Axes.
    """
    n = len(images)
    if not len(targets) == len(predictions) == n:
        raise ValueError(f"images, targets and predictions must have the same length, got "
                         f"{n}, {len(targets)}, {len(predictions)}")
    if fig is None:
        fig = plt.figure(figsize=(8.0, 2.6 * n + 0.6), layout="constrained")
    axes = np.asarray(fig.subplots(n, 3, squeeze=False))
    k = len(class_names)
    for row in range(n):
        artists = draw_segmentation(axes[row], images[row], targets[row], predictions[row], k)
        update_segmentation(artists, images[row], targets[row], predictions[row],
                            note=titles[row] if titles is not None else "")
    draw_class_legend(fig, class_names)
    return axes


def draw_class_legend(fig: Figure, class_names: Sequence[str]) -> None:
    """One legend under the figure: the colour of each class, ``"k: name"``."""
    cmap = label_colormap(len(class_names))
    handles = [Patch(facecolor=cmap(i), edgecolor="black", label=f"{i}: {name}") for i, name in enumerate(class_names)]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(class_names), 5), fontsize="small")


def _square(size: int | tuple[int, int], name: str) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (size[0], size[1])


def bin_window_boxes(feature_size: int | tuple[int, int], bin_size: int,
                     output_stride: float = 1.0) -> list[tuple[float, float, float, float]]:
    """Boxes ``(x0, y0, width, height)`` of the feature cells each pooling window averages.

    Feature cell ``i`` is centred on input coordinate ``i * output_stride`` and spans half a
    stride on each side, so the boxes are in input pixels (``output_stride=1`` gives feature
    cells). Windows follow :func:`visual.adaptive_pool_windows`.

    Example:
        >>> bin_window_boxes(9, 2)[:2]
        [(-0.5, -0.5, 5.0, 5.0), (3.5, -0.5, 5.0, 5.0)]
    """
    h, w = _square(feature_size, "feature_size")
    rows, cols = adaptive_pool_windows(h, bin_size), adaptive_pool_windows(w, bin_size)
    half = 0.5 * output_stride
    return [(c0 * output_stride - half, r0 * output_stride - half, (c1 - c0) * output_stride,
             (r1 - r0) * output_stride) for r0, r1 in rows for c0, c1 in cols]


def window_coverage(feature_size: int | tuple[int, int], bin_size: int) -> np.ndarray:
    """How many ``b x b`` pooling windows average each feature cell: ``(h, w)`` ints.

    1 everywhere when ``b`` divides the feature size (the windows tile the map); 2 or 4 where
    adaptive pooling's windows overlap.

    Example:
        >>> window_coverage(5, 2)[0].tolist()
        [1, 1, 2, 1, 1]
    """
    h, w = _square(feature_size, "feature_size")
    rows, cols = np.zeros(h, dtype=int), np.zeros(w, dtype=int)
    for start, end in adaptive_pool_windows(h, bin_size):
        rows[start:end] += 1
    for start, end in adaptive_pool_windows(w, bin_size):
        cols[start:end] += 1
    return rows[:, None] * cols[None, :]  # (h, w)


def coverage_overlay(coverage: np.ndarray) -> np.ndarray:
    """RGBA ``(h, w, 4)`` overlay: transparent where one window covers a cell, orange (2) / red (4+)."""
    rgba = np.zeros((*coverage.shape, 4))
    for count, colour in OVERLAP_COLOURS.items():
        rgba[coverage >= count] = colour
    return rgba


def box_polygons(boxes: Sequence[tuple[float, float, float, float]]) -> list[list[tuple[float, float]]]:
    """Boxes ``(x0, y0, width, height)`` as closed 4-corner polygons for a ``PolyCollection``."""
    return [[(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h)] for x0, y0, w, h in boxes]


@dataclass
class PyramidBinsArtists:
    """The photo, the overlap overlay and the window outlines (black rim, white line)."""

    photo: AxesImage
    overlay: AxesImage
    rim: PolyCollection
    outline: PolyCollection
    output_stride: int


def draw_pyramid_bins(ax: Axes, image: Any, *, output_stride: int = 8) -> PyramidBinsArtists:
    """Draw the photo and empty window artists; :func:`update_pyramid_bins` fills them."""
    artists = PyramidBinsArtists(ax.imshow(image_hwc(image)), ax.imshow(np.zeros((1, 1, 4)), interpolation="nearest"),
                                 ax.add_collection(PolyCollection([], facecolors="none", edgecolors="black",
                                                                  linewidths=3.0)),
                                 ax.add_collection(PolyCollection([], facecolors="none", edgecolors="white",
                                                                  linewidths=1.4)),
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
    feature = _square(check_int(feature_size, "feature_size", minimum=1, maximum=MAX_BIN * 8)
                      if isinstance(feature_size, int) else feature_size, "feature_size")
    stride, half = artists.output_stride, 0.5 * artists.output_stride
    height, width = side if side is not None else artists.photo.get_array().shape[:2]
    artists.photo.set_extent((-0.5, width - 0.5, height - 0.5, -0.5))
    artists.overlay.set_data(coverage_overlay(window_coverage(feature, bin_size)))
    artists.overlay.set_extent((-half, feature[1] * stride - half, feature[0] * stride - half, -half))
    polygons = box_polygons(bin_window_boxes(feature, bin_size, stride))
    artists.rim.set_verts(polygons)
    artists.outline.set_verts(polygons)
    windows = adaptive_pool_windows(feature[0], bin_size)
    overlap = sum(max(0, a_end - b_start) for (_, a_end), (b_start, _) in zip(windows, windows[1:]))
    verdict = "windows tile the map" if not overlap else f"{overlap} cells per axis in 2 windows"
    shown = ", ".join(f"[{s}, {e})" for s, e in windows[:6]) + (", ..." if bin_size > 6 else "")
    ax = artists.photo.axes
    ax.set(xlim=(-0.5, width - 0.5), ylim=(height - 0.5, -0.5))
    ax.set_title(f"input {height} px -> layer4 {feature[0]}x{feature[1]}, bin {bin_size}x{bin_size}: {verdict}\n"
                 f"windows (cells): {shown}", fontsize="medium")


def plot_pyramid_bins(image: Any, bin_size: int, *, feature_size: int | None = None, output_stride: int = 8,
                      ax: Axes | None = None) -> Axes:
    """Draw over an image the regions that each output of a ``b x b`` pyramid bin averages.

    The image of side ``H`` gives a ``ceil(H / 8)`` feature map (output stride 8); each of the
    ``b x b`` pooled values averages a window of feature cells (:func:`visual.adaptive_pool_windows`).
    Window outlines are white (with a black rim); feature cells averaged by two windows are
    shaded orange and by four windows red: they exist only when ``b`` does not divide the
    feature size.

    Args:
        image: ``(3, H, W)`` tensor or ``(H, W, 3)`` array.
        bin_size: ``b``, 1 to ``MAX_BIN``.
        feature_size: cells per side of the feature map; ``None`` means ``ceil(side / output_stride)``.
        output_stride: input pixels per feature cell.
        ax: where to draw; ``None`` makes a new figure.

    Returns:
        The Axes.
    """
    bin_size = check_int(bin_size, "bin_size", minimum=1, maximum=MAX_BIN)
    ax = get_axes(ax, (5.0, 5.0))
    artists = draw_pyramid_bins(ax, image, output_stride=output_stride)
    height, width = artists.photo.get_array().shape[:2]
    stride = artists.output_stride
    feature = (-(-height // stride), -(-width // stride)) if feature_size is None else feature_size
    update_pyramid_bins(artists, bin_size, feature)
    return ax


def plot_pyramid_features(
    features: Sequence[torch.Tensor],
    image: Any,
    *,
    bins: Sequence[int],
    feature_size: tuple[int, int],
    align_corners: bool = True,
    fig: Figure | None = None,
) -> np.ndarray:
    """What each pyramid branch passes on: its ``b x b`` map and the same map upsampled.

    Each branch's activation strength is summarised by the L2 norm over its channels. Top row:
    the ``b x b`` pooled map (one value per pooling window). Bottom row: the same map bilinearly
    upsampled to the feature size exactly as PSPNet does, drawn semi-transparently over the image.

    Args:
        features: one ``(C', b, b)`` tensor per bin (e.g. ``visual.pyramid_features(model, x)[i][0]``).
        image: the ``(3, H, W)`` input.
        bins: the bin sizes, same order as ``features``.
        feature_size: ``(h, w)`` of layer4.
        align_corners: as in the model.
        fig: the figure to fill; ``None`` makes one.

    Returns:
        The ``(2, len(bins))`` array of Axes.
    """
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
    sy = (height - 1) / max(feature_size[0] - 1, 1)
    sx = (width - 1) / max(feature_size[1] - 1, 1)
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


def draw_part_costs(ax: Axes, parts: Sequence[str]) -> BarsArtists:
    """Empty bars of the parameter share (hatched) and the FLOP share of each part."""
    y, height = np.arange(len(parts)), 0.38
    params = ax.barh(y - height / 2, np.zeros(len(parts)), height, color=PARAMS_COLOUR, label="parameters",
                     hatch="//", edgecolor="white")
    flops = ax.barh(y + height / 2, np.zeros(len(parts)), height, color=FLOPS_COLOUR, label="FLOPs (forward)",
                    edgecolor="white")
    ax.set_yticks(y, list(parts))
    ax.invert_yaxis()
    ax.set(xlim=(0, 110), xlabel="share of the whole network (%)")
    ax.legend(loc="lower right", fontsize="small")
    return BarsArtists(params, [_bar_label(ax, 0, yy - height / 2) for yy in y], flops,
                       [_bar_label(ax, 0, yy + height / 2) for yy in y])


def update_part_costs(artists: BarsArtists, costs: Sequence[Any], *, title: str | None = None) -> dict[str, dict]:
    """Show the shares of ``PartCost`` rows (a ``"total"`` row is skipped); return them in %."""
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
    artists.bars[0].axes.set_title(
        title or f"{total_params / 1e6:.1f} M parameters, {total_flops / 1e9:.0f} GFLOPs per image")
    return shares


def plot_part_costs(costs: Sequence[Any], *, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Horizontal bars of the share of parameters and FLOPs of each part (``PartCost`` rows).

    Returns:
        The Axes; its two bar containers are ``ax.containers``.
    """
    ax = get_axes(ax, (6.5, 3.2))
    update_part_costs(draw_part_costs(ax, [row.part for row in costs if row.part != "total"]), costs, title=title)
    return ax


def draw_stage_sizes(ax: Axes, names: Sequence[str], max_size: int) -> BarsArtists:
    """One bar per stage (backbone blue, pyramid green, head teal), log-scaled side in pixels."""
    y = np.arange(len(names))
    colours = [FLOPS_COLOUR if n in ("ppm", "head") else "#21918c" if n == "out" else PARAMS_COLOUR for n in names]
    bars = ax.barh(y, np.ones(len(names)), color=colours)
    ax.set_yticks(y, list(names))
    ax.invert_yaxis()
    ax.set(xscale="log", xlim=(1, 2.5 * max_size), xlabel="side of the tensor (pixels or feature cells, log scale)")
    return BarsArtists(bars, [_bar_label(ax, 1.0, yy) for yy in y])


def update_stage_sizes(artists: BarsArtists, sides: Sequence[int], title: str) -> None:
    """Set each bar to its stage's side and label it ``S x S``."""
    for bar, label, side in zip(artists.bars, artists.labels, sides):
        bar.set_width(side)
        label.set_x(side * 1.08)
        label.set_text(f"{side}x{side}")
    artists.bars[0].axes.set_title(title, fontsize="medium")


def draw_gradient_norms(ax: Axes, main: Mapping[str, float], aux: Mapping[str, float]) -> BarsArtists:
    """Fixed bars of ``||g_main||`` per part and bars for ``||alpha g_aux||`` (log scale, zero drawn at a floor)."""
    parts, y, height = list(main), np.arange(len(main)), 0.38
    positive = [v for v in [*main.values(), *aux.values()] if v > 0] or [1.0]
    floor = min(positive) / 10  # bars of zero gradient are drawn down to this floor
    fixed = ax.barh(y - height / 2, [max(main[p], floor) for p in parts], height, color=PARAMS_COLOUR, hatch="//",
                    edgecolor="white", label="main loss: ||g_main||")
    bars = ax.barh(y + height / 2, [floor] * len(parts), height, color=AUX_COLOUR, edgecolor="black",
                   label="auxiliary loss: ||alpha g_aux||")
    ax.set_yticks(y, parts)
    ax.invert_yaxis()
    ax.set(xscale="log", xlim=(floor, max(positive) * 3), xlabel="gradient L2 norm (log scale)")
    ax.legend(loc="lower right", fontsize="small")
    return BarsArtists(bars, [], fixed, [], floor)


def update_gradient_norms(artists: BarsArtists, alpha: float, scaled: Mapping[str, float],
                          ratio: Mapping[str, float]) -> None:
    """Set the auxiliary bars to ``||alpha g_aux||``; the title lists the ratios to the main gradient."""
    for bar, value in zip(artists.bars, scaled.values()):
        bar.set_width(max(value, artists.floor))
    shown = ", ".join(f"{p.removeprefix('backbone.')} {r:.2f}" for p, r in ratio.items() if 0 < r < float("inf"))
    artists.bars[0].axes.set_title(f"alpha = {alpha:.2f}; ||alpha g_aux|| / ||g_main||:\n{shown}", fontsize="medium")
