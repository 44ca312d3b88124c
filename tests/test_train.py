"""Training loop and metrics (visual.train)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.data import Dataset

from visual import PSPNet, SyntheticShapes
from visual.train import (
    CLASSROOM_TRAINING,
    PAPER_TRAINING,
    TrainConfig,
    confusion_matrix,
    evaluate,
    poly_lr,
    segmentation_metrics,
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


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 5), st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=60))
def test_confusion_matrix_counts_pairs(num_classes, pairs):
    pairs = [(t % num_classes, p % num_classes) for t, p in pairs]
    target = torch.tensor([t for t, _ in pairs])
    prediction = torch.tensor([p for _, p in pairs])
    expected = [[pairs.count((i, j)) for j in range(num_classes)] for i in range(num_classes)]
    assert confusion_matrix(prediction, target, num_classes).tolist() == expected


def test_confusion_matrix_skips_ignored_pixels_and_checks_labels():
    target = torch.tensor([[0, 255], [1, 1]])
    prediction = torch.tensor([[1, 0], [1, 0]])
    assert confusion_matrix(prediction, target, 2).tolist() == [[0, 1], [1, 1]]
    with pytest.raises(ValueError, match="target"):
        confusion_matrix(prediction, torch.tensor([[0, 2], [1, 1]]), 2)
    with pytest.raises(ValueError, match="shape"):
        confusion_matrix(prediction, target.flatten(), 2)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=80))
def test_metrics_against_set_definitions(pairs):
    target = torch.tensor([t for t, _ in pairs])
    prediction = torch.tensor([p for _, p in pairs])
    metrics = segmentation_metrics(confusion_matrix(prediction, target, 4))
    ious = []
    for k in range(4):
        truth = {i for i, (t, _) in enumerate(pairs) if t == k}
        guess = {i for i, (_, p) in enumerate(pairs) if p == k}
        union = truth | guess
        if union:
            ious.append(len(truth & guess) / len(union))
            assert math.isclose(metrics.iou[k].item(), ious[-1], rel_tol=1e-6)
        else:
            assert math.isnan(metrics.iou[k].item())  # absent classes do not count
    assert math.isclose(metrics.miou, sum(ious) / len(ious), rel_tol=1e-6)
    assert math.isclose(metrics.pixel_accuracy, sum(t == p for t, p in pairs) / len(pairs), rel_tol=1e-9)


def test_metrics_bad_input():
    with pytest.raises(ValueError, match="square"):
        segmentation_metrics(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="no pixels"):
        segmentation_metrics(torch.zeros(2, 2, dtype=torch.long))


class ColourCode(Dataset):
    """Images whose red channel encodes the label (label / 2); a 1x1 conv can learn it."""

    def __init__(self, length: int, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        self.targets = torch.randint(0, 3, (length, 9, 9), generator=g)
        noise = 0.02 * torch.randn(length, 3, 9, 9, generator=g)
        self.images = torch.cat([self.targets[:, None] / 2.0, torch.full((length, 2, 9, 9), 0.5)], 1) + noise

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i: int):
        return self.images[i], self.targets[i]


class Oracle(nn.Module):
    """Reads the label back from the red channel: a perfect segmenter for ColourCode."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(1.0))

    def forward(self, x):
        labels = (x[:, 0] * 2).round().long().clamp(0, 2)  # (N, H, W)
        return {"out": nn.functional.one_hot(labels, 3).permute(0, 3, 1, 2).float() * self.scale}


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


def test_evaluate_a_perfect_and_a_constant_model():
    data = ColourCode(10, seed=0)
    perfect = evaluate(Oracle(), data, 3, batch_size=4)
    assert perfect.miou == 1.0 and perfect.pixel_accuracy == 1.0
    assert perfect.confusion.sum() == 10 * 81

    class Zero(nn.Module):
        def forward(self, x):
            return {"out": torch.stack([torch.ones_like(x[:, 0]), torch.zeros_like(x[:, 0]),
                                        torch.zeros_like(x[:, 0])], 1)}

    constant = evaluate(Zero(), data, 3)
    background = (data.targets == 0).float().mean().item()
    # predicting class 0 everywhere: IoU_0 = |class 0| / |all|, IoU_1 = IoU_2 = 0
    assert math.isclose(constant.iou[0].item(), background, rel_tol=1e-6)
    assert constant.iou[1:].tolist() == [0.0, 0.0]
    assert math.isclose(constant.miou, background / 3, rel_tol=1e-6)
    assert math.isclose(constant.pixel_accuracy, background, rel_tol=1e-6)


def test_evaluate_accepts_batches_and_restores_the_mode():
    model = Oracle().train()
    data = ColourCode(4, seed=1)
    batches = [(data.images[:2], data.targets[:2]), (data.images[2:], data.targets[2:])]
    assert evaluate(model, batches, 3).miou == 1.0
    assert model.training


def test_train_learns_and_records_a_history():
    torch.manual_seed(0)
    model = PixelClassifier()
    config = TrainConfig(steps=40, batch_size=4, base_lr=0.5, eval_every=10, seed=0)
    history = train_model(model, ColourCode(40, seed=0), 3, config=config, val_dataset=ColourCode(8, seed=1),
                    progress=False)
    assert history.step == list(range(1, 41)) and len(history.loss) == 40
    assert history.lr == [poly_lr(0.5, s, 40) for s in range(40)]  # the poly schedule, step by step
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
