"""Explorers of lesson 01: pure summaries checked against PyTorch; callbacks update the artists."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from visual import effective_rf_summary, explore_effective_rf, explore_gradient_rf, explore_gridding, \
    explore_receptive_field, sweep
from visual.widgets.receptive_field import gradient_rf_summary, gridding_summary, receptive_field_summary


@pytest.fixture(autouse=True)
def one_thread_and_close_figures():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # busy shared CPU: avoid intra-op threads spinning against each other
    yield
    torch.set_num_threads(threads)


# ---------------------------------------------------------------------------------------------
# Pure summaries
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("k,d,s,n", [(3, 1, 1, 3), (3, 2, 2, 4), (7, 4, 2, 5), (2, 3, 1, 2), (1, 1, 2, 5)])
def test_receptive_field_summary_matches_a_real_stack(k, d, s, n):
    summary = receptive_field_summary(k, d, s, n, input_size=97)
    padding = d * (k - 1) // 2
    stack = nn.Sequential(*(nn.Conv2d(1, 1, k, stride=s, padding=padding, dilation=d) for _ in range(n)))
    with torch.no_grad():
        out = stack(torch.zeros(1, 1, 97, 97))
    assert summary["output_size"] == out.shape[-1]
    assert summary["effective_kernel_size"] == d * (k - 1) + 1
    assert summary["jump"] == s**n
    assert summary["weights"] == sum(conv.weight.numel() for conv in stack)
    # rf from gradients of output pixel 0 when nothing is padded in the way
    plain = nn.Sequential(*(nn.Conv2d(1, 1, k, stride=s, dilation=d, bias=False) for _ in range(n)))
    x = torch.ones(1, 1, summary["rf"] + s**n, summary["rf"] + s**n, requires_grad=True)
    for conv in plain:
        nn.init.constant_(conv.weight, 1.0)
    (grad,) = torch.autograd.grad(plain(x)[0, 0, 0, 0], x)
    rows = grad[0, 0].abs().sum(dim=1).nonzero().flatten()
    assert summary["rf"] == int(rows[-1] - rows[0] + 1)


def test_receptive_field_summary_reports_collapse():
    # a 2-tap kernel without padding shrinks the input by one pixel per layer: 3, 2, 1, then nothing
    assert receptive_field_summary(2, 1, 1, 5, input_size=3)["output_size"] is None
    stack = nn.Sequential(*(nn.Conv2d(1, 1, 2) for _ in range(5)))
    with pytest.raises(RuntimeError):
        stack(torch.zeros(1, 1, 3, 3))


@pytest.mark.parametrize("rates", [(2, 2, 2), (1, 2, 5), (2, 4, 8), (1, 2, 9), (1, 3, 9), (3, 1, 1)])
def test_gridding_summary_counts_holes_like_pytorch(rates):
    x = torch.ones(1, 1, 1, 1, dtype=torch.float64)
    for r in reversed(rates):
        x = F.conv_transpose2d(x, torch.ones(1, 1, 3, 3, dtype=torch.float64), dilation=r)  # (1, 1, h, w)
    summary = gridding_summary(rates)
    assert summary["rf"] == x.shape[-1]
    assert summary["holes"] == int((x == 0).sum())
    assert summary["coverage"] == pytest.approx(float((x > 0).double().mean()))


def test_gridding_summary_hdc_verdicts():
    assert gridding_summary((1, 2, 5))["hdc"] is True and gridding_summary((1, 2, 9))["hdc"] is False
    assert gridding_summary((2, 4, 8))["hdc"] is False
    assert gridding_summary((1, 2, 5))["m2"] == 2  # Wang et al. (2018), Sec. 3.3.2
    assert all(gridding_summary(r)["rule_agrees"] for r in itertools.product(range(1, 6), repeat=3)
               if list(r) == sorted(r))


def test_gradient_rf_summary_trace_equals_gradients_over_the_whole_slider_range():
    for k, d, n in itertools.product(range(1, 6), range(1, 4), range(1, 5)):
        summary = gradient_rf_summary(k, d, n)
        assert summary["gradient_rf"] == summary["trace_rf"], (k, d, n)
        assert summary["trace_rf"][0] == 1 + n * d * (k - 1)


@pytest.mark.parametrize("n_layers", [1, 4, 9])
def test_uniform_linear_erf_is_binomial(n_layers):
    """Luo et al. (2016), Sec. 2.1: uniform weights, no non-linearity: the ERF is the n-fold
    convolution of the 3-tap box, whose variance is n * 2/3 per axis."""
    summary = effective_rf_summary(n_layers, activation="linear", weights="uniform")
    expected = math.sqrt(2 * n_layers / 3)
    assert summary["std"] == pytest.approx((expected, expected), rel=1e-5)
    assert summary["rf"] == 1 + 2 * n_layers


def test_erf_ratio_shrinks_with_depth():
    ratios = [effective_rf_summary(n, "relu", "random")["ratio"] for n in (2, 5, 10)]
    assert ratios[0] > ratios[1] > ratios[2]


# ---------------------------------------------------------------------------------------------
# Explorers: callbacks update artists in place; sweep drives every control
# ---------------------------------------------------------------------------------------------
def swept(explorer, steps: int = 5) -> int:
    """Sweep with draw_idle counted instead of rendered (Agg renders synchronously), then render once."""
    canvas = explorer.fig.canvas
    calls = []
    canvas.draw_idle = lambda *args, **kwargs: calls.append(1)
    changes = sweep(explorer, steps=steps)
    assert len(calls) == changes  # every change asked for a redraw
    del canvas.draw_idle
    canvas.draw()  # the final state renders without error
    return changes


def test_explore_receptive_field_updates_in_place():
    explorer = explore_receptive_field(kernel_size=3, dilation=1, stride=1, n_layers=2)
    ax_kernel, ax_cone = explorer.fig.axes
    kernel_image, cone = ax_kernel.images[0], ax_cone.images[0]
    before = (kernel_image.get_array().copy(), cone.get_array().shape, explorer.widget.children[1].value)
    explorer.controls["dilation"].value = 3
    explorer.controls["n_layers"].value = 4
    assert ax_kernel.images[0] is kernel_image and ax_cone.images[0] is cone  # same artists
    assert kernel_image.get_array().shape == (9, 9) and kernel_image.get_array().sum() == 9
    assert cone.get_array().shape == (5, 1 + 4 * 6)
    assert ax_kernel.patches[0].get_width() == 7
    assert ax_cone.texts[0].get_text() == "RF = 25 px"
    assert explorer.state["rf"] == 25 and explorer.state["output_size"] == 473
    assert explorer.widget.children[1].value != before[2] and "25 px" in explorer.widget.children[1].value
    assert swept(explorer) > 0


def test_explore_gridding_updates_in_place():
    explorer = explore_gridding((2, 2, 2))
    ax_map, ax_line = explorer.fig.axes[:2]
    image = ax_map.images[0]
    assert np.isnan(np.ma.getdata(image.get_array())).sum() == 120
    explorer.controls["rate1"].value = 1
    explorer.controls["rate3"].value = 5
    assert ax_map.images[0] is image
    assert not np.isnan(np.ma.getdata(image.get_array())).any()  # (1, 2, 5) has no holes
    assert explorer.state["holes"] == 0 and explorer.state["hdc"] is True
    assert "no holes" in ax_map.get_title()
    assert len(ax_line.get_lines()[1].get_xdata()) == 0  # no hole markers
    assert swept(explorer) > 0


def test_explore_gradient_rf_updates_in_place():
    explorer = explore_gradient_rf(3, 1, 2)
    ax = explorer.fig.axes[0]
    first = ax.images[0].get_array().copy()
    explorer.controls["dilation"].value = 2
    assert explorer.state["trace_rf"] == explorer.state["gradient_rf"] == (9, 9)
    assert ax.patches[0].get_width() == 9
    assert not np.array_equal(np.ma.getdata(first), np.ma.getdata(ax.images[0].get_array()), equal_nan=True)
    assert "equal" in explorer.widget.children[1].value
    assert swept(explorer, steps=3) > 0


def test_explore_effective_rf_updates_in_place():
    explorer = explore_effective_rf(n_layers=2)
    ax_map, ax_profile = explorer.fig.axes[:2]
    heat = ax_map.images[0].get_array().copy()
    explorer.controls["n_layers"].value = 6
    assert explorer.state["rf"] == 13 and ax_map.patches[0].get_width() == 13
    assert not np.array_equal(heat, ax_map.images[0].get_array())
    explorer.controls["weights"].value = "uniform"
    explorer.controls["activation"].value = "linear"
    assert explorer.state["std"][0] == pytest.approx(2.0, rel=1e-5)  # sqrt(2 * 6 / 3)
    assert "std" in ax_profile.get_title()
    assert swept(explorer, steps=3) > 0


@pytest.mark.parametrize(
    "builder,kwargs,match",
    [
        (explore_receptive_field, {"kernel_size": 0}, "kernel_size"),
        (explore_receptive_field, {"dilation": 9}, "dilation"),
        (explore_gridding, {"dilations": (1, 2)}, "three rates"),
        (explore_gridding, {"dilations": (1, 2, 10)}, "dilations"),
        (explore_receptive_field, {"n_layers": 6}, "n_layers"),
        (explore_receptive_field, {"stride": 3}, "stride"),
        (explore_gradient_rf, {"kernel_size": 6}, "kernel_size"),
        (explore_effective_rf, {"n_layers": 11}, "n_layers"),
        (explore_effective_rf, {"weights": "ones"}, "weights"),
        (explore_gridding, {"dilations": (1, 2, 0)}, "dilations.*\\[2\\]"),
        (explore_gradient_rf, {"n_layers": 7}, "n_layers"),
        (explore_effective_rf, {"activation": "tanh"}, "activation"),
    ],
)
def test_bad_initial_values(builder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        builder(**kwargs)
