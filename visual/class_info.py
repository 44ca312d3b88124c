"""Class names and colour palettes of the datasets the PSPNet paper reports on.

The lists ship as JSON files in ``visual/class_data/`` (one per dataset, each with a ``"source"``
naming where the names and colours come from: hszhao/semseg's ``data/<set>/<set>_names.txt`` and
``<set>_colors.txt``, which its ``tool/test.py`` reads to name classes and colour predictions).

Example:
    >>> class_names("voc2012")[:3]
    ('background', 'aeroplane', 'bicycle')
    >>> len(class_names("ade20k")), len(class_names("cityscapes"))
    (150, 19)
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

import torch

from visual.checks import check_choice, check_tensor

__all__ = ["DATASETS", "class_names", "class_palette", "class_source", "colorize"]

DATASETS = ("voc2012", "ade20k", "cityscapes")  # the paper's three benchmarks (Sec. 5)


@cache
def _load(dataset: str) -> dict:
    text = resources.files("visual").joinpath("class_data", f"{dataset}.json").read_text(encoding="utf-8")
    return json.loads(text)


def class_names(dataset: str) -> tuple[str, ...]:
    """The class names of ``dataset``, in label order (label ``i`` is ``class_names(...)[i]``).

    Args:
        dataset: one of ``"voc2012"`` (21 classes), ``"ade20k"`` (150), ``"cityscapes"`` (19).

    Returns:
        A tuple of ``num_classes`` strings.

    Raises:
        ValueError: for an unknown dataset.
    """
    return tuple(_load(check_choice(dataset, "dataset", DATASETS))["names"])


def class_palette(dataset: str) -> torch.Tensor:
    """The colour of each class of ``dataset``, as the official code colours its predictions.

    Args:
        dataset: one of ``"voc2012"``, ``"ade20k"``, ``"cityscapes"``.

    Returns:
        A ``(num_classes, 3)`` uint8 tensor of RGB colours.

    Raises:
        ValueError: for an unknown dataset.
    """
    palette = _load(check_choice(dataset, "dataset", DATASETS))["palette"]
    return torch.tensor(palette, dtype=torch.uint8)  # (K, 3)


def class_source(dataset: str) -> str:
    """Where the names and colours of ``dataset`` come from (repository, commit and files)."""
    return _load(check_choice(dataset, "dataset", DATASETS))["source"]


def colorize(label: torch.Tensor, dataset: str) -> torch.Tensor:
    """Colour a label map with the dataset's palette; ignored (255) or unknown labels are black.

    Args:
        label: an ``(H, W)`` integer label map.
        dataset: one of ``"voc2012"``, ``"ade20k"``, ``"cityscapes"``.

    Returns:
        An ``(H, W, 3)`` uint8 RGB image.

    Raises:
        TypeError: if ``label`` is not an integer tensor.
        ValueError: for a label map that is not 2-D, or an unknown dataset.
    """
    label = check_tensor(label, "label", ndim=2, layout="(H, W)", dtype="integer").cpu()
    palette = class_palette(dataset)  # (K, 3)
    known = (label >= 0) & (label < len(palette))
    image = torch.zeros(*label.shape, 3, dtype=torch.uint8)  # (H, W, 3)
    image[known] = palette[label[known].long().cpu()]
    return image
