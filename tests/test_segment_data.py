"""visual.segment.data: list files, labels (palette and grey), clear errors naming the line."""

import numpy as np
import pytest
import torch
from PIL import Image

from visual.segment.data import SegmentationList, read_list
from visual.segment.tiny import make_tiny_dataset

pytestmark = pytest.mark.timeout(120)  # every test here is small; the slow ones set their own


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    make_tiny_dataset(str(root), count=4, size=17, val_count=0)
    return root


def test_reads_images_and_palette_or_grey_labels(tiny):
    dataset = SegmentationList(str(tiny / "list" / "train.txt"), str(tiny))
    assert len(dataset) == 4
    for index, entry in enumerate(dataset.entries):
        image, mask = dataset[index]
        with Image.open(entry.label) as picture:
            assert picture.mode == ("P" if index % 2 else "L")
            expected = np.asarray(picture)  # palette indices / grey values
        assert image.shape == (3, 17, 17) and image.dtype == torch.uint8
        assert torch.equal(mask, torch.from_numpy(expected.astype(np.int64)))
        assert set(mask.unique().tolist()) <= {0, 1, 2}


def _write_list(tiny, lines):
    path = tiny / "list" / "bad.txt"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


GOOD = "images/tiny_0000.png labels/tiny_0000.png"


def test_missing_file_names_the_line(tiny):
    path = _write_list(tiny, [GOOD, "images/nope.png labels/tiny_0000.png"])
    with pytest.raises(FileNotFoundError, match=r"bad.txt line 2: no file .*nope.png"):
        read_list(path, str(tiny))


def test_malformed_line_names_the_line(tiny):
    path = _write_list(tiny, [GOOD, "", "images/tiny_0001.png"])
    with pytest.raises(ValueError, match="bad.txt line 3: expected 'image_path label_path'"):
        read_list(path, str(tiny))


def test_size_mismatch_names_the_line(tiny):
    Image.fromarray(np.zeros((16, 17), dtype=np.uint8)).save(tiny / "labels" / "short.png")
    path = _write_list(tiny, [GOOD, "images/tiny_0001.png labels/short.png"])
    dataset = SegmentationList(path, str(tiny))
    with pytest.raises(ValueError, match=r"bad.txt line 2: image .* is 17x17 but label .* is 16x17"):
        dataset[1]


def test_corrupted_image_names_the_line(tiny):
    (tiny / "images" / "broken.png").write_bytes(b"not a png at all")
    path = _write_list(tiny, ["images/broken.png labels/tiny_0000.png"])
    with pytest.raises(ValueError, match="bad.txt line 1: cannot read image"):
        SegmentationList(path, str(tiny))[0]


def test_rgb_label_and_out_of_range_label_are_refused(tiny):
    Image.fromarray(np.zeros((17, 17, 3), dtype=np.uint8)).save(tiny / "labels" / "rgb.png")
    Image.fromarray(np.full((17, 17), 7, dtype=np.uint8)).save(tiny / "labels" / "seven.png")
    path = _write_list(tiny, ["images/tiny_0000.png labels/rgb.png", "images/tiny_0000.png labels/seven.png"])
    dataset = SegmentationList(path, str(tiny), classes=3)
    with pytest.raises(ValueError, match="line 1: label .* single-channel"):
        dataset[0]
    with pytest.raises(ValueError, match=r"line 2: label .* has value 7; labels must be 0..2"):
        dataset[1]
