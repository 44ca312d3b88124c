"""visual.segment.evaluate: palettes and names; the ``test`` command end to end and with a stand-in model."""

import os

import numpy as np
import pytest
import torch
from PIL import Image

from segment_support import tiny_config
from visual.segment.evaluate import generated_palette, palette_from_file, names_from_file
from visual.segment.tiny import make_tiny_dataset

pytestmark = pytest.mark.timeout(120)  # every test here is small; the slow ones set their own


def test_generated_palette_is_voc_and_distinct():
    palette = generated_palette(256)
    assert palette[:4] == [(0, 0, 0), (128, 0, 0), (0, 128, 0), (128, 128, 0)]  # VOC's first colours
    assert palette[15] == (192, 128, 128) and len(set(palette)) == 256  # VOC class 15 (person)


def test_colors_and_names_files(tmp_path):
    (tmp_path / "c.txt").write_text("1 2 3\n4 5 6\n")
    (tmp_path / "n.txt").write_text("sky\nroad\n")
    assert palette_from_file(str(tmp_path / "c.txt"), 2) == [(1, 2, 3), (4, 5, 6)]
    assert palette_from_file(str(tmp_path / "absent.txt"), 2) == generated_palette(2)
    assert names_from_file(str(tmp_path / "n.txt"), 2) == ["sky", "road"] and names_from_file(None, 1) == ["class 0"]
    with pytest.raises(ValueError, match="TEST.colors_path"):
        palette_from_file(str(tmp_path / "c.txt"), 3)


@pytest.mark.timeout(300)
def test_test_command_writes_predictions_and_miou(tmp_path, capsys):
    from visual.segment.engine import train
    from visual.segment.evaluate import run_test

    torch.set_num_threads(1)
    make_tiny_dataset(str(tmp_path / "data"), count=4, size=33, val_count=2)
    model_path = tmp_path / "run" / "train_epoch_1.pth"
    config = tiny_config(str(tmp_path / "data"), str(tmp_path / "run"), "TRAIN.epochs=1",
                         f"TEST.model_path={model_path}", f"TEST.save_folder={tmp_path / 'out'}")
    train(config)
    result = run_test(config)
    printed = capsys.readouterr().out
    assert "Eval result: mIoU/mAcc/allAcc" in printed and "Class_2 result" in printed
    assert result["count"] == 2 and 0.0 <= result["mIoU"] <= 1.0
    for kind in ("gray", "color"):
        names = sorted(os.listdir(tmp_path / "out" / kind))
        assert names == ["tiny_0004.png", "tiny_0005.png"]
    gray = np.asarray(Image.open(tmp_path / "out" / "gray" / "tiny_0004.png"))
    color = Image.open(tmp_path / "out" / "color" / "tiny_0004.png")
    assert gray.shape == (33, 33) and gray.max() < 3 and color.mode == "P"
    assert np.array_equal(np.asarray(color), gray)  # palette indices are the class ids


def test_test_command_wiring_with_stand_ins(tmp_path, monkeypatch, capsys):
    """run_test with a stand-in for the probabilities (always class 1): scores by hand."""
    import visual.segment.evaluate as evaluate
    from visual.segment.evaluate import run_test

    calls = []

    def predict_probabilities(model, image, *, num_classes, **kwargs):
        calls.append(kwargs)
        probs = torch.zeros(num_classes, *image.shape[-2:])  # (K, H, W)
        probs[1] = 1.0
        return probs

    monkeypatch.setattr(evaluate, "predict_probabilities", predict_probabilities)
    make_tiny_dataset(str(tmp_path / "data"), count=1, size=17, val_count=2)
    config = tiny_config(str(tmp_path / "data"), str(tmp_path / "run"), "TEST.scales=[0.5, 1.0]",
                         f"TEST.save_folder={tmp_path / 'out'}", "TEST.has_prediction=False")
    model = tmp_path / "weights.pth"
    from visual.segment.model import build_model

    torch.save({"state_dict": build_model(config).state_dict()}, model)
    config["TEST"]["model_path"] = str(model)
    result = run_test(config)
    labels = [np.asarray(Image.open(tmp_path / "data" / "labels" / f"tiny_000{i}.png")) for i in (1, 2)]
    ones = sum(int((label == 1).sum()) for label in labels)
    assert result["iou"] == pytest.approx([0.0, ones / (2 * 17 * 17), 0.0])
    assert result["mIoU"] == pytest.approx(ones / (2 * 17 * 17) / 3)
    assert result["allAcc"] == pytest.approx(ones / (2 * 17 * 17))
    assert calls[0]["scales"] == (0.5, 1.0) and calls[0]["flip"] is True and calls[0]["crop_size"] == 33
    assert (np.asarray(Image.open(tmp_path / "out" / "gray" / "tiny_0001.png")) == 1).all()
    color = Image.open(tmp_path / "out" / "color" / "tiny_0002.png")
    assert color.mode == "P" and color.getpalette()[3:6] == [128, 0, 0]
    assert "Eval result: mIoU/mAcc/allAcc" in capsys.readouterr().out
