"""Dilated ResNet backbones: torchvision's ResNets with output stride 32, 16, 8 or 4.

Segmentation networks (DeepLab, PSPNet) keep the ImageNet ResNet but replace the stride 2 of
the later stages by dilation (Chen et al., DeepLab, TPAMI 2018, Sec. 3.1; Yu & Koltun 2016).
torchvision does this for its Bottleneck ResNets (``replace_stride_with_dilation``) but raises
``NotImplementedError`` for the BasicBlock ResNets 18/34; :class:`DilatedBasicBlock` fills that gap.

The *à trous rule* fixes which convolution gets which dilation. When a stage's stride 2 is
removed, every convolution that used to run on the subsampled grid now runs on a grid twice as
dense, so its dilation doubles; the convolution that *carried* the stride still reads the
previous grid, so it keeps the previous dilation. With the same weights the dilated network then
computes exactly the undilated features, on a denser grid: the "algorithme à trous" of wavelet
signal processing (Holschneider et al. 1989; Shensa, IEEE Trans. Signal Processing 1992), as
DeepLab (Chen et al., TPAMI 2018, Sec. 3.1) explains:

=====================  ===============================  ====================================
block                   Bottleneck (torchvision)          BasicBlock (here)
=====================  ===============================  ====================================
first block of stage    conv2 (3x3, had the stride): d    conv1 (3x3, had the stride): d
                                                          conv2 (3x3): 2d
later blocks            conv2: 2d                         conv1, conv2: 2d
=====================  ===============================  ====================================

for a stage whose stride is replaced, where ``d`` is the dilation before that stage. The ``state_dict`` keys are torchvision's, so
torchvision checkpoints load with ``strict=True``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
import torchvision
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

__all__ = [
    "RESNET_ARCHS",
    "DilatedBasicBlock",
    "dilated_resnet",
    "load_checkpoint",
]

# Blocks per stage (layer1..layer4), He et al., "Deep Residual Learning", CVPR 2016, Table 1.
RESNET_ARCHS: dict[str, tuple[type[nn.Module], tuple[int, int, int, int]]] = {
    "resnet18": (BasicBlock, (2, 2, 2, 2)),
    "resnet34": (BasicBlock, (3, 4, 6, 3)),
    "resnet50": (Bottleneck, (3, 4, 6, 3)),
    "resnet101": (Bottleneck, (3, 4, 23, 3)),
    "resnet152": (Bottleneck, (3, 8, 36, 3)),
}
CHECKPOINT_CONTAINER_KEYS = ("state_dict", "model")  # common wrappers around a state_dict
DATA_PARALLEL_PREFIX = "module."  # what nn.DataParallel / DDP prepend to every key
MAX_KEYS_IN_MESSAGE = 5  # how many offending keys an error lists before "..."


class DilatedBasicBlock(BasicBlock):
    """torchvision's ``BasicBlock`` (two 3x3 convs + identity) with dilation support.

    Same submodules (``conv1, bn1, relu, conv2, bn2, downsample``), same ``forward`` (inherited),
    hence the same ``state_dict`` keys and shapes. Only the 3x3 convs' dilation (and the padding
    that keeps their output the size of their input) differs.

    Args:
        inplanes: input channels.
        planes: output channels of both convs.
        stride: stride of ``conv1`` (2 in the first block of a non-dilated stage, else 1).
        downsample: the 1x1 projection of the identity path, or ``None``.
        groups: must be 1 (as in torchvision's BasicBlock).
        base_width: must be 64 (as in torchvision's BasicBlock).
        dilation: dilation of ``conv1``, the conv that carries (or carried) the stride.
        norm_layer: normalisation layer class, ``nn.BatchNorm2d`` by default.
        conv2_dilation: dilation of ``conv2``; ``None`` means ``dilation``. In the first block of a
            dilated stage it is twice ``dilation`` (the à trous rule, see the module docstring).

    Shapes:
        ``(N, inplanes, H, W) -> (N, planes, ceil(H / stride), ceil(W / stride))``.
    """

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        groups: int = 1,
        base_width: int = 64,
        dilation: int = 1,
        norm_layer: Callable[..., nn.Module] | None = None,
        conv2_dilation: int | None = None,
    ) -> None:
        nn.Module.__init__(self)  # BasicBlock.__init__ refuses dilation > 1, so build it here
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError(
                f"DilatedBasicBlock supports only groups=1 and base_width=64, got {groups}, {base_width}"
            )
        conv2_dilation = dilation if conv2_dilation is None else conv2_dilation
        self.conv1 = _conv3x3(inplanes, planes, stride=stride, dilation=dilation)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes, stride=1, dilation=conv2_dilation)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride


def _conv3x3(in_channels: int, out_channels: int, *, stride: int, dilation: int) -> nn.Conv2d:
    """A bias-free 3x3 conv with "same" padding (``padding = dilation``), as in torchvision."""
    return nn.Conv2d(
        in_channels, out_channels, kernel_size=3, stride=stride, padding=dilation,
        dilation=dilation, bias=False,
    )


class _DilatedBasicResNet(ResNet):
    """torchvision's ``ResNet`` whose ``_make_layer`` applies the à trous rule to BasicBlocks."""

    def _make_layer(
        self,
        block: type[nn.Module],
        planes: int,
        blocks: int,
        stride: int = 1,
        dilate: bool = False,
    ) -> nn.Sequential:
        input_dilation = self.dilation  # the grid spacing this stage's input is sampled at
        if dilate:
            self.dilation *= stride  # every conv after the (removed) stride sees a denser grid
            stride = 1
        out_channels = planes * block.expansion
        downsample = None
        if stride != 1 or self.inplanes != out_channels:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, out_channels, kernel_size=1, stride=stride, bias=False),
                self._norm_layer(out_channels),
            )
        first = DilatedBasicBlock(
            self.inplanes, planes, stride, downsample, self.groups, self.base_width,
            dilation=input_dilation, norm_layer=self._norm_layer, conv2_dilation=self.dilation,
        )
        self.inplanes = out_channels
        rest = [
            DilatedBasicBlock(
                self.inplanes, planes, groups=self.groups, base_width=self.base_width,
                dilation=self.dilation, norm_layer=self._norm_layer,
            )
            for _ in range(1, blocks)
        ]
        return nn.Sequential(first, *rest)


def _validate_flags(
    replace_stride_with_dilation: Any, name: str = "replace_stride_with_dilation"
) -> tuple[bool, bool, bool]:
    """Check that ``replace_stride_with_dilation`` is three booleans (layer2, layer3, layer4).

    Args:
        replace_stride_with_dilation: the flags to check, e.g. ``(False, True, True)``.
        name: the argument name used in error messages.

    Returns:
        The flags as a tuple of three ``bool``.

    Raises:
        TypeError: if it is not a sequence of exactly three booleans.

    Example:
        >>> _validate_flags([False, True, True])
        (False, True, True)
    """
    if isinstance(replace_stride_with_dilation, (str, bytes)) or not isinstance(
        replace_stride_with_dilation, Sequence
    ):
        raise TypeError(
            f"{name} must be a sequence of 3 booleans for (layer2, layer3, layer4), "
            f"e.g. (False, True, True); got {replace_stride_with_dilation!r}"
        )
    flags = tuple(replace_stride_with_dilation)
    if len(flags) != 3 or not all(isinstance(flag, bool) for flag in flags):
        raise TypeError(
            f"{name} must be exactly 3 booleans for (layer2, layer3, layer4), "
            f"e.g. (False, True, True); got {replace_stride_with_dilation!r}"
        )
    return flags  # type: ignore[return-value]


def dilated_resnet(
    arch: str,
    replace_stride_with_dilation: Sequence[bool] = (False, True, True),
    weights: str | os.PathLike[str] | None = None,
) -> ResNet:
    """Build a torchvision ResNet whose later stages trade stride for dilation.

    ``resnet50/101/152`` are torchvision's own models. ``resnet18/34`` use
    :class:`DilatedBasicBlock` (torchvision raises ``NotImplementedError`` there); their
    ``state_dict`` is key-for-key torchvision's. With the same weights, the dilated model's
    ``layer4`` output subsampled every ``2 ** sum(flags)`` pixels equals the undilated one's.

    Args:
        arch: one of ``"resnet18", "resnet34", "resnet50", "resnet101", "resnet152"``.
        replace_stride_with_dilation: three booleans for (layer2, layer3, layer4); ``True`` removes
            that stage's stride 2 and dilates its convs instead. ``(False, True, True)`` gives
            output stride 8 (PSPNet, DeepLab), ``(False, False, True)`` 16, all ``False`` 32.
        weights: ``None`` (random init, nothing downloaded) or the path of a local checkpoint
            (a torchvision ``state_dict``), loaded with ``torch.load(..., weights_only=True)``.

    Returns:
        A ``torchvision.models.ResNet`` mapping ``(N, 3, H, W)`` images to ``(N, 1000)`` logits; its
        ``layer4`` output is ``(N, 512 * expansion, ceil(H / os), ceil(W / os))`` with output stride
        ``os = 32 / 2 ** sum(flags)``.

    Raises:
        ValueError: unknown ``arch``; checkpoint keys or shapes that do not match.
        TypeError: flags that are not 3 booleans; ``weights`` that is not ``None`` or a path.
        FileNotFoundError: ``weights`` names a file that does not exist.

    Example:
        >>> model = dilated_resnet("resnet18", (False, True, True))
        >>> model.layer4[0].conv1.dilation, model.layer4[0].conv2.dilation
        ((2, 2), (4, 4))
    """
    if not isinstance(arch, str) or arch not in RESNET_ARCHS:
        raise ValueError(f"arch must be one of {sorted(RESNET_ARCHS)}, got {arch!r}")
    flags = _validate_flags(replace_stride_with_dilation)
    block, layers = RESNET_ARCHS[arch]
    if block is Bottleneck:
        builder = getattr(torchvision.models, arch)
        model = builder(weights=None, replace_stride_with_dilation=list(flags))
    else:
        model = _DilatedBasicResNet(DilatedBasicBlock, list(layers), replace_stride_with_dilation=list(flags))
    if weights is not None:
        load_checkpoint(model, weights)
    return model


def load_checkpoint(
    model: nn.Module,
    path: str | os.PathLike[str],
    *,
    strip_prefix: str = "",
    ignore_prefixes: Sequence[str] = (),
) -> nn.Module:
    """Load a local checkpoint into ``model`` strictly, with errors that say what is wrong.

    Reads ``path`` with ``torch.load(path, weights_only=True)`` (no pickled code runs), onto the
    device of the model's parameters. Accepts a plain ``state_dict`` or a dict that wraps it under
    ``"state_dict"`` or ``"model"``; strips a ``"module."`` prefix left by ``nn.DataParallel``.

    Args:
        model: the module to fill, e.g. from :func:`dilated_resnet` or a PSPNet backbone.
        path: a local file (nothing is downloaded).
        strip_prefix: a prefix to remove from checkpoint keys first, e.g. ``"backbone."``.
        ignore_prefixes: checkpoint keys starting with one of these are dropped before the strict
            check, e.g. ``("fc.",)`` to load an ImageNet ResNet into a backbone without classifier.

    Returns:
        ``model`` itself, with its weights replaced.

    Raises:
        TypeError: ``path`` is not a ``str``/``PathLike``, or the file holds no state_dict.
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file cannot be read safely, or keys/shapes do not match ``model``.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"weights must be None or the path of a local checkpoint file, got {path!r}")
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"checkpoint file not found: {path!r} (weights are never downloaded; "
            "pass the path of a torchvision state_dict saved with torch.save)"
        )
    parameter = next(iter(model.parameters()), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    try:
        checkpoint = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # unpickling errors come in several types
        raise ValueError(
            f"could not read {path!r} as a checkpoint with torch.load(weights_only=True): {error}"
        ) from error
    state_dict = _unwrap_state_dict(checkpoint, path)
    state_dict = _normalise_keys(state_dict, strip_prefix, tuple(ignore_prefixes))
    _check_keys_and_shapes(model, state_dict, path)
    model.load_state_dict(state_dict, strict=True)
    return model


def _unwrap_state_dict(checkpoint: Any, path: str) -> dict[str, torch.Tensor]:
    if isinstance(checkpoint, Mapping):
        for key in CHECKPOINT_CONTAINER_KEYS:
            if isinstance(checkpoint.get(key), Mapping):
                checkpoint = checkpoint[key]
                break
    if not isinstance(checkpoint, Mapping) or not all(
        isinstance(value, torch.Tensor) for value in checkpoint.values()
    ):
        raise TypeError(
            f"{path!r} does not hold a state_dict (a mapping from parameter names to tensors), "
            f"got {type(checkpoint).__name__}"
        )
    return dict(checkpoint)


def _normalise_keys(
    state_dict: dict[str, torch.Tensor], strip_prefix: str, ignore_prefixes: tuple[str, ...]
) -> dict[str, torch.Tensor]:
    if state_dict and all(key.startswith(DATA_PARALLEL_PREFIX) for key in state_dict):
        state_dict = {key[len(DATA_PARALLEL_PREFIX):]: value for key, value in state_dict.items()}
    if strip_prefix:
        state_dict = {key.removeprefix(strip_prefix): value for key, value in state_dict.items()}
    if ignore_prefixes:
        state_dict = {key: value for key, value in state_dict.items() if not key.startswith(ignore_prefixes)}
    return state_dict


def _listing(keys: Sequence[str]) -> str:
    shown = ", ".join(repr(key) for key in keys[:MAX_KEYS_IN_MESSAGE])
    more = len(keys) - MAX_KEYS_IN_MESSAGE
    return shown + (f", ... ({more} more)" if more > 0 else "")


def _check_keys_and_shapes(model: nn.Module, state_dict: dict[str, torch.Tensor], path: str) -> None:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    problems = []
    if missing:
        problems.append(f"missing keys: {_listing(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_listing(unexpected)}")
    mismatched = [
        f"{key}: checkpoint {tuple(state_dict[key].shape)} vs model {tuple(expected[key].shape)}"
        for key in sorted(set(expected) & set(state_dict))
        if state_dict[key].shape != expected[key].shape
    ]
    if mismatched:
        problems.append(f"shape mismatches: {_listing(mismatched)}")
    if problems:
        raise ValueError(
            f"checkpoint {path!r} does not match {type(model).__name__}: " + "; ".join(problems)
            + " (is it for a different architecture? use strip_prefix/ignore_prefixes for wrappers "
            "or heads)"
        )
