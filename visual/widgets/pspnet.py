"""Slider explorers for the PSPNet lesson (notebook 04): each builds its figure once with a ``draw_*``
helper; its callback calls a pure function and the matching ``update_*`` (models run once, up front)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.utils.data import Dataset

from visual.checks import MAX_SIDE, check_float, check_int, check_ints
from visual.data import load_sample_image
from visual.metrics import confusion_matrix, model_device, segmentation_metrics
from visual.cost import PartCost
from visual.models.pspnet import DEFAULTS, MAX_BIN, adaptive_pool_windows, pspnet_sizes
from visual.plots.pspnet import (draw_gradient_norms, draw_part_costs, draw_pyramid_bins, draw_size_bars,
                                 update_gradient_norms, update_part_costs, update_pyramid_bins, update_size_bars)
from visual.plots.segmentation import draw_class_legend, draw_segmentation, update_segmentation
from visual.train import check_gradients, combined_gradient_norms
from visual.widgets.controls import slider
from visual.widgets.core import Explorer, figure, finish_explorer

__all__ = ["size_summary", "bins_summary", "explore_pspnet_sizes", "explore_pyramid_bins", "explore_part_costs",
           "explore_aux_weight", "explore_predictions"]

OUTPUT_STRIDE = 8  # PSPNet: dilated ResNet, layer4 at 1/8 of the input (paper Sec. 3.3)
MIN_INPUT = 64  # smallest input on the sizes slider: from here on every bin has >= 1 cell of its own
SIZE_ROWS = ("input", "backbone.conv1", "backbone.maxpool", "backbone.layer1", "backbone.layer2",
             "backbone.layer3", "backbone.layer4", "ppm", "head", "out")


def size_summary(input_size: int, bins: Sequence[int] = DEFAULTS.bins) -> dict[str, Any]:
    """Sides through a PSPNet for a square input: ``sizes``, ``feature`` (layer4), ``is_8k_plus_1``,
    ``tiling`` (bin -> it divides layer4) and ``bin_sizes`` (window sizes per bin).

    Example:
        >>> s = size_summary(473)
        >>> s["feature"], s["is_8k_plus_1"], s["tiling"]
        (60, True, {1: True, 2: True, 3: True, 6: True})
    """
    input_size = check_int(input_size, "input_size", minimum=1, maximum=MAX_SIDE)
    sizes = {name: size[0] for name, size in pspnet_sizes(input_size, bins).items()}
    sizes["input"] = input_size
    feature = sizes["backbone.layer4"]
    return {"sizes": sizes, "feature": feature, "is_8k_plus_1": (input_size - 1) % OUTPUT_STRIDE == 0,
            "tiling": {b: feature % b == 0 for b in bins},
            "bin_sizes": {b: sorted({end - start for start, end in adaptive_pool_windows(feature, b)}) for b in bins}}


def bins_summary(feature_size: int, bin_size: int) -> dict[str, Any]:
    """One bin's pooling ``windows`` (one axis) on a square map, ``overlap_cells`` (per axis, in two
    windows), ``tiles`` (``b`` divides the map) and ``input_size`` (the 8k+1 input giving the map).

    Example:
        >>> bins_summary(9, 6)["overlap_cells"]
        3
    """
    feature_size = check_int(feature_size, "feature_size", minimum=1, maximum=MAX_SIDE)
    windows = adaptive_pool_windows(feature_size, check_int(bin_size, "bin_size", minimum=1, maximum=MAX_BIN))
    overlap = sum(max(0, a_end - b_start) for (_, a_end), (b_start, _) in zip(windows, windows[1:]))
    return {"windows": windows, "overlap_cells": overlap, "tiles": feature_size % bin_size == 0,
            "input_size": OUTPUT_STRIDE * (feature_size - 1) + 1}


def explore_pspnet_sizes(input_size: int = DEFAULTS.input_size, *, bins: Sequence[int] = DEFAULTS.bins,
                         max_size: int = 713) -> Explorer:
    """Slide the input size (``MIN_INPUT`` to ``max_size``); see every stage's side and which bins tile
    layer4. Returns an ``Explorer`` whose ``state`` is the latest :func:`size_summary`."""
    max_size = check_int(max_size, "max_size", minimum=MIN_INPUT, maximum=MAX_SIDE)
    input_size = check_int(input_size, "input_size", minimum=MIN_INPUT, maximum=max_size)
    bins = check_ints(bins, "bins", minimum=1, maximum=MAX_BIN)
    fig, ax = figure((7.5, 4.2))
    artists = draw_size_bars(ax, SIZE_ROWS, max_size)
    controls = {"input_size": slider(widgets.IntSlider, input_size, MIN_INPUT, max_size, "input size")}
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        summary = size_summary(controls["input_size"].value, bins)
        state.update(summary)
        tiles = [b for b, ok in summary["tiling"].items() if ok]
        overlap = [b for b, ok in summary["tiling"].items() if not ok]
        update_size_bars(artists, [summary["sizes"][name] for name in SIZE_ROWS], (
            f"input {summary['sizes']['input']} px ({'8k+1' if summary['is_8k_plus_1'] else 'not 8k+1'}) -> "
            f"layer4 {summary['feature']}x{summary['feature']}\n"
            f"bins that tile layer4: {tiles or 'none'}; bins with overlapping windows: {overlap or 'none'}"))
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))


def explore_pyramid_bins(image: torch.Tensor | None = None, *, bin_size: int = 6, feature_size: int = 60,
                         max_bin: int = 10, max_feature: int = 64) -> Explorer:
    """Slide the bin size (1 to ``max_bin``) and layer4's side (1 to ``max_feature``); see the pooling
    windows over ``image`` (``(3, H, W)``, ``None``: the sample photo) shown as the 8(n - 1) + 1 px input.
    Returns an ``Explorer`` whose ``state`` is the latest :func:`bins_summary`."""
    max_bin = check_int(max_bin, "max_bin", minimum=1, maximum=MAX_BIN)
    max_feature = check_int(max_feature, "max_feature", minimum=1, maximum=MAX_SIDE // OUTPUT_STRIDE)
    bin_size = check_int(bin_size, "bin_size", minimum=1, maximum=max_bin)
    feature_size = check_int(feature_size, "feature_size", minimum=1, maximum=max_feature)
    fig, ax = figure((5.6, 6.0))
    artists = draw_pyramid_bins(ax, load_sample_image(473) if image is None else image, output_stride=OUTPUT_STRIDE)
    controls = {"bin_size": slider(widgets.IntSlider, bin_size, 1, max_bin, "bin size b"),
                "feature_size": slider(widgets.IntSlider, feature_size, 1, max_feature, "layer4 size n")}
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        b, n = controls["bin_size"].value, controls["feature_size"].value
        state.update(bins_summary(n, b))
        update_pyramid_bins(artists, b, n, side=(state["input_size"], state["input_size"]))
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))


def explore_part_costs(costs: Mapping[str, Sequence[PartCost]]) -> Explorer:
    """Pick a backbone in ``costs`` (name -> :func:`visual.part_costs` rows); see each part's share (%)
    of parameters and FLOPs, also in ``state["parameters"]`` and ``state["flops"]``."""
    if not isinstance(costs, Mapping) or not costs or not all(
            isinstance(rows, Sequence) and rows and all(isinstance(r, PartCost) for r in rows)
            for rows in costs.values()):
        raise ValueError("costs must map at least one backbone name to its list of PartCost rows (part_costs)")
    names = list(costs)
    fig, ax = figure((7.0, 3.4))
    artists = draw_part_costs(ax, [row.part for row in costs[names[0]] if row.part != "total"])
    controls = {"backbone": widgets.Dropdown(options=names, value=names[0], description="backbone")}
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        name = controls["backbone"].value
        state.update(update_part_costs(artists, costs[name], name=name))
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))


def explore_aux_weight(gradients: Mapping[str, Mapping[str, torch.Tensor]], *,
                       aux_weight: float = DEFAULTS.aux_weight) -> Explorer:
    """Slide alpha in ``[0, 1]``; compare each part's gradient from each loss (``loss_gradients``). ``state``:
    ``aux_norms`` (``||alpha g_aux||``), ``norms`` (``||g_main + alpha g_aux||``) and ``ratio``
    (``||alpha g_aux|| / ||g_main||``, ``inf`` where only the auxiliary loss reaches)."""
    check_gradients(gradients)
    aux_weight = check_float(aux_weight, "aux_weight", minimum=0.0, maximum=1.0)
    parts = list(gradients["main"])
    main = combined_gradient_norms(gradients, 0.0)
    aux_only = {p: float(gradients["aux"][p].norm()) for p in parts}
    # ||g_main + alpha g_aux||^2 = ||g_main||^2 + 2 alpha <g_main, g_aux> + alpha^2 ||g_aux||^2:
    # one dot product per part here, so a slider change is scalar arithmetic, not a pass over the weights.
    cross = {p: float((gradients["main"][p].double() * gradients["aux"][p].double()).sum()) for p in parts}
    fig, ax = figure((7.5, 4.0))
    artists = draw_gradient_norms(ax, main, aux_only)
    controls = {"aux_weight": slider(widgets.FloatSlider, aux_weight, 0.0, 1.0, "alpha", step=0.05)}
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        alpha = controls["aux_weight"].value
        scaled = {p: alpha * aux_only[p] for p in parts}
        ratio = {p: (scaled[p] / main[p] if main[p] > 0 else math.inf) for p in parts}
        norms = {p: math.sqrt(max(0.0, main[p] ** 2 + 2 * alpha * cross[p] + scaled[p] ** 2)) for p in parts}
        state.update(aux_norms=scaled, norms=norms, ratio=ratio)
        update_gradient_norms(artists, alpha, scaled, {p: ratio[p] if aux_only[p] > 0 else 0.0 for p in parts})
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))


def explore_predictions(model: nn.Module, dataset: Dataset, *, count: int = 16,
                        class_names: Sequence[str] | None = None) -> Explorer:
    """Slide through the first ``count`` (1 to 256) images of ``dataset``: input, truth, prediction (the model
    runs once); ``state`` holds ``index``, ``miou`` and ``pixel_accuracy`` of the image shown."""
    device = model_device(model)
    if not isinstance(dataset, Dataset):
        raise TypeError(f"dataset must be a torch.utils.data.Dataset, got {type(dataset).__name__}")
    count = min(check_int(count, "count", minimum=1, maximum=256), len(dataset))
    if count < 1:
        raise ValueError("dataset holds no images to show")
    images, targets = (torch.stack(t) for t in zip(*(dataset[i] for i in range(count))))
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            logits = model(images.to(device))["out"]  # (count, K, H, W)
    finally:
        model.train(was_training)
    predictions = logits.argmax(dim=1).cpu()  # (count, H, W)
    num_classes = logits.shape[1]
    if class_names is None:
        class_names = getattr(dataset, "class_names", [str(k) for k in range(num_classes)])
    with plt.ioff():
        fig = plt.figure(figsize=(8.0, 3.4), layout="constrained")
    artists = draw_segmentation(fig.subplots(1, 3), images[0], targets[0], predictions[0], len(class_names))
    draw_class_legend(fig, class_names)
    controls = {"index": slider(widgets.IntSlider, 0, 0, count - 1, "image")}
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        i = controls["index"].value
        metrics = segmentation_metrics(confusion_matrix(predictions[i], targets[i], num_classes))
        state.update(index=i, miou=metrics.miou, pixel_accuracy=metrics.pixel_accuracy)
        update_segmentation(artists, images[i], targets[i], predictions[i], title=f"held-out image {i}",
                            note=f"mIoU {metrics.miou:.2f}, pixel accuracy {metrics.pixel_accuracy:.2f}")
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))
