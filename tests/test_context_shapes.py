"""visual.ContextShapes, PerPixelNet and TrainConfig.patience (early stopping keeps the best weights)."""

import dataclasses

import pytest
import torch

import visual
from visual.context_shapes import ContextShapes, PerPixelNet
from visual.train import CLASSROOM_TRAINING, TrainConfig


def test_contract_and_determinism():
    data = ContextShapes(6, split="val", seed=3)
    image, label = data[2]
    assert image.shape == (3, 32, 512) and image.dtype == torch.float32 and label.dtype == torch.long
    assert 0 <= image.min() and image.max() <= 1
    assert data.num_classes == len(data.class_names) == 5 and data.context_classes == (3, 4)
    torch.testing.assert_close(ContextShapes(6, split="val", seed=3)[2][0], image)
    assert set(label.unique().tolist()) <= set(range(5))


def test_splits_are_disjoint():
    images = {split: torch.stack([ContextShapes(8, split=split)[i][0] for i in range(8)])
              for split in ("train", "val", "test")}
    for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
        assert not any(torch.equal(x, y) for x in images[a] for y in images[b])


def test_context_decides_and_band_is_far():
    data = ContextShapes(40, seed=1)
    for i in range(len(data)):
        _, label = data[i]
        scene = 1 if (label == 1).any() else 2
        assert (label == (1 if scene == 2 else 2)).sum() == 0  # one scene per image
        objects = set(label.unique().tolist()) & {3, 4}
        assert objects == {scene + 2}  # boats with water, cars with road
        band = (label == scene).any(dim=0).nonzero().flatten()
        obj = (label >= 3).any(dim=0).nonzero().flatten()
        assert min(abs(int(o) - int(b)) for o in obj[[0, -1]] for b in band[[0, -1]]) >= data.cue_distance


@pytest.mark.parametrize("kwargs, error", [({"split": "dev"}, ValueError), ({"size": (32, 64)}, ValueError),
                                           ({"num_images": -1}, ValueError), ({"seed": 1.5}, TypeError)])
def test_bad_arguments(kwargs, error):
    with pytest.raises(error):
        ContextShapes(**kwargs)


def test_per_pixel_net_and_patience_keeps_best(one_torch_thread):
    torch.manual_seed(0)
    model = PerPixelNet(5, hidden=4)
    assert model(torch.rand(2, 3, 8, 9))["out"].shape == (2, 5, 8, 9)
    config = dataclasses.replace(CLASSROOM_TRAINING, steps=12, batch_size=2, eval_every=2, stop_at_miou=None,
                                 patience=1, base_lr=0.5)
    history = visual.train_model(model, ContextShapes(8), 5, config=config, val_dataset=ContextShapes(2, split="val"),
                                 progress=False)
    best = max(history.miou)
    assert history.metrics.miou == best and history.best_step == history.eval_step[history.miou.index(best)]
    assert history.eval_step[-1] - history.best_step <= config.eval_every  # stopped after 1 stale evaluation
    again = visual.evaluate(model.eval(), ContextShapes(2, split="val"), 5)
    assert again.miou == pytest.approx(best)  # the best weights were restored
    with pytest.raises(ValueError):
        TrainConfig(patience=0)
