"""visual.segment.evaluate: palettes and names; the ``test`` command once the evaluation issue is merged."""

import os

import numpy as np
import pytest
import torch
from PIL import Image

from segment_support import tiny_config
from visual.segment.evaluate import generated_palette, palette_from_file, names_from_file
from visual.segment.tiny import make_tiny_dataset


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
    pytest.importorskip("visual.inference")
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
