"""Datasets in the official list-file format (hszhao/semseg ``util/dataset.py``).

A list file has one sample per line, ``image_path label_path``, both relative to
``data_root`` (``test`` lists may give the image alone). Images are JPEG or PNG (read as RGB),
labels single-channel PNGs: a palette PNG gives its palette *indices*, a grey PNG its grey
values; 255 is the ignore label. Every problem is reported with the list file and line number:
a line that is not one or two paths, a missing file, an unreadable image, a label that is not
single-channel, or a label whose size differs from its image's.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset
from torchvision import tv_tensors

__all__ = ["ListEntry", "read_list", "read_sample", "SegmentationList"]

LABEL_MODES = ("P", "L")  # palette (indices) and 8-bit grey: the single-channel PNG modes


@dataclass(frozen=True)
class ListEntry:
    """One line of a list file: its image, its label (or ``None``) and where it was written."""

    image: str
    label: str | None
    where: str  # "list.txt line 3", for messages


def read_list(list_path: str, data_root: str, *, labels: bool = True) -> list[ListEntry]:
    """Parse a list file; check that each named file exists.

    Args:
        list_path: the list file.
        data_root: the folder its paths are relative to.
        labels: whether each line must name a label (``False`` for ``split: test``).

    Returns:
        One :class:`ListEntry` per non-empty line.

    Raises:
        FileNotFoundError: the list file, or a file a line names, does not exist (the message
            gives the line).
        ValueError: a line with the wrong number of paths, or an empty list.
    """
    if not os.path.isfile(list_path):
        raise FileNotFoundError(f"list file {list_path!r} does not exist")
    entries = []
    with open(list_path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                continue
            where = f"{list_path} line {number}"
            if len(fields) not in ((2,) if labels else (1, 2)):
                raise ValueError(f"{where}: expected 'image_path label_path', got {line.strip()!r}")
            paths = [os.path.join(data_root, field) for field in fields]
            for path in paths:
                if not os.path.isfile(path):
                    raise FileNotFoundError(f"{where}: no file {path!r}")
            entries.append(ListEntry(paths[0], paths[1] if len(paths) == 2 else None, where))
    if not entries:
        raise ValueError(f"list file {list_path!r} names no samples")
    return entries


def read_sample(entry: ListEntry) -> tuple[tv_tensors.Image, tv_tensors.Mask | None]:
    """Read one sample: ``(Image (3, H, W) uint8, Mask (H, W) int64 or None)``.

    Raises:
        ValueError: unreadable image or label, a label that is not single-channel, or sizes
            that differ (the message gives the list line).
    """
    try:
        with Image.open(entry.image) as picture:
            rgb = np.asarray(picture.convert("RGB"))  # (H, W, 3) uint8
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(f"{entry.where}: cannot read image {entry.image!r} ({err})") from None
    image = tv_tensors.Image(torch.from_numpy(rgb.copy()).permute(2, 0, 1))  # (3, H, W)
    if entry.label is None:
        return image, None
    try:
        with Image.open(entry.label) as picture:
            if picture.mode not in LABEL_MODES:
                raise ValueError(f"{entry.where}: label {entry.label!r} must be a single-channel PNG "
                                 f"(palette or grey), got mode {picture.mode!r}")
            label = np.asarray(picture)  # (H, W) uint8: palette indices or grey values
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(f"{entry.where}: cannot read label {entry.label!r} ({err})") from None
    if label.shape != rgb.shape[:2]:
        raise ValueError(f"{entry.where}: image {entry.image!r} is {rgb.shape[0]}x{rgb.shape[1]} but label "
                         f"{entry.label!r} is {label.shape[0]}x{label.shape[1]} (H x W)")
    return image, tv_tensors.Mask(torch.from_numpy(label.astype(np.int64)))  # (H, W)


class SegmentationList(Dataset):
    """The samples of a list file, each passed through ``transform(image, mask)``.

    Args:
        list_path: the list file (``image label`` per line).
        data_root: the folder its paths are relative to.
        transform: called as ``transform(image, mask)``; ``None`` keeps the tensors as read.
        classes: when given, a label value that is neither below ``classes`` nor
            ``ignore_label`` is an error naming the list line (instead of a CUDA assert later).
        ignore_label: the label of pixels to ignore.

    ``dataset[i]`` is ``(image, label)``: after the training transforms, ``(3, h, w)`` float32
    and ``(h, w)`` int64.
    """

    def __init__(self, list_path: str, data_root: str, transform: Callable | None = None, *,
                 classes: int | None = None, ignore_label: int = 255) -> None:
        self.entries = read_list(list_path, data_root)
        self.transform = transform
        self.classes, self.ignore_label = classes, ignore_label

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        entry = self.entries[index]
        image, mask = read_sample(entry)
        if self.classes is not None and mask is not None:
            bad = mask[(mask >= self.classes) & (mask != self.ignore_label)]
            if bad.numel():
                raise ValueError(f"{entry.where}: label {entry.label!r} has value {int(bad[0])}; labels must be "
                                 f"0..{self.classes - 1} (DATA.classes={self.classes}) or {self.ignore_label} (ignored)")
        if self.transform is not None:
            image, mask = self.transform(image, mask)
        return image, mask
