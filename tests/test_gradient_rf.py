"""``visual.gradient_rf``: gradient receptive fields equal ``trace``'s where they fit; the ERF; conv_stack."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
import torchvision
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch import nn

from stack_strategies import stacks
from visual.conv_arithmetic import gridding_count_map
from visual.gradient_rf import conv_stack, effective_receptive_field, erf_std, gradient_receptive_field
from visual.trace import trace


pytestmark = pytest.mark.usefixtures("one_torch_thread")




@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=stacks(), extra=st.integers(0, 12))
def test_rf_equals_gradient_rf_when_it_fits(model, extra):
    # size the input so the stack's receptive field fits around the centre unit
    try:
        probe = trace(model, 160)
    except ValueError:  # strides so large that 160 pixels are too few: not this test's concern
        assume(False)
    size = int(math.ceil(max(probe.rf))) * 2 + extra + 8
    t = trace(model, size)
    (out_h, _), row = t.size, t.output
    centre = out_h // 2
    low = row.start[0] + centre * row.stride[0] - (row.rf[0] - 1) / 2
    high = low + row.rf[0] - 1
    assume(low >= 0 and high <= size - 1)
    extent, grad_map = gradient_receptive_field(model, size, return_map=True)
    assert extent == t.rf
    rows_hit = (grad_map > 0).any(dim=1).nonzero().flatten()
    assert rows_hit[0].item() == low  # the field is where trace's ``start`` says


def test_gradient_rf_equals_trace_on_truncated_resnet():
    resnet = torchvision.models.resnet18(weights=None)
    stem_to_layer2 = nn.Sequential(*list(resnet.children())[:6])  # conv1 ... layer2
    assert gradient_receptive_field(stem_to_layer2, 161) == trace(stem_to_layer2, 161).rf == (99, 99)


def test_gradient_map_shows_gridding_holes():
    rates = (2, 2, 2)
    stack = nn.Sequential(*(nn.Conv2d(1, 1, 3, dilation=r) for r in rates))
    size = 31
    extent, grad_map = gradient_receptive_field(stack, size, return_map=True)
    rf = 1 + sum(2 * r for r in rates)
    assert extent == (rf, rf)
    lo = (size - rf) // 2 + 0  # no padding: centre output (6) sits at input 6 + 6
    counts = torch.tensor(gridding_count_map(3, rates), dtype=torch.float64)
    window = grad_map[lo:lo + rf, lo:lo + rf]
    assert torch.equal(window > 0, counts > 0)
    assert (counts == 0).any()  # there are holes
    # with weights 1/9 the gradient is the path count times (1/9) per layer
    torch.testing.assert_close(window, counts / 9 ** len(rates))


def test_gradient_rf_counts_every_residual_path():
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(2, 2, 3, padding=1), nn.ReLU(), nn.Conv2d(2, 2, 3, padding=1))
            self.skip = nn.Conv2d(2, 2, 1)

        def forward(self, x):
            return F.relu(self.body(x) + self.skip(x))

    model = Residual()
    t = trace(model, 15)
    assert t.rf == (5, 5)  # the body path wins over the 1x1 skip
    assert gradient_receptive_field(model, 15) == (5, 5)


def test_erf_std_of_known_distributions():
    line = torch.tensor([1.0, 2.0, 1.0])  # binomial(2, 1/2): variance 1/2
    assert erf_std(torch.outer(line, torch.ones(5))) == pytest.approx((math.sqrt(0.5), math.sqrt(2.0)))
    with pytest.raises(ValueError, match="non-negative"):
        erf_std(torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        erf_std(torch.ones(3))


def test_conv_stack_builds_what_it_says():
    stack = conv_stack([1, 2, 4], kernel_size=3, channels=4, in_channels=3, activation="relu", weights="uniform")
    convs = [m for m in stack if isinstance(m, nn.Conv2d)]
    assert [c.dilation for c in convs] == [(1, 1), (2, 2), (4, 4)]
    assert [c.padding for c in convs] == [(1, 1), (2, 2), (4, 4)]
    assert convs[0].in_channels == 3 and all(c.out_channels == 4 for c in convs)
    assert torch.all(convs[0].weight == 1 / 27) and convs[0].bias is None
    assert trace(stack, 32).rf == (15, 15) and trace(stack, 32).size == (32, 32)
    a = conv_stack([1, 1], channels=2, seed=3)
    b = conv_stack([1, 1], channels=2, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    bound = 1 / math.sqrt(2 * 9)  # PyTorch's default init bound for fan_in = 18
    assert a.conv2.weight.abs().max() <= bound
    with pytest.raises(ValueError, match="activation"):
        conv_stack([1], activation="tanh")
    with pytest.raises(ValueError, match="dilation"):
        conv_stack([0])




def test_erf_of_one_uniform_conv_is_its_kernel_footprint():
    # linear, weights 1/9: d unit / d input = 1/9 on the 3x3 window around the centre, 0 elsewhere
    heat = effective_receptive_field(conv_stack([2], weights="uniform"), 11, n_samples=3)
    expected = torch.zeros(11, 11)
    expected[3:8:2, 3:8:2] = 1.0  # dilation 2: taps at 3, 5, 7
    torch.testing.assert_close(heat, expected)
