"""visual/plots/evaluation.py: the window grid and count map show what sliding_windows computes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from visual.inference import count_map, sliding_windows
from visual.plots.evaluation import draw_window_grid, plot_protocol_costs, plot_window_grid, \
    update_window_grid, window_grid_title


def photo(h=120, w=90):
    return torch.rand(3, h, w, generator=torch.Generator().manual_seed(0))


def test_draw_then_update_moves_every_artist():
    fig, (a, b) = plt.subplots(1, 2)
    artists = draw_window_grid(a, b, photo(), 65, 2 / 3)
    assert len(artists.windows.get_paths()) == len(sliding_windows(120, 90, 65, 2 / 3))
    np.testing.assert_array_equal(artists.counts.get_array(), count_map(120, 90, 65, 2 / 3).numpy())
    update_window_grid(artists, photo(), 129, 0.5)  # crop larger than the width: padded canvas 120 x 129
    assert len(artists.windows.get_paths()) == len(sliding_windows(120, 90, 129, 0.5)) == 1
    assert artists.counts.get_array().shape == (129, 129)
    assert artists.photo.get_array().shape == (129, 129, 3)
    assert a.get_title() == window_grid_title(120, 90, 129, 0.5)[0]
    assert a.get_xlim() == (-0.5, 128.5)


def test_padding_is_the_mean_colour():
    fig, (a, b) = plt.subplots(1, 2)
    artists = draw_window_grid(a, b, torch.zeros(3, 10, 97), 97, 1.0)
    pixels = artists.photo.get_array()
    np.testing.assert_allclose(pixels[0, 0], [0.485, 0.456, 0.406], rtol=1e-6)  # top padding
    np.testing.assert_allclose(pixels[50, 0], [0, 0, 0])  # the photo (rows 43..52)


def test_titles_count_by_hand():
    grid, counts = window_grid_title(512, 683, 473, 2 / 3)
    assert grid == "4 crops of 473x473 px (2 x 2), stride 316 px"
    assert counts == "windows per pixel: 1 to 4"


def test_static_plots():
    a, b = plot_window_grid(photo(), 97, 0.5)
    assert a.get_title().startswith(f"{len(sliding_windows(120, 90, 97, 0.5))} crops")
    ax = plot_protocol_costs(["whole", "sliding"], [0.1, 0.4], [1, 4])
    assert [t.get_text() for t in ax.texts] == ["0.10 s, 1 crops", "0.40 s, 4 crops"]
    with pytest.raises(ValueError, match="labels"):
        plot_protocol_costs(["a"], [1.0, 2.0], [1])
