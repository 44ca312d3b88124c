"""State-dict names of the official PSPNet code (hszhao/semseg) and the course's ``visual.PSPNet``.

The official ``model/pspnet.py`` groups its modules differently: the weights are the same
tensors under other names (``SEMSEG_PREFIX_MAP``).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

__all__ = ["SEMSEG_PREFIX_MAP", "to_semseg_keys", "from_semseg_keys"]

# (official prefix, course prefix), most specific first; a key maps by its first matching prefix.
# layer0.0 .1 .3 .4 .6: the deep stem's convs and BatchNorms; layer0.7: the BatchNorm of its 3rd conv.
SEMSEG_PREFIX_MAP = (
    ("layer0.7.", "backbone.bn1."),
    ("layer0.", "backbone.conv1."),
    ("layer1.", "backbone.layer1."),
    ("layer2.", "backbone.layer2."),
    ("layer3.", "backbone.layer3."),
    ("layer4.", "backbone.layer4."),
    ("ppm.features.", "ppm.stages."),
    ("cls.", "head."),
    ("aux.", "aux_head."),
)


def _rename(state_dict: Mapping[str, torch.Tensor], pairs: list[tuple[str, str]],
            what: str) -> dict[str, torch.Tensor]:
    renamed, unknown = {}, []
    for key, value in state_dict.items():
        new = next((new + key[len(old):] for old, new in pairs if key.startswith(old)), None)
        if new is None:
            unknown.append(key)
        else:
            renamed[new] = value
    if unknown:
        shown = ", ".join(repr(k) for k in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise ValueError(f"{len(unknown)} key(s) are not {what} PSPNet names: {shown}")
    return renamed


def from_semseg_keys(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename an official PSPNet state_dict (no ``module.`` prefix) to ``visual.PSPNet``'s names.

    Raises ValueError naming keys that are not official PSPNet names.

    Example:
        >>> sorted(from_semseg_keys({"layer0.7.weight": 1, "cls.4.bias": 2}))
        ['backbone.bn1.weight', 'head.4.bias']
    """
    return _rename(state_dict, list(SEMSEG_PREFIX_MAP), "official (hszhao/semseg)")


def to_semseg_keys(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename a deep-stem course PSPNet state_dict to the official names (inverse of ``from_semseg_keys``).

    Raises ValueError naming keys that have no official name (e.g. of a 7x7 stem).

    Example:
        >>> sorted(to_semseg_keys({"backbone.bn1.weight": 1, "ppm.stages.0.1.weight": 2}))
        ['layer0.7.weight', 'ppm.features.0.1.weight']
    """
    pairs = [(course, official) for official, course in SEMSEG_PREFIX_MAP]
    renamed = _rename(state_dict, pairs, "deep-stem course")
    stem = [k for k in renamed if k.startswith("layer0.") and k.split(".")[1] not in {"0", "1", "3", "4", "6", "7"}]
    if stem:
        raise ValueError(f"keys {stem[:3]} come from a 7x7 stem: the official code has the deep stem only")
    return renamed
