"""Load the official PSPNet weights (hszhao/semseg ``train_epoch_*.pth``) into ``visual.PSPNet``.

The official PSPNet has a deep-stem ResNet (three 3x3 convs) and dilates *every* 3x3 conv of
layer3 and layer4 (``schedule="semseg"``); its checkpoints hold ``{"state_dict": ...}`` with
``module.`` prefixes (``visual.models.semseg_keys`` renames the keys). Nothing is downloaded.
"""

from __future__ import annotations

import os

from visual.checks import check_choice, check_int
from visual.models.pspnet import MAX_CLASSES, PSPNet
from visual.models.resnet import load_strict, read_state_dict
from visual.models.semseg_keys import from_semseg_keys

__all__ = ["SEMSEG_LAYERS", "load_semseg_checkpoint"]

SEMSEG_LAYERS = (18, 34, 50, 101, 152)  # 50/101/152 as the official code; 18/34 with the course's rule
SEMSEG_BINS = (1, 2, 3, 6)  # the official PPM bins (config: not stored in the weights)
CLASSIFIER_KEY = "head.4.weight"  # the final 1x1 conv of the head: (num_classes, 512, 1, 1)


def load_semseg_checkpoint(path: str | os.PathLike[str], *, num_classes: int | None = None,
                           layers: int = 50) -> PSPNet:
    """Build the official PSPNet variant and load an official checkpoint into it, strictly.

    Args:
        path: a local ``.pth`` file, ``{"state_dict": ...}`` or a bare state_dict, official names.
        num_classes: expected classes (21 VOC2012, 150 ADE20K, 19 Cityscapes); ``None``: read it.
        layers: ResNet depth (50, 101, 152 as released; 18/34 from ``visual.segment``).

    Returns:
        A ``visual.PSPNet`` (deep stem; ``schedule="semseg"`` for 50+) in eval mode.
    """
    check_choice(layers, "layers", SEMSEG_LAYERS)
    if num_classes is not None:
        check_int(num_classes, "num_classes", minimum=1, maximum=MAX_CLASSES)
    state = read_state_dict(path)
    try:
        state = from_semseg_keys(state)
    except ValueError as err:
        raise ValueError(f"{str(path)!r} is not an official PSPNet checkpoint: {err}") from None
    if CLASSIFIER_KEY not in state:
        raise ValueError(f"{str(path)!r} has no classifier weight 'cls.4.weight'")
    found = state[CLASSIFIER_KEY].shape[0]
    if num_classes is not None and num_classes != found:
        raise ValueError(f"num_classes={num_classes} but the checkpoint's classifier has {found} classes")
    model = PSPNet(found, backbone=f"resnet{layers}", bins=SEMSEG_BINS,
                   aux=any(k.startswith("aux_head.") for k in state),
                   schedule="semseg" if layers >= 50 else "torchvision", deep_stem=True)
    load_strict(model, state, f"{str(path)!r} does not fit an official PSPNet-ResNet{layers} (is it a checkpoint of "
                "another depth?)")
    return model.eval()
