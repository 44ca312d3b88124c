"""The training configuration: the official code's YAML files (hszhao/semseg ``config/*/*.yaml``).

A config has four sections, as in semseg: ``DATA``, ``TRAIN``, ``Distributed`` and ``TEST``.
:func:`load_config` reads a YAML file, fills in every key it leaves out from :data:`DEFAULTS`,
applies ``--set SECTION.KEY=VALUE`` overrides (each value parsed as a YAML scalar, so ``5``,
``0.5``, ``True``, ``[1.0, 1.5]`` and ``null`` mean what they mean in the file) and checks
every value once. An unknown section or key is an error (a typo would otherwise be silently
ignored).

Keys that torchrun makes meaningless are accepted and ignored (:data:`IGNORED_KEYS`): the
GPUs, ranks and rendezvous come from torchrun's environment (``LOCAL_RANK``, ``RANK``,
``WORLD_SIZE``, ``MASTER_ADDR``), the backend from the device (nccl on CUDA, gloo on CPU).
Keys this project adds to the official ones are listed in :data:`EXTRA_KEYS`.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from visual.checks import check_bool, check_choice, check_float, check_int, check_ints

__all__ = ["DEFAULTS", "IGNORED_KEYS", "EXTRA_KEYS", "LAYERS", "load_config", "parse_override",
           "apply_overrides", "validate_config"]

LAYERS = (18, 34, 50, 101, 152)  # ResNet depths the course's PSPNet builds (semseg: 50, 101, 152)

# Every key of semseg's config/voc2012/voc2012_pspnet50.yaml with its value there, unless noted.
DEFAULTS: dict[str, dict[str, Any]] = {
    "DATA": {
        "data_root": "dataset/voc2012",  # folder the list files' paths are relative to
        "train_list": "dataset/voc2012/list/train_aug.txt",  # "image label" per line
        "val_list": "dataset/voc2012/list/val.txt",
        "classes": 21,  # VOC2012: 20 classes + background
    },
    "TRAIN": {
        "arch": "psp",  # semseg: psp or psa; only psp here
        "layers": 50,  # ResNet depth; here 18, 34, 50, 101 or 152
        "sync_bn": True,  # nn.SyncBatchNorm on CUDA; on CPU a warning and plain BatchNorm
        "train_h": 473,  # crop height (semseg requires 8k + 1; any size works here)
        "train_w": 473,
        "scale_min": 0.5,  # random scale range
        "scale_max": 2.0,
        "rotate_min": -10,  # random rotation range, degrees
        "rotate_max": 10,
        "zoom_factor": 8,  # output stride of the logits before upsampling; only 8 here
        "ignore_label": 255,
        "aux_weight": 0.4,  # paper Sec. 4
        "train_gpu": [0, 1, 2, 3, 4, 5, 6, 7],  # ignored: torchrun --nproc_per_node picks the GPUs
        "workers": 16,  # DataLoader workers (semseg: 16 in total; here per process)
        "batch_size": 16,  # GLOBAL batch, split over processes (and accumulation steps)
        "batch_size_val": 8,  # ignored: validation during training is not run (use `test`)
        "base_lr": 0.01,
        "epochs": 50,
        "start_epoch": 0,
        "power": 0.9,  # poly learning-rate decay
        "momentum": 0.9,
        "weight_decay": 0.0001,
        "manual_seed": None,  # None: not seeded
        "print_freq": 10,  # iterations between log lines
        "save_freq": 1,  # epochs between checkpoints
        "save_path": "exp/voc2012/pspnet50/model",
        "weight": None,  # a full PSPNet state_dict (or checkpoint) to start from
        "resume": None,  # a checkpoint of this engine to continue from
        "evaluate": False,  # ignored: run `test` on a checkpoint instead
        # ---- extra keys (not in semseg) ----
        "backbone": "semseg",  # "semseg": official deep stem + dilation; "torchvision": the course's
        "backbone_weights": None,  # local ImageNet checkpoint (resnet50_v2.pth or torchvision layout)
        "bins": [1, 2, 3, 6],  # semseg model/pspnet.py hard-codes (1, 2, 3, 6)
        "dropout": 0.1,  # semseg model/pspnet.py hard-codes 0.1
        "augment": True,  # False: no scale/rotate/blur/flip (only the crop)
        "freeze_bn": False,  # True: BatchNorm layers stay in eval mode (statistics frozen)
        "amp": None,  # CUDA only: None, "bf16" or "fp16" (fp16 uses a GradScaler)
        "accumulate_steps": 1,  # micro-batches per optimizer step
        "max_iter": None,  # None: epochs * iterations per epoch; else stop after this many
    },
    "Distributed": {  # all ignored: torchrun's environment decides
        "dist_url": "tcp://127.0.0.1:6789",
        "dist_backend": "nccl",
        "multiprocessing_distributed": True,
        "world_size": 1,
        "rank": 0,
    },
    "TEST": {
        "test_list": "dataset/voc2012/list/val.txt",
        "split": "val",  # "test": list lines may have no label
        "base_size": 512,  # longer side an image is scaled to before the scales
        "test_h": 473,  # sliding-window crop
        "test_w": 473,
        "scales": [1.0],
        "has_prediction": False,  # True: only score the PNGs already in save_folder/gray
        "index_start": 0,
        "index_step": 0,  # 0: to the end of the list
        "test_gpu": [0],  # ignored: the device is CUDA when available
        "model_path": "exp/voc2012/pspnet50/model/train_epoch_50.pth",
        "save_folder": "exp/voc2012/pspnet50/result/epoch_50/val/ss",
        "colors_path": "data/voc2012/voc2012_colors.txt",  # "R G B" per class; absent: generated
        "names_path": "data/voc2012/voc2012_names.txt",  # one name per class; absent: "class i"
    },
}

IGNORED_KEYS = {
    "TRAIN.train_gpu": "torchrun --nproc_per_node and CUDA_VISIBLE_DEVICES choose the GPUs",
    "TRAIN.batch_size_val": "no validation during training; run `test` on a checkpoint",
    "TRAIN.evaluate": "no validation during training; run `test` on a checkpoint",
    "TEST.test_gpu": "test runs on cuda:0 when CUDA is available, else on the CPU",
    **{f"Distributed.{key}": "torchrun's environment (RANK, WORLD_SIZE, MASTER_ADDR) decides"
       for key in DEFAULTS["Distributed"]},
}

EXTRA_KEYS = ("TRAIN.backbone", "TRAIN.backbone_weights", "TRAIN.bins", "TRAIN.dropout", "TRAIN.augment",
              "TRAIN.freeze_bn", "TRAIN.amp", "TRAIN.accumulate_steps", "TRAIN.max_iter")

PATH_KEYS = {("DATA", "data_root"), ("DATA", "train_list"), ("DATA", "val_list"), ("TRAIN", "save_path"),
             ("TRAIN", "weight"), ("TRAIN", "resume"), ("TRAIN", "backbone_weights"), ("TEST", "test_list"),
             ("TEST", "model_path"), ("TEST", "save_folder"), ("TEST", "colors_path"), ("TEST", "names_path")}


def parse_override(text: str) -> tuple[str, str, Any]:
    """Split ``"SECTION.KEY=VALUE"`` and parse ``VALUE`` as a YAML scalar.

    Example:
        >>> parse_override("TRAIN.base_lr=0.02")
        ('TRAIN', 'base_lr', 0.02)
    """
    if not isinstance(text, str) or "=" not in text or "." not in text.split("=", 1)[0]:
        raise ValueError(f"--set must look like SECTION.KEY=VALUE (e.g. TRAIN.epochs=2), got {text!r}")
    name, raw = text.split("=", 1)
    section, key = name.strip().split(".", 1)
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as err:
        raise ValueError(f"--set {name}: {raw!r} is not a YAML value ({err.problem})") from None
    return section, key, value


def _check_key(section: str, key: str, where: str) -> None:
    if section not in DEFAULTS:
        raise ValueError(f"{where}: unknown section {section!r}; sections are {sorted(DEFAULTS)}")
    if key not in DEFAULTS[section]:
        raise ValueError(f"{where}: unknown key {section}.{key}; keys of {section} are {sorted(DEFAULTS[section])}")


def apply_overrides(config: dict[str, dict[str, Any]], overrides: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Return a copy of ``config`` with each ``SECTION.KEY=VALUE`` of ``overrides`` applied."""
    config = copy.deepcopy(config)
    for text in overrides:
        section, key, value = parse_override(text)
        _check_key(section, key, f"--set {text}")
        config[section][key] = value
    return config


def load_config(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
    """Read an official-style YAML config, fill in defaults, apply ``overrides``, check it.

    Args:
        path: the YAML file (sections DATA, TRAIN, Distributed, TEST; any may be left out).
        overrides: ``"SECTION.KEY=VALUE"`` strings (the CLI's ``--set``).

    Returns:
        ``{section: {key: value}}`` with every key of :data:`DEFAULTS`.

    Raises:
        FileNotFoundError: ``path`` names no file.
        ValueError: invalid YAML, an unknown section or key, or a bad value (the message names
            ``SECTION.KEY``).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"config: no file {path!r}")
    with open(path, encoding="utf-8") as handle:
        try:
            data = yaml.safe_load(handle) or {}
        except yaml.YAMLError as err:
            raise ValueError(f"config {path!r} is not valid YAML: {err}") from None
    if not isinstance(data, Mapping):
        raise ValueError(f"config {path!r} must be a mapping of sections {sorted(DEFAULTS)}")
    config = copy.deepcopy(DEFAULTS)
    for section, values in data.items():
        if not isinstance(values, Mapping):
            raise ValueError(f"config {path!r}: section {section!r} must be a mapping of keys")
        for key, value in values.items():
            _check_key(section, key, f"config {path!r}")
            config[section][key] = value
    return validate_config(apply_overrides(config, overrides))


def validate_config(config: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Check every value the engine uses; return ``config`` (paths as strings, lists as lists)."""
    data, train, test = config["DATA"], config["TRAIN"], config["TEST"]
    for section, key in PATH_KEYS:
        value = config[section][key]
        if value is not None and not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"{section}.{key} must be a path (a string) or null, got {value!r}")
        if value is not None:
            config[section][key] = os.fspath(value)
    check_int(data["classes"], "DATA.classes", minimum=1, maximum=255)
    check_choice(train["arch"], "TRAIN.arch", ("psp",))
    check_choice(train["layers"], "TRAIN.layers", LAYERS)
    check_choice(train["backbone"], "TRAIN.backbone", ("semseg", "torchvision"))
    check_choice(train["zoom_factor"], "TRAIN.zoom_factor", (8,))
    check_choice(train["amp"], "TRAIN.amp", (None, "bf16", "fp16"))
    for key in ("sync_bn", "augment", "freeze_bn"):
        check_bool(train[key], f"TRAIN.{key}")
    for key in ("train_h", "train_w"):
        check_int(train[key], f"TRAIN.{key}", minimum=1, maximum=8192)
    check_float(train["scale_min"], "TRAIN.scale_min", minimum=0.01, maximum=100.0)
    check_float(train["scale_max"], "TRAIN.scale_max", minimum=train["scale_min"], maximum=100.0)
    check_float(train["rotate_min"], "TRAIN.rotate_min", minimum=-180.0, maximum=180.0)
    check_float(train["rotate_max"], "TRAIN.rotate_max", minimum=train["rotate_min"], maximum=180.0)
    check_int(train["ignore_label"], "TRAIN.ignore_label", minimum=0, maximum=255)
    for key in ("aux_weight", "base_lr", "momentum", "weight_decay"):
        check_float(train[key], f"TRAIN.{key}", minimum=0.0)
    check_float(train["power"], "TRAIN.power", minimum=0.0, maximum=10.0)
    check_float(train["dropout"], "TRAIN.dropout", minimum=0.0, maximum=0.99)
    for key in ("workers", "start_epoch"):
        check_int(train[key], f"TRAIN.{key}", minimum=0)
    for key in ("batch_size", "epochs", "print_freq", "save_freq", "accumulate_steps"):
        check_int(train[key], f"TRAIN.{key}", minimum=1)
    for key in ("manual_seed", "max_iter"):
        if train[key] is not None:
            check_int(train[key], f"TRAIN.{key}", minimum=0 if key == "manual_seed" else 1)
    train["bins"] = list(check_ints(train["bins"], "TRAIN.bins", minimum=1, min_length=0, max_length=16))
    for key in ("base_size", "test_h", "test_w"):
        check_int(test[key], f"TEST.{key}", minimum=1, maximum=8192)
    test["scales"] = [check_float(s, "TEST.scales", minimum=0.01, maximum=10.0)
                      for s in (test["scales"] if isinstance(test["scales"], (list, tuple)) else [test["scales"]])]
    check_choice(test["split"], "TEST.split", ("train", "val", "test"))
    check_bool(test["has_prediction"], "TEST.has_prediction")
    for key in ("index_start", "index_step"):
        check_int(test[key], f"TEST.{key}", minimum=0)
    return config
