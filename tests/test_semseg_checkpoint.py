"""load_semseg_checkpoint against a PSPNet built from the official code's description, random weights."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import visual
from visual.models.semseg_checkpoint import load_semseg_checkpoint

from semseg_reference import OfficialPSPNet

CLASSES = 5


@pytest.fixture(scope="module")
def official():
    torch.manual_seed(0)
    model = OfficialPSPNet(50, CLASSES)
    for module in model.modules():  # non-trivial BatchNorm statistics, so that a wrong mapping shows
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
            nn.init.uniform_(module.weight, 0.5, 1.5)
            nn.init.uniform_(module.bias, -0.1, 0.1)
    return model.eval()


def _save(path, state, wrap: bool, prefix: str):
    state = {prefix + k: v for k, v in state.items()}
    torch.save({"epoch": 100, "state_dict": state} if wrap else state, path)
    return path


@pytest.mark.parametrize("wrap, prefix", [(True, "module."), (False, "")], ids=["official-file", "bare"])
def test_eval_output_equals_the_official_model(official, tmp_path, wrap, prefix):
    path = _save(tmp_path / "train_epoch_100.pth", official.state_dict(), wrap, prefix)
    model = visual.load_semseg_checkpoint(path)
    assert isinstance(model, visual.PSPNet) and not model.training
    x = torch.rand(2, 3, 73, 97)
    with torch.no_grad():
        expected = official(x)
        result = model(x)
    assert set(result) == {"out"}
    torch.testing.assert_close(result["out"], expected)


def test_reads_the_class_count_and_checks_a_given_one(official, tmp_path):
    path = _save(tmp_path / "ckpt.pth", official.state_dict(), True, "module.")
    assert load_semseg_checkpoint(path, num_classes=CLASSES).num_classes == CLASSES
    with pytest.raises(ValueError, match="num_classes=21"):
        load_semseg_checkpoint(path, num_classes=21)


def test_wrong_architecture_is_refused_with_a_clear_error(official, tmp_path):
    path = _save(tmp_path / "ckpt.pth", official.state_dict(), True, "module.")
    with pytest.raises(ValueError, match="ResNet101"):
        load_semseg_checkpoint(path, layers=101)
    with pytest.raises(ValueError, match="layers"):
        load_semseg_checkpoint(path, layers=49)


def test_other_files_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        load_semseg_checkpoint(tmp_path / "missing.pth")
    with pytest.raises(TypeError, match="path"):
        load_semseg_checkpoint(123)
    torchvision_style = tmp_path / "resnet.pth"
    torch.save({"conv1.weight": torch.zeros(64, 3, 7, 7), "fc.weight": torch.zeros(10, 2)}, torchvision_style)
    with pytest.raises(ValueError, match="not an official PSPNet checkpoint"):
        load_semseg_checkpoint(torchvision_style)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a loadable"):
        load_semseg_checkpoint(garbage)


def test_course_deep_stem_model_round_trips_through_official_names(tmp_path):
    from visual.models.semseg_keys import to_semseg_keys

    model = visual.PSPNet(CLASSES, "resnet50", schedule="semseg", deep_stem=True).eval()
    path = tmp_path / "course.pth"
    torch.save({"state_dict": {"module." + k: v for k, v in to_semseg_keys(model.state_dict()).items()}}, path)
    loaded = load_semseg_checkpoint(path)
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name
