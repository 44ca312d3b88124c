"""The official training augmentation (hszhao/semseg ``util/transform.py``) with torchvision.transforms.v2.

The image is a ``tv_tensors.Image`` (uint8 RGB) and the label a ``tv_tensors.Mask``; every v2
transform moves both the same way and resamples the mask with nearest neighbours. In semseg's
order (``tool/train.py``):

1. random scale by one factor in ``[scale_min, scale_max]`` (both sides);
2. with probability 1/2, random rotation in ``[rotate_min, rotate_max]`` degrees, the image
   padded with the mean colour, the label with ``ignore_label``;
3. with probability 1/2, Gaussian blur (5 x 5, the image only);
4. with probability 1/2, horizontal flip;
5. random crop ``train_h x train_w``, padded first (mean colour / ``ignore_label``) where the
   image is smaller;
6. to float and normalise with the ImageNet mean and std.

With ``augment=False`` steps 1–4 are left out (the crop and the normalisation stay).
"""

from __future__ import annotations

from typing import Any

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

__all__ = ["MEAN", "STD", "BLUR_KERNEL_SIZE", "BLUR_SIGMA", "RandScale", "train_transform", "eval_transform"]

MEAN = (0.485, 0.456, 0.406)  # ImageNet RGB mean (semseg: [0.485, 0.456, 0.406] * 255)
STD = (0.229, 0.224, 0.225)  # ImageNet RGB std (semseg: [0.229, 0.224, 0.225] * 255)
MEAN_UINT8 = tuple(round(255 * m) for m in MEAN)  # the padding colour of a uint8 image
BLUR_KERNEL_SIZE = 5  # semseg RandomGaussianBlur(radius=5): cv2.GaussianBlur(image, (5, 5), 0)
BLUR_SIGMA = 1.1  # OpenCV's sigma for ksize 5 and sigma 0: 0.3 * ((5 - 1) / 2 - 1) + 0.8
HALF = 0.5  # semseg's probability for rotation, blur and flip


class RandScale(v2.Transform):
    """Resize by one random factor ``s`` in ``[scale_min, scale_max]``: ``(H, W) -> (round(sH), round(sW))``.

    Images are resampled bilinearly, masks with nearest neighbours (v2's rule for ``Mask``).
    """

    def __init__(self, scale_min: float, scale_max: float) -> None:
        super().__init__()
        self.scale_min, self.scale_max = float(scale_min), float(scale_max)

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        """Draw the factor once for the image and its mask."""
        height, width = v2.functional.get_size(next(i for i in flat_inputs if isinstance(i, tv_tensors.Image)))
        factor = self.scale_min + (self.scale_max - self.scale_min) * torch.rand(()).item()
        return {"size": [max(1, round(height * factor)), max(1, round(width * factor))]}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        """Resize one input to ``params["size"]``."""
        return v2.functional.resize(inpt, params["size"], antialias=False)


def _fill(ignore_label: int) -> dict[type, Any]:
    return {tv_tensors.Image: MEAN_UINT8, tv_tensors.Mask: ignore_label}


def _finish() -> list[v2.Transform]:
    return [
        v2.ToDtype({tv_tensors.Image: torch.float32, "others": None}, scale=True),  # uint8 -> [0, 1]
        v2.Normalize(MEAN, STD),
        v2.ToPureTensor(),
    ]


def train_transform(train: dict[str, Any]) -> v2.Compose:
    """The training pipeline for the ``TRAIN`` section of a config (see the module docstring)."""
    fill = _fill(train["ignore_label"])
    steps: list[v2.Transform] = []
    if train["augment"]:
        steps += [
            RandScale(train["scale_min"], train["scale_max"]),
            v2.RandomApply([v2.RandomRotation((train["rotate_min"], train["rotate_max"]),
                                              interpolation=v2.InterpolationMode.BILINEAR, fill=fill)], p=HALF),
            v2.RandomApply([v2.GaussianBlur(BLUR_KERNEL_SIZE, sigma=BLUR_SIGMA)], p=HALF),
            v2.RandomHorizontalFlip(p=HALF),
        ]
    steps.append(v2.RandomCrop((train["train_h"], train["train_w"]), pad_if_needed=True, fill=fill))
    return v2.Compose(steps + _finish())


def eval_transform() -> v2.Compose:
    """Only the float conversion and normalisation (evaluation crops its own windows)."""
    return v2.Compose(_finish())
