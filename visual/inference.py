"""The official PSPNet test protocol (hszhao/semseg ``tool/test.py``): multi-scale, flipped sliding-window
softmax averaged where windows overlap (notebook 05). The official ``cv2.INTER_LINEAR`` resize is
``F.interpolate``'s half-pixel bilinear (``align_corners=False``) up to float rounding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from visual.checks import (MAX_ELEMENTS, MAX_SIDE, as_size, check_bool, check_elements, check_float,
                           check_int, check_tensor)
from visual.metrics import model_device

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "CROP_BATCH", "sliding_windows", "scaled_size", "count_map",
           "windows_per_pass", "predict_probabilities"]

# ImageNet statistics in 0-255 units, as tool/test.py writes them: [0.485, 0.456, 0.406] * 255.
IMAGENET_MEAN = (0.485 * 255, 0.456 * 255, 0.406 * 255)
IMAGENET_STD = (0.229 * 255, 0.224 * 255, 0.225 * 255)
CROP_BATCH = 8  # crops per forward pass by default: 4 windows + their mirrors (a 512x683 image at 473)
MAX_CLASSES = 1024  # far above ADE20K's 150; refuses a typo before allocating (num_classes, H, W)


def _spans(side: int, crop: int, stride_rate: float) -> list[tuple[int, int]]:
    """The ``(start, end)`` of each window along one axis of the canvas ``max(side, crop)``."""
    canvas, stride = max(side, crop), math.ceil(crop * stride_rate)
    ends = [min(i * stride + crop, canvas) for i in range(math.ceil((canvas - crop) / stride) + 1)]
    return [(end - crop, end) for end in ends]  # the last window ends on the border


def sliding_windows(height: int, width: int, crop_size: int | tuple[int, int] = 473,
                    stride_rate: float = 2 / 3) -> list[tuple[int, int, int, int]]:
    """The crops the official protocol runs on the padded canvas, row by row.

    Per axis: canvas ``max(side, crop)``, stride ``ceil(crop * stride_rate)``,
    ``ceil((canvas - crop) / stride) + 1`` windows, the last shifted back to end on the border.

    Returns:
        A list of ``(top, left, bottom, right)`` windows (``bottom``/``right`` exclusive).

    Example:
        >>> sliding_windows(512, 683, 473, 2 / 3)
        [(0, 0, 473, 473), (0, 210, 473, 683), (39, 0, 512, 473), (39, 210, 512, 683)]
    """
    height, width = as_size((height, width), "image size")
    crop_h, crop_w = as_size(crop_size, "crop_size")
    stride_rate = check_float(stride_rate, "stride_rate", minimum=0.0, maximum=1.0, open_minimum=True)
    return [(top, left, bottom, right) for top, bottom in _spans(height, crop_h, stride_rate)
            for left, right in _spans(width, crop_w, stride_rate)]


def scaled_size(height: int, width: int, long_side: int) -> tuple[int, int]:
    """The official resize of one scale: long side ``long_side``, short ``round(long_side / long * short)``.

    Example:
        >>> scaled_size(512, 683, 512)
        (384, 512)
    """
    height, width = as_size((height, width), "image size")
    long_side = check_int(long_side, "long_side", minimum=1, maximum=MAX_SIDE)
    if height > width:
        return long_side, max(1, round(long_side / height * width))
    return max(1, round(long_side / width * height)), long_side


def count_map(height: int, width: int, crop_size: int | tuple[int, int] = 473,
              stride_rate: float = 2 / 3) -> torch.Tensor:
    """How many windows of :func:`sliding_windows` cover each pixel: a ``(canvas_h, canvas_w)`` int64 tensor, >= 1."""
    windows = sliding_windows(height, width, crop_size, stride_rate)
    canvas_h, canvas_w = max(b for _, _, b, _ in windows), max(r for _, _, _, r in windows)
    counts = torch.zeros(canvas_h, canvas_w, dtype=torch.int64)  # (H', W')
    for top, left, bottom, right in windows:
        counts[top:bottom, left:right] += 1
    return counts


def windows_per_pass(num_classes: int, crop_size: tuple[int, int], flip: bool, batch_size: int = CROP_BATCH) -> int:
    """Windows per forward pass: ``batch_size`` crops (mirrors included), fewer if their outputs
    ``(crops, K, crop_h, crop_w)`` would exceed ``MAX_ELEMENTS`` values (the memory guard).

    Example:
        >>> windows_per_pass(150, (473, 473), flip=True)  # 8 crops of 150 x 473 x 473 are just over 2**28
        3
    """
    per_crop = num_classes * crop_size[0] * crop_size[1]
    crops = max(1, min(batch_size, MAX_ELEMENTS // per_crop))
    return max(1, crops // 2) if flip else crops


def _floats(values: Any, name: str, length: int | None = None, *, positive: bool = False) -> tuple[float, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, torch.Tensor)):
        raise TypeError(f"{name} must be a list or tuple of numbers, got {type(values).__name__}")
    values = values.tolist() if isinstance(values, torch.Tensor) else list(values)
    if len(values) != (length or len(values)) or not 1 <= len(values) <= 64:
        raise ValueError(f"{name} must have {length or '1 to 64'} entries, got {len(values)}")
    return tuple(check_float(v, f"{name}[{i}]", minimum=0.0 if positive else None, open_minimum=positive)
                 for i, v in enumerate(values))


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """cv2.INTER_LINEAR as F.interpolate computes it: ``(C, h, w) -> (C, *size)``."""
    if tuple(x.shape[1:]) == tuple(size):  # half-pixel bilinear to the same size is the identity
        return x
    return F.interpolate(x[None], size=size, mode="bilinear", align_corners=False, antialias=False)[0]  # (C, H, W)


def _forward_probabilities(model: nn.Module, crops: torch.Tensor, num_classes: int, flip: bool) -> torch.Tensor:
    """Softmax of the model on ``(B, 3, h, w)`` normalised crops -> ``(B, K, h, w)``, flip-averaged."""
    batch = torch.cat([crops, crops.flip(3)]) if flip else crops  # (B or 2B, 3, h, w)
    output = model(batch)
    logits = output["out"] if isinstance(output, dict) else output
    if not isinstance(logits, torch.Tensor) or logits.dim() != 4 or logits.shape[:2] != (len(batch), num_classes):
        got = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"num_classes={num_classes}, but the model returned {got} for a batch of "
                         f"{tuple(batch.shape)}; expected logits (N, num_classes, h, w) or {{'out': ...}}")
    if logits.shape[2:] != crops.shape[2:]:
        logits = F.interpolate(logits, size=crops.shape[2:], mode="bilinear", align_corners=True)  # (N, K, h, w)
    probabilities = logits.float().softmax(dim=1)  # (N, K, h, w)
    if flip:
        direct, mirrored = probabilities.chunk(2)  # (B, K, h, w) each
        probabilities = (direct + mirrored.flip(3)) / 2
    return probabilities


def _one_scale(model: nn.Module, image: torch.Tensor, num_classes: int, crop_size: tuple[int, int],
               stride_rate: float, flip: bool, mean: torch.Tensor, std: torch.Tensor,
               batch_size: int) -> torch.Tensor:
    """``scale_process`` of tool/test.py: pad, slide, average, cut. ``(3, h, w)`` -> ``(K, h, w)``."""
    _, height, width = image.shape
    crop_h, crop_w = crop_size
    pad_h, pad_w = max(crop_h - height, 0), max(crop_w - width, 0)
    top, left = pad_h // 2, pad_w // 2  # the extra pixel goes to the bottom / right
    canvas = mean.expand(3, height + pad_h, width + pad_w).clone()  # (3, H', W') filled with the mean colour
    canvas[:, top:top + height, left:left + width] = image
    windows = sliding_windows(height, width, crop_size, stride_rate)
    check_elements(num_classes * canvas.shape[1] * canvas.shape[2], "the probability canvas (num_classes x H x W)")
    total = canvas.new_zeros(num_classes, *canvas.shape[1:])  # (K, H', W')
    per_pass = windows_per_pass(num_classes, crop_size, flip, batch_size)
    for start in range(0, len(windows), per_pass):
        chunk = windows[start:start + per_pass]
        crops = torch.stack([canvas[:, t:b, l:r] for t, l, b, r in chunk])  # (B, 3, crop_h, crop_w)
        probabilities = _forward_probabilities(model, (crops - mean) / std, num_classes, flip)  # (B, K, h, w)
        for (t, l, b, r), p in zip(chunk, probabilities):
            total[:, t:b, l:r] += p
    counts = count_map(height, width, crop_size, stride_rate).to(canvas)  # (H', W') windows per pixel
    return (total / counts)[:, top:top + height, left:left + width]  # (K, h, w)


def predict_probabilities(model: nn.Module, image: torch.Tensor, *, num_classes: int,
                          crop_size: int | tuple[int, int] = 473, stride_rate: float = 2 / 3,
                          base_size: int = 512, scales: Sequence[float] = (1.0,), flip: bool = True,
                          mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD,
                          batch_size: int = CROP_BATCH) -> torch.Tensor:
    """Class probabilities of one image by the official test protocol (semseg ``tool/test.py``).

    The model runs in eval mode under ``torch.no_grad()`` (its mode restored after), on its own
    device; its forward returns logits ``(N, K, h, w)`` or ``{"out": logits}``.

    Args:
        image: ``(3, H, W)`` RGB, uint8 or floating point in 0-255 units (multiply a ``[0, 1]`` image by 255).
        crop_size: crop side ``S`` or ``(crop_h, crop_w)`` (paper: 473 for VOC/ADE20K, 713 for Cityscapes).
        stride_rate: window stride as a fraction of the crop, in ``(0, 1]`` (official: 2/3).
        base_size: long side of the image at scale 1.0 (official: 512 for VOC/ADE20K, 2048 for Cityscapes).
        scales: the scales to average (paper's multi-scale: 0.5, 0.75, 1.0, 1.25, 1.5, 1.75).
        mean, std: per-channel normalisation in 0-255 units (default: ImageNet's).
        batch_size: crops per forward pass, mirrors included (fewer: :func:`windows_per_pass`).

    Returns:
        ``(K, H, W)`` float32 probabilities on the model's device (each pixel sums to 1).
    """
    device = model_device(model)  # checks that model is a real nn.Module
    image = check_tensor(image, "image", ndim=3, layout="(3, H, W)", dtype="real", finite=True)
    if image.shape[0] != 3:
        raise ValueError(f"image must have shape (3, H, W) (RGB), got shape {tuple(image.shape)}")
    if image.dtype != torch.uint8 and not image.is_floating_point():
        raise TypeError(f"image must be uint8 (0-255) or floating point in 0-255 units, got {image.dtype}")
    height, width = as_size(tuple(image.shape[1:]), "image size (H, W)")
    num_classes = check_int(num_classes, "num_classes", minimum=1, maximum=MAX_CLASSES)
    crop = as_size(crop_size, "crop_size")
    stride_rate = check_float(stride_rate, "stride_rate", minimum=0.0, maximum=1.0, open_minimum=True)
    base_size = check_int(base_size, "base_size", minimum=1, maximum=MAX_SIDE)
    scales = _floats(scales, "scales", positive=True)
    for i, scale in enumerate(scales):
        check_int(round(scale * base_size), f"scales[{i}] * base_size (long side)", minimum=1, maximum=MAX_SIDE)
    flip = check_bool(flip, "flip")
    mean_values, std_values = _floats(mean, "mean", 3), _floats(std, "std", 3, positive=True)
    batch_size = check_int(batch_size, "batch_size", minimum=2 if flip else 1, maximum=1024)
    check_elements((2 if flip else 1) * num_classes * crop[0] * crop[1], "the outputs of one crop (K x crop)")
    if image.device.type == "meta":
        raise ValueError("image must hold real data, not the 'meta' device, to predict")
    if image.is_floating_point() and (image.min() < 0 or image.max() > 255):
        raise ValueError("image must hold values in 0-255 (a float image in [0, 1]: multiply it by 255)")

    image = image.to(device=device, dtype=torch.float32)  # (3, H, W)
    mean_t = torch.tensor(mean_values, device=device).view(3, 1, 1)  # (3, 1, 1)
    std_t = torch.tensor(std_values, device=device).view(3, 1, 1)  # (3, 1, 1)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            total = torch.zeros(num_classes, height, width, device=device)  # (K, H, W)
            for scale in scales:
                size = scaled_size(height, width, round(scale * base_size))
                probabilities = _one_scale(model, _resize(image, size), num_classes, crop, stride_rate, flip,
                                           mean_t, std_t, batch_size)  # (K, h, w)
                total += _resize(probabilities, (height, width))  # (K, H, W)
    finally:
        model.train(was_training)
    return total / len(scales)
