"""Segmentation metrics as the benchmarks define them (PASCAL VOC, ADE20K, Cityscapes): IoU, mIoU
and pixel accuracy from a confusion matrix, and :func:`evaluate` over held-out data."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from visual.checks import check_device, check_int, check_module, check_tensor
from visual.models.pspnet import DEFAULTS, MAX_CLASSES

__all__ = ["labelled_pixels", "confusion_matrix", "SegmentationMetrics", "segmentation_metrics", "evaluate",
           "model_device"]


def labelled_pixels(prediction: torch.Tensor, target: torch.Tensor, num_classes: int, ignore_index: int,
                    names: tuple[str, str] = ("prediction", "target")) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``(P,)`` int64 predicted and true labels of the pixels whose target is not ``ignore_index``."""
    for name, labels in zip(names, (prediction, target)):
        check_tensor(labels, name, dtype="integer")
    ignore_index = check_int(ignore_index, "ignore_index")
    if prediction.shape != target.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape, got {tuple(prediction.shape)} "
                         f"and {tuple(target.shape)}")
    if prediction.device != target.device or "meta" in (prediction.device.type, target.device.type):
        raise ValueError(f"{names[0]} and {names[1]} must be on the same real device, got {prediction.device} "
                         f"and {target.device}")
    keep = target != ignore_index  # pixels that count
    guess, truth = prediction[keep].long(), target[keep].long()  # (P,) each
    for name, labels in zip(names, (guess, truth)):
        if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"{name} must hold labels in [0, {num_classes - 1}] (num_classes={num_classes}) or "
                             f"ignore_index={ignore_index}; got values from {int(labels.min())} to {int(labels.max())}")
    return guess, truth


def confusion_matrix(prediction: torch.Tensor, target: torch.Tensor, num_classes: int,
                     ignore_index: int = DEFAULTS.ignore_index) -> torch.Tensor:
    """Count pixels by (true class, predicted class), skipping targets equal to ``ignore_index``.

    ``prediction`` and ``target``: integer class indices of one shape (arg-maxed, not logits).

    Returns:
        ``(K, K)`` int64 ``C``: ``C[i, j]`` pixels of true class ``i`` predicted as ``j``.

    Example:
        >>> confusion_matrix(torch.tensor([0, 1, 1]), torch.tensor([0, 0, 1]), 2).tolist()
        [[1, 1], [0, 1]]
    """
    num_classes = check_int(num_classes, "num_classes", minimum=1, maximum=MAX_CLASSES)
    guess, truth = labelled_pixels(prediction, target, num_classes, ignore_index)
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
    """Per-class IoU, mIoU and pixel accuracy from a ``(K, K)`` confusion matrix of counts ``>= 0``.

    ``IoU_k = C[k, k] / (sum_j C[k, j] + sum_i C[i, k] - C[k, k])``; mIoU is its mean over classes
    that occur; pixel accuracy is ``trace(C) / sum(C)``.

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
    """Where ``model`` runs: ``device`` (the model is moved there) or its first parameter's (else cpu)."""
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
    """Evaluate a segmentation model (evaluation mode, its mode restored) on held-out data.

    Args:
        model: maps ``(N, 3, H, W)`` to ``{"out": (N, K, H, W)}``; the prediction is the arg-max.
        data: a ``Dataset`` of ``(image (3, H, W), target (H, W))`` pairs, or batches of them.
        batch_size: images per batch when ``data`` is a ``Dataset``.
        device: where to move the model first; ``None``: where it is.

    Returns:
        :class:`SegmentationMetrics` over all pixels of ``data``.
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
