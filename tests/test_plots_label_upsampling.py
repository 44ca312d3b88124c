"""Label-map pictures show the classes present, with fixed colours per class id."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from visual.class_info import class_palette
from visual.label_upsampling import toy_label_map, upsample_segmentation
from visual.plots.label_upsampling import draw_class_map, label_colours, plot_class_map, update_class_map


def test_label_map_legend_lists_present_classes():
    labels = upsample_segmentation(toy_label_map(), 16, "labels bilinear")
    ax = plot_class_map(labels)
    entries = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(entries) == len(labels.unique())
    assert "15 person" in entries and "0 background" in entries


def test_update_keeps_colours_and_marks_invented_classes():
    _, ax = plt.subplots()
    artists = draw_class_map(ax)
    update_class_map(artists, toy_label_map())
    assert len(artists.texts) == 64  # 8 x 8: every id written
    big = upsample_segmentation(toy_label_map(), 32, "labels bilinear")  # 1024 cells: no ids written
    update_class_map(artists, big, title="bilinear", invented=[4])
    assert artists.texts == [] and ax.get_title() == "bilinear"
    rgba = torch.as_tensor(artists.image.get_array())
    assert torch.allclose(rgba[0, 0].double(), torch.tensor(label_colours(range(21))[0], dtype=torch.float64))
    assert any(t.get_text().endswith("(invented)") for t in ax.get_legend().get_texts())


def test_label_colours_are_the_qualitative_voc_palette():
    palette = class_palette("voc2012").double() / 255.0  # (21, 3)
    colours = label_colours(range(21))
    for cid in (0, 8, 15):
        assert torch.allclose(torch.tensor(colours[cid][:3], dtype=torch.float64), palette[cid])
    assert len({colours[c] for c in range(21)}) == 21  # every class its own colour
    assert label_colours([300])[300] == (0.5, 0.5, 0.5, 1.0)  # beyond the palette: grey
