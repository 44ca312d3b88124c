"""Dilated ResNets (DeepLab, TPAMI 2018, Sec. 3.1): torchvision's ResNets at output stride 32 to 4, with
torchvision's à trous rule (the conv that carried the stride keeps the previous dilation) or hszhao/semseg's
(every 3x3 conv of a dilated stage dilated); torchvision's keys. Notebook 02. Strict checkpoint loading.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torchvision
from torch import nn
from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

from visual.checks import check_bool, check_choice, check_module

__all__ = ["RESNET_ARCHS", "DILATABLE_STAGES", "DILATION_SCHEDULES", "check_arch", "check_flags",
    "resnet_arch", "dilated_resnet", "semseg_resnet", "read_state_dict", "load_strict", "load_checkpoint"]

# Blocks per stage (layer1..layer4), He et al., "Deep Residual Learning", CVPR 2016, Table 1.
RESNET_ARCHS: dict[str, tuple[type[nn.Module], tuple[int, int, int, int]]] = {
    "resnet18": (BasicBlock, (2, 2, 2, 2)), "resnet34": (BasicBlock, (3, 4, 6, 3)),
    "resnet50": (Bottleneck, (3, 4, 6, 3)), "resnet101": (Bottleneck, (3, 4, 23, 3)),
    "resnet152": (Bottleneck, (3, 8, 36, 3))}
DILATABLE_STAGES = ("layer2", "layer3", "layer4")  # the three replace_stride_with_dilation flags
DILATION_SCHEDULES = ("torchvision", "semseg")  # torchvision's à trous rule; hszhao/semseg's "dilate every 3x3"
STAGE_STRIDE = 2  # the stride each of layer2..layer4 has in an undilated ResNet
SEMSEG_STEM_CHANNELS = (64, 64, 128)  # hszhao/semseg model/resnet.py, deep_base=True
CHECKPOINT_CONTAINER_KEYS = ("state_dict", "model")  # common wrappers around a state_dict
DATA_PARALLEL_PREFIX = "module."  # what nn.DataParallel / DDP prepend to every key
MAX_KEYS_IN_MESSAGE = 5  # how many offending keys an error lists before "..."


def check_arch(arch: Any, name: str = "arch") -> str:
    """Return ``arch`` if it is one of :data:`RESNET_ARCHS`, else raise ValueError naming them."""
    return check_choice(arch, name, RESNET_ARCHS)


def resnet_arch(model: nn.Module) -> str | None:
    """The arch name of a ResNet-like module from its block type and blocks per stage, else ``None``.

    Example:
        >>> resnet_arch(torchvision.models.resnet34())
        'resnet34'
    """
    check_module(model, "model")
    stages = [getattr(model, stage, None) for stage in ("layer1", "layer2", "layer3", "layer4")]
    if not all(isinstance(stage, nn.Sequential) and len(stage) for stage in stages):
        return None
    counts = tuple(len(stage) for stage in stages)
    return next((arch for arch, (block, layers) in RESNET_ARCHS.items()
                 if counts == layers and isinstance(stages[0][0], block)), None)


def check_flags(value: Any, name: str = "replace_stride_with_dilation") -> tuple[bool, bool, bool]:
    """Return ``replace_stride_with_dilation`` as three bools for (layer2, layer3, layer4)."""
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list or tuple of 3 bools for (layer2, layer3, layer4), "
                        f"e.g. (False, True, True); got {value!r}")
    if len(value) != len(DILATABLE_STAGES):
        raise ValueError(f"{name} must have 3 bools for (layer2, layer3, layer4), got {len(value)}: {value!r}")
    return tuple(check_bool(flag, f"{name}[{i}]") for i, flag in enumerate(value))  # type: ignore[return-value]


def dilated_resnet(arch: str = "resnet50", replace_stride_with_dilation: Sequence[bool] = (False, True, True), *,
                   schedule: str = "torchvision", deep_stem: bool = False,
                   weights: str | os.PathLike[str] | None = None) -> ResNet:
    """Build a torchvision ResNet whose later stages trade stride for dilation.

    With ``schedule="torchvision"`` and the same weights, the dilated model's ``layer4`` output
    subsampled every ``2 ** sum(flags)`` pixels equals the undilated one's; for ResNet-50/101/152
    the model is the one ``torchvision.models.resnet50(replace_stride_with_dilation=...)`` builds.

    Args:
        replace_stride_with_dilation: (layer2, layer3, layer4); ``(False, True, True)`` gives OS 8.
        schedule: ``"torchvision"`` (the à trous rule) or ``"semseg"`` (every 3x3 conv dilated).
        deep_stem: semseg's "deep base": ``conv1`` becomes three 3x3 convs (64, 64, 128 channels).
        weights: ``None`` (random init, nothing downloaded) or a local checkpoint (:func:`load_checkpoint`).

    Returns:
        A ``torchvision.models.ResNet``, ``(N, 3, H, W) -> (N, 1000)``; ``layer4`` gives
        ``(N, 512 * expansion, ceil(H / os), ceil(W / os))``, ``os = 32 / 2 ** sum(flags)``.

    Example:
        >>> model = dilated_resnet("resnet18", (False, True, True))
        >>> model.layer4[0].conv1.dilation, model.layer4[0].conv2.dilation
        ((2, 2), (4, 4))
    """
    check_arch(arch)
    flags = check_flags(replace_stride_with_dilation)
    check_choice(schedule, "schedule", DILATION_SCHEDULES)
    check_bool(deep_stem, "deep_stem")
    model = getattr(torchvision.models, arch)(weights=None)  # torchvision's undilated ResNet
    if deep_stem:
        _use_deep_stem(model)
    _dilate(model, flags, schedule)
    if weights is not None:
        load_checkpoint(model, weights)
    return model


def semseg_resnet(arch: str, replace_stride_with_dilation: Sequence[bool] = (False, True, True), *,
                  deep_stem: bool = False) -> ResNet:
    """A ResNet dilated the way the official PSPNet code does it (hszhao/semseg), random weights.

    ``dilated_resnet(arch, flags, schedule="semseg", deep_stem=deep_stem)``: the conv that carried
    the stride is dilated too, which enlarges the receptive field and breaks the à trous equivalence.

    Example:
        >>> model = semseg_resnet("resnet50")
        >>> model.layer3[0].conv2.dilation, model.layer4[0].conv2.dilation
        ((2, 2), (4, 4))
    """
    return dilated_resnet(arch, replace_stride_with_dilation, schedule="semseg", deep_stem=deep_stem)


def _dilate(model: ResNet, flags: tuple[bool, bool, bool], schedule: str) -> None:
    """Set stride, dilation and padding of the convs of layer2..layer4 by ``schedule``."""
    dilation = 1
    for stage, flag in zip(DILATABLE_STAGES, flags):
        previous = dilation
        if flag:
            dilation *= STAGE_STRIDE
        for index, block in enumerate(getattr(model, stage)):
            for conv in (m for m in block.modules() if isinstance(m, nn.Conv2d)):
                carried_stride = index == 0 and conv.stride == (STAGE_STRIDE, STAGE_STRIDE)
                if flag and carried_stride:
                    conv.stride = (1, 1)  # the strided 3x3 conv and the downsample's 1x1
                if conv.kernel_size == (3, 3):
                    d = previous if carried_stride and schedule == "torchvision" else dilation
                    conv.dilation = conv.padding = (d, d)  # "same" padding of a 3x3 conv


def _use_deep_stem(model: ResNet) -> None:
    """semseg's deep stem: conv1 becomes 3x3 s2 -> 3x3 -> 3x3 (BN + ReLU between), 128 channels."""
    c1, c2, c3 = SEMSEG_STEM_CHANNELS
    model.conv1 = nn.Sequential(
        nn.Conv2d(3, c1, kernel_size=3, stride=STAGE_STRIDE, padding=1, bias=False),
        nn.BatchNorm2d(c1), nn.ReLU(inplace=True),
        nn.Conv2d(c1, c2, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(c2), nn.ReLU(inplace=True),
        nn.Conv2d(c2, c3, kernel_size=3, padding=1, bias=False),
    )
    model.bn1 = nn.BatchNorm2d(c3)  # torchvision's forward: conv1 -> bn1 -> relu -> maxpool
    first = model.layer1[0]  # its convs now read 128 channels instead of 64
    old = first.conv1
    first.conv1 = nn.Conv2d(c3, old.out_channels, old.kernel_size, old.stride, old.padding, bias=False)
    out_channels = first.bn3.num_features if isinstance(first, Bottleneck) else first.bn2.num_features
    if first.downsample is None:  # BasicBlock: 128 -> 64 needs a projection, as in torchvision's _make_layer
        first.downsample = nn.Sequential(nn.Conv2d(c3, out_channels, kernel_size=1, bias=False),
                                         nn.BatchNorm2d(out_channels))
    else:
        first.downsample[0] = nn.Conv2d(c3, out_channels, kernel_size=1, bias=False)


def read_state_dict(path: str | os.PathLike[str], what: str = "path") -> dict[str, torch.Tensor]:
    """The state_dict in a local file: ``torch.load(weights_only=True)`` (no pickled code runs), a
    ``"state_dict"`` / ``"model"`` wrapper and ``nn.DataParallel``'s ``"module."`` prefix removed.
    FileNotFoundError if ``path`` is not a file (nothing is downloaded); ``what`` names it in errors.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what} must be the path of a local checkpoint file, got {path!r}")
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what} {path!r} is not a file (nothing is downloaded: pass the path of a "
                                "state_dict saved with torch.save)")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # unpickling errors come in several types
        raise ValueError(f"{what} {path!r} is not a loadable PyTorch checkpoint (torch.load(weights_only=True)): "
                         f"{error}") from error
    if isinstance(checkpoint, Mapping):
        wrapped = [key for key in CHECKPOINT_CONTAINER_KEYS if isinstance(checkpoint.get(key), Mapping)]
        checkpoint = checkpoint[wrapped[0]] if wrapped else checkpoint
    if not isinstance(checkpoint, Mapping) or not all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        raise ValueError(f"{what} {path!r} does not hold a state_dict (a mapping from names to tensors), "
                         f"got {type(checkpoint).__name__}")
    state_dict = dict(checkpoint)
    consume_prefix_in_state_dict_if_present(state_dict, DATA_PARALLEL_PREFIX)
    return state_dict


def load_strict(module: nn.Module, state_dict: Mapping[str, torch.Tensor], hint: str,
                error: type[Exception] = ValueError) -> nn.Module:
    """``module.load_state_dict(state_dict, strict=True)``; a mismatch raises ``error(hint + ": " + details)``."""
    check_module(module, "module")
    try:
        module.load_state_dict(state_dict, strict=True)
    except RuntimeError as err:
        raise error(f"{hint}: {err}") from None
    return module


def load_checkpoint(model: nn.Module, path: str | os.PathLike[str], *, strip_prefix: str = "",
                    ignore_prefixes: Sequence[str] = ()) -> nn.Module:
    """Load a local checkpoint (:func:`read_state_dict`) into ``model`` with ``load_state_dict(strict=True)``.

    Args:
        strip_prefix: a prefix to remove from checkpoint keys first, e.g. ``"backbone."``.
        ignore_prefixes: drop checkpoint keys starting with these, e.g. ``("fc.",)``.

    Returns ``model`` itself, with its weights replaced. ValueError (keys listed) if the file does not fit.
    """
    check_module(model, "model")
    if not isinstance(strip_prefix, str):
        raise TypeError(f"strip_prefix must be a string, got {strip_prefix!r}")
    if isinstance(ignore_prefixes, str) or not all(isinstance(p, str) for p in ignore_prefixes):
        raise TypeError(f"ignore_prefixes must be a tuple of strings, got {ignore_prefixes!r}")
    if any(t.device.type == "meta" for t in model.state_dict().values()):
        raise ValueError("model is on the meta device (shapes only): loading weights into it would do "
                         "nothing; build it on the CPU")
    state_dict = read_state_dict(path, "path (weights)")
    if strip_prefix:
        consume_prefix_in_state_dict_if_present(state_dict, strip_prefix)
    state_dict = {k: v for k, v in state_dict.items() if not k.startswith(tuple(ignore_prefixes))}
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as error:
        raise ValueError(_mismatch_hint(model, state_dict, os.fspath(path), error)) from error
    return model


def _mismatch_hint(model: nn.Module, state_dict: Mapping[str, torch.Tensor], path: str, error: Exception) -> str:
    def listing(keys: list[str]) -> str:
        more = f", ... ({len(keys) - MAX_KEYS_IN_MESSAGE} more)" if len(keys) > MAX_KEYS_IN_MESSAGE else ""
        return ", ".join(repr(k) for k in keys[:MAX_KEYS_IN_MESSAGE]) + more

    expected = model.state_dict()
    missing, unexpected = sorted(set(expected) - set(state_dict)), sorted(set(state_dict) - set(expected))
    shapes = [f"{k}: checkpoint {tuple(state_dict[k].shape)} vs model {tuple(expected[k].shape)}"
              for k in sorted(set(expected) & set(state_dict)) if state_dict[k].shape != expected[k].shape]
    found = [f"{what}: {listing(keys)}" for what, keys in
             (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", shapes)) if keys]
    arch = resnet_arch(model) or type(model).__name__
    return (f"checkpoint path {path!r} does not fit the model: {'; '.join(found) or error}. The model is a "
            f"{arch}: is this a checkpoint of another architecture? (strip_prefix / ignore_prefixes skip "
            "wrappers, heads)")
