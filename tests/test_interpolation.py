"""From-scratch linear / bilinear interpolation against PyTorch's F.interpolate (the reference)."""

from __future__ import annotations

import doctest
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import visual.interpolation as interp
from visual.interpolation import (
    bilinear_interpolate,
    bilinear_interpolate_gather,
    bilinear_interpolate_matmul,
    bilinear_neighbours,
    interpolation_matrix,
    linear_interpolate,
    linear_weights,
    resample_image,
    source_coordinates,
)

FLOAT64_MAX_ERROR = 1e-12  # the bound for float64
# Inputs in [-1, 1]. PyTorch computes the float32 source coordinate with a fused multiply-add
# (one rounding), we with two roundings: near powers of two the coordinate can differ by one
# float32 step (3.8e-6 px at 32..64), which moves an output by that step times the difference
# of its two neighbours (<= 2 here): within assert_close's float32 defaults (atol 1e-5).
VALUE_RANGE = 1.0
MAX_SIDE = 24  # input sides drawn by hypothesis
MAX_OUT = 80  # output sides drawn by hypothesis


def yx(x, size=None, scale_factor=None, align_corners=False):
    return bilinear_interpolate(x, size, scale_factor, align_corners, order="yx")


BILINEAR = {
    "separable": bilinear_interpolate,
    "separable_yx": yx,
    "gather": bilinear_interpolate_gather,
    "matmul": bilinear_interpolate_matmul,
}


def assert_matches(ours: torch.Tensor, reference: torch.Tensor) -> None:
    """assert_close at its defaults: float32 rtol 1.3e-6, atol 1e-5; float64 rtol 1e-7, atol 1e-7
    (PyTorch floors the coordinate in single precision even for float64, which moves a read
    that lies within float32 rounding of an integer, e.g. with scale_factor=3.0000000001)."""
    assert ours.shape == reference.shape and ours.dtype == reference.dtype
    torch.testing.assert_close(ours, reference)


@st.composite
def resize_case(draw, spatial_dims: int):
    """A random input, an output size or scale factor(s), align_corners and a dtype."""
    sides = [draw(st.integers(1, MAX_SIDE)) for _ in range(spatial_dims)]
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    align_corners = draw(st.booleans())
    one_number = draw(st.booleans())  # an int / float for every axis, or one per axis
    if draw(st.booleans()):
        outs = [draw(st.integers(1, MAX_OUT)) for _ in range(spatial_dims)]
        kwargs = {"size": outs[0] if one_number else outs}
    else:
        factor = st.one_of(
            st.floats(0.05, 6.0),  # anything, including < 1
            st.sampled_from([0.5, 1.0, 1.1, 1.5, 2.0, 3.0, 8.0, 1 / 3, 2 / 3, 0.25]),  # classics
        )
        factors = [draw(factor) for _ in range(spatial_dims)]
        factors = [factors[0]] * spatial_dims if one_number else factors
        assume(all(math.floor(side * f) >= 1 for side, f in zip(sides, factors)))  # F.interpolate needs >= 1
        kwargs = {"scale_factor": factors[0] if one_number else factors}
    batch, channels = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    x = (torch.rand(batch, channels, *sides, generator=generator, dtype=torch.float64) * 2 - 1) * VALUE_RANGE
    return x.to(dtype), kwargs, align_corners


PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(resize_case(spatial_dims=1))
def test_linear_interpolate_equals_pytorch(case):
    x, kwargs, align_corners = case
    reference = F.interpolate(x, mode="linear", align_corners=align_corners, **kwargs)
    assert_matches(linear_interpolate(x, align_corners=align_corners, **kwargs), reference)


@pytest.mark.parametrize("name", list(BILINEAR))
@PROPERTY_SETTINGS
@given(case=resize_case(spatial_dims=2))
def test_bilinear_variants_equal_pytorch(name, case):
    x, kwargs, align_corners = case
    reference = F.interpolate(x, mode="bilinear", align_corners=align_corners, **kwargs)
    assert_matches(BILINEAR[name](x, align_corners=align_corners, **kwargs), reference)


@pytest.mark.parametrize("name", list(BILINEAR))
@pytest.mark.parametrize(
    ("in_hw", "kwargs"),
    [
        ((60, 60), {"size": (473, 473)}),  # PSPNet: stride-8 features back to the input
        ((1, 1), {"size": (5, 3)}),  # input size 1
        ((7, 5), {"size": (1, 1)}),  # output size 1
        ((4, 9), {"size": (4, 9)}),  # same size: PyTorch copies
        ((5, 5), {"scale_factor": 1.1}),  # floor(5.5) = 5: same size again, copy
        ((9, 6), {"scale_factor": (0.5, 0.3)}),  # downsampling, non-square, output 1 wide
        ((3, 4), {"scale_factor": (2.5, 1.75)}),  # non-integer factors
        ((5, 5), {"scale_factor": 3.0000000001}),  # odd ratio close to an integer
        ((6, 7), {"size": (97, 13)}),  # prime output height: no equal row blocks
        ((5, 300), {"size": (7, 97)}),  # wide input
        ((3, 200), {"scale_factor": (2.0, 1.7)}),
    ],
)
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_bilinear_edge_cases(name, in_hw, kwargs, align_corners, dtype):
    x = (torch.rand(1, 2, *in_hw, generator=torch.Generator().manual_seed(0), dtype=dtype) * 2 - 1) * VALUE_RANGE
    reference = F.interpolate(x, mode="bilinear", align_corners=align_corners, **kwargs)
    assert_matches(BILINEAR[name](x, align_corners=align_corners, **kwargs), reference)


@pytest.mark.parametrize("name", list(BILINEAR))
def test_memory_layouts_and_empty_batch(name):
    g = torch.Generator().manual_seed(5)
    inputs = [
        torch.randn(2, 3, 5, 6, generator=g).to(memory_format=torch.channels_last),
        torch.randn(2, 3, 6, 5, generator=g).transpose(2, 3),  # a non-contiguous view
        torch.randn(0, 3, 5, 6, generator=g),  # empty batch, allowed by F.interpolate
    ]
    for x in inputs:
        reference = F.interpolate(x, size=(11, 13), mode="bilinear")
        assert_matches(BILINEAR[name](x, size=(11, 13)), reference)


def test_seed_examples():
    ramp = torch.tensor([[[10.0, 20.0]]])
    assert linear_interpolate(ramp, size=4).tolist() == [[[10.0, 12.5, 17.5, 20.0]]]
    square = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    # Hand maths, align_corners=False: sample positions 0, 0.25, 0.75, 1 on both axes.
    expected = torch.tensor(
        [[1.0, 1.25, 1.75, 2.0], [1.5, 1.75, 2.25, 2.5], [2.5, 2.75, 3.25, 3.5], [3.0, 3.25, 3.75, 4.0]]
    )
    assert torch.equal(bilinear_interpolate(square, size=4)[0, 0], expected)


def test_float32_pspnet_upsampling_within_default_tolerances():
    # PSPNet's last step, 21 class maps 60 x 60 -> 473 x 473, coordinates up to 59.
    x = torch.rand(1, 21, 60, 60, generator=torch.Generator().manual_seed(1)) * 2 - 1
    for align_corners in (False, True):
        reference = F.interpolate(x, size=473, mode="bilinear", align_corners=align_corners)
        for name, fn in BILINEAR.items():
            torch.testing.assert_close(fn(x, size=473, align_corners=align_corners), reference, msg=name)


def test_half_precision_close_to_pytorch():
    x = torch.rand(1, 3, 9, 11, generator=torch.Generator().manual_seed(2))
    for dtype in (torch.bfloat16, torch.float16):
        reference = F.interpolate(x.to(dtype), size=(20, 17), mode="bilinear")
        ours = bilinear_interpolate(x.to(dtype), size=(20, 17))
        assert ours.dtype == dtype
        torch.testing.assert_close(ours.float(), reference.float(), atol=1e-2, rtol=1e-2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("align_corners", [False, True])
def test_cuda_matches_pytorch(align_corners):
    x = torch.randn(2, 5, 60, 60, device="cuda")
    reference = F.interpolate(x, size=(473, 473), mode="bilinear", align_corners=align_corners)
    for name, fn in BILINEAR.items():
        out = fn(x, size=(473, 473), align_corners=align_corners)
        assert out.device == x.device, name
        torch.testing.assert_close(out, reference)


# ---------------------------------------------------------------- coordinates and weights
def test_source_coordinates_by_hand():
    assert source_coordinates(4, 2, False).tolist() == [0.0, 0.25, 0.75, 1.0]
    assert source_coordinates(4, 2, False, raw=True).tolist() == [-0.25, 0.25, 0.75, 1.25]
    assert source_coordinates(4, 2, True).tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1])
    assert source_coordinates(1, 4, False).tolist() == [1.5]  # the centre of the input
    assert source_coordinates(1, 4, True).tolist() == [0.0]
    assert source_coordinates(3, 6, False, scale_factor=0.5).tolist() == [0.5, 2.5, 4.5]


@settings(max_examples=80, deadline=None)
@given(
    out_size=st.integers(1, 120),
    in_size=st.integers(1, 40),
    align_corners=st.booleans(),
    factor=st.one_of(st.none(), st.floats(0.1, 8.0)),
)
def test_source_coordinates_are_where_pytorch_reads(out_size, in_size, align_corners, factor):
    # F.interpolate of the ramp 0..in-1 is exactly the (clamped) position each output reads.
    ramp = torch.arange(in_size, dtype=torch.float64)[None, None]
    if factor is not None:
        out_size = math.floor(in_size * factor)
        if out_size < 1:
            return
        positions = F.interpolate(ramp, scale_factor=factor, mode="linear", align_corners=align_corners)
    else:
        positions = F.interpolate(ramp, size=out_size, mode="linear", align_corners=align_corners)
    ours = source_coordinates(out_size, in_size, align_corners, factor)
    assert (ours - positions[0, 0]).abs().max() <= FLOAT64_MAX_ERROR * in_size


def test_align_corners_true_lands_feature_i_on_pixel_8i():
    coords = source_coordinates(473, 60, True)
    assert torch.equal(coords[::8], torch.arange(60, dtype=torch.float64))
    assert (coords != coords.round()).sum() == 473 - 60  # every other output pixel blends
    assert source_coordinates(60, 473, True, raw=True).tolist() == [8.0 * i for i in range(60)]


@settings(max_examples=60, deadline=None)
@given(out_size=st.integers(1, 60), in_size=st.integers(1, 30), align_corners=st.booleans())
def test_linear_weights_are_a_convex_pair(out_size, in_size, align_corners):
    w = linear_weights(out_size, in_size, align_corners)
    assert ((w.index1 - w.index0 == 1) | (w.index1 == w.index0)).all()
    assert w.index0.min() >= 0 and w.index1.max() <= in_size - 1
    assert ((w.weight0 >= 0) & (w.weight1 >= 0)).all()
    assert torch.allclose(w.weight0 + w.weight1, torch.ones(out_size, dtype=torch.float64))


@settings(max_examples=60, deadline=None)
@given(out_size=st.integers(1, 50), in_size=st.integers(1, 30), align_corners=st.booleans())
def test_interpolation_matrix_is_linear_interpolate(out_size, in_size, align_corners):
    a = interpolation_matrix(out_size, in_size, align_corners)
    x = torch.randn(in_size, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(in_size))
    reference = F.interpolate(x.T[None], size=out_size, mode="linear", align_corners=align_corners)[0].T
    assert (a @ x - reference).abs().max() <= FLOAT64_MAX_ERROR
    assert torch.allclose(a.sum(dim=1), torch.ones(out_size, dtype=torch.float64))
    assert ((a != 0).sum(dim=1) <= 2).all()


# ---------------------------------------------------------------- one point
def test_bilinear_neighbours_by_hand():
    weights = [n.weight for n in bilinear_neighbours(0.25, 0.5, 2, 2)]
    assert weights == pytest.approx([0.75 * 0.5, 0.25 * 0.5, 0.75 * 0.5, 0.25 * 0.5])
    at_corner = bilinear_neighbours(2.0, 1.0, 2, 3)  # bottom-right pixel: all weight on it
    assert [(n.row, n.col) for n in at_corner if n.weight > 0] == [(1, 2)]


@settings(max_examples=40, deadline=None)
@given(fx=st.floats(0, 1), fy=st.floats(0, 1))
def test_bilinear_neighbours_equal_grid_sample(fx, fy):
    image = torch.rand(5, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    x, y = fx * 6, fy * 4
    value = sum(n.weight * image[n.row, n.col].item() for n in bilinear_neighbours(x, y, 5, 7))
    # grid_sample (align_corners=True) maps -1..1 onto the corner pixel centres 0..W-1.
    grid = torch.tensor([[[[2 * x / 6 - 1, 2 * y / 4 - 1]]]], dtype=torch.float64)
    reference = F.grid_sample(image[None, None], grid, mode="bilinear", align_corners=True)
    assert value == pytest.approx(reference.item(), abs=1e-12)


# ---------------------------------------------------------------- photos
def test_resample_image_methods():
    image = torch.rand(3, 20, 16, generator=torch.Generator().manual_seed(4))
    for method in interp.RESAMPLING_METHODS:
        out = resample_image(image, (10, 8), method)
        assert out.shape == (3, 10, 8) and 0 <= out.min() and out.max() <= 1
    torch.testing.assert_close(resample_image(image, 7, "bilinear"), bilinear_interpolate(image[None], size=7)[0])
    # area = mean of 2x2 blocks when halving
    torch.testing.assert_close(resample_image(image, (10, 8), "area"),
                               image.unfold(1, 2, 2).unfold(2, 2, 2).mean(dim=(-1, -2)))


def test_matmul_refuses_nan_where_pytorch_keeps_it_local():
    x = torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(6))
    x[0, 0, 3, 3] = float("nan")
    reference = F.interpolate(x, size=8, scale_factor=None, mode="bilinear")  # same size: a copy
    assert int(reference.isnan().sum()) == 1
    spread = F.interpolate(x, size=16, mode="bilinear")
    assert 0 < int(spread.isnan().sum()) < 16 * 16 // 4  # a few neighbours, not whole rows
    assert int(bilinear_interpolate(x, size=16).isnan().sum()) == int(spread.isnan().sum())
    with pytest.raises(ValueError, match="x must contain only finite"):
        bilinear_interpolate_matmul(x, size=16)


# ---------------------------------------------------------------- bad input (more in test_bad_input_interpolation.py)
@pytest.mark.parametrize("fn", list(BILINEAR.values()))
def test_bilinear_refuses_what_pytorch_refuses(fn):
    x = torch.rand(1, 1, 4, 4)
    cases = [({"size": 8, "scale_factor": 2.0}, "exactly one"), ({}, "exactly one"), ({"size": (8, 8, 8)}, "size"),
             ({"size": 0}, "size"), ({"scale_factor": 0.1}, "scale_factor")]
    for kwargs, match in cases:
        with pytest.raises(Exception):  # noqa: B017 - PyTorch's own type varies
            F.interpolate(x, mode="bilinear", **kwargs)
        with pytest.raises(ValueError, match=match):
            fn(x, **kwargs)


def test_doctests():
    assert doctest.testmod(interp).failed == 0
