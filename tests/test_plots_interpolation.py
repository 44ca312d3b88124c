"""Plot helpers of the interpolation lesson draw what PyTorch computes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F

from visual.interpolation import interpolation_matrix
from visual.plots.interpolation import (
    draw_feature_alignment,
    draw_resampling,
    plot_bilinear_neighbours,
    plot_feature_alignment,
    plot_interpolation_matrix,
    plot_linear_interpolation,
    plot_resampling_comparison,
    plot_sample_grids,
    plot_timings,
    plot_values,
    update_feature_alignment,
    update_resampling,
)
from visual.interpolation import resample_image


def _line(ax, label_start):
    return next(line for line in ax.get_lines() if line.get_label().startswith(label_start))


@pytest.mark.parametrize("align_corners", [False, True])
def test_linear_plot_outputs_are_pytorchs(align_corners):
    values = [10.0, 20.0, 15.0, 5.0]
    _, ax = plt.subplots()
    assert plot_linear_interpolation(values, 7, align_corners=align_corners, ax=ax) is ax
    outputs = _line(ax, "output samples")
    reference = F.interpolate(torch.tensor([[values]], dtype=torch.float64), size=7, mode="linear",
                              align_corners=align_corners)[0, 0]
    assert list(outputs.get_ydata()) == pytest.approx(reference.tolist(), abs=1e-12)
    # each output sits on the line through the inputs at its x position
    on_line = torch.tensor(list(outputs.get_xdata()), dtype=torch.float64)
    assert list(outputs.get_ydata()) == pytest.approx(
        torch.from_numpy(__import__("numpy").interp(on_line.numpy(), range(4), values)).tolist(), abs=1e-9)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None


def test_sample_grids_edges_and_corners():
    ax = plot_sample_grids(4, 8, align_corners=False)
    centres = _line(ax, "output pixel centres")
    xs = sorted(set(centres.get_xdata()))
    assert len(centres.get_xdata()) == 64 and xs[0] == pytest.approx(-0.25) and xs[-1] == pytest.approx(3.25)
    ax = plot_sample_grids(4, 8, align_corners=True)
    xs = sorted(set(_line(ax, "output pixel centres").get_xdata()))
    assert xs[0] == pytest.approx(0.0) and xs[-1] == pytest.approx(3.0)  # corner centres coincide
    assert "align_corners=True" in ax.get_title()


def test_bilinear_neighbours_plot_value():
    image = torch.arange(16.0).view(4, 4)
    ax = plot_bilinear_neighbours(image, 1.3, 2.6)
    grid = torch.tensor([[[[2 * 1.3 / 3 - 1, 2 * 2.6 / 3 - 1]]]])
    expected = F.grid_sample(image[None, None], grid, align_corners=True).item()
    assert f"{expected:.3f}" in ax.get_title()


def test_interpolation_matrix_plot_shows_the_matrix():
    matrix = interpolation_matrix(8, 4, False)
    ax = plot_interpolation_matrix(matrix)
    assert torch.equal(torch.as_tensor(ax.get_images()[0].get_array().data), matrix)
    assert "14 non-zeros" in ax.get_title()  # 8 rows, 2 non-zeros each, minus the 2 clamped rows


def test_resampling_plots():
    image = torch.rand(3, 32, 24, generator=torch.Generator().manual_seed(0))
    _, ax = plt.subplots()
    artists = draw_resampling(ax)
    update_resampling(artists, resample_image(image, 8, "area"), "area")
    shown = torch.as_tensor(artists.image.get_array().data).permute(2, 0, 1)
    torch.testing.assert_close(shown, F.adaptive_avg_pool2d(image[None], 8)[0])
    axes = plot_resampling_comparison(image, 8)
    assert len(axes) == 5 and all(a.get_images() for a in axes)
    _, two = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="axes"):
        plot_resampling_comparison(image, 8, axes=list(two))


def test_feature_alignment_plot():
    ax = plot_feature_alignment(473, 8, align_corners=True)
    assert "up to 0.00 px" in ax.get_title()
    _, ax = plt.subplots()
    artists = draw_feature_alignment(ax)
    update_feature_alignment(artists, 473, 8, True)
    heights = artists.heads.get_ydata()
    assert len(heights) == 60 and max(abs(h) for h in heights) == 0.0
    update_feature_alignment(artists, 512, 8, True)  # 64 features over 511 px: the last at 511, not 504
    assert list(artists.heads.get_ydata())[-1] == pytest.approx(511 - 8 * 63)


def test_timings_plot_ratios():
    ax = plot_timings({"F.interpolate": 200.0, "ours": 100.0}, reference="F.interpolate")
    texts = [t.get_text() for t in ax.texts]
    assert any("(0.50\u00d7)" in t for t in texts)
    assert ax.get_xlabel() == "median time (ms)"


def test_values_plot_writes_every_value():
    image = torch.tensor([[1.0, 1.25], [2.5, 4.0]])
    ax = plot_values(image, title="four values")
    assert sorted(t.get_text() for t in ax.texts) == ["1", "1.25", "2.5", "4"]
    assert torch.equal(torch.as_tensor(ax.get_images()[0].get_array().data), image.double())
    assert ax.get_title() == "four values"
