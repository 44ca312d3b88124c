"""visual/evaluation.py: the official metrics (semseg util.intersectionAndUnion, tool/test.py cal_acc),
checked by hand and against a numpy transcription of the official histogram formulas."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from visual.evaluation import EvaluationResult, evaluate_dataset, intersection_and_union, metrics_from_sums
from visual.inference import IMAGENET_MEAN, IMAGENET_STD


def official_counts(pred: np.ndarray, target: np.ndarray, k: int, ignore_index: int = 255):
    """util.intersectionAndUnion as its text defines it (np.histogram over bins 0..K)."""
    output = pred.reshape(-1).copy()
    target = target.reshape(-1)
    output[target == ignore_index] = ignore_index
    intersection = output[output == target]
    area_i, _ = np.histogram(intersection, bins=np.arange(k + 1))
    area_o, _ = np.histogram(output, bins=np.arange(k + 1))
    area_t, _ = np.histogram(target, bins=np.arange(k + 1))
    return area_i, area_o + area_t - area_i, area_t


def test_counts_by_hand_ignore_255():
    pred = torch.tensor([[0, 1, 2], [1, 1, 0]])
    target = torch.tensor([[0, 1, 1], [255, 1, 2]])
    # kept pixels (pred, target): (0,0) (1,1) (2,1) (1,1) (0,2); the (1, 255) pixel is left out
    inter, union, area = intersection_and_union(pred, target, 3)
    assert inter.tolist() == [1, 2, 0]
    assert area.tolist() == [1, 3, 1]
    assert union.tolist() == [2, 3, 2]  # class 0: pred {0, 4}, target {0}; class 1: ...; class 2: {2}, {4}
    assert inter.dtype == union.dtype == area.dtype == torch.int64


@pytest.mark.parametrize("seed", range(5))
def test_counts_equal_the_official_histograms(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 8))
    pred = rng.integers(0, k, size=(13, 17))
    target = rng.integers(0, k, size=(13, 17))
    target[rng.random((13, 17)) < 0.2] = 255
    got = intersection_and_union(torch.from_numpy(pred), torch.from_numpy(target), k)
    for ours, theirs in zip(got, official_counts(pred, target, k)):
        assert ours.tolist() == theirs.tolist()


def test_metrics_by_hand_with_an_absent_class():
    # class 2 never occurs and is never predicted: IoU 0 / (0 + 1e-10) = 0, counted in the mean
    result = metrics_from_sums(torch.tensor([3, 1, 0]), torch.tensor([4, 4, 0]), torch.tensor([4, 2, 0]))
    assert result.iou.tolist() == pytest.approx([0.75, 0.25, 0.0])
    assert result.acc.tolist() == pytest.approx([0.75, 0.5, 0.0])
    assert result.miou == pytest.approx((0.75 + 0.25) / 3)
    assert result.macc == pytest.approx((0.75 + 0.5) / 3)
    assert result.allacc == pytest.approx(4 / 6)


def test_table_and_html_name_the_classes():
    result = metrics_from_sums(torch.tensor([1, 0]), torch.tensor([2, 1]), torch.tensor([1, 1]),
                               class_names=["road", "sky <b>"])
    text = result.table()
    assert "mIoU 0.2500" in text and "road" in text and "0.5000" in text
    assert "sky &lt;b&gt;" in result._repr_html_() and str(result) == text
    assert isinstance(result, EvaluationResult)


class LabelFromRed(nn.Module):
    """Predicts class c where the red channel is near 100 * c (undoes the ImageNet normalisation)."""

    def __init__(self, num_classes: int, wrong: int | None = None) -> None:
        super().__init__()
        self.register_buffer("levels", torch.arange(num_classes, dtype=torch.float32).view(1, -1, 1, 1) * 100)
        self.wrong = wrong

    def forward(self, x):
        red = x[:, :1] * IMAGENET_STD[0] + IMAGENET_MEAN[0]  # (N, 1, H, W) in 0-255
        logits = -((red - self.levels) ** 2) / 100  # (N, K, H, W)
        if self.wrong is not None:  # always predict class `wrong`
            logits = torch.zeros_like(logits)
            logits[:, self.wrong] = 1.0
        return {"out": logits}


def item(label: torch.Tensor, as_float: bool = False):
    image = torch.zeros(3, *label.shape, dtype=torch.uint8)
    image[0] = (label.clamp(max=2) * 100).to(torch.uint8)
    return (image.float() / 255, label) if as_float else (image, label)


def protocol(size: int) -> dict:
    return dict(crop_size=size, base_size=size, flip=False)


def test_perfect_model_scores_one_except_absent_classes():
    labels = [torch.tensor([[0, 1], [1, 255]]), torch.tensor([[1, 1], [0, 0]])]
    data = [item(labels[0]), item(labels[1], as_float=True)]
    result = evaluate_dataset(LabelFromRed(3), data, num_classes=3, class_names=["a", "b", "c"], **protocol(2))
    assert result.iou.tolist() == pytest.approx([1.0, 1.0, 0.0])  # class 2 is absent: 0, as semseg
    assert result.miou == pytest.approx(2 / 3) and result.allacc == pytest.approx(1.0)
    assert result.target_area.tolist() == [3, 4, 0]  # the 255 pixel is not counted


def test_whole_set_sums_differ_from_per_image_means():
    big = torch.zeros(10, 10, dtype=torch.long)  # 100 pixels of class 0, predicted right
    small = torch.ones(2, 2, dtype=torch.long)  # 4 pixels of class 1, predicted as 0
    model = LabelFromRed(2, wrong=0)
    result = evaluate_dataset(model, [item(big), item(small)], num_classes=2, **protocol(10))
    assert result.allacc == pytest.approx(100 / 104)
    assert result.miou == pytest.approx((100 / 104 + 0) / 2)
    per_image = [evaluate_dataset(model, [item(x)], num_classes=2, **protocol(10)) for x in (big, small)]
    per_image_allacc = sum(r.allacc for r in per_image) / 2
    assert per_image_allacc == pytest.approx(0.5)  # 1 and 0: the small image weighs as much as the big one
    assert abs(per_image_allacc - result.allacc) > 0.4


def test_a_map_style_dataset_and_progress():
    class Data(torch.utils.data.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return item(torch.full((4, 4), index, dtype=torch.long))

    result = evaluate_dataset(LabelFromRed(2), Data(), num_classes=2, progress=True, **protocol(4))
    assert result.miou == pytest.approx(1.0)


def test_bad_dataset_items_are_named():
    with pytest.raises(ValueError, match="dataset label"):
        evaluate_dataset(LabelFromRed(2), [item(torch.zeros(4, 4, dtype=torch.long))[:1] + (torch.zeros(3, 3,
                         dtype=torch.long),)], num_classes=2, **protocol(4))
    with pytest.raises(ValueError, match="empty"):
        evaluate_dataset(LabelFromRed(2), [], num_classes=2)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        evaluate_dataset(LabelFromRed(2), [(torch.full((3, 4, 4), 2.0), torch.zeros(4, 4, dtype=torch.long))],
                         num_classes=2)


def test_labels_out_of_range_are_refused():
    with pytest.raises(ValueError, match="target"):
        intersection_and_union(torch.zeros(3, dtype=torch.long), torch.tensor([0, 7, 255]), 3)
    with pytest.raises(ValueError, match="pred"):
        intersection_and_union(torch.tensor([0, -1, 2]), torch.zeros(3, dtype=torch.long), 3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_counts_and_evaluation():
    pred, target = torch.randint(0, 4, (30, 30)), torch.randint(0, 4, (30, 30))
    cpu = intersection_and_union(pred, target, 4)
    gpu = intersection_and_union(pred.cuda(), target.cuda(), 4)
    assert all(torch.equal(a, b.cpu()) for a, b in zip(cpu, gpu))
    labels = torch.tensor([[0, 1], [1, 0]])
    result = evaluate_dataset(LabelFromRed(2).cuda(), [item(labels)], num_classes=2, **protocol(2))
    assert result.miou == pytest.approx(1.0)
