"""Bringing a low-resolution segmentation to full size: upsample the logits, never the labels
(bilinear on class *ids* invents classes in between), and the feature-map size to expect."""

from __future__ import annotations

import math

import torch

from visual.checks import as_size, check_choice, check_elements, check_int, check_tensor
from visual.class_info import class_names
from visual.interpolation import bilinear_interpolate

__all__ = ["VOC_CLASSES", "SEGMENTATION_UPSAMPLING", "toy_label_map", "upsample_segmentation", "feature_map_size"]

# PASCAL VOC 2012 class names, index = class id (Everingham et al., IJCV 2010, Table 1; 255 is "void").
VOC_CLASSES: tuple[str, ...] = class_names("voc2012")

# Ways of bringing a low-resolution segmentation to full size (``upsample_segmentation``).
SEGMENTATION_UPSAMPLING: tuple[str, ...] = ("logits bilinear", "labels nearest", "labels bilinear")


def toy_label_map() -> torch.Tensor:
    """An 8 x 8 int64 PASCAL VOC label map: a person (15) touching a cat (8) and the background (0)."""
    person, cat = VOC_CLASSES.index("person"), VOC_CLASSES.index("cat")
    labels = torch.zeros(8, 8, dtype=torch.long)
    labels[1:7, 1:4] = person
    labels[3:7, 4:7] = cat
    return labels


def upsample_segmentation(labels: torch.Tensor, size: int | tuple[int, int], method: str,
                          num_classes: int = len(VOC_CLASSES)) -> torch.Tensor:
    """Bring a low-resolution segmentation to ``size`` pixels, three ways.

    * ``"logits bilinear"`` (what networks do): one-hot scores standing in for logits, upsampled
      with :func:`~visual.interpolation.bilinear_interpolate`, then ``argmax`` over classes.
    * ``"labels nearest"``: copy the nearest label. Valid classes, blocky edges.
    * ``"labels bilinear"``: interpolate the ids as numbers and round. Wrong: between 0 and 15 it invents 1..14.

    Args:
        labels: integer tensor ``(H, W)`` of class ids in ``[0, num_classes)``.
        method: one of ``SEGMENTATION_UPSAMPLING``.

    Returns:
        int64 tensor of shape ``(H_out, W_out)``.

    Example:
        >>> upsample_segmentation(torch.tensor([[0, 15]]), (1, 4), "labels bilinear").tolist()
        [[0, 4, 11, 15]]
    """
    method = check_choice(method, "method", SEGMENTATION_UPSAMPLING)
    check_tensor(labels, "labels", ndim=2, layout="(H, W)", dtype="integer")
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    out_h, out_w = as_size(size, "size")
    if labels.numel() == 0 or labels.device.type == "meta":
        raise ValueError(f"labels must hold class ids, got an empty or meta tensor of shape {tuple(labels.shape)}")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes}), got ids {labels.unique().tolist()[:10]}")
    labels = labels.long()
    if method == "labels nearest":  # PyTorch's "nearest": source index floor(i * in / out)
        rows = torch.arange(out_h, device=labels.device) * labels.shape[0] // out_h  # (H_out,)
        cols = torch.arange(out_w, device=labels.device) * labels.shape[1] // out_w  # (W_out,)
        return labels[rows[:, None], cols[None, :]]  # (H_out, W_out)
    if method == "labels bilinear":
        ids = labels[None, None].double()  # (1, 1, H, W)
        return bilinear_interpolate(ids, size=(out_h, out_w))[0, 0].round().long()  # (H_out, W_out)
    check_elements(num_classes * out_h * out_w, "size")
    scores = torch.nn.functional.one_hot(labels, num_classes).permute(2, 0, 1)  # (K, H, W)
    scores = bilinear_interpolate(scores[None].double(), size=(out_h, out_w))  # (1, K, H_out, W_out)
    return scores[0].argmax(dim=0)  # (H_out, W_out)


def feature_map_size(in_size: int, output_stride: int = 8) -> int:
    """Side of a ResNet feature map at ``output_stride`` (8, 16 or 32) for an ``in_size`` input.

    Every stride-2 layer maps ``n`` pixels to ``floor((n - 1) / 2) + 1``; dilated layers keep the size.

    Example:
        >>> feature_map_size(473, 8), feature_map_size(512, 8)
        (60, 64)
    """
    size = check_int(in_size, "in_size", minimum=1)
    output_stride = check_choice(output_stride, "output_stride", (8, 16, 32))
    for _ in range(int(math.log2(output_stride))):
        size = (size - 1) // 2 + 1
    return size
