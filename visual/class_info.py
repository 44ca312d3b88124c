"""Class names and colour palettes of the datasets the PSPNet paper reports on.

JSON files in ``visual/class_data/``, from hszhao/semseg's ``data/<set>/<set>_names.txt`` and
``<set>_colors.txt`` (each file's ``"source"`` names the commit).

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

from visual.checks import check_choice

__all__ = ["DATASETS", "class_names", "class_palette", "class_source"]

DATASETS = ("voc2012", "ade20k", "cityscapes")  # the paper's three benchmarks (Sec. 5)


def _load(dataset: str) -> dict:
    """The JSON of ``dataset`` (one of ``DATASETS``, else ValueError)."""
    return _read(check_choice(dataset, "dataset", DATASETS))


@cache
def _read(dataset: str) -> dict:
    return json.loads(resources.files("visual").joinpath("class_data", f"{dataset}.json").read_text("utf-8"))


def class_names(dataset: str) -> tuple[str, ...]:
    """The class names of ``dataset`` (one of ``DATASETS``, else ValueError) in label order: ``K`` strings."""
    return tuple(_load(dataset)["names"])


def class_palette(dataset: str) -> torch.Tensor:
    """The official colour of each class of ``dataset``: a ``(K, 3)`` uint8 RGB tensor (ValueError if unknown)."""
    return torch.tensor(_load(dataset)["palette"], dtype=torch.uint8)  # (K, 3)


def class_source(dataset: str) -> str:
    """Where the names and colours of ``dataset`` come from (repository, commit and files)."""
    return _load(dataset)["source"]
