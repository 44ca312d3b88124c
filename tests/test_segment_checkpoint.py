"""visual.segment.checkpoint: official names, atomic writes, RNG states."""

import os
import random

import pytest
import torch
from torch import nn

from visual.segment.checkpoint import (checkpoint_path, read_checkpoint, model_state, rng_state, save_checkpoint,
                                       set_rng_state)

pytestmark = pytest.mark.timeout(120)  # every test here is small; the slow ones set their own


class Heads(nn.Module):
    def __init__(self):
        super().__init__()
        self.head, self.aux_head = nn.Linear(2, 3), nn.Linear(2, 3)


def test_official_name_and_keys():
    assert checkpoint_path("exp/ade20k/pspnet50/model", 7) == os.path.join("exp/ade20k/pspnet50/model",
                                                                           "train_epoch_7.pth")
    model = Heads()
    official = model_state(model, {"backbone": "semseg"})
    assert sorted(official) == ["module.aux.bias", "module.aux.weight", "module.cls.bias", "module.cls.weight"]
    assert torch.equal(official["module.cls.weight"], model.head.weight)
    assert sorted(model_state(model, {"backbone": "torchvision"})) == sorted(model.state_dict())


def test_save_is_atomic_and_loadable(tmp_path):
    path = checkpoint_path(str(tmp_path / "model"), 1)
    save_checkpoint(path, {"epoch": 1, "state_dict": {"w": torch.ones(2)}, "optimizer": {}})
    assert os.listdir(tmp_path / "model") == ["train_epoch_1.pth"]  # no temporary file left behind
    assert read_checkpoint(path)["epoch"] == 1


def test_failed_save_leaves_the_old_file(tmp_path):
    path = str(tmp_path / "train_epoch_1.pth")
    save_checkpoint(path, {"epoch": 1, "state_dict": {}, "optimizer": {}})
    with pytest.raises(Exception):
        save_checkpoint(path, {"epoch": 2, "state_dict": {}, "optimizer": {}, "bad": lambda: 0})  # unpicklable
    assert read_checkpoint(path)["epoch"] == 1 and os.listdir(tmp_path) == ["train_epoch_1.pth"]


def test_not_a_checkpoint(tmp_path):
    torch.save({"w": torch.ones(1)}, tmp_path / "bare.pth")
    with pytest.raises(ValueError, match="not a training checkpoint"):
        read_checkpoint(str(tmp_path / "bare.pth"))
    with pytest.raises(FileNotFoundError, match="TRAIN.resume"):
        read_checkpoint(str(tmp_path / "absent.pth"))


def test_rng_round_trip_through_a_file(tmp_path):
    torch.manual_seed(5)
    random.seed(5)
    save_checkpoint(str(tmp_path / "c.pth"), {"epoch": 0, "state_dict": {}, "optimizer": {}, "rng": [rng_state()]})
    expected = (torch.rand(3), random.random())
    set_rng_state(read_checkpoint(str(tmp_path / "c.pth"))["rng"][0])
    assert torch.equal(torch.rand(3), expected[0]) and random.random() == expected[1]


@pytest.mark.timeout(300)
def test_official_variant_checkpoints_load_with_load_semseg_checkpoint(tmp_path):
    """``backbone: semseg`` saves the official layout, which visual.load_semseg_checkpoint reads back."""
    import visual
    from segment_support import tiny_config
    from visual.segment.engine import train
    from visual.segment.model import build_model, load_weights
    from visual.segment.tiny import make_tiny_dataset

    torch.set_num_threads(1)
    make_tiny_dataset(str(tmp_path / "data"), count=4, size=33, val_count=1)
    config = tiny_config(str(tmp_path / "data"), str(tmp_path / "run"), "TRAIN.epochs=1", "TRAIN.backbone=semseg")
    train(config)
    path = tmp_path / "run" / "train_epoch_1.pth"
    state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    assert "module.layer0.0.weight" in state and "module.cls.4.weight" in state  # the official names
    loaded = visual.load_semseg_checkpoint(path, layers=18)
    built = build_model(config)
    load_weights(built, str(path), config["TRAIN"])
    x = torch.rand(1, 3, 33, 33)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x)["out"], built.eval()(x)["out"])
