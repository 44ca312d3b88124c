"""Plot helpers for the PSPNet lesson (notebook 04).

Training curves, input / ground truth / prediction panels, the pyramid bins drawn over an
image (with adaptive pooling's overlapping windows when the bin does not divide the feature
map), and the pyramid features of a trained model. Label maps use ``viridis`` sampled at one
colour per class: distinct hues *and* distinct lightness, so they survive greyscale printing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from visual.plots.core import get_axes

if TYPE_CHECKING:  # pragma: no cover - typing only
    import numpy as np
    import torch
    from matplotlib.axes import Axes
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    from visual.train import History

__all__ = [
    "ARCHITECTURE_NODES",
    "plot_pspnet_architecture",
    "label_colormap",
    "plot_training_history",
    "plot_label_map",
    "plot_segmentation_panels",
    "bin_window_boxes",
    "window_coverage",
    "coverage_overlay",
    "box_polygons",
    "plot_pyramid_bins",
    "plot_pyramid_features",
    "plot_part_costs",
]

LOSS_COLOUR = "tab:blue"
MIOU_COLOUR = "tab:orange"
OVERLAP_COLOURS = {2: (1.0, 0.55, 0.0, 0.55), 4: (0.85, 0.0, 0.0, 0.65)}  # cells in 2 / 4 windows


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


def plot_pspnet_architecture(trace: Any, *, ax: "Axes | None" = None) -> "Axes":
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
    from matplotlib.patches import FancyBboxPatch

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


def label_colormap(num_classes: int) -> "ListedColormap":
    """A discrete colour map, one ``viridis`` colour per class (lightness grows with the index)."""
    import numpy as np
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes}")
    return ListedColormap(colormaps["viridis"](np.linspace(0.0, 1.0, num_classes)), name=f"labels{num_classes}")


def _numpy(x: Any) -> "np.ndarray":
    import numpy as np

    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _image_hwc(image: Any) -> "np.ndarray":
    """``(3, H, W)`` tensor or ``(H, W, 3)`` array in ``[0, 1]`` -> ``(H, W, 3)`` array."""
    import numpy as np

    array = _numpy(image)
    if array.ndim != 3:
        raise ValueError(f"image must be (3, H, W) or (H, W, 3), got shape {array.shape}")
    if array.shape[0] == 3 and array.shape[-1] != 3:
        array = array.transpose(1, 2, 0)  # (H, W, 3)
    return np.clip(array, 0.0, 1.0)


def plot_training_history(
    history: "History", *, ax: "Axes | None" = None, target_miou: float | None = None
) -> "Axes":
    """Training loss per step (left axis) and held-out mIoU (right axis) against the step.

    Args:
        history: from :func:`visual.train.train_model`.
        ax: where to draw; ``None`` makes a new figure.
        target_miou: draw this mIoU as a dashed reference line (e.g. 0.7).

    Returns:
        The loss Axes (the mIoU Axes is its twin, ``ax.right_ax``).
    """
    ax = get_axes(ax, (7.0, 4.0))
    lines = ax.plot(history.step, history.loss, color=LOSS_COLOUR, lw=1.2, label="training loss (main + 0.4 aux)")
    ax.set(xlabel="SGD step", ylabel="cross-entropy loss (nats per pixel)",
           title="Training PSPNet: loss falls, held-out mIoU rises")
    ax.set_ylim(bottom=0.0)
    right = ax.twinx()
    lines += right.plot(history.eval_step, history.miou, "o-", color=MIOU_COLOUR, ms=6,
                        label="held-out mIoU")
    if target_miou is not None:
        lines.append(right.axhline(target_miou, color=MIOU_COLOUR, ls="--", lw=1,
                                   label=f"target mIoU = {target_miou:g}"))
    right.set_ylim(0.0, 1.0)
    right.set_ylabel("mean IoU on held-out images")
    ax.legend(lines, [line.get_label() for line in lines], loc="upper center", fontsize="small")
    ax.right_ax = right
    return ax


def plot_label_map(
    labels: Any,
    *,
    num_classes: int,
    ax: "Axes | None" = None,
    image: Any = None,
    alpha: float = 1.0,
    title: str | None = None,
) -> "Axes":
    """A label map ``(H, W)`` in the discrete class colours, optionally over an image.

    Args:
        labels: class indices, ``(H, W)``.
        num_classes: number of classes (fixes the colours).
        ax: where to draw; ``None`` makes a new figure.
        image: an optional ``(3, H, W)`` image drawn underneath.
        alpha: opacity of the labels.
        title: Axes title.

    Returns:
        The Axes.
    """
    ax = get_axes(ax, (4.0, 4.0))
    if image is not None:
        ax.imshow(_image_hwc(image), interpolation="nearest")
    ax.imshow(_numpy(labels), cmap=label_colormap(num_classes), vmin=-0.5, vmax=num_classes - 0.5,
              interpolation="nearest", alpha=alpha)
    ax.set(xlabel="x (pixels)", ylabel="y (pixels)")
    if title is not None:
        ax.set_title(title)
    return ax


def plot_segmentation_panels(
    images: Any,
    targets: Any,
    predictions: Any,
    *,
    class_names: Sequence[str],
    fig: "Figure | None" = None,
    titles: Sequence[str] | None = None,
) -> "np.ndarray":
    """Rows of input / ground truth / prediction, with one legend for the classes.

    Args:
        images: ``(N, 3, H, W)``.
        targets: ``(N, H, W)`` true labels.
        predictions: ``(N, H, W)`` predicted labels.
        class_names: one name per class index.
        fig: the figure to fill; ``None`` makes one.
        titles: optional per-row text put in the prediction panel's title (e.g. the image's mIoU).

    Returns:
        The ``(N, 3)`` array of Axes.
    """
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.patches import Patch

    n = len(images)
    if not len(targets) == len(predictions) == n:
        raise ValueError(f"images, targets and predictions must have the same length, got "
                         f"{n}, {len(targets)}, {len(predictions)}")
    if fig is None:
        fig = plt.figure(figsize=(8.0, 2.6 * n + 0.6), layout="constrained")
    axes = np.asarray(fig.subplots(n, 3, squeeze=False))
    k = len(class_names)
    for row in range(n):
        axes[row, 0].imshow(_image_hwc(images[row]))
        axes[row, 0].set_title("input")
        plot_label_map(targets[row], num_classes=k, ax=axes[row, 1], title="ground truth")
        extra = f" ({titles[row]})" if titles is not None else ""
        plot_label_map(predictions[row], num_classes=k, ax=axes[row, 2], title="prediction" + extra)
        axes[row, 0].set(xlabel="x (pixels)", ylabel="y (pixels)")
    cmap = label_colormap(k)
    handles = [Patch(facecolor=cmap(i), edgecolor="black", label=f"{i}: {name}") for i, name in enumerate(class_names)]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(k, 5), fontsize="small")
    return axes


def bin_window_boxes(
    feature_size: int | tuple[int, int], bin_size: int, output_stride: float = 1.0
) -> list[tuple[float, float, float, float]]:
    """Boxes ``(x0, y0, width, height)`` of the feature cells each pooling window averages.

    Feature cell ``i`` is centred on input coordinate ``i * output_stride`` and spans half a
    stride on each side, so the boxes are in input pixels (``output_stride=1`` gives feature
    cells). Windows follow :func:`visual.adaptive_pool_windows`.

    Args:
        feature_size: ``h`` or ``(h, w)`` cells of the feature map.
        bin_size: ``b`` of the ``b x b`` adaptive pooling.
        output_stride: input pixels between neighbouring feature cells (8 for PSPNet).

    Returns:
        ``b * b`` boxes, row by row.

    Example:
        >>> bin_window_boxes(9, 2)[:2]
        [(-0.5, -0.5, 5.0, 5.0), (3.5, -0.5, 5.0, 5.0)]
    """
    from visual.models.pspnet import adaptive_pool_windows

    h, w = (feature_size, feature_size) if isinstance(feature_size, int) else feature_size
    rows, cols = adaptive_pool_windows(h, bin_size), adaptive_pool_windows(w, bin_size)
    half = 0.5 * output_stride
    return [
        (c0 * output_stride - half, r0 * output_stride - half,
         (c1 - c0) * output_stride, (r1 - r0) * output_stride)
        for r0, r1 in rows for c0, c1 in cols
    ]


def window_coverage(feature_size: int | tuple[int, int], bin_size: int) -> "np.ndarray":
    """How many ``b x b`` pooling windows average each feature cell: ``(h, w)`` ints.

    1 everywhere when ``b`` divides the feature size (the windows tile the map); 2 or 4 where
    adaptive pooling's windows overlap.

    Example:
        >>> window_coverage(5, 2)[0].tolist()
        [1, 1, 2, 1, 1]
    """
    import numpy as np

    from visual.models.pspnet import adaptive_pool_windows

    h, w = (feature_size, feature_size) if isinstance(feature_size, int) else feature_size
    rows, cols = np.zeros(h, dtype=int), np.zeros(w, dtype=int)
    for start, end in adaptive_pool_windows(h, bin_size):
        rows[start:end] += 1
    for start, end in adaptive_pool_windows(w, bin_size):
        cols[start:end] += 1
    return rows[:, None] * cols[None, :]  # (h, w)


def coverage_overlay(coverage: "np.ndarray") -> "np.ndarray":
    """RGBA ``(h, w, 4)`` overlay: transparent where one window covers a cell, orange (2) / red (4+)."""
    import numpy as np

    rgba = np.zeros((*coverage.shape, 4))
    for count, colour in OVERLAP_COLOURS.items():
        rgba[coverage >= count] = colour
    return rgba


def plot_pyramid_bins(
    image: Any,
    bin_size: int,
    *,
    feature_size: int | None = None,
    output_stride: int = 8,
    ax: "Axes | None" = None,
) -> "Axes":
    """Draw over an image the regions that each output of a ``b x b`` pyramid bin averages.

    The image of side ``H`` gives a ``ceil(H / 8)`` feature map (output stride 8); each of the
    ``b x b`` pooled values averages a window of feature cells (:func:`visual.adaptive_pool_windows`).
    Window outlines are white (with a black rim); feature cells averaged by two windows are
    shaded orange and by four windows red: they exist only when ``b`` does not divide the
    feature size.

    Args:
        image: ``(3, H, W)`` tensor or ``(H, W, 3)`` array.
        bin_size: ``b``.
        feature_size: cells per side of the feature map; ``None`` means ``ceil(side / output_stride)``.
        output_stride: input pixels per feature cell.
        ax: where to draw; ``None`` makes a new figure.

    Returns:
        The Axes; ``ax.images[-1]`` is the overlap overlay and the last collection the outlines.
    """
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    picture = _image_hwc(image)
    height, width = picture.shape[:2]
    if feature_size is None:
        feature = (-(-height // output_stride), -(-width // output_stride))
    else:
        feature = (feature_size, feature_size)
    ax = get_axes(ax, (5.0, 5.0))
    ax.imshow(picture, extent=(-0.5, width - 0.5, height - 0.5, -0.5))
    half = 0.5 * output_stride
    ax.imshow(coverage_overlay(window_coverage(feature, bin_size)), interpolation="nearest",
              extent=(-half, feature[1] * output_stride - half, feature[0] * output_stride - half, -half))
    polygons = box_polygons(bin_window_boxes(feature, bin_size, output_stride))
    ax.add_collection(PolyCollection(polygons, facecolors="none", edgecolors="black", linewidths=3.0))
    ax.add_collection(PolyCollection(polygons, facecolors="none", edgecolors="white", linewidths=1.4))
    handles = [Patch(facecolor=colour, edgecolor="black", label=f"cell in {count} windows")
               for count, colour in OVERLAP_COLOURS.items()]
    ax.legend(handles=handles, loc="upper right", fontsize="small", framealpha=0.85)
    ax.set(xlim=(-0.5, width - 0.5), ylim=(height - 0.5, -0.5), xlabel="x (input pixels)",
           ylabel="y (input pixels)",
           title=f"bin {bin_size}x{bin_size} on a {feature[0]}x{feature[1]} feature map")
    return ax


def box_polygons(boxes: Sequence[tuple[float, float, float, float]]) -> list[list[tuple[float, float]]]:
    """Boxes ``(x0, y0, width, height)`` as closed 4-corner polygons for a ``PolyCollection``."""
    return [[(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h)] for x0, y0, w, h in boxes]


def plot_pyramid_features(
    features: Sequence["torch.Tensor"],
    image: Any,
    *,
    bins: Sequence[int],
    feature_size: tuple[int, int],
    align_corners: bool = True,
    fig: "Figure | None" = None,
) -> "np.ndarray":
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
    import matplotlib.pyplot as plt
    import numpy as np
    import torch.nn.functional as F

    if len(features) != len(bins):
        raise ValueError(f"features and bins must have the same length, got {len(features)} and {len(bins)}")
    picture = _image_hwc(image)
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
        top = axes[0, i].imshow(_numpy(norm), cmap="magma", vmin=vmin, vmax=vmax, interpolation="nearest")
        axes[0, i].set(title=f"bin {size}x{size}: pooled", xlabel="bin column", ylabel="bin row",
                       xticks=range(size), yticks=range(size))
        axes[1, i].imshow(picture, extent=(-0.5, width - 0.5, height - 0.5, -0.5))
        axes[1, i].imshow(_numpy(up), cmap="magma", vmin=vmin, vmax=vmax, alpha=0.6, extent=cells,
                          interpolation="nearest")
        axes[1, i].set(title=f"upsampled to {feature_size[0]}x{feature_size[1]}", xlabel="x (input pixels)",
                       ylabel="y (input pixels)", xlim=(-0.5, width - 0.5), ylim=(height - 0.5, -0.5))
    fig.colorbar(top, ax=axes[:, -1].tolist(), label="L2 norm over the branch's channels")
    return axes


def plot_part_costs(costs: Sequence[Any], *, ax: "Axes | None" = None, title: str | None = None) -> "Axes":
    """Horizontal bars of the share of parameters and FLOPs of each part (``PartCost`` rows).

    Args:
        costs: rows from :func:`visual.part_costs` (a ``"total"`` row is used for the shares).
        ax: where to draw; ``None`` makes a new figure.
        title: Axes title.

    Returns:
        The Axes; its two bar containers are ``ax.containers``.
    """
    import numpy as np

    ax = get_axes(ax, (6.5, 3.2))
    parts = [row for row in costs if row.part != "total"]
    total_params = sum(row.parameters for row in parts)
    total_flops = sum(row.flops for row in parts)
    y = np.arange(len(parts))
    height = 0.38
    params = [100.0 * row.parameters / total_params for row in parts]
    flops = [100.0 * row.flops / total_flops for row in parts]
    ax.barh(y - height / 2, params, height, color="#3b528b", label="parameters", hatch="//", edgecolor="white")
    ax.barh(y + height / 2, flops, height, color="#5ec962", label="FLOPs (forward)", edgecolor="white")
    for yy, p, f in zip(y, params, flops):
        ax.text(p + 1, yy - height / 2, f"{p:.1f}%", va="center", fontsize="small")
        ax.text(f + 1, yy + height / 2, f"{f:.1f}%", va="center", fontsize="small")
    ax.set_yticks(y, [row.part for row in parts])
    ax.invert_yaxis()
    ax.set(xlim=(0, 110), xlabel="share of the whole network (%)",
           title=title or f"{total_params / 1e6:.1f} M parameters, {total_flops / 1e9:.0f} GFLOPs per image")
    ax.legend(loc="lower right", fontsize="small")
    return ax
