"""Segmentation metrics (visual.metrics): confusion matrix, IoU, mIoU, accuracy, evaluate.

Expected values come from the set definitions (|A & B| / |A | B|) and hand-built models.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from colour_code_support import ColourCode, Oracle
from visual.metrics import confusion_matrix, evaluate, segmentation_metrics


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


def test_negative_or_nan_confusion_is_refused():
    with pytest.raises(ValueError, match="confusion"):
        segmentation_metrics(torch.tensor([[3, -1], [0, 4]]))  # would give mIoU -0.125-like nonsense
    with pytest.raises(ValueError, match="confusion"):
        segmentation_metrics(torch.tensor([[3.0, math.nan], [0.0, 4.0]]))
