"""Build the PSPNet a config names, its parameter groups, and load starting weights.

``TRAIN.arch: psp`` builds ``visual.PSPNet`` with ``backbone=f"resnet{layers}"``:

* ``TRAIN.backbone: semseg`` (the default): the official variant, ``schedule="semseg",
  deep_stem=True`` (three 3x3 stem convs, semseg's dilation schedule; for ResNet18/34, which the
  official code does not dilate, the course's à trous rule with the deep stem), whose state_dict maps
  one-to-one onto the official names (:mod:`visual.models.semseg_keys`);
* ``TRAIN.backbone: torchvision``: the course's variant (torchvision's 7x7 stem); its
  checkpoints keep the course's names.

The "new layers" trained at 10x the backbone's learning rate are ``ppm``, ``head`` and
``aux_head`` (semseg: ``ppm``, ``cls``, ``aux``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

import visual
from visual.train import parameter_groups
from visual.models.resnet import load_strict, read_state_dict
from visual.models.semseg_keys import from_semseg_keys

__all__ = ["NEW_LR_FACTOR", "build_model", "param_groups", "uses_semseg_names",
           "semseg_resnet_to_pspnet_keys", "load_weights", "load_backbone_weights"]

NEW_LR_FACTOR = 10  # semseg tool/train.py: lr=args.base_lr * 10 for modules_new
RESNET_STEM = (("conv1.", "layer0.0."), ("bn1.", "layer0.1."), ("conv2.", "layer0.3."),
               ("bn2.", "layer0.4."), ("conv3.", "layer0.6."), ("bn3.", "layer0.7."))  # semseg model/resnet.py
# deep_base stem -> semseg model/pspnet.py layer0 = Sequential(conv1, bn1, relu, conv2, bn2, relu, conv3, bn3, ...)
STRICT_HINT = "{what}: {path!r} does not fit this model (check TRAIN.layers, TRAIN.backbone, DATA.classes)"


def uses_semseg_names(train: Mapping[str, Any]) -> bool:
    """Whether this model's checkpoints use the official key names (the deep-stem variant)."""
    return train["backbone"] == "semseg"


def build_model(config: Mapping[str, Mapping[str, Any]]) -> nn.Module:
    """``visual.PSPNet`` for ``config`` (random weights; see :func:`load_weights`).

    Raises:
        ValueError, TypeError: from ``visual.PSPNet`` for bad ``bins``/``dropout``.
    """
    train = config["TRAIN"]
    kwargs: dict[str, Any] = {"bins": tuple(train["bins"]), "dropout": float(train["dropout"]),
                              "aux": train["aux_weight"] > 0}
    if uses_semseg_names(train):  # 18/34: the official code has no dilated BasicBlock: the course's rule
        kwargs.update(schedule="semseg" if train["layers"] >= 50 else "torchvision", deep_stem=True)
    return visual.PSPNet(config["DATA"]["classes"], backbone=f"resnet{train['layers']}", **kwargs)


def param_groups(model: nn.Module, base_lr: float) -> list[dict[str, Any]]:
    """Two SGD groups: the backbone at ``base_lr``, the new layers (``visual.train.NEW_LAYERS``) at 10x."""
    return parameter_groups(model, base_lr, NEW_LR_FACTOR)


def load_weights(model: nn.Module, path: str, train: Mapping[str, Any], what: str = "TRAIN.weight") -> None:
    """Load a full PSPNet state_dict (or a checkpoint's ``"state_dict"``) into ``model``.

    Official names (``layer0.*``, ``cls.*``...) are renamed for the semseg variant; a
    ``module.`` prefix is dropped. Loaded with ``weights_only=True`` and ``strict=True``.
    """
    state = read_state_dict(path, what)
    if uses_semseg_names(train) and any(k.startswith(("layer0.", "cls.")) for k in state):
        state = from_semseg_keys(state)
    load_strict(model, state, STRICT_HINT.format(what=what, path=path))


def semseg_resnet_to_pspnet_keys(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename an official ImageNet ResNet (``resnet50_v2.pth``: conv1..3/bn1..3, layer1..4, fc) to PSPNet's ``layer0..4``.

    ``fc.*`` is dropped. Example:
        >>> sorted(semseg_resnet_to_pspnet_keys({"conv2.weight": 0, "bn3.bias": 1, "fc.weight": 2}))
        ['layer0.3.weight', 'layer0.7.bias']
    """
    renamed = {}
    for key, value in state.items():
        if key.startswith("fc."):
            continue
        for old, new in RESNET_STEM:
            if key.startswith(old):
                key = new + key[len(old):]
                break
        renamed[key] = value
    return renamed


def load_backbone_weights(model: nn.Module, path: str, train: Mapping[str, Any]) -> None:
    """Load a local ImageNet ResNet checkpoint into ``model.backbone`` (strict; ``fc.*`` ignored).

    Layouts: the official deep-stem ``resnet50_v2.pth`` for ``backbone: semseg``; a torchvision
    ResNet checkpoint for ``backbone: torchvision``.
    """
    what = "TRAIN.backbone_weights"
    state = read_state_dict(path, what)
    if uses_semseg_names(train):
        state = from_semseg_keys(semseg_resnet_to_pspnet_keys(state))
        state = {k[len("backbone."):]: v for k, v in state.items()}
    else:
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    load_strict(model.backbone, state, STRICT_HINT.format(what=what, path=path))
