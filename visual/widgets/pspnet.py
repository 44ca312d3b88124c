"""Slider explorers for the PSPNet lesson (notebook 04).

Each ``explore_*`` builds its figure once (inside ``plt.ioff()``), then its callback calls a
pure function (sizes, pooling windows, gradient norms, cached predictions) and moves existing
artists. Nothing heavy runs in a callback: models are run once when the explorer is built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from visual.widgets.core import Explorer, finish_explorer

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch
    from torch.utils.data import Dataset

    from visual.models.pspnet import PartCost, PSPNet

__all__ = [
    "size_summary",
    "bins_summary",
    "explore_pspnet_sizes",
    "explore_pyramid_bins",
    "explore_part_costs",
    "explore_aux_weight",
    "explore_predictions",
]

OUTPUT_STRIDE = 8  # PSPNet: dilated ResNet, layer4 at 1/8 of the input (paper Sec. 3.3)
LAYOUT = {"width": "auto"}
SIZE_ROWS = ("input", "backbone.conv1", "backbone.maxpool", "backbone.layer1", "backbone.layer2",
             "backbone.layer3", "backbone.layer4", "ppm", "head", "out")


# --------------------------------------------------------------------------------------------
# Pure functions behind the callbacks
# --------------------------------------------------------------------------------------------
def size_summary(input_size: int, bins: Sequence[int] = (1, 2, 3, 6)) -> dict[str, Any]:
    """Sizes through a PSPNet for a square input, and whether the pyramid bins tile layer4.

    Args:
        input_size: side of the input image in pixels.
        bins: pyramid bin sizes.

    Returns:
        ``sizes`` (name -> side in cells/pixels, :func:`visual.pspnet_sizes` plus ``"input"``),
        ``feature`` (layer4 side), ``is_8k_plus_1``, ``tiling`` (bin -> whether ``b`` divides the
        layer4 side) and ``bin_sizes`` (bin -> window sizes used).

    Example:
        >>> s = size_summary(473)
        >>> s["feature"], s["is_8k_plus_1"], s["tiling"]
        (60, True, {1: True, 2: True, 3: True, 6: True})
    """
    from visual.models.pspnet import adaptive_pool_windows, pspnet_sizes

    sizes = {name: size[0] for name, size in pspnet_sizes(input_size, bins).items()}
    sizes["input"] = input_size
    feature = sizes["backbone.layer4"]
    windows = {b: adaptive_pool_windows(feature, b) for b in bins}
    return {
        "sizes": sizes,
        "feature": feature,
        "is_8k_plus_1": (input_size - 1) % OUTPUT_STRIDE == 0,
        "tiling": {b: feature % b == 0 for b in bins},
        "bin_sizes": {b: sorted({end - start for start, end in w}) for b, w in windows.items()},
    }


def bins_summary(feature_size: int, bin_size: int) -> dict[str, Any]:
    """The pooling windows of one bin on a square feature map, and how much they overlap.

    Args:
        feature_size: cells per side of layer4.
        bin_size: ``b``.

    Returns:
        ``windows`` (one axis), ``overlap_cells`` (cells per axis in two windows), ``tiles``
        (``b`` divides the feature size) and ``input_size`` (the 8k+1 input giving this feature size).

    Example:
        >>> bins_summary(9, 6)["overlap_cells"]
        3
    """
    from visual.models.pspnet import adaptive_pool_windows

    windows = adaptive_pool_windows(feature_size, bin_size)
    overlap = sum(max(0, a_end - b_start) for (_, a_end), (b_start, _) in zip(windows, windows[1:]))
    return {
        "windows": windows,
        "overlap_cells": overlap,
        "tiles": feature_size % bin_size == 0,
        "input_size": OUTPUT_STRIDE * (feature_size - 1) + 1,
    }


# --------------------------------------------------------------------------------------------
# Plumbing shared by the explorers
# --------------------------------------------------------------------------------------------
def _figure(figsize: tuple[float, float], nrows: int = 1, ncols: int = 1) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    with plt.ioff():
        fig, axes = plt.subplots(nrows, ncols, figsize=figsize, layout="constrained", squeeze=False)
    return fig, axes


# --------------------------------------------------------------------------------------------
# Explorers
# --------------------------------------------------------------------------------------------
def explore_pspnet_sizes(input_size: int = 473, *, bins: Sequence[int] = (1, 2, 3, 6),
                         max_size: int = 713) -> Explorer:
    """Slide the input size; see every stage's side and whether the pyramid bins tile layer4.

    Args:
        input_size: initial side of the square input (pixels).
        bins: pyramid bin sizes.
        max_size: largest side on the slider.

    Returns:
        An ``Explorer``; ``state`` holds the latest :func:`size_summary`.
    """
    import ipywidgets as widgets
    import numpy as np

    names = list(SIZE_ROWS)
    fig, axes = _figure((7.5, 4.2))
    ax = axes[0, 0]
    y = np.arange(len(names))
    bars = ax.barh(y, np.ones(len(names)), color=["#3b528b"] * 7 + ["#5ec962"] * 2 + ["#21918c"])
    labels = [ax.text(1.0, yy, "", va="center", fontsize="small") for yy in y]
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set(xscale="log", xlim=(1, 2.5 * max_size), xlabel="side of the tensor (pixels or feature cells, log scale)")
    controls = {"input_size": widgets.IntSlider(value=input_size, min=64, max=max_size, description="input size",
                                                continuous_update=True, layout=LAYOUT)}
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        summary = size_summary(controls["input_size"].value, bins)
        state.update(summary)
        for bar, label, name in zip(bars, labels, names):
            side = summary["sizes"][name]
            bar.set_width(side)
            label.set_position((side * 1.08, label.get_position()[1]))
            label.set_text(f"{side}x{side}")
        tiles = [b for b, ok in summary["tiling"].items() if ok]
        overlap = [b for b, ok in summary["tiling"].items() if not ok]
        ax.set_title(
            f"input {summary['sizes']['input']} px "
            f"({'8k+1' if summary['is_8k_plus_1'] else 'not 8k+1'}) -> layer4 {summary['feature']}x{summary['feature']}\n"
            f"bins that tile layer4: {tiles or 'none'}; bins with overlapping windows: {overlap or 'none'}",
            fontsize="medium")
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))


def explore_pyramid_bins(image: "torch.Tensor | None" = None, *, bin_size: int = 6, feature_size: int = 60,
                         max_bin: int = 10, max_feature: int = 64) -> Explorer:
    """Slide the bin size and the layer4 size; see the pooling windows over the photo.

    The photo is shown as the ``8(n - 1) + 1`` pixel input that gives an ``n x n`` layer4;
    cells averaged by two (orange) or four (red) windows mark adaptive pooling's overlaps.

    Args:
        image: ``(3, H, W)`` picture; ``None`` uses ``visual.load_sample_image(473)``.
        bin_size: initial ``b``.
        feature_size: initial layer4 side ``n``.
        max_bin: largest ``b`` on the slider.
        max_feature: largest ``n`` on the slider.

    Returns:
        An ``Explorer``; ``state`` holds the latest :func:`bins_summary`.
    """
    import ipywidgets as widgets
    from matplotlib.collections import PolyCollection

    from visual.data import load_sample_image
    from visual.plots.pspnet import (
        _image_hwc,
        bin_window_boxes,
        box_polygons,
        coverage_overlay,
        plot_pyramid_bins,
        window_coverage,
    )

    picture = _image_hwc(load_sample_image(473) if image is None else image)
    fig, axes = _figure((5.6, 6.0))
    ax = axes[0, 0]
    plot_pyramid_bins(picture, bin_size, feature_size=feature_size, ax=ax)
    photo, overlay = ax.images[0], ax.images[1]
    rim, outline = [c for c in ax.collections if isinstance(c, PolyCollection)][-2:]
    controls = {
        "bin_size": widgets.IntSlider(value=bin_size, min=1, max=max_bin, description="bin size b",
                                      continuous_update=True, layout=LAYOUT),
        "feature_size": widgets.IntSlider(value=feature_size, min=1, max=max_feature,
                                          description="layer4 size n", continuous_update=True, layout=LAYOUT),
    }
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        b, n = controls["bin_size"].value, controls["feature_size"].value
        summary = bins_summary(n, b)
        state.update(summary)
        side = summary["input_size"]
        half = 0.5 * OUTPUT_STRIDE
        photo.set_extent((-0.5, side - 0.5, side - 0.5, -0.5))
        overlay.set_data(coverage_overlay(window_coverage(n, b)))
        overlay.set_extent((-half, n * OUTPUT_STRIDE - half, n * OUTPUT_STRIDE - half, -half))
        polygons = box_polygons(bin_window_boxes(n, b, OUTPUT_STRIDE))
        rim.set_verts(polygons)
        outline.set_verts(polygons)
        ax.set(xlim=(-0.5, side - 0.5), ylim=(side - 0.5, -0.5))
        shown = ", ".join(f"[{s}, {e})" for s, e in summary["windows"][:6])
        more = ", ..." if b > 6 else ""
        verdict = "windows tile the map" if summary["tiles"] else f"{summary['overlap_cells']} cells per axis in 2 windows"
        ax.set_title(f"input {side} px -> layer4 {n}x{n}, bin {b}x{b}: {verdict}\nwindows (cells): {shown}{more}",
                     fontsize="medium")
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))


def explore_part_costs(costs: Mapping[str, Sequence["PartCost"]]) -> Explorer:
    """Pick a backbone; see each part's share of parameters and FLOPs.

    Args:
        costs: backbone name -> rows of :func:`visual.part_costs` (computed once, beforehand).

    Returns:
        An ``Explorer``; ``state`` holds the ``parameters`` and ``flops`` shares (%) per part.
    """
    import ipywidgets as widgets

    from visual.plots.pspnet import plot_part_costs

    names = list(costs)
    if not names:
        raise ValueError("costs must hold at least one backbone")
    fig, axes = _figure((7.0, 3.4))
    ax = axes[0, 0]
    plot_part_costs(costs[names[0]], ax=ax)
    param_bars, flop_bars = ax.containers[0], ax.containers[1]
    texts = list(ax.texts)
    controls = {"backbone": widgets.Dropdown(options=names, value=names[0], description="backbone")}
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        rows = [row for row in costs[controls["backbone"].value] if row.part != "total"]
        params = [100.0 * r.parameters / sum(x.parameters for x in rows) for r in rows]
        flops = [100.0 * r.flops / sum(x.flops for x in rows) for r in rows]
        state.update(parameters=dict(zip([r.part for r in rows], params)),
                     flops=dict(zip([r.part for r in rows], flops)))
        for i, (p, f) in enumerate(zip(params, flops)):
            param_bars[i].set_width(p)
            flop_bars[i].set_width(f)
            texts[2 * i].set_text(f"{p:.1f}%")
            texts[2 * i].set_x(p + 1)
            texts[2 * i + 1].set_text(f"{f:.1f}%")
            texts[2 * i + 1].set_x(f + 1)
        total_p = sum(r.parameters for r in rows)
        total_f = sum(r.flops for r in rows)
        ax.set_title(f"PSPNet-{controls['backbone'].value}: {total_p / 1e6:.1f} M parameters, "
                     f"{total_f / 1e9:.0f} GFLOPs per image")
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))


def explore_aux_weight(gradients: Mapping[str, Mapping[str, "torch.Tensor"]], *, aux_weight: float = 0.4) -> Explorer:
    """Slide the auxiliary-loss weight alpha; compare the gradient each part gets from each loss.

    Args:
        gradients: from :func:`visual.train.loss_gradients` (computed once, beforehand).
        aux_weight: initial alpha.

    Returns:
        An ``Explorer``; ``state`` holds ``aux_norms`` (part -> ``||alpha g_aux||``), ``norms``
        (part -> ``||g_main + alpha g_aux||``) and ``ratio`` (part -> ``||alpha g_aux|| / ||g_main||``,
        ``inf`` where only the auxiliary loss reaches).
    """
    import math

    import ipywidgets as widgets
    import numpy as np

    from visual.train import combined_gradient_norms

    parts = list(gradients["main"])
    main = combined_gradient_norms(gradients, 0.0)
    aux_only = {p: float(gradients["aux"][p].norm()) for p in parts}
    # ||g_main + alpha g_aux||^2 = ||g_main||^2 + 2 alpha <g_main, g_aux> + alpha^2 ||g_aux||^2:
    # one dot product per part here, so a slider change is scalar arithmetic, not a pass over the weights.
    cross = {p: float((gradients["main"][p].double() * gradients["aux"][p].double()).sum()) for p in parts}
    fig, axes = _figure((7.5, 4.0))
    ax = axes[0, 0]
    y = np.arange(len(parts))
    height = 0.38
    positive = [v for v in [*main.values(), *aux_only.values()] if v > 0] or [1.0]
    floor = min(positive) / 10  # bars of zero gradient are drawn down to this floor
    ax.barh(y - height / 2, [max(main[p], floor) for p in parts], height, color="#3b528b", hatch="//",
            edgecolor="white", label="main loss: ||g_main||")
    aux_bars = ax.barh(y + height / 2, [floor] * len(parts), height, color="#fde725", edgecolor="black",
                       label="auxiliary loss: ||alpha g_aux||")
    ax.set_yticks(y, parts)
    ax.invert_yaxis()
    ax.set(xscale="log", xlim=(floor, max(positive) * 3), xlabel="gradient L2 norm (log scale)")
    ax.legend(loc="lower right", fontsize="small")
    controls = {"aux_weight": widgets.FloatSlider(value=aux_weight, min=0.0, max=1.0, step=0.05,
                                                  description="alpha", continuous_update=True, layout=LAYOUT)}
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        alpha = controls["aux_weight"].value
        scaled = {p: alpha * aux_only[p] for p in parts}
        ratio = {p: (scaled[p] / main[p] if main[p] > 0 else float("inf")) for p in parts}
        norms = {p: math.sqrt(max(0.0, main[p] ** 2 + 2 * alpha * cross[p] + scaled[p] ** 2)) for p in parts}
        state.update(aux_norms=scaled, norms=norms, ratio=ratio)
        for bar, part in zip(aux_bars, parts):
            bar.set_width(max(scaled[part], floor))
        shared = [p for p in parts if main[p] > 0 and aux_only[p] > 0]  # reached by both losses
        shown = ", ".join(f"{p.removeprefix('backbone.')} {ratio[p]:.2f}" for p in shared)
        ax.set_title(f"alpha = {alpha:.2f}; ||alpha g_aux|| / ||g_main||:\n{shown}", fontsize="medium")
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))


def explore_predictions(model: "PSPNet", dataset: "Dataset", *, count: int = 16,
                        class_names: Sequence[str] | None = None) -> Explorer:
    """Slide through held-out images; see input, ground truth and the model's prediction.

    The model runs once, on the first ``count`` images, when the explorer is built.

    Args:
        model: a trained segmentation model returning ``{"out": (N, K, H, W)}``.
        dataset: ``(image (3, H, W), target (H, W))`` pairs.
        count: how many images to cache (the slider's range).
        class_names: one name per class; ``None`` uses ``dataset.class_names`` or numbers.

    Returns:
        An ``Explorer``; ``state`` holds ``index``, ``miou`` and ``pixel_accuracy`` of the image shown.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    import torch

    from visual.plots.pspnet import plot_segmentation_panels
    from visual.train import confusion_matrix, segmentation_metrics

    count = min(count, len(dataset))
    if count < 1:
        raise ValueError("dataset holds no images to show")
    images, targets = (torch.stack(t) for t in zip(*(dataset[i] for i in range(count))))
    parameter = next(iter(model.parameters()))
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            logits = model(images.to(parameter.device))["out"]  # (count, K, H, W)
    finally:
        model.train(was_training)
    predictions = logits.argmax(dim=1).cpu()  # (count, H, W)
    num_classes = logits.shape[1]
    if class_names is None:
        class_names = getattr(dataset, "class_names", [str(k) for k in range(num_classes)])
    with plt.ioff():
        fig = plt.figure(figsize=(8.0, 3.4), layout="constrained")
    axes = plot_segmentation_panels(images[:1], targets[:1], predictions[:1], class_names=class_names, fig=fig)
    artists = [axes[0, 0].images[0], axes[0, 1].images[0], axes[0, 2].images[0]]
    controls = {"index": widgets.IntSlider(value=0, min=0, max=count - 1, description="image",
                                           continuous_update=True, layout=LAYOUT)}
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        i = controls["index"].value
        metrics = segmentation_metrics(confusion_matrix(predictions[i], targets[i], num_classes))
        state.update(index=i, miou=metrics.miou, pixel_accuracy=metrics.pixel_accuracy)
        artists[0].set_data(images[i].permute(1, 2, 0).clamp(0, 1).numpy())
        artists[1].set_data(targets[i].numpy())
        artists[2].set_data(predictions[i].numpy())
        axes[0, 2].set_title(f"prediction\nmIoU {metrics.miou:.2f}, pixel accuracy {metrics.pixel_accuracy:.2f}")
        axes[0, 0].set_title(f"held-out image {i}")
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))
