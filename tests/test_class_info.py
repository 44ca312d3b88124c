"""visual/class_info.py: the shipped class names and palettes are the benchmarks' real ones."""

from __future__ import annotations

import json
from importlib import resources

import pytest
import torch

import visual
from visual.class_info import DATASETS, class_names, class_palette, class_source


def voc_colormap(n: int) -> list[list[int]]:
    """PASCAL VOC's colour map as its devkit builds it: the bits of the label, interleaved over RGB."""
    colours = []
    for label in range(n):
        r = g = b = 0
        c = label
        for shift in range(7, -1, -1):
            r |= ((c >> 0) & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        colours.append([r, g, b])
    return colours


@pytest.mark.parametrize("dataset, count", [("voc2012", 21), ("ade20k", 150), ("cityscapes", 19)])
def test_counts_and_types(dataset, count):
    names, palette = class_names(dataset), class_palette(dataset)
    assert len(names) == count == len(set(names))
    assert palette.shape == (count, 3) and palette.dtype == torch.uint8
    assert "hszhao/semseg" in class_source(dataset) and f"{dataset}_names.txt" in class_source(dataset)


def test_voc_names_and_palette():
    names = class_names("voc2012")
    assert names[0] == "background" and names[15] == "person" and names[20] == "tvmonitor"
    assert class_palette("voc2012").tolist() == voc_colormap(21)


def test_cityscapes_train_ids():
    # cityscapesScripts labels.py: trainId 0 road (128, 64, 128), 10 sky (70, 130, 180), 18 bicycle (119, 11, 32)
    names, palette = class_names("cityscapes"), class_palette("cityscapes")
    assert (names[0], names[10], names[18]) == ("road", "sky", "bicycle")
    assert palette[0].tolist() == [128, 64, 128] and palette[10].tolist() == [70, 130, 180]
    assert palette[18].tolist() == [119, 11, 32]


def test_ade20k_first_classes():
    # SceneParsing150 objectInfo150: 1 wall, 2 building, 3 sky, 4 floor, 5 tree (label 0 "other" dropped)
    assert class_names("ade20k")[:5] == ("wall", "building", "sky", "floor", "tree")
    palette = class_palette("ade20k").tolist()
    assert palette[:3] == [[120, 120, 120], [180, 120, 120], [6, 230, 230]]
    # the official palette gives road (6) and skyscraper (48) the same grey: shipped as it is
    assert palette[6] == palette[48] == [140, 140, 140] and len({tuple(c) for c in palette}) == 149


def test_files_are_package_data_with_sources():
    for dataset in DATASETS:
        data = json.loads(resources.files("visual").joinpath("class_data", f"{dataset}.json").read_text())
        assert data["num_classes"] == len(data["names"]) == len(data["palette"])
        assert data["source"] and data["ignore_index"] == 255


def test_top_level_names():
    assert visual.class_names is class_names and visual.class_palette is class_palette


@pytest.mark.parametrize("bad", ["pascal", "VOC2012", 21, None])
def test_unknown_dataset(bad):
    with pytest.raises(ValueError, match="dataset"):
        class_names(bad)
