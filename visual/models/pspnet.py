"""PSPNet (Zhao et al., CVPR 2017) as in its official code (hszhao/semseg ``model/pspnet.py``), on a
torchvision ResNet at output stride 8, taught in notebook 04. Differences from semseg: torchvision's
stem and schedule (options), any input size, batch size 1.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from visual.checks import MAX_SIDE, as_size, check_bool, check_choice, check_float, check_int, check_ints, \
    check_module, check_tensor
from visual.conv_arithmetic import conv_output_size
from visual.models.resnet import RESNET_ARCHS, dilated_resnet, load_checkpoint

__all__ = ["PSPNetConfig", "MAX_CLASSES", "MAX_BIN", "PyramidBatchNorm2d", "PyramidPoolingModule", "PSPHead",
           "ResNetFeatures", "PSPNet", "pspnet_loss", "adaptive_pool_windows", "pspnet_sizes", "pyramid_features"]


@dataclass(frozen=True)
class PSPNetConfig:
    """PSPNet's settings; "paper": Zhao et al. CVPR 2017, "semseg": github.com/hszhao/semseg."""

    backbone: str = "resnet50"  # paper Sec. 5.1 / Table 3: ResNet50 baseline; semseg layers=50
    replace_stride_with_dilation: tuple[bool, bool, bool] = (False, True, True)  # paper Sec. 3.3:
    # dilated network, final feature map 1/8 of the input (semseg zoom_factor=8)
    bins: tuple[int, ...] = (1, 2, 3, 6)  # paper Sec. 3.2 / Table 1 ("B1236"); semseg bins=(1, 2, 3, 6);
    # each branch's 1x1 conv keeps 1/N of the channels for N bins (Sec. 3.2; semseg fea_dim / len(bins))
    head_channels: int = 512  # semseg: cls = Conv2d(fea_dim * 2, 512, 3, padding=1, bias=False)
    aux_channels: int = 256  # semseg: aux = Conv2d(1024, 256, 3, padding=1, bias=False)
    dropout: float = 0.1  # semseg: nn.Dropout2d(p=dropout) with dropout=0.1 in both heads
    aux: bool = True  # paper Sec. 4 / Fig. 4: auxiliary loss on res4b22 (layer3), training only
    aux_weight: float = 0.4  # paper Sec. 4 and Table 2 (alpha = 0.4 is best); semseg aux_weight: 0.4
    align_corners: bool = True  # semseg: every F.interpolate(..., mode="bilinear", align_corners=True)
    ignore_index: int = 255  # semseg config ignore_label: 255
    input_size: int = 473  # paper Sec. 5.1 / semseg train_h, train_w for ADE20K and VOC (713 Cityscapes)


DEFAULTS = PSPNetConfig()
IN_CHANNELS = 3  # RGB images, as the ImageNet-pretrained ResNet stem expects
HEAD_KERNEL_SIZE = 3  # semseg: the 3x3 conv of both heads, padding 1 keeps the size
MAX_CLASSES = 4096  # more than any benchmark (ADE20K-full: 3,688); the head's 1x1 conv stays < 10 M weights
MAX_BIN = 128  # pyramid bins beyond layer4's side (90 cells at 713 px) only repeat cells


class PyramidBatchNorm2d(nn.BatchNorm2d):
    """``nn.BatchNorm2d`` that, given one value per channel in training mode (the 1x1 bin at batch
    size 1), normalises with its running statistics and leaves them unchanged; otherwise the same."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:  # noqa: A002 - PyTorch's own name
        """Normalise ``input`` of shape ``(N, C, H, W)``; same shape out."""
        values_per_channel = input.numel() // max(input.shape[1], 1)
        if self.training and values_per_channel == 1 and self.running_mean is not None:
            return F.batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                                training=False, momentum=0.0, eps=self.eps)  # (1, C, 1, 1)
        return super().forward(input)


class PyramidPoolingModule(nn.Module):
    """The pyramid pooling module (paper Sec. 3.2, Fig. 3c): per bin ``b``, adaptive avg-pool to
    ``b x b`` → 1x1 conv → BN → ReLU → bilinear up; the branches are concatenated after the input.
    ``reduction_channels`` (each branch's channels) defaults to ``in_channels // len(bins)``.
    """

    def __init__(self, in_channels: int, bins: Sequence[int] = DEFAULTS.bins,
                 reduction_channels: int | None = None, align_corners: bool = DEFAULTS.align_corners) -> None:
        super().__init__()
        in_channels = check_int(in_channels, "in_channels", minimum=1)
        self.bins = check_ints(bins, "bins", minimum=1, maximum=MAX_BIN)
        if reduction_channels is None:
            reduction_channels = max(in_channels // len(self.bins), 1)
        self.reduction_channels = check_int(reduction_channels, "reduction_channels", minimum=1)
        self.align_corners = check_bool(align_corners, "align_corners")
        self.out_channels = in_channels + len(self.bins) * self.reduction_channels
        self.stages = nn.ModuleList(
            nn.Sequential(
                nn.AdaptiveAvgPool2d(size),
                nn.Conv2d(in_channels, self.reduction_channels, kernel_size=1, bias=False),
                PyramidBatchNorm2d(self.reduction_channels),
                nn.ReLU(inplace=True),
            )
            for size in self.bins
        )

    def pooled(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The branches before upsampling: one ``(N, reduction_channels, b, b)`` tensor per bin."""
        return [stage(x) for stage in self.stages]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, h, w) -> (N, C + len(bins) * reduction_channels, h, w)``."""
        size = x.shape[-2:]
        branches = [
            F.interpolate(branch, size=size, mode="bilinear", align_corners=self.align_corners)  # (N, C', h, w)
            for branch in self.pooled(x)
        ]
        return torch.cat([x, *branches], dim=1)  # (N, C + len(bins) * C', h, w)


class PSPHead(nn.Sequential):
    """3x3 conv → BN → ReLU → Dropout2d → 1x1 conv, ``(N, C, h, w) -> (N, K, h, w)`` (semseg cls, aux)."""

    def __init__(self, in_channels: int, channels: int, num_classes: int, dropout: float = DEFAULTS.dropout) -> None:
        super().__init__(
            nn.Conv2d(in_channels, channels, kernel_size=HEAD_KERNEL_SIZE,
                      padding=HEAD_KERNEL_SIZE // 2, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.Dropout2d(p=dropout),
            nn.Conv2d(channels, num_classes, kernel_size=1),
        )


class ResNetFeatures(nn.Module):
    """A torchvision ResNet without ``avgpool``/``fc`` (same key names): ``(N, 3, H, W)`` -> (layer3, layer4)."""

    def __init__(self, resnet: nn.Module) -> None:
        super().__init__()
        for name in ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"):
            self.add_module(name, getattr(resnet, name))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(layer3 output, layer4 output)``."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (N, 64, H/4, W/4)
        c3 = self.layer3(self.layer2(self.layer1(x)))  # (N, C3, H/8, W/8): layer3 is dilated
        return c3, self.layer4(c3)  # (N, C4, H/8, W/8)


class PSPNet(nn.Module):
    """The Pyramid Scene Parsing Network on a dilated ResNet (output stride 8).

    Args:
        bins: pyramid bin sizes (paper: ``(1, 2, 3, 6)``); ``()``: no pyramid, ``model.ppm is None``.
        aux: build the auxiliary head on layer3 (used in training mode only).
        backbone_weights: ``None`` (random) or a local torchvision ResNet checkpoint (``fc.*`` ignored).
        schedule, deep_stem: the dilation rule and the official 3x3 stem; see :func:`dilated_resnet`.

    ``forward``: ``(N, 3, H, W)`` → ``{"out": (N, K, H, W)}``, plus ``"aux"`` in training mode.

    Example:
        >>> model = PSPNet(num_classes=4, backbone="resnet18").eval()
        >>> model(torch.rand(1, 3, 65, 65))["out"].shape
        torch.Size([1, 4, 65, 65])
    """

    def __init__(self, num_classes: int, backbone: str = DEFAULTS.backbone, bins: Sequence[int] = DEFAULTS.bins,
                 aux: bool = DEFAULTS.aux, dropout: float = DEFAULTS.dropout,
                 align_corners: bool = DEFAULTS.align_corners,
                 backbone_weights: str | os.PathLike[str] | None = None, *,
                 schedule: str = "torchvision", deep_stem: bool = False) -> None:
        super().__init__()
        self.num_classes = check_int(num_classes, "num_classes", minimum=1, maximum=MAX_CLASSES)
        self.backbone_name = check_choice(backbone, "backbone", sorted(RESNET_ARCHS))
        self.bins = check_ints(bins, "bins", minimum=1, maximum=MAX_BIN, min_length=0)
        self.align_corners = check_bool(align_corners, "align_corners")
        aux = check_bool(aux, "aux")
        if check_float(dropout, "dropout", minimum=0.0, maximum=1.0) == 1.0:
            raise ValueError("dropout must be a probability in [0, 1) (1 drops every channel), got 1.0")
        resnet = dilated_resnet(backbone, DEFAULTS.replace_stride_with_dilation, schedule=schedule,
                                deep_stem=deep_stem, weights=None)
        self.backbone = ResNetFeatures(resnet)
        if backbone_weights is not None:
            load_checkpoint(self.backbone, backbone_weights, ignore_prefixes=("fc.",))
        expansion = RESNET_ARCHS[backbone][0].expansion
        layer4_channels = 512 * expansion  # He et al. 2016, Table 1: conv5_x has 512 x expansion
        layer3_channels = 256 * expansion  # conv4_x: 256 x expansion (1024 for ResNet50+)
        self.ppm = PyramidPoolingModule(layer4_channels, self.bins, align_corners=align_corners) \
            if self.bins else None
        head_in = self.ppm.out_channels if self.ppm is not None else layer4_channels
        self.head = PSPHead(head_in, DEFAULTS.head_channels, num_classes, dropout)
        self.aux_head = PSPHead(layer3_channels, DEFAULTS.aux_channels, num_classes, dropout) if aux else None

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Segment a batch of images: ``(N, 3, H, W) -> {"out": (N, K, H, W)[, "aux": ...]}``."""
        self.check_images(x)
        size = x.shape[-2:]
        c3, c4 = self.backbone(x)  # (N, C3, h, w), (N, C4, h, w) with h = ceil(H / 8)
        logits = self.head(c4 if self.ppm is None else self.ppm(c4))  # (N, K, h, w)
        result = {"out": F.interpolate(logits, size=size, mode="bilinear",
                                       align_corners=self.align_corners)}  # (N, K, H, W)
        if self.training and self.aux_head is not None:
            aux = self.aux_head(c3)  # (N, K, h, w)
            result["aux"] = F.interpolate(aux, size=size, mode="bilinear",
                                          align_corners=self.align_corners)  # (N, K, H, W)
        return result

    def check_images(self, x: Any, name: str = "x") -> torch.Tensor:
        """Refuse what ``forward`` cannot segment (shape, dtype, one value per channel in training)."""
        check_tensor(x, name, ndim=4, layout=f"(N, {IN_CHANNELS}, H, W)", dtype="float")
        if x.shape[1] != IN_CHANNELS or min(x.shape[-2:]) < 1 or max(x.shape[-2:]) > MAX_SIDE:
            raise ValueError(f"{name} must have shape (N, {IN_CHANNELS}, H, W) (a batch of RGB images) with "
                             f"1 <= H, W <= {MAX_SIDE}, got {tuple(x.shape)}")
        weight = next(self.backbone.parameters())  # the first conv (7x7 or the deep stem's first)
        if x.dtype != weight.dtype:
            raise TypeError(f"{name} has dtype {x.dtype} but the model's parameters are {weight.dtype}: "
                            f"convert one, e.g. x.to({weight.dtype}) or model.to({x.dtype})")
        h, w = pspnet_sizes(tuple(x.shape[-2:]), ())["backbone.layer4"]
        if self.training and x.shape[0] * h * w < 2:
            raise ValueError(f"{name} of shape {tuple(x.shape)} gives layer4 {h}x{w} with batch {x.shape[0]}: in "
                             f"training mode BatchNorm needs at least 2 values per channel; use a batch of >= 2 "
                             f"images, images larger than 8 px, or model.eval()")
        return x


def pspnet_loss(outputs: Mapping[str, torch.Tensor], target: torch.Tensor, aux_weight: float = DEFAULTS.aux_weight,
                ignore_index: int = DEFAULTS.ignore_index) -> torch.Tensor:
    """PSPNet's loss ``CE(out, target) + aux_weight * CE(aux, target)`` (aux term only if present).

    ``outputs``: the model's dict of ``(N, K, H, W)`` logits; ``target``: ``(N, H, W)`` int64 labels in
    ``[0, K)`` or ``ignore_index`` (counted in neither term). Returns the scalar loss.

    Example:
        >>> logits = torch.zeros(1, 2, 3, 3)
        >>> round(pspnet_loss({"out": logits}, torch.zeros(1, 3, 3, dtype=torch.long)).item(), 4)
        0.6931
    """
    if not isinstance(outputs, Mapping) or "out" not in outputs:
        raise TypeError(f'outputs must be the model\'s dict with an "out" entry, got {type(outputs).__name__}')
    check_tensor(target, "target", layout="(N, H, W) of class indices")
    if target.dtype != torch.long:
        raise TypeError(f"target must be an int64 (torch.long) tensor of class indices, as F.cross_entropy "
                        f"requires, got {target.dtype}: use target.long()")
    aux_weight = check_float(aux_weight, "aux_weight", minimum=0.0)
    ignore_index = check_int(ignore_index, "ignore_index")
    for key in ("out", "aux"):
        if key in outputs:
            logits = check_tensor(outputs[key], f'outputs["{key}"]', ndim=4, layout="(N, K, H, W)", dtype="float")
            if target.shape != (logits.shape[0], *logits.shape[2:]):
                raise ValueError(f'outputs["{key}"] of shape {tuple(logits.shape)} does not match target of shape '
                                 f"{tuple(target.shape)}: expected (N, K, H, W) logits and (N, H, W) labels")
    if target.numel() == 0:
        raise ValueError(f"target of shape {tuple(target.shape)} holds no pixels: an empty batch has no loss")
    num_classes = outputs["out"].shape[1]
    labels = target[target != ignore_index]
    if target.device.type != "meta" and labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"target has labels outside [0, {num_classes}) other than ignore_index={ignore_index}: "
                         f"{sorted(set(labels[(labels < 0) | (labels >= num_classes)].unique().tolist()))[:5]}")
    loss = F.cross_entropy(outputs["out"], target, ignore_index=ignore_index)
    if "aux" in outputs:
        loss = loss + aux_weight * F.cross_entropy(outputs["aux"], target, ignore_index=ignore_index)
    return loss


STEM_AND_STRIDES = (  # (row name, kernel_size, stride, padding) of each size-changing layer, torchvision ResNet
    ("backbone.conv1", 7, 2, 3),
    ("backbone.maxpool", 3, 2, 1),
    ("backbone.layer1", 3, 1, 1),
    ("backbone.layer2", 3, 2, 1),  # the 3x3 conv of layer2's first block carries its stride 2
    ("backbone.layer3", 3, 1, 1),  # dilated: stride 1 (replace_stride_with_dilation[1])
    ("backbone.layer4", 3, 1, 1),  # dilated: stride 1 (replace_stride_with_dilation[2])
)


def adaptive_pool_windows(in_size: int, out_size: int) -> list[tuple[int, int]]:
    """The input cells ``[start, end)`` that each output of adaptive average pooling averages.

    PyTorch's rule (``aten/src/ATen/native/AdaptiveAveragePooling.cpp``): output ``i`` averages
    ``floor(i * in_size / out_size)`` up to ``ceil((i + 1) * in_size / out_size)``.

    Example:
        >>> adaptive_pool_windows(60, 6)[:2]
        [(0, 10), (10, 20)]
        >>> adaptive_pool_windows(9, 6)
        [(0, 2), (1, 3), (3, 5), (4, 6), (6, 8), (7, 9)]
    """
    in_size = check_int(in_size, "in_size", minimum=1, maximum=MAX_SIDE)
    out_size = check_int(out_size, "out_size", minimum=1, maximum=MAX_SIDE)
    return [((i * in_size) // out_size, -((-(i + 1) * in_size) // out_size)) for i in range(out_size)]


def pspnet_sizes(input_size: int | tuple[int, int],
                 bins: Sequence[int] = DEFAULTS.bins) -> dict[str, tuple[int, int]]:
    """Spatial size ``(H, W)`` after each stage of a PSPNet, keyed by module name, from conv arithmetic.

    Example:
        >>> pspnet_sizes(473)["backbone.layer4"], pspnet_sizes(512)["backbone.layer4"]
        ((60, 60), (64, 64))
    """
    height, width = size = as_size(input_size, "input_size")
    bins = check_ints(bins, "bins", minimum=1, maximum=MAX_BIN, min_length=0)
    sizes: dict[str, tuple[int, int]] = {}
    for name, kernel_size, stride, padding in STEM_AND_STRIDES:
        height = conv_output_size(height, kernel_size, stride, padding)
        width = conv_output_size(width, kernel_size, stride, padding)
        sizes[name] = (height, width)
    for i, b in enumerate(bins):
        sizes[f"ppm.stages.{i}"] = (b, b)
    if bins:
        sizes["ppm"] = (height, width)
    sizes["head"] = (height, width)
    sizes["out"] = size
    return sizes


def pyramid_features(model: PSPNet, images: torch.Tensor) -> list[torch.Tensor]:
    """The pyramid branches before upsampling (evaluation mode): one ``(N, C', b, b)`` per bin for
    ``(N, 3, H, W)`` images; TypeError/ValueError if ``model`` is not a PSPNet with a pyramid."""
    if not isinstance(check_module(model, "model"), PSPNet):
        raise TypeError(f"model must be a PSPNet, got {type(model).__name__}")
    if model.ppm is None:
        raise ValueError("model has no pyramid pooling module (it was built with bins=())")
    was_training = model.training
    model.eval()
    try:
        model.check_images(images, "images")
        with torch.inference_mode():
            _, c4 = model.backbone(images)  # (N, C4, h, w)
            return model.ppm.pooled(c4)  # [(N, C', b, b)]
    finally:
        model.train(was_training)
