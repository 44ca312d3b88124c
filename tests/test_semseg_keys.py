"""Official (hszhao/semseg) <-> course PSPNet state-dict names."""

import pytest
import torch

from visual.models.semseg_keys import from_semseg_keys, to_semseg_keys

# The official model/pspnet.py names for a deep-stem ResNet PSPNet with aux head (one key per module kind).
OFFICIAL = ["layer0.0.weight", "layer0.1.running_mean", "layer0.3.weight", "layer0.4.bias", "layer0.6.weight",
            "layer0.7.weight", "layer1.0.conv1.weight", "layer4.2.bn3.bias", "ppm.features.3.1.weight",
            "ppm.features.0.2.running_var", "cls.0.weight", "cls.4.bias", "aux.1.weight", "aux.4.weight"]
COURSE = ["backbone.conv1.0.weight", "backbone.conv1.1.running_mean", "backbone.conv1.3.weight",
          "backbone.conv1.4.bias", "backbone.conv1.6.weight", "backbone.bn1.weight",
          "backbone.layer1.0.conv1.weight", "backbone.layer4.2.bn3.bias", "ppm.stages.3.1.weight",
          "ppm.stages.0.2.running_var", "head.0.weight", "head.4.bias", "aux_head.1.weight", "aux_head.4.weight"]


def test_official_names_map_to_the_course_names_and_back():
    tensors = {k: torch.full((1,), float(i)) for i, k in enumerate(OFFICIAL)}
    course = from_semseg_keys(tensors)
    assert list(course) == COURSE
    assert all(course[c] is tensors[o] for o, c in zip(OFFICIAL, COURSE))  # same tensors, renamed
    assert list(to_semseg_keys(course)) == OFFICIAL


def test_unknown_official_key_is_named():
    with pytest.raises(ValueError, match="decoder.weight"):
        from_semseg_keys({"layer1.0.conv1.weight": 0, "decoder.weight": 1})


def test_seven_by_seven_stem_has_no_official_name():
    with pytest.raises(ValueError, match="7x7 stem"):
        to_semseg_keys({"backbone.conv1.weight": 0, "backbone.bn1.weight": 1})
