"""Label upsampling: logits bilinear + argmax against nearest and bilinear on class ids."""

from __future__ import annotations

import doctest

import pytest
import torch
import torch.nn.functional as F

import visual.label_upsampling as labels_module
from visual.label_upsampling import feature_map_size, toy_label_map, upsample_segmentation


def test_labels_bilinear_invents_classes_by_hand():
    labels = torch.tensor([[0, 15]])
    # positions 0, 0.25, 0.75, 1 -> ids 0, 3.75, 11.25, 15 -> rounded 0, 4, 11, 15
    assert upsample_segmentation(labels, (1, 4), "labels bilinear").tolist() == [[0, 4, 11, 15]]


def test_segmentation_upsampling_methods():
    labels = toy_label_map()
    assert set(labels.unique().tolist()) == {0, 8, 15}
    size = (32, 32)
    reference = F.interpolate(labels[None, None].float(), size=size, mode="nearest")[0, 0].long()
    assert torch.equal(upsample_segmentation(labels, size, "labels nearest"), reference)
    odd = F.interpolate(labels[None, None].float(), size=(13, 29), mode="nearest")[0, 0].long()
    assert torch.equal(upsample_segmentation(labels, (13, 29), "labels nearest"), odd)
    logits = upsample_segmentation(labels, size, "logits bilinear")
    assert set(logits.unique().tolist()) == {0, 8, 15}  # only classes that exist
    invented = set(upsample_segmentation(labels, size, "labels bilinear").unique().tolist()) - {0, 8, 15}
    assert invented, "bilinear on class ids should invent ids between 0, 8 and 15"
    assert all(0 < c < 15 for c in invented)


@pytest.mark.slow
def test_feature_map_size_matches_a_real_resnet():
    torchvision = pytest.importorskip("torchvision")
    with torch.device("meta"):  # shapes only: no weights, no compute
        model = torchvision.models.resnet50(weights=None, replace_stride_with_dilation=[False, True, True])
        for side in (473, 512, 321, 97):
            x = torch.empty(1, 3, side, side)
            x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
            x = model.layer4(model.layer3(model.layer2(model.layer1(x))))
            assert x.shape[-1] == feature_map_size(side, 8), side
    assert feature_map_size(473, 16) == 30


def test_doctests():
    assert doctest.testmod(labels_module).failed == 0
