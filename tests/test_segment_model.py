"""visual.segment.model: which PSPNet a config builds, the 10x parameter group, weight loading."""

import copy

import pytest
import torch
import torchvision
from torch import nn

import visual
from segment_support import TINY_CONFIG
from visual.models.semseg_keys import from_semseg_keys
from visual.segment.config import load_config
from visual.segment.model import (NEW_LR_FACTOR, build_model, load_backbone_weights, load_weights, param_groups,
                                  semseg_resnet_to_pspnet_keys)

pytestmark = pytest.mark.timeout(120)  # every test here is small; the slow ones set their own


@pytest.fixture(scope="module")
def config():
    return load_config(TINY_CONFIG, ["TRAIN.bins=[1, 2]", "TRAIN.dropout=0.3"])


@pytest.fixture(scope="module")
def model(config):
    return build_model(config)


def test_torchvision_variant_is_the_course_pspnet(model):
    assert isinstance(model, visual.PSPNet) and model.backbone_name == "resnet18" and model.num_classes == 3
    assert model.bins == (1, 2) and model.head[3].p == 0.3 and model.aux_head is not None


def test_official_variant_asks_for_the_deep_stem_and_semseg_schedule(config, monkeypatch):
    calls = []
    monkeypatch.setattr(visual, "PSPNet", lambda *args, **kwargs: calls.append((args, kwargs)))
    official = copy.deepcopy(config)
    official["TRAIN"].update(backbone="semseg", layers=101)
    build_model(official)
    build_model(config)
    (args, kwargs), (_, course) = calls
    assert args == (3,) and kwargs["backbone"] == "resnet101"
    assert kwargs["schedule"] == "semseg" and kwargs["deep_stem"] is True
    assert "schedule" not in course and "deep_stem" not in course


def test_param_groups_put_ppm_and_heads_at_ten_times(model):
    groups = param_groups(model, 0.01)
    assert [g["lr"] for g in groups] == [0.01, 0.01 * NEW_LR_FACTOR]
    new = {id(p) for part in (model.ppm, model.head, model.aux_head) for p in part.parameters()}
    assert {id(p) for p in groups[1]["params"]} == new
    assert {id(p) for p in groups[0]["params"]} == {id(p) for p in model.backbone.parameters()}


def test_param_groups_without_ppm():
    class NoPyramid(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone, self.ppm, self.head, self.aux_head = nn.Linear(2, 2), None, nn.Linear(2, 1), None

    model = NoPyramid()
    old, new = param_groups(model, 1.0)
    assert len(old["params"]) == 2 and len(new["params"]) == 2


def test_weight_loads_a_ddp_checkpoint_strictly(config, model, tmp_path):
    path = tmp_path / "weights.pth"
    torch.save({"state_dict": {"module." + k: v for k, v in model.state_dict().items()}}, path)
    fresh = build_model(config)
    load_weights(fresh, str(path), config["TRAIN"])
    for key, value in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value)
    other = load_config(TINY_CONFIG, ["DATA.classes=5", "TRAIN.bins=[1, 2]"])
    with pytest.raises(ValueError, match="TRAIN.weight: .* does not fit this model"):
        load_weights(build_model(other), str(path), other["TRAIN"])
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        load_weights(fresh, str(tmp_path / "absent.pth"), config["TRAIN"])


def test_backbone_weights_from_a_torchvision_checkpoint(config, tmp_path):
    resnet = torchvision.models.resnet18(weights=None)
    path = tmp_path / "resnet18.pth"
    torch.save(resnet.state_dict(), path)
    model = build_model(config)
    load_backbone_weights(model, str(path), config["TRAIN"])
    assert torch.equal(model.backbone.layer4[1].conv2.weight, resnet.layer4[1].conv2.weight)
    assert torch.equal(model.backbone.bn1.running_var, resnet.bn1.running_var)


def test_official_resnet_names_map_onto_the_deep_stem():
    state = {name: torch.zeros(1) for name in ("conv1.weight", "bn1.weight", "conv2.weight", "bn2.bias",
                                               "conv3.weight", "bn3.running_mean", "layer3.5.conv2.weight",
                                               "fc.weight")}
    renamed = from_semseg_keys(semseg_resnet_to_pspnet_keys(state))
    assert sorted(renamed) == sorted(["backbone.conv1.0.weight", "backbone.conv1.1.weight", "backbone.conv1.3.weight",
                                      "backbone.conv1.4.bias", "backbone.conv1.6.weight", "backbone.bn1.running_mean",
                                      "backbone.layer3.5.conv2.weight"])
