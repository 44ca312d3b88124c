"""Score a segmentation model as the paper's code does (hszhao/semseg ``util.intersectionAndUnion``).

Per class ``c``, summed over the whole test set (pixels labelled ``ignore_index`` left out): ``I_c``
predicted and labelled ``c``, ``U_c`` predicted or labelled ``c``, ``T_c`` labelled ``c``. Then
``IoU_c = I_c / U_c``, ``Acc_c = I_c / T_c``; mIoU and mAcc are their means over *all* ``K`` classes (an
absent class scores 0: the official code divides by ``U_c + 1e-10``); ``allAcc = sum_c I_c / sum_c T_c``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from visual.checks import check_bool, check_int, check_module, check_tensor
from visual.inference import MAX_CLASSES, predict_probabilities
from visual.metrics import labelled_pixels

__all__ = ["EPSILON", "intersection_and_union", "EvaluationResult", "metrics_from_sums", "evaluate_dataset"]

EPSILON = 1e-10  # the official code's guard against 0 / 0 (util.py, tool/test.py cal_acc)


def intersection_and_union(pred: torch.Tensor, target: torch.Tensor, num_classes: int,
                           ignore_index: int = 255) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-class pixel counts of one prediction: intersection, union and target area.

    ``pred`` holds labels in ``[0, K)`` of any shape, ``target`` the same shape, in ``[0, K)`` or
    ``ignore_index`` (pixels left out of every count); ``K = num_classes``.

    Returns:
        ``(intersection, union, target_area)``, three ``(K,)`` int64 tensors on ``pred``'s device.

    Example:
        >>> intersection_and_union(torch.tensor([[0, 1], [1, 1]]), torch.tensor([[0, 1], [0, 255]]), 2)
        (tensor([1, 1]), tensor([2, 2]), tensor([2, 1]))
    """
    num_classes = check_int(num_classes, "num_classes", minimum=1, maximum=MAX_CLASSES)
    pred, target = labelled_pixels(pred, target, num_classes, ignore_index, names=("pred", "target"))
    intersection = torch.bincount(pred[pred == target], minlength=num_classes)  # (K,)
    area_pred = torch.bincount(pred, minlength=num_classes)  # (K,)
    area_target = torch.bincount(target, minlength=num_classes)  # (K,)
    return intersection, area_pred + area_target - intersection, area_target


@dataclass(frozen=True)
class EvaluationResult:
    """Scores of a model on a set, as tool/test.py reports them (per-class tensors ``(K,)``)."""

    miou: float
    macc: float
    allacc: float
    iou: torch.Tensor
    acc: torch.Tensor
    intersection: torch.Tensor
    union: torch.Tensor
    target_area: torch.Tensor
    class_names: tuple[str, ...] | None = None

    def table(self) -> str:
        """A plain-text table: the three summary numbers, then IoU and accuracy per class."""
        names = self.class_names or tuple(f"class {i}" for i in range(len(self.iou)))
        width = max(len(name) for name in ("class", *names))
        lines = [f"mIoU {self.miou:.4f}   mAcc {self.macc:.4f}   allAcc {self.allacc:.4f}",
                 f"{'id':>3}  {'class':<{width}}  {'IoU':>6}  {'Acc':>6}"]
        lines += [f"{i:>3}  {name:<{width}}  {float(iou):>6.4f}  {float(acc):>6.4f}"
                  for i, (name, iou, acc) in enumerate(zip(names, self.iou, self.acc))]
        return "\n".join(lines)

    __str__ = table

    def _repr_html_(self) -> str:  # Jupyter shows the same table
        return f"<pre>{html.escape(self.table())}</pre>"


def _check_names(class_names: Any, num_classes: int) -> tuple[str, ...] | None:
    if class_names is None:
        return None
    if isinstance(class_names, str) or not isinstance(class_names, Sequence):
        raise TypeError(f"class_names must be a list or tuple of {num_classes} strings, got {type(class_names).__name__}")
    if len(class_names) != num_classes or not all(isinstance(n, str) for n in class_names):
        raise ValueError(f"class_names must be {num_classes} strings (one per class), got {len(class_names)} entries")
    return tuple(class_names)


def metrics_from_sums(intersection: torch.Tensor, union: torch.Tensor, target_area: torch.Tensor,
                      class_names: Sequence[str] | None = None) -> EvaluationResult:
    """An :class:`EvaluationResult` from ``(K,)`` integer sums over a set, with the official ``1e-10`` guard.

    ``class_names``: ``K`` names for the table, or ``None``.
    """
    sums = [check_tensor(t, name, ndim=1, layout="(K,)", dtype="integer").cpu().long()
            for t, name in ((intersection, "intersection"), (union, "union"), (target_area, "target_area"))]
    if len({len(t) for t in sums}) != 1:
        raise ValueError(f"intersection, union and target_area must have one length, got {[len(t) for t in sums]}")
    class_names = _check_names(class_names, len(sums[0]))
    inter, uni, tgt = sums
    iou = inter.double() / (uni.double() + EPSILON)  # (K,)
    acc = inter.double() / (tgt.double() + EPSILON)  # (K,)
    allacc = float(inter.sum()) / (float(tgt.sum()) + EPSILON)
    return EvaluationResult(float(iou.mean()), float(acc.mean()), allacc, iou, acc, inter, uni, tgt, class_names)


def _as_image255(image: Any) -> torch.Tensor:
    image = check_tensor(image, "dataset image", ndim=3, layout="(3, H, W)", dtype="real", finite=True)
    if image.is_floating_point():
        if image.numel() and (image.min() < 0 or image.max() > 1):
            raise ValueError("dataset image: a float image must hold values in [0, 1] (it is taken as x255)")
        return image * 255  # (3, H, W) in 0-255 units
    if image.dtype != torch.uint8:
        raise TypeError(f"dataset image must be uint8 or float in [0, 1], got {image.dtype}")
    return image


def evaluate_dataset(model: nn.Module, dataset: Iterable, *, num_classes: int,
                     class_names: Sequence[str] | None = None, ignore_index: int = 255,
                     progress: bool = False, **protocol: Any) -> EvaluationResult:
    """Predict every image with :func:`visual.inference.predict_probabilities` and score the set.

    Args:
        dataset: items ``(image, label)``: image ``(3, H, W)`` uint8 RGB or float in ``[0, 1]``
            (taken as x255), label ``(H, W)`` long with ``ignore_index`` for unlabelled pixels.
        **protocol: passed to ``predict_probabilities`` (``crop_size``, ``scales``, ``flip``...).

    Returns:
        An :class:`EvaluationResult` of the whole-set sums.
    """
    check_module(model)
    num_classes = check_int(num_classes, "num_classes", minimum=1, maximum=MAX_CLASSES)
    class_names = _check_names(class_names, num_classes)
    ignore_index = check_int(ignore_index, "ignore_index")
    sized = hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")  # a map-style Dataset
    if not sized and not isinstance(dataset, Iterable):
        raise TypeError(f"dataset must be a Dataset or an iterable of (image, label) pairs, "
                        f"got {type(dataset).__name__}")
    items = (dataset[i] for i in range(len(dataset))) if sized else dataset
    if check_bool(progress, "progress"):
        items = tqdm(items, total=len(dataset) if sized else None, desc="evaluating", leave=False)
    totals = [torch.zeros(num_classes, dtype=torch.int64) for _ in range(3)]
    count = 0
    for item in items:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise ValueError(f"dataset items must be (image, label) pairs, got {type(item).__name__}")
        image, label = _as_image255(item[0]), check_tensor(item[1], "dataset label", dtype="integer")
        pred = predict_probabilities(model, image, num_classes=num_classes, **protocol).argmax(dim=0).cpu()  # (H, W)
        try:  # the label's shape and values, checked where they are counted
            parts = intersection_and_union(pred, label.cpu(), num_classes, ignore_index)
        except ValueError as err:
            raise ValueError(f"dataset label of item {count} is refused as the target: {err}") from None
        for total, part in zip(totals, parts):
            total += part
        count += 1
    if count == 0:
        raise ValueError("dataset is empty: nothing to evaluate")
    return metrics_from_sums(*totals, class_names=class_names)
