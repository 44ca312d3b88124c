"""A PSPNet built from the official code's description (hszhao/semseg, model/pspnet.py + model/resnet.py).

Test-only: it follows the paper's reference implementation module by module — deep-stem ResNet
(``layer0`` = conv-bn-relu x3 + max pool), every 3x3 conv of layer3/layer4 dilated 2/4 with the
strides removed, a pyramid pooling module ``ppm.features`` of (pool, 1x1 conv, BN, ReLU) branches
concatenated with its input, heads ``cls`` and ``aux`` (3x3 conv, BN, ReLU, Dropout2d, 1x1 conv),
and the output upsampled with ``align_corners=True`` — so that ``visual.load_semseg_checkpoint`` can
be checked against the official layout with random weights.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

EXPANSION = 4  # Bottleneck
BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


def conv_bn(in_c: int, out_c: int, kernel: int, stride: int = 1, dilation: int = 1) -> list[nn.Module]:
    pad = dilation * (kernel - 1) // 2
    return [nn.Conv2d(in_c, out_c, kernel, stride, pad, dilation, bias=False), nn.BatchNorm2d(out_c)]


class Bottleneck(nn.Module):
    def __init__(self, in_c: int, planes: int, stride: int, downsample: nn.Module | None) -> None:
        super().__init__()
        self.conv1, self.bn1 = conv_bn(in_c, planes, 1)
        self.conv2, self.bn2 = conv_bn(planes, planes, 3, stride)
        self.conv3, self.bn3 = conv_bn(planes, planes * EXPANSION, 1)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


def stage(in_c: int, planes: int, blocks: int, stride: int) -> nn.Sequential:
    downsample = nn.Sequential(*conv_bn(in_c, planes * EXPANSION, 1, stride))
    layers = [Bottleneck(in_c, planes, stride, downsample)]
    layers += [Bottleneck(planes * EXPANSION, planes, 1, None) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


def head(in_c: int, mid_c: int, classes: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(*conv_bn(in_c, mid_c, 3), nn.ReLU(inplace=True), nn.Dropout2d(dropout),
                         nn.Conv2d(mid_c, classes, 1))


class OfficialPSPNet(nn.Module):
    def __init__(self, layers: int = 50, classes: int = 21, bins=(1, 2, 3, 6), dropout: float = 0.1) -> None:
        super().__init__()
        self.layer0 = nn.Sequential(*conv_bn(3, 64, 3, 2), nn.ReLU(inplace=True), *conv_bn(64, 64, 3),
                                    nn.ReLU(inplace=True), *conv_bn(64, 128, 3), nn.ReLU(inplace=True),
                                    nn.MaxPool2d(3, 2, 1))
        b1, b2, b3, b4 = BLOCKS[layers]
        self.layer1 = stage(128, 64, b1, 1)
        self.layer2 = stage(256, 128, b2, 2)
        self.layer3 = stage(512, 256, b3, 2)
        self.layer4 = stage(1024, 512, b4, 2)
        for layer, rate in ((self.layer3, 2), (self.layer4, 4)):  # remove the stride, dilate every 3x3
            for name, module in layer.named_modules():
                if "conv2" in name:
                    module.dilation, module.padding, module.stride = (rate, rate), (rate, rate), (1, 1)
                elif "downsample.0" in name:
                    module.stride = (1, 1)
        fea_dim = 2048
        reduction = fea_dim // len(bins)
        self.ppm = nn.Module()
        self.ppm.features = nn.ModuleList(
            nn.Sequential(nn.AdaptiveAvgPool2d(b), nn.Conv2d(fea_dim, reduction, 1, bias=False),
                          nn.BatchNorm2d(reduction), nn.ReLU(inplace=True)) for b in bins)
        self.cls = head(fea_dim + reduction * len(bins), 512, classes, dropout)
        self.aux = head(1024, 256, classes, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        c3 = self.layer3(self.layer2(self.layer1(self.layer0(x))))
        c4 = self.layer4(c3)
        pooled = [F.interpolate(f(c4), c4.shape[-2:], mode="bilinear", align_corners=True)
                  for f in self.ppm.features]
        out = self.cls(torch.cat([c4, *pooled], 1))
        return F.interpolate(out, size, mode="bilinear", align_corners=True)
