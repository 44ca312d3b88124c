"""Bad input to the lesson-04 API (PSPNet, data, training, metrics, plots, explorers): issue 13.

Every public function gets each kind of bad value that applies (wrong type, bool for an int,
zero/negative, NaN/inf, wrong rank/dtype/device, oversized) and must raise a ValueError or
TypeError whose message names the argument: never a deep traceback, a wrong answer, a hang
or a huge allocation. One table, one parametrized test.
"""

from __future__ import annotations

import functools
import math

import pytest
import torch
from torch import nn

from visual.data import SyntheticShapes, load_sample_image
from visual.metrics import confusion_matrix, evaluate, segmentation_metrics
from visual.models.pspnet import PSPNet, adaptive_pool_windows, pspnet_loss, pspnet_sizes, pyramid_features
from visual.plots.pspnet import plot_pyramid_bins
from visual.plots.segmentation import image_hwc, label_colormap, plot_label_map, plot_segmentation_panels, \
    plot_training_history
from visual.train import TrainConfig, combined_gradient_norms, loss_gradients, poly_lr, train_model
from visual.widgets.pspnet import bins_summary, explore_aux_weight, explore_part_costs, explore_predictions, \
    explore_pspnet_sizes, explore_pyramid_bins, size_summary

NAN, INF = math.nan, math.inf
OUT = {"out": torch.zeros(1, 4, 3, 3)}
LABELS = torch.zeros(1, 3, 3, dtype=torch.long)
GRADIENTS = {"main": {"head": torch.ones(3)}, "aux": {"head": torch.zeros(3)}}


@functools.cache
def model(classes: int = 4, bins: tuple[int, ...] = (1, 2, 3, 6)) -> PSPNet:
    torch.manual_seed(0)
    return PSPNet(classes, backbone="resnet18", bins=bins)


@functools.cache
def meta_model() -> PSPNet:
    with torch.device("meta"):
        return PSPNet(4, backbone="resnet18")


@functools.cache
def data() -> SyntheticShapes:
    return SyntheticShapes(4, 33, num_classes=4, seed=0)


def labels_with(value: int, dtype: torch.dtype = torch.long) -> torch.Tensor:
    target = LABELS.clone()
    target[0, 0, 0] = value
    return target.to(dtype)


def loss(**kwargs):
    return pspnet_loss(**{"outputs": OUT, "target": LABELS, **kwargs})


def config(**kwargs):
    return TrainConfig(**{"steps": 2, "batch_size": 2, **kwargs})


def forward(x, train=False):
    return model().train(train)(x)


# (id, call, argument name the message must contain)
CASES = [
    # pspnet_loss
    *[(f"loss-aux_weight-{v!r}", lambda v=v: loss(aux_weight=v), "aux_weight") for v in (NAN, INF, -1.0, True, "0.4")],
    ("loss-empty-batch", lambda: pspnet_loss({"out": torch.zeros(0, 4, 3, 3)}, torch.zeros(0, 3, 3, dtype=torch.long)),
     "target"),
    ("loss-label-7-of-4", lambda: loss(target=labels_with(7)), "target"),
    ("loss-label-minus-1", lambda: loss(target=labels_with(-1)), "target"),
    *[(f"loss-target-{d}", lambda d=d: loss(target=labels_with(1, d)), "target")
      for d in (torch.int32, torch.uint8, torch.bool, torch.float32)],
    ("loss-target-list", lambda: loss(target=[[0]]), "target"),
    ("loss-outputs-tensor", lambda: loss(outputs=torch.zeros(1, 4, 3, 3)), "outputs"),
    ("loss-outputs-no-out", lambda: loss(outputs={"aux": OUT["out"]}), "outputs"),
    ("loss-outputs-3d", lambda: loss(outputs={"out": torch.zeros(4, 3, 3)}), "outputs"),
    ("loss-outputs-shape", lambda: loss(outputs={"out": torch.zeros(1, 4, 3, 4)}), "outputs"),
    ("loss-ignore_index-void", lambda: loss(ignore_index="void"), "ignore_index"),
    ("loss-ignore_index-float", lambda: loss(ignore_index=2.5), "ignore_index"),
    # TrainConfig
    *[(f"config-{k}-{v!r}", lambda k=k, v=v: config(**{k: v}), k) for k, v in [
        ("base_lr", NAN), ("base_lr", 0.0), ("base_lr", "0.1"), ("base_lr", INF), ("lr_power", NAN),
        ("lr_power", -1.0), ("momentum", 5.0), ("momentum", NAN), ("eval_every", True), ("eval_every", 0),
        ("steps", "60"), ("steps", 0), ("steps", True), ("steps", 10**9), ("steps", 2.0), ("seed", "0"),
        ("seed", -1), ("batch_size", 0), ("batch_size", "8"), ("weight_decay", -1.0), ("aux_weight", INF),
        ("head_lr_multiplier", 0.0), ("head_lr_multiplier", NAN), ("stop_at_miou", 2.0),
        ("ignore_index", "void"), ("eval_batch_size", 0)]],
    # poly_lr
    ("poly-base_lr-nan", lambda: poly_lr(NAN, 0, 10), "base_lr"),
    ("poly-base_lr-inf", lambda: poly_lr(INF, 0, 10), "base_lr"),
    ("poly-power-minus-1", lambda: poly_lr(0.01, 10, 10, power=-1), "power"),
    ("poly-power-nan", lambda: poly_lr(0.01, 1, 10, power=NAN), "power"),
    ("poly-steps-0", lambda: poly_lr(0.01, 0, 0), "steps"),
    ("poly-steps-str", lambda: poly_lr(0.01, 0, "10"), "steps"),
    ("poly-step-past-end", lambda: poly_lr(0.01, 11, 10), "step"),
    ("poly-step-float", lambda: poly_lr(0.01, 2.5, 10), "step"),
    # segmentation_metrics
    ("metrics-nan", lambda: segmentation_metrics(torch.tensor([[3.0, NAN], [0.0, 4.0]])), "confusion"),
    ("metrics-negative", lambda: segmentation_metrics(torch.tensor([[3, -1], [0, 4]])), "confusion"),
    ("metrics-not-square", lambda: segmentation_metrics(torch.ones(2, 3)), "confusion"),
    ("metrics-3d", lambda: segmentation_metrics(torch.ones(2, 2, 2)), "confusion"),
    ("metrics-list", lambda: segmentation_metrics([[1, 0], [0, 1]]), "confusion"),
    ("metrics-bool", lambda: segmentation_metrics(torch.eye(2, dtype=torch.bool)), "confusion"),
    ("metrics-empty", lambda: segmentation_metrics(torch.zeros(2, 2, dtype=torch.long)), "confusion"),
    # confusion_matrix
    ("confusion-float-prediction", lambda: confusion_matrix(torch.tensor([0.7, 1.2]), torch.tensor([0, 1]), 2),
     "prediction"),
    ("confusion-list-prediction", lambda: confusion_matrix([0, 1], torch.tensor([0, 1]), 2), "prediction"),
    ("confusion-float-target", lambda: confusion_matrix(torch.tensor([0, 1]), torch.tensor([0.0, 1.0]), 2), "target"),
    *[(f"confusion-num_classes-{v!r}", lambda v=v: confusion_matrix(torch.tensor([0]), torch.tensor([0]), v),
       "num_classes") for v in (10**6, 0, -1, 2.5, True, "2")],
    ("confusion-shapes", lambda: confusion_matrix(torch.tensor([0, 1]), torch.tensor([0]), 2), "prediction"),
    ("confusion-label-out-of-range", lambda: confusion_matrix(torch.tensor([0]), torch.tensor([5]), 2), "target"),
    # evaluate
    ("evaluate-num_classes--1", lambda: evaluate(model(), data(), -1), "num_classes"),
    ("evaluate-num_classes-2.5", lambda: evaluate(model(), data(), 2.5), "num_classes"),
    ("evaluate-meta-model", lambda: evaluate(meta_model(), data(), 4), "model"),
    ("evaluate-model-str", lambda: evaluate("model", data(), 4), "model"),
    ("evaluate-batch_size-0", lambda: evaluate(model(), data(), 4, batch_size=0), "batch_size"),
    ("evaluate-2-class-model", lambda: evaluate(model(2), data(), 4), "num_classes"),
    ("evaluate-device-gpu", lambda: evaluate(model(), data(), 4, device="gpu"), "device"),
    # train_model
    ("train-model-str", lambda: train_model("model", data(), 4, config=config(), progress=False), "model"),
    ("train-meta-model", lambda: train_model(meta_model(), data(), 4, config=config(), progress=False), "model"),
    ("train-2-class-model", lambda: train_model(model(2), data(), 4, config=config(), progress=False),
     "num_classes"),
    ("train-config-dict", lambda: train_model(model(), data(), 4, config={"steps": 2}), "config"),
    ("train-dataset-list", lambda: train_model(model(), [1, 2], 4, config=config(), progress=False), "dataset"),
    ("train-val-list", lambda: train_model(model(), data(), 4, config=config(), val_dataset=[1], progress=False),
     "val_dataset"),
    ("train-num_classes-0", lambda: train_model(model(), data(), 0, config=config(), progress=False), "num_classes"),
    ("train-progress-str", lambda: train_model(model(), data(), 4, config=config(), progress="yes"), "progress"),
    ("train-device-gpu", lambda: train_model(model(), data(), 4, config=config(), device="gpu"), "device"),
    ("train-device-int", lambda: train_model(model(), data(), 4, config=config(), device=0), "device"),
    pytest.param("train-device-cuda", lambda: train_model(model(), data(), 4, config=config(), device="cuda"),
                 "device", marks=pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available")),
    # PSPNet
    *[(f"pspnet-{k}-{v!r}", lambda k=k, v=v: PSPNet(**{"num_classes": 4, "backbone": "resnet18", k: v}), k)
      for k, v in [("num_classes", 10**7), ("num_classes", 0), ("num_classes", True), ("num_classes", 2.5),
                   ("bins", (100000,)), ("bins", (0,)), ("bins", "1236"), ("bins", (1.5,)), ("bins", 6),
                   ("backbone", "resnet20"), ("backbone", 50), ("dropout", 1.0), ("dropout", NAN),
                   ("dropout", -0.1), ("aux", "yes"), ("align_corners", 1)]],
    *[(f"forward-{d}", lambda d=d: forward(torch.rand(1, 3, 33, 33, dtype=d)), "x")
      for d in (torch.float64, torch.float16, torch.bfloat16)],
    ("forward-uint8", lambda: forward(torch.zeros(1, 3, 33, 33, dtype=torch.uint8)), "x"),
    ("forward-height-0", lambda: forward(torch.rand(1, 3, 0, 33)), "x"),
    ("forward-width-oversized", lambda: forward(torch.rand(1, 3, 1, 10**4)), "x"),
    ("forward-1-channel", lambda: forward(torch.rand(1, 1, 33, 33)), "x"),
    ("forward-3d", lambda: forward(torch.rand(3, 33, 33)), "x"),
    ("forward-list", lambda: forward([[0.0]]), "x"),
    *[(f"forward-train-batch-1-{s}px", lambda s=s: forward(torch.rand(1, 3, s, s), train=True), "x") for s in (1, 8)],
    # pyramid_features
    ("pyramid-model-str", lambda: pyramid_features("model", torch.rand(1, 3, 33, 33)), "model"),
    ("pyramid-model-conv", lambda: pyramid_features(nn.Conv2d(3, 3, 1), torch.rand(1, 3, 33, 33)), "model"),
    ("pyramid-no-ppm", lambda: pyramid_features(model(4, ()), torch.rand(1, 3, 33, 33)), "model"),
    ("pyramid-images-float64", lambda: pyramid_features(model(), torch.rand(1, 3, 33, 33, dtype=torch.float64)),
     "images"),
    # adaptive_pool_windows, pspnet_sizes
    ("windows-out-oversized", lambda: adaptive_pool_windows(6, 10**9), "out_size"),
    ("windows-in-0", lambda: adaptive_pool_windows(0, 3), "in_size"),
    ("windows-out-0", lambda: adaptive_pool_windows(6, 0), "out_size"),
    ("windows-in-float", lambda: adaptive_pool_windows(6.0, 2), "in_size"),
    ("windows-in-bool", lambda: adaptive_pool_windows(True, 2), "in_size"),
    *[(f"sizes-input_size-{v!r}", lambda v=v: pspnet_sizes(v), "input_size") for v in (0, 10**6, "473", (1, 2, 3))],
    ("sizes-bins-0", lambda: pspnet_sizes(473, (0,)), "bins"),
    # data
    *[(f"photo-size-{v!r}", lambda v=v: load_sample_image(v), "size") for v in (100000, 0, 2.5, True, "big")],
    *[(f"shapes-{k}-{v!r}", lambda k=k, v=v: SyntheticShapes(**{"length": 1, k: v}), k)
      for k, v in [("size", 100000), ("size", 8), ("length", -1), ("length", "10"), ("num_classes", 6),
                   ("max_objects", 10**6), ("hue_jitter", NAN), ("seed", -1), ("seed", 1.5)]],
    ("shapes-index-float", lambda: data()[1.0], "index"),
    # plots
    *[(f"colormap-{v!r}", lambda v=v: label_colormap(v), "num_classes") for v in (10**9, 2.5, 0, True)],
    ("history-dict", lambda: plot_training_history({}), "history"),
    ("history-none", lambda: plot_training_history(None), "history"),
    ("label-map-str", lambda: plot_label_map("labels", num_classes=4), "labels"),
    ("label-map-3d", lambda: plot_label_map(torch.zeros(2, 2, 2, dtype=torch.long), num_classes=4), "labels"),
    ("label-map-num_classes-0", lambda: plot_label_map(torch.zeros(2, 2), num_classes=0), "num_classes"),
    ("bins-plot-0", lambda: plot_pyramid_bins(torch.rand(3, 65, 65), 0), "bin_size"),
    ("bins-plot-float", lambda: plot_pyramid_bins(torch.rand(3, 65, 65), 2.5), "bin_size"),
    ("bins-plot-oversized", lambda: plot_pyramid_bins(torch.rand(3, 65, 65), 10**6), "bin_size"),
    ("bins-plot-image-str", lambda: plot_pyramid_bins("photo", 2), "image"),
    ("bins-plot-image-2d", lambda: plot_pyramid_bins(torch.rand(65, 65), 2), "image"),
    ("image-hwc-4-channels", lambda: image_hwc(torch.rand(4, 5, 5)), "image"),
    ("panels-lengths", lambda: plot_segmentation_panels(torch.rand(2, 3, 4, 4), LABELS, LABELS, class_names="ab"),
     "images"),
    # gradients
    ("norms-empty", lambda: combined_gradient_norms({}, 0.4), "gradients"),
    ("norms-aux_weight-nan", lambda: combined_gradient_norms(GRADIENTS, NAN), "aux_weight"),
    ("norms-parts-differ", lambda: combined_gradient_norms({"main": {"a": torch.ones(1)}, "aux": {}}, 0.4),
     "gradients"),
    ("loss-gradients-parts-nope", lambda: loss_gradients(model(), torch.rand(2, 3, 33, 33),
                                                         torch.zeros(2, 33, 33, dtype=torch.long), parts=("nope",)),
     "parts"),
    ("loss-gradients-parts-str", lambda: loss_gradients(model(), torch.rand(2, 3, 33, 33),
                                                        torch.zeros(2, 33, 33, dtype=torch.long), parts="head"),
     "parts"),
    ("loss-gradients-model-str", lambda: loss_gradients("model", torch.rand(2, 3, 33, 33), LABELS), "model"),
    # explorers: out-of-range initial values raise, never clamp
    *[(f"sizes-explorer-{v!r}", lambda v=v: explore_pspnet_sizes(input_size=v), "input_size")
      for v in (10, 10**6, 2.5, True)],
    ("sizes-explorer-max_size", lambda: explore_pspnet_sizes(max_size=10**6), "max_size"),
    *[(f"aux-explorer-{v!r}", lambda v=v: explore_aux_weight(GRADIENTS, aux_weight=v), "aux_weight")
      for v in (5.0, -0.1, NAN, "0.4")],
    ("aux-explorer-gradients", lambda: explore_aux_weight({}), "gradients"),
    ("bins-explorer-bin_size-0", lambda: explore_pyramid_bins(torch.rand(3, 65, 65), bin_size=0), "bin_size"),
    ("bins-explorer-bin_size-over-max", lambda: explore_pyramid_bins(torch.rand(3, 65, 65), bin_size=11), "bin_size"),
    ("bins-explorer-feature_size", lambda: explore_pyramid_bins(torch.rand(3, 65, 65), feature_size=1000),
     "feature_size"),
    ("costs-explorer-empty", lambda: explore_part_costs({}), "costs"),
    ("costs-explorer-not-rows", lambda: explore_part_costs({"resnet50": [1, 2]}), "costs"),
    ("predictions-explorer-model-str", lambda: explore_predictions("model", data()), "model"),
    ("predictions-explorer-count-0", lambda: explore_predictions(model(), data(), count=0), "count"),
    ("predictions-explorer-dataset-list", lambda: explore_predictions(model(), [1, 2]), "dataset"),
    ("predictions-explorer-meta", lambda: explore_predictions(meta_model(), data()), "model"),
    ("bins-summary-0", lambda: bins_summary(0, 6), "feature_size"),
    ("bins-summary-bin-0", lambda: bins_summary(9, 0), "bin_size"),
    ("size-summary-0", lambda: size_summary(0), "input_size"),
]


def _id(case) -> str:
    return case.values[0] if hasattr(case, "values") else case[0]


@pytest.mark.parametrize("name, call, argument", CASES, ids=[_id(c) for c in CASES])
def test_bad_input_names_the_argument(name, call, argument):
    with pytest.raises((ValueError, TypeError), match=argument):
        call()


def test_case_count():
    assert len(CASES) >= 150  # reported in the closing note of issue 13


@pytest.mark.parametrize("context", [torch.no_grad, torch.inference_mode])
def test_loss_gradients_work_without_grad_mode(context):
    net = model()
    torch.manual_seed(0)
    images, target = data()[0][0][None].repeat(2, 1, 1, 1), data()[0][1][None].repeat(2, 1, 1)
    expected = loss_gradients(net, images, target, parts=("head", "aux_head"))
    torch.manual_seed(0)  # the same dropout masks; training-mode BatchNorm uses batch statistics
    with context():
        inside = loss_gradients(net, images, target, parts=("head", "aux_head"))
    assert inside["main"]["head"].abs().sum() > 0 and inside["aux"]["aux_head"].abs().sum() > 0
    torch.testing.assert_close(inside["main"]["head"], expected["main"]["head"], rtol=1e-3, atol=1e-5)
