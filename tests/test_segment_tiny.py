"""visual.segment.tiny: the generated dataset is in the official layout."""

import numpy as np
import pytest
from PIL import Image

from visual.segment.data import read_list
from visual.segment.tiny import TINY_CLASSES, make_tiny_dataset

pytestmark = pytest.mark.timeout(120)  # every test here is small; the slow ones set their own


def test_layout_and_labels(tmp_path):
    train_list = make_tiny_dataset(str(tmp_path), count=3, size=16, val_count=1)
    entries = read_list(train_list, str(tmp_path))
    assert len(entries) == 3 and len(read_list(str(tmp_path / "list" / "val.txt"), str(tmp_path))) == 1
    for entry in entries:
        label = np.asarray(Image.open(entry.label))
        assert label.shape == (16, 16) and set(np.unique(label)) <= set(range(TINY_CLASSES))
        assert Image.open(entry.image).mode == "RGB"
