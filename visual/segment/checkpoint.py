"""Checkpoints as the official code names them, written atomically, and exact resume.

Every ``save_freq`` epochs rank 0 writes ``save_path/train_epoch_{N}.pth`` (semseg
``tool/train.py``) holding ``{"epoch", "state_dict", "optimizer"}`` as semseg does, plus
``"scheduler"``, ``"scaler"``, ``"rng"`` (the RNG states of every rank), ``"iteration"`` and
the resolved ``"config"``. The file is written to a temporary name in the same folder and
renamed (``os.replace``), so a run killed while saving never leaves a half-written checkpoint.

State-dict names: for the official variant (``TRAIN.backbone: semseg``) the official ones with
DistributedDataParallel's ``module.`` prefix, exactly like semseg's own checkpoints; for the
course's variant (``backbone: torchvision``) the course's names, unprefixed.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from visual.models.semseg_keys import to_semseg_keys
from visual.segment.model import uses_semseg_names

__all__ = ["checkpoint_path", "model_state", "rng_state", "set_rng_state", "save_checkpoint",
           "read_checkpoint"]

DDP_PREFIX = "module."  # DistributedDataParallel's prefix, present in semseg's checkpoints


def checkpoint_path(save_path: str, epoch: int) -> str:
    """``save_path/train_epoch_{epoch}.pth`` (semseg's name)."""
    return os.path.join(save_path, f"train_epoch_{epoch}.pth")


def model_state(model: nn.Module, train: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The model's state_dict under the checkpoint's names (see the module docstring)."""
    state = model.state_dict()
    if uses_semseg_names(train):
        return {DDP_PREFIX + k: v for k, v in to_semseg_keys(state).items()}
    return dict(state)


def rng_state() -> dict[str, Any]:
    """This process's RNG states: torch (CPU), CUDA (when available) and Python's ``random``."""
    state: dict[str, Any] = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str, payload: Mapping[str, Any]) -> str:
    """Write ``payload`` to ``path`` atomically (temporary file + ``os.replace``); return ``path``."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    temporary = f"{path}.tmp{os.getpid()}"
    try:
        torch.save(dict(payload), temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path


def read_checkpoint(path: str) -> dict[str, Any]:
    """Read a checkpoint of this engine (``weights_only=True``).

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a checkpoint of this engine (no ``"epoch"``/``"state_dict"``/``"optimizer"``).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"TRAIN.resume: no checkpoint {path!r}")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    missing = [k for k in ("epoch", "state_dict", "optimizer") if not isinstance(checkpoint, Mapping) or k not in checkpoint]
    if missing:
        raise ValueError(f"TRAIN.resume: {path!r} is not a training checkpoint (missing {missing})")
    return checkpoint
