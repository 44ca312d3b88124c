"""Training loop, poly schedule, parameter groups and loss gradients (visual.train)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch
from torch import nn

from colour_code_support import ColourCode
from visual import PSPNet, SyntheticShapes
from visual.train import (
    CLASSROOM_TRAINING,
    PAPER_TRAINING,
    TrainConfig,
    poly_lr,
    train_model,
)


def test_paper_defaults():
    # Zhao et al. 2017, Sec. 5.1
    assert (PAPER_TRAINING.base_lr, PAPER_TRAINING.lr_power, PAPER_TRAINING.momentum,
            PAPER_TRAINING.weight_decay, PAPER_TRAINING.batch_size, PAPER_TRAINING.aux_weight) == (
        0.01, 0.9, 0.9, 1e-4, 16, 0.4)


@pytest.mark.parametrize("step, expected", [(0, 0.02), (25, 0.02 * 0.75**0.9), (99, 0.02 * 0.01**0.9), (100, 0.0)])
def test_poly_lr(step, expected):
    assert math.isclose(poly_lr(0.02, step, 100), expected, rel_tol=1e-12)


def test_poly_lr_bad_input():
    with pytest.raises(ValueError, match="steps"):
        poly_lr(0.01, 0, 0)
    with pytest.raises(ValueError, match="step"):
        poly_lr(0.01, 11, 10)


class PixelClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, kernel_size=1)
        self.aux_conv = nn.Conv2d(3, 3, kernel_size=1)

    def forward(self, x):
        out = {"out": self.conv(x)}
        if self.training:
            out["aux"] = self.aux_conv(x)
        return out


def test_train_learns_and_records_a_history():
    torch.manual_seed(0)
    model = PixelClassifier()
    config = TrainConfig(steps=40, batch_size=4, base_lr=0.5, eval_every=10, seed=0)
    history = train_model(model, ColourCode(40, seed=0), 3, config=config, val_dataset=ColourCode(8, seed=1),
                    progress=False)
    assert history.step == list(range(1, 41)) and len(history.loss) == 40
    torch.testing.assert_close(history.lr, [poly_lr(0.5, s, 40) for s in range(40)])  # poly, step by step
    assert history.eval_step == [10, 20, 30, 40]
    assert history.miou[-1] > 0.95 and history.metrics.miou == history.miou[-1]
    assert sum(history.loss[-5:]) < 0.5 * sum(history.loss[:5])
    assert history.train_seconds == sorted(history.train_seconds) and history.seconds > 0
    assert model.training


def test_train_uses_the_aux_loss_and_stops_at_target():
    torch.manual_seed(0)
    model = PixelClassifier()
    before = model.aux_conv.weight.detach().clone()
    config = TrainConfig(steps=200, batch_size=4, base_lr=0.5, eval_every=5, seed=0, stop_at_miou=0.9)
    history = train_model(model, ColourCode(40, seed=0), 3, config=config, val_dataset=ColourCode(8, seed=1),
                    progress=False)
    assert not torch.equal(model.aux_conv.weight, before)  # the auxiliary head received gradients
    assert history.miou[-1] >= 0.9 and len(history.step) < 200
    assert all(m < 0.9 for m in history.miou[:-1])


class TinySegmenter(nn.Module):
    """A backbone and the new layers of PSPNet's names (head, aux_head): two parameter groups."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Conv2d(3, 4, kernel_size=1)
        self.head = nn.Conv2d(4, 3, kernel_size=1)
        self.aux_head = nn.Conv2d(4, 3, kernel_size=1)

    def forward(self, x):
        features = self.backbone(x)
        return {"out": self.head(features), **({"aux": self.aux_head(features)} if self.training else {})}


def test_new_layers_learn_at_the_multiplied_poly_rate(monkeypatch):
    """semseg train.py: backbone at poly_lr(base_lr, ...), ppm/cls/aux at 10 x, every iteration."""
    seen = []
    original = torch.optim.SGD.step

    def recording_step(self, *args, **kwargs):
        seen.append([(len(g["params"]), g["lr"]) for g in self.param_groups])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.SGD, "step", recording_step)
    torch.manual_seed(0)
    config = TrainConfig(steps=7, batch_size=4, base_lr=0.02, lr_power=0.9, seed=0)
    assert config.head_lr_multiplier == PAPER_TRAINING.head_lr_multiplier == 10.0
    train_model(TinySegmenter(), ColourCode(8, seed=0), 3, config=config, progress=False)
    assert len(seen) == 7
    for step, groups in enumerate(seen):
        (n_old, lr_old), (n_new, lr_new) = groups
        assert (n_old, n_new) == (2, 4)  # backbone weight + bias; head and aux_head weights + biases
        assert math.isclose(lr_old, poly_lr(0.02, step, 7), rel_tol=1e-9)
        assert math.isclose(lr_new, poly_lr(10 * 0.02, step, 7), rel_tol=1e-9)


def test_train_is_deterministic_with_a_seed():
    def run():
        torch.manual_seed(0)
        model = PixelClassifier()
        return train_model(model, ColourCode(16, seed=0), 3, config=TrainConfig(steps=6, batch_size=4, seed=3),
                     progress=False).loss
    assert run() == run()


@pytest.mark.slow
def test_a_tiny_pspnet_run_makes_the_loss_fall():
    torch.manual_seed(0)
    model = PSPNet(3, backbone="resnet18")
    data = SyntheticShapes(2, 64, num_classes=3, seed=0)  # two images, seen again and again
    config = replace(CLASSROOM_TRAINING, steps=8, batch_size=2, base_lr=0.05, eval_every=None)
    history = train_model(model, data, 3, config=config, progress=False)
    assert history.loss[-1] < 0.6 * history.loss[0], history.loss


def test_train_bad_input():
    data = ColourCode(4, seed=0)
    with pytest.raises(TypeError, match="TrainConfig"):
        train_model(PixelClassifier(), data, 3, config={"steps": 3})
    with pytest.raises(ValueError, match="steps"):
        train_model(PixelClassifier(), data, 3, config=TrainConfig(steps=0))
    with pytest.raises(ValueError, match="fewer than one batch"):
        train_model(PixelClassifier(), data, 3, config=TrainConfig(steps=2, batch_size=8))
    with pytest.raises(ValueError, match="eval_every"):
        train_model(PixelClassifier(), data, 3, config=TrainConfig(steps=2, batch_size=2, eval_every=0))
