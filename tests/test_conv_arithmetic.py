"""Conv arithmetic against PyTorch: output sizes, receptive fields, dilated footprints, HDC."""

from __future__ import annotations

import doctest
import itertools

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import visual.conv_arithmetic as ca
from visual.conv_arithmetic import (
    conv_output_size,
    dilated_footprint,
    effective_kernel_size,
    gridding_count_map,
    has_holes,
    hdc_max_distance,
    receptive_field_cone,
    satisfies_hdc,
    stack_receptive_field,
)


def test_doctests():
    assert doctest.testmod(ca).failed == 0


@settings(max_examples=150, deadline=None)
@given(
    size=st.integers(1, 40), k=st.integers(1, 7), s=st.integers(1, 4),
    p=st.integers(0, 4), d=st.integers(1, 4),
)
def test_conv_output_size_matches_conv2d(size, k, s, p, d):
    conv = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
    x = torch.zeros(1, 1, size, 3 * d * (k - 1) + 1)  # width always large enough
    if size + 2 * p < d * (k - 1) + 1:
        with pytest.raises(RuntimeError):
            conv(x)
        with pytest.raises(ValueError, match="input too small"):
            conv_output_size(size, k, s, p, d)
    else:
        assert conv_output_size(size, k, s, p, d) == conv(x).shape[-2]


@settings(max_examples=150, deadline=None)
@given(
    size=st.integers(1, 40), k=st.integers(1, 6), s=st.integers(1, 4), d=st.integers(1, 3),
    data=st.data(), ceil_mode=st.booleans(),
)
def test_conv_output_size_matches_pooling(size, k, s, d, data, ceil_mode):
    p = data.draw(st.integers(0, k // 2))  # PyTorch requires padding <= kernel_size / 2
    k_eff = d * (k - 1) + 1
    if size + 2 * p < k_eff:
        with pytest.raises(ValueError, match="effective kernel size"):
            conv_output_size(size, k, s, p, d, ceil_mode)
        return
    x = torch.zeros(1, 1, size, size)
    expected = F.max_pool2d(x, k, s, p, d, ceil_mode=ceil_mode).shape[-1]
    assert conv_output_size(size, k, s, p, d, ceil_mode) == expected
    if size + 2 * p >= k:  # average pooling has no dilation
        expected_avg = F.avg_pool2d(x, k, s, p, ceil_mode=ceil_mode).shape[-1]
        assert conv_output_size(size, k, s, p, 1, ceil_mode) == expected_avg


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"kernel_size": 0}, "kernel_size"),
        ({"padding": -1}, "padding"),
        ({"dilation": 0}, "dilation"),
        ({"stride": 0}, "stride"),
        ({"size": 0}, "size"),
        ({"size": 2, "kernel_size": 3}, "input too small"),
    ],
)
def test_conv_output_size_rejects_bad_values(kwargs, match):
    args = {"size": 10, "kernel_size": 3} | kwargs
    with pytest.raises(ValueError, match=match):
        conv_output_size(**args)


def test_conv_output_size_rejects_bad_types():
    with pytest.raises(TypeError, match="kernel_size"):
        conv_output_size(10, 3.0)
    with pytest.raises(TypeError, match="size"):
        conv_output_size(True, 3)
    with pytest.raises(TypeError, match="ceil_mode"):
        conv_output_size(10, 3, ceil_mode="yes")


@given(k=st.integers(1, 9), d=st.integers(1, 9))
def test_effective_kernel_size_is_the_span_of_a_dilated_kernel(k, d):
    # the span of the non-zero taps of PyTorch's dilated kernel, measured on a delta input
    delta = torch.zeros(1, 1, 1, 64)
    delta[..., 0] = 1.0
    weight = torch.ones(1, 1, 1, k)
    footprint = F.conv_transpose2d(delta, weight, dilation=(1, d))[0, 0, 0]  # (64 + d(k-1),)
    assert effective_kernel_size(k, d) == int(footprint[: d * (k - 1) + 5].nonzero().max()) + 1


def test_effective_kernel_size_errors():
    with pytest.raises(ValueError, match="dilation"):
        effective_kernel_size(3, 0)
    with pytest.raises(ValueError, match="kernel_size"):
        effective_kernel_size(0, 1)


@settings(max_examples=40, deadline=None)
@given(layers=st.lists(st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 3)), min_size=1, max_size=5))
def test_stack_receptive_field_matches_gradients(layers):
    """RF from the recurrence == extent of the input gradient of one output of a real stack."""
    kernels, strides, dilations = (list(v) for v in zip(*layers))
    steps = stack_receptive_field(kernels, strides, dilations)
    rf = steps[-1].rf
    stack = nn.Sequential(*(nn.Conv1d(1, 1, k, stride=s, dilation=d, bias=False) for k, s, d in layers))
    for conv in stack:
        nn.init.constant_(conv.weight, 1.0)
    x = torch.ones(1, 1, rf + 2 * steps[-1].jump, dtype=torch.float64, requires_grad=True)
    out = stack.double()(x)
    (grad,) = torch.autograd.grad(out[0, 0, 0], x)
    hits = grad[0, 0].nonzero().flatten()
    assert rf == int(hits[-1] - hits[0] + 1)
    jump = 1
    for step, s in zip(steps, strides):
        jump *= s
        assert step.jump == jump


def test_stack_receptive_field_growth_rule():
    steps = stack_receptive_field([3, 3, 3, 3], strides=[2, 1, 2, 1], dilations=[1, 2, 1, 3])
    # rf grows by (k_eff - 1) * jump of the layer's input: 2*1, 4*2, 2*2, 6*4
    assert [s.rf for s in steps] == [3, 3 + 8, 11 + 4, 15 + 24]
    assert [s.effective_kernel_size for s in steps] == [3, 5, 3, 7]
    with pytest.raises(ValueError, match="strides"):
        stack_receptive_field([3, 3], strides=[1])
    with pytest.raises(ValueError, match="dilations\\[1\\]"):
        stack_receptive_field([3, 3], dilations=[1, 0])


def _torch_count_map(kernel_size: int, rates: list[int]) -> torch.Tensor:
    """Paths from each input pixel to one output: push a delta back through all-ones dilated convs."""
    x = torch.ones(1, 1, 1, 1, dtype=torch.float64)
    for r in reversed(rates):
        x = F.conv_transpose2d(x, torch.ones(1, 1, kernel_size, kernel_size, dtype=torch.float64),
                               dilation=r)  # (1, 1, grown, grown)
    return x[0, 0]


@settings(max_examples=40, deadline=None)
@given(k=st.integers(1, 4), rates=st.lists(st.integers(1, 5), min_size=1, max_size=4))
def test_gridding_count_map_matches_pytorch(k, rates):
    expected = _torch_count_map(k, rates)
    counts = torch.tensor(gridding_count_map(k, rates), dtype=torch.float64)
    torch.testing.assert_close(counts, expected)
    assert has_holes(k, rates) == bool((expected == 0).any())
    line = torch.tensor(dilated_footprint(k, rates), dtype=torch.float64)
    torch.testing.assert_close(torch.outer(line, line), expected)
    assert len(dilated_footprint(k, rates)) == stack_receptive_field([k] * len(rates), dilations=rates)[-1].rf


def test_gridding_examples_from_wang_et_al():
    assert has_holes(3, [2, 2, 2]) and has_holes(3, [2, 4, 8])
    assert not has_holes(3, [1, 2, 5])
    # Wang et al. (2018), Sec. 3.3.2: for K = 3, [1, 2, 5] works (M_2 = 2), [1, 2, 9] does not (M_2 = 5)
    assert hdc_max_distance([1, 2, 5]) == 2 and satisfies_hdc([1, 2, 5], 3)
    assert hdc_max_distance([1, 2, 9]) == 5 and not satisfies_hdc([1, 2, 9], 3)
    assert has_holes(3, [1, 2, 9])
    assert not satisfies_hdc([2, 4, 8], 3)  # common factor 2: the first rate is not 1


def test_hdc_rule_agrees_with_the_count_map_for_3x3_kernels():
    """For K = 3 and increasing rates, the HDC rule predicts holes exactly (checked exhaustively)."""
    checked = 0
    for n in (2, 3, 4):
        for rates in itertools.combinations_with_replacement(range(1, 10), n):
            has_hole_by_counting = bool((_torch_count_map(3, list(rates)) == 0).any())
            assert satisfies_hdc(rates, 3) == (not has_hole_by_counting), rates
            checked += 1
    assert checked > 500


def test_hdc_errors():
    with pytest.raises(ValueError, match="between 2 and"):
        hdc_max_distance([3])
    with pytest.raises(ValueError, match="dilations\\[1\\]"):
        satisfies_hdc([1, 0, 2])


@settings(max_examples=40, deadline=None)
@given(layers=st.lists(st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3)), min_size=1, max_size=4))
def test_receptive_field_cone_counts_paths_like_autograd(layers):
    """Every row of the cone equals d(output unit)/d(activation) of a real all-ones conv stack."""
    kernels, strides, dilations = (list(v) for v in zip(*layers))
    rows = receptive_field_cone(kernels, strides, dilations)
    steps = stack_receptive_field(kernels, strides, dilations)
    rf = steps[-1].rf
    x = torch.ones(1, 1, rf, dtype=torch.float64, requires_grad=True)
    activations, h = [x], x
    for k, s, d in layers:
        h = F.conv1d(h, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)  # (1, 1, L)
        activations.append(h)
    assert h.shape[-1] == 1  # the input is exactly one receptive field
    grads = torch.autograd.grad(h[0, 0, 0], activations[:-1])
    jumps, rfs = [1] + [s.jump for s in steps], [1] + [s.rf for s in steps]
    for layer, grad in enumerate(grads):
        expected = [0] * rf
        for index, value in enumerate(grad[0, 0].tolist()):
            expected[index * jumps[layer] + (rfs[layer] - 1) // 2] += int(value)
        assert rows[layer] == expected, layer
    assert rows[-1] == [1 if i == (rf - 1) // 2 else 0 for i in range(rf)]
