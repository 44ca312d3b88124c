"""Segmentation metrics as the benchmarks define them (PASCAL VOC, ADE20K, Cityscapes).

A confusion matrix counts pixels by (true class, predicted class); per-class IoU, mean IoU
(over the classes present) and pixel accuracy are read off it. :func:`evaluate` runs a model
over held-out data and returns those metrics.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from visual.checks import check_device, check_int, check_module, check_tensor
from visual.models.pspnet import DEFAULTS, MAX_CLASSES

__all__ = ["confusion_matrix", "SegmentationMetrics", "segmentation_metrics", "evaluate", "model_device"]


def confusion_matrix(prediction: torch.Tensor, target: torch.Tensor, num_classes: int,
                     ignore_index: int = DEFAULTS.ignore_index) -> torch.Tensor:
    """Count pixels by (true class, predicted class).

    ``prediction`` and ``target`` are integer tensors of one shape (a float ``prediction``, not
    yet arg-maxed, is a TypeError); target pixels equal to ``ignore_index`` are skipped. Returns
    the ``(K, K)`` int64 tensor ``C``, ``C[i, j]`` = pixels of true class ``i`` predicted as ``j``
    (``K = num_classes``, 1 to ``MAX_CLASSES``; a label outside ``[0, K)`` is a ValueError).

    Example:
        >>> confusion_matrix(torch.tensor([0, 1, 1]), torch.tensor([0, 0, 1]), 2).tolist()
        [[1, 1], [0, 1]]
    """
    check_tensor(prediction, "prediction", dtype="integer")
    check_tensor(target, "target", dtype="integer")
    num_classes = check_int(num_classes, "num_classes", minimum=1, maximum=MAX_CLASSES)
    ignore_index = check_int(ignore_index, "ignore_index")
    if prediction.shape != target.shape:
        raise ValueError(f"prediction {tuple(prediction.shape)} and target {tuple(target.shape)} differ in shape")
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
    """Metrics from a ``(K, K)`` ``confusion`` matrix (rows: true class): ``iou`` per class (``nan``
    for a class absent from targets and predictions), ``miou`` (mean over the others), ``pixel_accuracy``."""

    confusion: torch.Tensor
    iou: torch.Tensor
    miou: float
    pixel_accuracy: float


def segmentation_metrics(confusion: torch.Tensor) -> SegmentationMetrics:
    """Per-class IoU, mIoU and pixel accuracy from a confusion matrix.

    ``IoU_k = C[k, k] / (sum_j C[k, j] + sum_i C[i, k] - C[k, k])`` (true positives over the
    union of the true and the predicted pixels of class ``k``); mIoU is its mean over classes
    that occur; pixel accuracy is ``trace(C) / sum(C)``.

    ``confusion`` holds finite counts ``>= 0`` (from :func:`confusion_matrix`), at least one pixel;
    anything else is a TypeError / ValueError naming it.

    Example:
        >>> m = segmentation_metrics(torch.tensor([[3, 1], [0, 4]]))
        >>> [round(v, 3) for v in m.iou.tolist()], round(m.miou, 3), m.pixel_accuracy
        ([0.75, 0.8], 0.775, 0.875)
    """
    check_tensor(confusion, "confusion", ndim=2, layout="(K, K)", dtype="real", finite=True)
    if confusion.shape[0] != confusion.shape[1]:
        raise ValueError(f"confusion must be a square (K, K) matrix, got shape {tuple(confusion.shape)}")
    if (confusion < 0).any():
        raise ValueError("confusion must hold pixel counts >= 0, got negative entries")
    total = confusion.sum()
    if total <= 0:
        raise ValueError("confusion holds no pixels: nothing to measure")
    confusion = confusion.double()
    hits = confusion.diag()  # (K,)
    union = confusion.sum(dim=0) + confusion.sum(dim=1) - hits  # (K,)
    iou = torch.where(union > 0, hits / union.clamp(min=1), torch.full_like(hits, math.nan))  # (K,)
    return SegmentationMetrics(confusion=confusion.long(), iou=iou.float(),
                               miou=float(iou[~iou.isnan()].mean()), pixel_accuracy=float(hits.sum() / total))


def model_device(model: nn.Module, device: str | torch.device | None = None) -> torch.device:
    """Where ``model`` runs: ``device`` (the model is moved there) or its first parameter's device.

    A model without parameters runs on ``cpu``.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: an unknown or unavailable ``device`` (:func:`visual.checks.check_device`), or
            parameters on the ``meta`` device (shapes only, no values to run).
    """
    check_module(model, "model")
    if device is not None:
        model.to(check_device(device))
    parameter = next(iter(model.parameters()), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    if device.type == "meta":
        raise ValueError("model is on the meta device (shapes only): build it on 'cpu' or 'cuda' to run it")
    return device


def evaluate(model: nn.Module, data: Dataset | DataLoader | Iterable, num_classes: int, *,
             batch_size: int = 16, ignore_index: int = DEFAULTS.ignore_index,
             device: str | torch.device | None = None) -> SegmentationMetrics:
    """Evaluate a segmentation model on held-out data: confusion matrix, IoU, mIoU, accuracy.

    The model runs in evaluation mode under ``torch.inference_mode`` (its mode is restored
    afterwards); the prediction is the arg-max of ``model(x)["out"]``.

    Args:
        model: maps ``(N, 3, H, W)`` to ``{"out": (N, K, H, W)}`` with ``K = num_classes``.
        data: a ``Dataset`` of ``(image (3, H, W), target (H, W))`` pairs (read ``batch_size`` at a
            time), or an iterable of batches ``(images (N, 3, H, W), targets (N, H, W))``.
        device: ``"cpu"``, ``"cuda"``, ... to move the model there first; ``None``: where it is.

    Returns:
        :class:`SegmentationMetrics` over all pixels of ``data``.

    Raises:
        TypeError, ValueError: a bad argument, a meta-device model, a model predicting another
            number of classes, or ``data`` without labelled pixels.
    """
    device = model_device(model, device)
    num_classes = check_int(num_classes, "num_classes", minimum=1, maximum=MAX_CLASSES)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    if isinstance(data, Dataset):
        data = DataLoader(data, batch_size=batch_size, shuffle=False)
    was_training = model.training
    model.eval()
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.long, device=device)
    try:
        with torch.inference_mode():
            for images, targets in data:
                logits = model(images.to(device))["out"]  # (N, K, H, W)
                if logits.shape[1] != num_classes:
                    raise ValueError(f"the model predicts {logits.shape[1]} classes but num_classes={num_classes}")
                prediction = logits.argmax(dim=1)  # (N, H, W)
                confusion += confusion_matrix(prediction, targets.to(device), num_classes, ignore_index)
    finally:
        model.train(was_training)
    if confusion.sum() == 0:
        raise ValueError("data holds no labelled pixels to evaluate on")
    return segmentation_metrics(confusion.cpu())
