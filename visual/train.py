"""Train and evaluate a segmentation model the way PSPNet was trained, at classroom scale.

* ``train_model``: SGD with momentum and weight decay, the "poly" learning-rate schedule
  ``lr = base_lr * (1 - step / steps) ** power`` (Zhao et al., PSPNet, CVPR 2017, Sec. 5.1),
  the auxiliary loss (:func:`visual.pspnet_loss`), a ``tqdm.auto`` progress bar (a widget in
  Jupyter, text elsewhere), and an optional held-out evaluation every few steps. It returns a
  :class:`History` of the loss, learning rate and held-out metrics.
* ``evaluate``: the confusion matrix over a dataset, and from it per-class IoU, mIoU and pixel
  accuracy (:func:`segmentation_metrics`), as in the PASCAL VOC / ADE20K benchmarks.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from visual.models.pspnet import DEFAULTS as PSPNET_DEFAULTS
from visual.models.pspnet import pspnet_loss

__all__ = [
    "TrainConfig",
    "PAPER_TRAINING",
    "CLASSROOM_TRAINING",
    "poly_lr",
    "confusion_matrix",
    "SegmentationMetrics",
    "segmentation_metrics",
    "evaluate",
    "History",
    "train_model",
    "GRADIENT_PARTS",
    "loss_gradients",
    "combined_gradient_norms",
]


@dataclass(frozen=True)
class TrainConfig:
    """Training settings. The defaults are the paper's (Zhao et al. 2017, Sec. 5.1).

    Attributes:
        steps: number of SGD steps (iterations; the paper runs 150K on ImageNet scene parsing).
        batch_size: images per step.
        base_lr: learning rate at step 0.
        lr_power: exponent of the poly schedule.
        momentum: SGD momentum.
        weight_decay: L2 penalty of SGD.
        aux_weight: weight alpha of the auxiliary loss.
        ignore_index: target label excluded from the loss and the metrics.
        eval_every: evaluate on the held-out set every this many steps (and at the end);
            ``None`` evaluates only at the end.
        eval_batch_size: images per evaluation forward pass.
        seed: seeds ``torch``'s global generator (dropout) and the data order at the start of
            training; ``None`` leaves them as they are.
        stop_at_miou: stop as soon as a held-out evaluation reaches this mIoU (``None``: never).
    """

    steps: int = 150_000  # paper Sec. 5.1: 150K iterations on ImageNet scene parsing (ADE20K)
    batch_size: int = 16  # paper Sec. 5.1: "batchsize ... 16"
    base_lr: float = 0.01  # paper Sec. 5.1: base learning rate 0.01
    lr_power: float = 0.9  # paper Sec. 5.1: "poly" policy with power 0.9
    momentum: float = 0.9  # paper Sec. 5.1: momentum 0.9
    weight_decay: float = 1e-4  # paper Sec. 5.1: weight decay 0.0001
    aux_weight: float = PSPNET_DEFAULTS.aux_weight  # paper Sec. 4 and Table 2: alpha = 0.4
    ignore_index: int = PSPNET_DEFAULTS.ignore_index  # semseg ignore_label: 255
    eval_every: int | None = None  # ours: evaluate only at the end (the paper evaluates after training)
    eval_batch_size: int = 16  # ours: inference batch, any size gives the same metrics
    seed: int | None = 0  # ours: reproducible runs
    stop_at_miou: float | None = None  # ours: run the whole schedule, as the paper does


PAPER_TRAINING = TrainConfig()
# The live demo of notebook 04: PSPNet-ResNet18 from scratch on 65x65 SyntheticShapes images.
# One step of 8 images is 66 GFLOP (forward + backward); measured here at 1.1-1.2 s on ONE core,
# so the 60 steps and 3 held-out evaluations fit in 90 s even single-threaded (~50 s on 2 free
# cores). Held-out mIoU: 0.77 at the end, >= 0.7 from step 40 (benchmarks/bench_pspnet.py), so the
# demo stops at the first evaluation that reaches the lesson's target of 0.7 (a class waits ~35 s,
# not a minute); `replace(CLASSROOM_TRAINING, stop_at_miou=None)` runs the whole schedule.
# From scratch and with so few steps, the rate is 5x the paper's 0.01, which fine-tunes an
# ImageNet backbone; semseg itself gives its new layers 10x the base rate ("base_lr * 10").
CLASSROOM_TRAINING = replace(PAPER_TRAINING, steps=60, batch_size=8, base_lr=0.05, eval_every=20,
                             stop_at_miou=0.7)


def poly_lr(base_lr: float, step: int, steps: int, power: float = PAPER_TRAINING.lr_power) -> float:
    """The "poly" learning rate of PSPNet (Sec. 5.1): ``base_lr * (1 - step / steps) ** power``.

    Args:
        base_lr: learning rate at step 0.
        step: current step, ``0 <= step <= steps``.
        steps: total number of steps (> 0).
        power: exponent (paper: 0.9).

    Returns:
        The learning rate for ``step``.

    Raises:
        ValueError: ``steps < 1`` or ``step`` outside ``[0, steps]``.

    Example:
        >>> poly_lr(0.01, 0, 100), poly_lr(0.01, 100, 100)
        (0.01, 0.0)
        >>> round(poly_lr(0.01, 50, 100), 6)
        0.005359
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    if not 0 <= step <= steps:
        raise ValueError(f"step must be between 0 and steps={steps}, got {step}")
    return base_lr * (1.0 - step / steps) ** power


def confusion_matrix(
    prediction: torch.Tensor,
    target: torch.Tensor,
    num_classes: int,
    ignore_index: int = PAPER_TRAINING.ignore_index,
) -> torch.Tensor:
    """Count pixels by (true class, predicted class).

    Args:
        prediction: predicted class indices, any shape, integer dtype.
        target: true class indices, same shape; pixels equal to ``ignore_index`` are skipped.
        num_classes: number of classes ``K``.
        ignore_index: label of pixels to skip.

    Returns:
        ``(K, K)`` int64 tensor ``C`` with ``C[i, j]`` = pixels of true class ``i`` predicted as ``j``,
        on the device of ``target``.

    Raises:
        ValueError: shapes differ, ``num_classes < 1`` or a label outside ``[0, K)``.

    Example:
        >>> confusion_matrix(torch.tensor([0, 1, 1]), torch.tensor([0, 0, 1]), 2).tolist()
        [[1, 1], [0, 1]]
    """
    if prediction.shape != target.shape:
        raise ValueError(f"prediction {tuple(prediction.shape)} and target {tuple(target.shape)} differ in shape")
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes}")
    keep = target != ignore_index
    truth, guess = target[keep].long(), prediction[keep].long()  # (P,), (P,)
    for name, labels in (("target", truth), ("prediction", guess)):
        if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"{name} has labels outside [0, {num_classes}): "
                             f"{labels.min().item()}..{labels.max().item()}")
    counts = torch.bincount(truth * num_classes + guess, minlength=num_classes**2)  # (K * K,)
    return counts.reshape(num_classes, num_classes)  # (K, K)


@dataclass(frozen=True)
class SegmentationMetrics:
    """Metrics from a confusion matrix.

    Attributes:
        confusion: ``(K, K)`` counts, rows = true class, columns = predicted class.
        iou: ``(K,)`` intersection over union per class, ``nan`` for a class absent from both
            the targets and the predictions.
        miou: mean of ``iou`` over the classes that are not ``nan``.
        pixel_accuracy: fraction of pixels classified correctly.
    """

    confusion: torch.Tensor
    iou: torch.Tensor
    miou: float
    pixel_accuracy: float


def segmentation_metrics(confusion: torch.Tensor) -> SegmentationMetrics:
    """Per-class IoU, mIoU and pixel accuracy from a confusion matrix.

    ``IoU_k = C[k, k] / (sum_j C[k, j] + sum_i C[i, k] - C[k, k])`` (true positives over the
    union of the true and the predicted pixels of class ``k``); mIoU is its mean over classes
    that occur; pixel accuracy is ``trace(C) / sum(C)``.

    Args:
        confusion: ``(K, K)`` counts from :func:`confusion_matrix`.

    Returns:
        A :class:`SegmentationMetrics`.

    Raises:
        ValueError: ``confusion`` is not square 2-D or holds no pixels.

    Example:
        >>> m = segmentation_metrics(torch.tensor([[3, 1], [0, 4]]))
        >>> [round(v, 3) for v in m.iou.tolist()], round(m.miou, 3), m.pixel_accuracy
        ([0.75, 0.8], 0.775, 0.875)
    """
    if confusion.dim() != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ValueError(f"confusion must be a square (K, K) matrix, got shape {tuple(confusion.shape)}")
    total = confusion.sum()
    if total <= 0:
        raise ValueError("confusion holds no pixels: nothing to measure")
    confusion = confusion.double()
    hits = confusion.diag()  # (K,)
    union = confusion.sum(dim=0) + confusion.sum(dim=1) - hits  # (K,)
    iou = torch.where(union > 0, hits / union.clamp(min=1), torch.full_like(hits, math.nan))  # (K,)
    present = ~iou.isnan()
    return SegmentationMetrics(
        confusion=confusion.long(),
        iou=iou.float(),
        miou=float(iou[present].mean()),
        pixel_accuracy=float(hits.sum() / total),
    )


def _batches(data: Dataset | DataLoader | Iterable, batch_size: int) -> Iterable:
    if isinstance(data, Dataset):
        return DataLoader(data, batch_size=batch_size, shuffle=False)
    return data


def _model_device(model: nn.Module) -> torch.device:
    parameter = next(iter(model.parameters()), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def evaluate(
    model: nn.Module,
    data: Dataset | DataLoader | Iterable,
    num_classes: int,
    *,
    batch_size: int = PAPER_TRAINING.eval_batch_size,
    ignore_index: int = PAPER_TRAINING.ignore_index,
) -> SegmentationMetrics:
    """Evaluate a segmentation model on held-out data: confusion matrix, IoU, mIoU, accuracy.

    The model runs in evaluation mode under ``torch.inference_mode`` (its mode is restored
    afterwards); the prediction is the arg-max of ``model(x)["out"]``.

    Args:
        model: maps ``(N, 3, H, W)`` to ``{"out": (N, K, H, W)}``.
        data: a ``Dataset`` of ``(image (3, H, W), target (H, W))`` pairs, or an iterable of
            batches ``(images (N, 3, H, W), targets (N, H, W))``.
        num_classes: ``K``.
        batch_size: batch size when ``data`` is a ``Dataset``.
        ignore_index: target label to skip.

    Returns:
        :class:`SegmentationMetrics` over all pixels of ``data``.

    Raises:
        ValueError: ``data`` is empty.
    """
    device = _model_device(model)
    was_training = model.training
    model.eval()
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.long, device=device)
    try:
        with torch.inference_mode():
            for images, targets in _batches(data, batch_size):
                images, targets = images.to(device), targets.to(device)
                prediction = model(images)["out"].argmax(dim=1)  # (N, H, W)
                confusion += confusion_matrix(prediction, targets, num_classes, ignore_index)
    finally:
        model.train(was_training)
    if confusion.sum() == 0:
        raise ValueError("data holds no labelled pixels to evaluate on")
    return segmentation_metrics(confusion.cpu())


@dataclass
class History:
    """What happened during :func:`train_model`.

    Attributes:
        step: 1-based step numbers of the recorded training losses.
        loss: training loss of each step (main + aux_weight x auxiliary).
        lr: learning rate used at each step.
        eval_step: steps after which the held-out set was evaluated.
        miou: held-out mIoU at each ``eval_step``.
        pixel_accuracy: held-out pixel accuracy at each ``eval_step``.
        train_seconds: cumulative training time (evaluation excluded) at each ``eval_step``.
        metrics: the last evaluation's :class:`SegmentationMetrics` (``None`` without held-out data).
        seconds: wall-clock seconds of the whole call, evaluations included.
    """

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    miou: list[float] = field(default_factory=list)
    pixel_accuracy: list[float] = field(default_factory=list)
    train_seconds: list[float] = field(default_factory=list)
    metrics: SegmentationMetrics | None = None
    seconds: float = 0.0


def _check_config(config: Any) -> TrainConfig:
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    for name in ("steps", "batch_size", "eval_batch_size"):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"config.{name} must be a positive int, got {value!r}")
    if config.eval_every is not None and (not isinstance(config.eval_every, int) or config.eval_every < 1):
        raise ValueError(f"config.eval_every must be None or a positive int, got {config.eval_every!r}")
    for name in ("base_lr", "momentum", "weight_decay", "aux_weight", "lr_power"):
        if getattr(config, name) < 0:
            raise ValueError(f"config.{name} must be >= 0, got {getattr(config, name)!r}")
    return config


def train_model(
    model: nn.Module,
    dataset: Dataset,
    num_classes: int,
    *,
    config: TrainConfig = CLASSROOM_TRAINING,
    val_dataset: Dataset | None = None,
    progress: bool = True,
) -> History:
    """Train a segmentation model with SGD, the poly schedule and the auxiliary loss.

    Each step draws ``config.batch_size`` images from ``dataset`` (shuffled with a generator
    seeded by ``config.seed``; the data is cycled when ``steps * batch_size > len(dataset)``),
    computes :func:`visual.pspnet_loss` on the model's dict (``"aux"`` included when the model
    returns it), and takes one SGD step with the poly learning rate. With ``val_dataset`` the
    model is evaluated every ``config.eval_every`` steps and at the end. Batches go to the
    device of the model's parameters.

    Args:
        model: maps ``(N, 3, H, W)`` to ``{"out": (N, K, H, W)[, "aux": ...]}``; left in training mode.
        dataset: ``(image (3, H, W), target (H, W))`` pairs.
        num_classes: ``K`` (for the metrics).
        config: a :class:`TrainConfig` (default: :data:`CLASSROOM_TRAINING`).
        val_dataset: held-out pairs for evaluation, or ``None``.
        progress: show a ``tqdm.auto`` progress bar with the loss and the last held-out mIoU.

    Returns:
        A :class:`History`.

    Raises:
        TypeError: ``config`` is not a ``TrainConfig``.
        ValueError: bad config values, or ``dataset`` smaller than one batch.
    """
    from tqdm.auto import tqdm

    config = _check_config(config)
    if len(dataset) < config.batch_size:
        raise ValueError(f"dataset has {len(dataset)} images, fewer than one batch of {config.batch_size}")
    device = _model_device(model)
    if config.seed is not None:
        torch.manual_seed(config.seed)
    order = torch.Generator().manual_seed(config.seed) if config.seed is not None else None
    loader = DataLoader(dataset, batch_size=config.batch_size, shuffle=True, drop_last=True, generator=order)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.base_lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)
    history = History()
    start = time.perf_counter()
    train_seconds = 0.0
    model.train()
    bar = tqdm(total=config.steps, desc="training", unit="step", disable=not progress)
    step = 0
    try:
        while step < config.steps:
            for images, targets in loader:
                tick = time.perf_counter()
                lr = poly_lr(config.base_lr, step, config.steps, config.lr_power)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                images, targets = images.to(device), targets.to(device)
                loss = pspnet_loss(model(images), targets, config.aux_weight, config.ignore_index)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                step += 1
                history.step.append(step)
                history.loss.append(loss.item())
                history.lr.append(lr)
                train_seconds += time.perf_counter() - tick
                bar.update(1)
                postfix = {"loss": f"{history.loss[-1]:.3f}"}
                if history.miou:
                    postfix["mIoU"] = f"{history.miou[-1]:.3f}"
                bar.set_postfix(postfix, refresh=False)
                due = config.eval_every is not None and step % config.eval_every == 0
                if val_dataset is not None and (due or step == config.steps):
                    metrics = evaluate(model, val_dataset, num_classes, batch_size=config.eval_batch_size,
                                       ignore_index=config.ignore_index)
                    history.metrics = metrics
                    history.eval_step.append(step)
                    history.miou.append(metrics.miou)
                    history.pixel_accuracy.append(metrics.pixel_accuracy)
                    history.train_seconds.append(train_seconds)
                    bar.set_postfix(loss=f"{history.loss[-1]:.3f}", mIoU=f"{metrics.miou:.3f}")  # shown at once
                    if config.stop_at_miou is not None and metrics.miou >= config.stop_at_miou:
                        return history
                if step == config.steps:
                    break
    finally:
        bar.close()
        history.seconds = time.perf_counter() - start
    return history


# --------------------------------------------------------------------------------------------
# Deep supervision: where the gradients of the main and the auxiliary loss go.
# --------------------------------------------------------------------------------------------
GRADIENT_PARTS = ("backbone.conv1", "backbone.layer1", "backbone.layer2", "backbone.layer3",
                  "backbone.layer4", "ppm", "head", "aux_head")


def loss_gradients(
    model: nn.Module,
    images: torch.Tensor,
    target: torch.Tensor,
    *,
    parts: tuple[str, ...] = GRADIENT_PARTS,
    ignore_index: int = PAPER_TRAINING.ignore_index,
) -> dict[str, dict[str, torch.Tensor]]:
    """Gradients of the main and of the auxiliary cross-entropy, separately, per part of the model.

    One forward pass in training mode, then ``torch.autograd.grad`` of each loss term with
    respect to the parameters; nothing is stored in ``.grad`` and the model is not changed
    (its BatchNorm running statistics do move, as in any training-mode forward pass).

    Args:
        model: a PSPNet built with ``aux=True``.
        images: ``(N, 3, H, W)``.
        target: ``(N, H, W)`` labels.
        parts: names of submodules (``model.get_submodule``) to report.
        ignore_index: label to ignore.

    Returns:
        ``{"main": {part: flat gradient}, "aux": {part: flat gradient}}``; a part the loss does
        not reach gets zeros (e.g. the head for the auxiliary loss).

    Raises:
        ValueError: the model returns no ``"aux"`` output in training mode.
    """
    import torch.nn.functional as F

    was_training = model.training
    model.train()
    try:
        outputs = model(images)
    finally:
        model.train(was_training)
    if "aux" not in outputs:
        raise ValueError('the model returned no "aux" output in training mode (build it with aux=True)')
    named = {part: [p for p in model.get_submodule(part).parameters() if p.requires_grad] for part in parts}
    flat = [p for params in named.values() for p in params]
    result: dict[str, dict[str, torch.Tensor]] = {}
    for key in ("main", "aux"):
        logits = outputs["out" if key == "main" else "aux"]
        loss = F.cross_entropy(logits, target, ignore_index=ignore_index)
        grads = torch.autograd.grad(loss, flat, retain_graph=key == "main", allow_unused=True)
        by_param = {id(p): (torch.zeros_like(p) if g is None else g) for p, g in zip(flat, grads)}
        result[key] = {part: torch.cat([by_param[id(p)].flatten() for p in params]).detach()
                       for part, params in named.items()}
    return result


def combined_gradient_norms(gradients: dict[str, dict[str, torch.Tensor]], aux_weight: float) -> dict[str, float]:
    """``||g_main + aux_weight * g_aux||`` per part: the gradient the PSPNet loss sends there.

    Args:
        gradients: from :func:`loss_gradients`.
        aux_weight: alpha (paper: 0.4).

    Returns:
        The L2 norm per part.

    Example:
        >>> g = {"main": {"a": torch.tensor([3.0, 0.0])}, "aux": {"a": torch.tensor([0.0, 10.0])}}
        >>> combined_gradient_norms(g, 0.4)
        {'a': 5.0}
    """
    return {part: float((gradients["main"][part] + aux_weight * gradients["aux"][part]).norm())
            for part in gradients["main"]}
