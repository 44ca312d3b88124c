"""Train a classroom model once per machine: state dicts cached by a hash of their configuration.

Entries are ``<sha256 of the configuration>.pt`` in ``$VISUAL_CACHE_DIR``, else
``$XDG_CACHE_HOME/visual-course`` (or ``~/.cache/visual-course``), written atomically.

Example:
    >>> config_key({"seed": 0, "steps": 10}) == config_key({"steps": 10, "seed": 0})
    True
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from visual.checks import check_module
from visual.models.resnet import load_strict

__all__ = ["CACHE_ENV", "cache_dir", "config_key", "cache_path", "cached_state_dict"]

CACHE_ENV = "VISUAL_CACHE_DIR"  # overrides the cache folder (e.g. a shared classroom folder)


def cache_dir() -> Path:
    """The folder cached models live in (not created here)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "visual-course"


def config_key(config: dict[str, Any]) -> str:
    """A stable hash of a JSON-serialisable configuration (key order does not matter; NaN refused)."""
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict, got {type(config).__name__}")
    try:
        text = json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except TypeError as err:
        raise TypeError(f"config must hold only JSON values (str, int, float, bool, None, lists, dicts): {err}") from err
    except ValueError as err:  # NaN or infinity: no stable key
        raise ValueError(f"config must hold finite numbers only: {err}") from err
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_path(config: dict[str, Any]) -> Path:
    """The file the model of ``config`` is cached in: ``cache_dir() / "<key>.pt"``."""
    return cache_dir() / f"{config_key(config)}.pt"


def cached_state_dict(config: dict[str, Any], build: Callable[[], nn.Module],
                      train: Callable[[nn.Module], Any]) -> nn.Module:
    """Return the trained model ``config`` describes: from the cache, or trained once and cached.

    Args:
        config: everything that determines the weights (architecture, data, seed, steps...).
        train: trains the model ``build`` made, in place; called only on a cache miss.

    Returns the model with its trained weights, in eval mode; RuntimeError if the cached file does not fit.
    """
    path = cache_path(config)
    if not callable(build) or not callable(train):
        raise TypeError("build must be a callable returning an nn.Module and train a callable taking it")
    model = check_module(build(), "build()")
    if path.is_file():
        state = torch.load(path, map_location="cpu", weights_only=True)
        load_strict(model, state, f"the cached model {path} does not fit the model build() makes; delete the "
                    "file to train again", error=RuntimeError)
        return model.eval()
    train(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")  # one per process: no two writers share it
    torch.save(model.state_dict(), temporary)
    os.replace(temporary, path)  # atomic on one file system: readers see all of it or nothing
    return model.eval()
