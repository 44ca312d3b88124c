"""Data where only far-away context decides the class (PSPNet's thesis, Zhao et al. 2017, Sec. 1 and
Fig. 2: FCN calls a boat on a river a "car"), a per-pixel baseline, and notebook 04's cached ablation."""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.colors import hsv_to_rgb
from torch import nn
from torch.utils.data import Dataset

from visual.checks import as_size, check_choice, check_int
from visual.model_cache import cached_state_dict
from visual.models.pspnet import PSPNet
from visual.train import CLASSROOM_TRAINING, History, TrainConfig, train_model

__all__ = ["ContextShapes", "PerPixelNet", "CONTEXT_TRAINING", "ABLATION_MODELS", "train_context_model"]

SPLITS = ("train", "val", "test")
BAND = 1 / 8  # the scene band (water or road) fills this fraction of the width at one end
OBJECTS_FROM = 5 / 8  # objects lie entirely in the far part of the strip, from this fraction of the width on


class ContextShapes(Dataset):
    """A strip: a band of water or road at one end, identical orange ellipses at the other end.

    An ellipse is a **boat** when the band is water and a **car** when it is road; between them, the same
    neutral background in both scenes. No pixel within ``cue_distance`` (half the width) of an object
    tells which: only a global summary of the image does. Band side (left/right), colours and 1-3
    objects are random. Image ``i`` of a split is drawn from a generator seeded with ``(seed, split, i)``:
    the same on every machine, made on the fly; the three splits never share a generator.
    ``size``: a side or ``(H, W)`` with ``H >= 16`` and ``W >= 4 H``.

    Example:
        >>> data = ContextShapes(4, split="val")
        >>> image, label = data[0]
        >>> image.shape, label.shape, data.class_names[3], data.context_classes
        (torch.Size([3, 32, 512]), torch.Size([32, 512]), 'boat', (3, 4))
    """

    class_names = ("background", "water", "road", "boat", "car")
    num_classes = len(class_names)
    context_classes = (3, 4)  # boat, car: the same ellipse, told apart by the band only

    def __init__(self, num_images: int = 256, *, split: str = "train", size: int | tuple[int, int] = (32, 512),
                 seed: int = 0) -> None:
        self.length = check_int(num_images, "num_images", minimum=0)
        self.split = check_choice(split, "split", SPLITS)
        self.size = as_size(size, "size", minimum=16, maximum=4096)
        if self.size[1] < 4 * self.size[0]:
            raise ValueError(f"size must be a strip (H, W) with W >= 4 H, got {self.size}")
        self.seed = check_int(seed, "seed", minimum=0)
        self.cue_distance = int(self.size[1] * (OBJECTS_FROM - BAND))  # px from the band to the nearest object

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Image ``index``: ``(image (3, H, W) float32 in [0, 1], label (H, W) int64)``."""
        index = check_int(index, "index")
        index = index + self.length if index < 0 else index
        if not 0 <= index < self.length:
            raise IndexError(f"index out of range for a dataset of length {self.length}")
        rng = np.random.default_rng([self.seed, SPLITS.index(self.split), index])
        height, width = self.size
        ys, xs = np.arange(height)[:, None], np.arange(width)[None, :]  # (H, 1), (1, W)
        grid = (2, width // height)  # the background: a smooth, pale random tint, plus pixel noise
        coarse = hsv_to_rgb(np.stack([rng.uniform(0, 1, grid), rng.uniform(0, 0.25, grid),
                                      rng.uniform(0.5, 0.85, grid)], axis=-1))  # (2, g, 3)
        image = F.interpolate(torch.from_numpy(coarse).permute(2, 0, 1)[None], size=(height, width),
                              mode="bilinear", align_corners=True)[0].numpy()  # (3, H, W)
        image += rng.normal(0, 0.05, (3, height, width))
        label = np.zeros((height, width), dtype=np.int64)
        water = bool(rng.integers(2))
        band = xs < round(BAND * width) + int(rng.integers(-height // 4, height // 4 + 1))  # (1, W)
        colour = hsv_to_rgb([rng.uniform(0.55, 0.65), rng.uniform(0.6, 0.9), rng.uniform(0.5, 0.8)] if water
                            else [rng.uniform(0, 1), rng.uniform(0, 0.1), rng.uniform(0.15, 0.3)])
        ripples = 1 + 0.15 * np.cos(2 * np.pi * (ys / rng.uniform(4, 8) + xs / rng.uniform(10, 20)))  # (H, W)
        image = np.where(band, colour[:, None, None] * ripples, image)
        label[np.broadcast_to(band, label.shape)] = 1 if water else 2
        for _ in range(int(rng.integers(1, 4))):
            ry, rx = rng.uniform(0.25, 0.4) * height, rng.uniform(0.4, 0.8) * height
            cy, cx = rng.uniform(0.3, 0.7) * height, rng.uniform(OBJECTS_FROM * width + rx, width - rx)
            inside = ((ys - cy) / ry) ** 2 + ((xs - cx) / rx) ** 2 <= 1  # (H, W)
            fill = hsv_to_rgb([rng.uniform(0.02, 0.1), rng.uniform(0.7, 0.95), rng.uniform(0.75, 1.0)])
            image = np.where(inside, fill[:, None, None] + rng.normal(0, 0.04, (3, height, width)), image)
            label[inside] = 3 if water else 4
        if rng.integers(2):  # the band on the right instead
            image, label = image[:, :, ::-1], label[:, ::-1]
        return (torch.from_numpy(np.clip(image, 0, 1).astype(np.float32)),
                torch.from_numpy(label.copy()))


class PerPixelNet(nn.Sequential):
    """The baseline that sees one pixel: 1x1 convolutions ``3 -> hidden -> hidden -> num_classes``."""

    def __init__(self, num_classes: int, hidden: int = 32) -> None:
        num_classes, hidden = check_int(num_classes, "num_classes", minimum=1), check_int(hidden, "hidden", minimum=1)
        super().__init__(nn.Conv2d(3, hidden, 1), nn.ReLU(), nn.Conv2d(hidden, hidden, 1), nn.ReLU(),
                         nn.Conv2d(hidden, num_classes, 1))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:  # noqa: D102 - the dict of PSPNet
        return {"out": super().forward(x)}


# Notebook 04's ablation (measured in benchmarks/bench_context.py): PSPNet-ResNet18 from scratch, the
# classroom rates of CLASSROOM_TRAINING, early stopping on the validation mIoU.
CONTEXT_TRAINING = replace(CLASSROOM_TRAINING, steps=70, eval_every=20, stop_at_miou=None, patience=2)
ABLATION_MODELS = {"per-pixel": None, "no PPM": (), "PPM": (1, 2, 3, 6)}  # name -> PSPNet bins
# The per-pixel baseline: 1x1 convs make steps cheap; with 70 of them it had not yet learnt the bands (IoU < 0.6).
PER_PIXEL_TRAINING = replace(CONTEXT_TRAINING, base_lr=0.2, steps=100)


def train_context_model(name: str, *, seed: int = 0, size: int | tuple[int, int] = (32, 512),
                        config: TrainConfig | None = None) -> tuple[nn.Module, History | None]:
    """Model ``name`` of :data:`ABLATION_MODELS` trained on :class:`ContextShapes`, cached per machine.

    Trains on ``steps * batch_size`` fresh images, early-stops on 64 validation images (``config``
    default: :data:`CONTEXT_TRAINING`, or ``PER_PIXEL_TRAINING``); seed ``seed`` sets the data and the
    weights. Returns ``(model in eval mode, History)``, with ``None`` when it came from the cache.
    """
    check_choice(name, "name", ABLATION_MODELS)
    config = config or (PER_PIXEL_TRAINING if ABLATION_MODELS[name] is None else CONTEXT_TRAINING)
    config = replace(config, seed=check_int(seed, "seed", minimum=0))
    train_data = ContextShapes(config.steps * config.batch_size, split="train", size=size, seed=seed)
    val_data = ContextShapes(64, split="val", size=size, seed=seed)
    recipe = {"dataset": "ContextShapes", "size": list(train_data.size), "model": name,
              "bins": ABLATION_MODELS[name], "config": asdict(config)}
    history: list[History] = []

    def build() -> nn.Module:
        torch.manual_seed(seed)
        bins = ABLATION_MODELS[name]
        return PerPixelNet(ContextShapes.num_classes) if bins is None else \
            PSPNet(ContextShapes.num_classes, backbone="resnet18", bins=bins)

    def train(model: nn.Module) -> None:
        history.append(train_model(model, train_data, ContextShapes.num_classes, config=config,
                                   val_dataset=val_data, progress=False))

    return cached_state_dict(recipe, build, train), (history[0] if history else None)
