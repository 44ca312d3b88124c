"""From-scratch linear / bilinear interpolation against PyTorch's F.interpolate (the reference)."""

from __future__ import annotations

import doctest
import math
import platform

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
    feature_map_size,
    interpolation_matrix,
    linear_interpolate,
    linear_weights,
    resample_image,
    source_coordinates,
    toy_label_map,
    upsample_segmentation,
)

FLOAT64_MAX_ERROR = 1e-12  # the bound for float64
VALUE_RANGE = 10.0  # inputs in [-10, 10]: images and logits live well inside
MAX_SIDE = 24  # input sides drawn by hypothesis
MAX_OUT = 80  # output sides drawn by hypothesis


def dense(x, size=None, scale_factor=None, align_corners=False):
    return bilinear_interpolate_matmul(x, size, scale_factor, align_corners, banded=False)


def yx(x, size=None, scale_factor=None, align_corners=False):
    return bilinear_interpolate(x, size, scale_factor, align_corners, order="yx")


BILINEAR = {
    "separable": bilinear_interpolate,
    "separable_yx": yx,
    "gather": bilinear_interpolate_gather,
    "matmul_banded": bilinear_interpolate_matmul,
    "matmul_dense": dense,
}


def assert_matches(ours: torch.Tensor, reference: torch.Tensor) -> None:
    """float64: every element within 1e-12; float32: assert_close defaults on every element."""
    assert ours.shape == reference.shape and ours.dtype == reference.dtype
    if reference.dtype == torch.float64:
        error = (ours - reference).abs().max().item() if reference.numel() else 0.0
        assert error <= FLOAT64_MAX_ERROR, f"max error {error:.3g}"
    else:
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
        ((5, 300), {"size": (7, 97)}),  # wide input: the matrix form's width pass is banded too
        ((3, 200), {"scale_factor": (2.0, 1.7)}),
    ],
)
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_bilinear_edge_cases(name, in_hw, kwargs, align_corners, dtype):
    x = (torch.rand(1, 2, *in_hw, generator=torch.Generator().manual_seed(0), dtype=dtype) * 2 - 1) * 5
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


def _naive_float32_coordinates(out_size: int, in_size: int) -> torch.Tensor:
    """(i + 0.5) * scale - 0.5 with float32 rounding after each operation."""
    scale = torch.tensor(in_size, dtype=torch.float32) / out_size
    return ((torch.arange(out_size, dtype=torch.float32) + 0.5) * scale - 0.5).clamp(0, in_size - 1)


def test_float32_coordinates_are_rounded_once_like_pytorch():
    # Read PyTorch's own sample positions: linearly interpolating the ramp 0, 1, ..., n-1
    # returns the position each output sample reads (float64: no rounding to speak of).
    in_size, out_size = 60, 473
    ramp = torch.arange(in_size, dtype=torch.float64)[None, None]
    positions = F.interpolate(ramp, size=out_size, mode="linear", align_corners=False)[0, 0]
    ours = source_coordinates(out_size, in_size, False, dtype=torch.float32)
    naive = _naive_float32_coordinates(out_size, in_size)
    assert (ours.double() - positions).abs().max() < 4e-6  # the float32 grid around positions < 60
    assert (naive != ours).sum() > 0, "naive double rounding should differ somewhere"
    # ... and the difference matters: the naive coordinates miss F.interpolate in float32.
    x = torch.randn(1, 150, in_size, generator=torch.Generator().manual_seed(0)) * VALUE_RANGE
    reference = F.interpolate(x, size=out_size, mode="linear")
    w = linear_weights(out_size, in_size, False, dtype=torch.float32)
    naive_w1 = naive - torch.floor(naive)
    naive_out = x[..., naive.floor().long()] * (1 - naive_w1) + x[..., w.index1] * naive_w1
    with pytest.raises(AssertionError):
        torch.testing.assert_close(naive_out, reference)
    torch.testing.assert_close(linear_interpolate(x, size=out_size), reference)


FMA_KERNELS = platform.machine() in ("x86_64", "AMD64") and torch.backends.cpu.get_cpu_capability() in (
    "AVX2",
    "AVX512",
)


@pytest.mark.skipif(not FMA_KERNELS, reason="bit-exactness is checked for PyTorch's x86 AVX2/AVX512 CPU kernels")
@pytest.mark.parametrize("align_corners", [False, True])
def test_float32_bit_exact_on_cpu(align_corners):
    # PyTorch runs a separable kernel when H_out + W_out > 128 and a four-neighbour
    # vectorised kernel otherwise; each of our two implementations mirrors one of them.
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 2, 17, 23, generator=g) * 100  # large values: rounding differences show
    big, small = (101, 77), (25, 54)
    for size, ours in ((big, bilinear_interpolate), (small, bilinear_interpolate_gather)):
        reference = F.interpolate(x, size=size, mode="bilinear", align_corners=align_corners)
        assert torch.equal(ours(x, size=size, align_corners=align_corners), reference)
    line = x[:, :, 0]
    reference = F.interpolate(line, size=301, mode="linear", align_corners=align_corners)
    assert torch.equal(linear_interpolate(line, size=301, align_corners=align_corners), reference)


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


# ---------------------------------------------------------------- photos and segmentations
def test_resample_image_methods():
    image = torch.rand(3, 20, 16, generator=torch.Generator().manual_seed(4))
    for method in interp.RESAMPLING_METHODS:
        out = resample_image(image, (10, 8), method)
        assert out.shape == (3, 10, 8) and 0 <= out.min() and out.max() <= 1
    torch.testing.assert_close(resample_image(image, 7, "bilinear"), bilinear_interpolate(image[None], size=7)[0])
    # area = mean of 2x2 blocks when halving
    torch.testing.assert_close(resample_image(image, (10, 8), "area"),
                               image.unfold(1, 2, 2).unfold(2, 2, 2).mean(dim=(-1, -2)))
    with pytest.raises(ValueError, match="method"):
        resample_image(image, 8, "lanczos9")


def test_labels_bilinear_invents_classes_by_hand():
    labels = torch.tensor([[0, 15]])
    # positions 0, 0.25, 0.75, 1 -> ids 0, 3.75, 11.25, 15 -> rounded 0, 4, 11, 15
    assert upsample_segmentation(labels, (1, 4), "labels bilinear").tolist() == [[0, 4, 11, 15]]


def test_segmentation_upsampling_methods():
    labels = toy_label_map()
    assert set(labels.unique().tolist()) == {0, 8, 15}
    size = (32, 32)
    reference = F.interpolate(labels[None, None].float(), size=size, mode="nearest")[0, 0].long()
    assert torch.equal(upsample_segmentation(labels, size, "labels nearest"), reference)
    logits = upsample_segmentation(labels, size, "logits bilinear")
    assert set(logits.unique().tolist()) == {0, 8, 15}  # only classes that exist
    invented = set(upsample_segmentation(labels, size, "labels bilinear").unique().tolist()) - {0, 8, 15}
    assert invented, "bilinear on class ids should invent ids between 0, 8 and 15"
    assert all(0 < c < 15 for c in invented)
    with pytest.raises(ValueError, match="method"):
        upsample_segmentation(labels, 4, "bicubic")
    with pytest.raises(ValueError, match="labels must lie"):
        upsample_segmentation(labels + 30, 4, "labels nearest")


@pytest.mark.slow
def test_feature_map_size_matches_a_real_resnet():
    torchvision = pytest.importorskip("torchvision")
    with torch.device("meta"):  # shapes only: no weights, no compute
        model = torchvision.models.resnet50(weights=None, replace_stride_with_dilation=[False, True, True])
        for side in (473, 512, 321, 97):
            x = torch.empty(1, 3, side, side)
            x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
            x = model.layer4(model.layer3(model.layer2(model.layer1(x))))
            assert x.shape[-1] == feature_map_size(side, 8), side
    assert feature_map_size(473, 16) == 30
    with pytest.raises(ValueError, match="output_stride"):
        feature_map_size(473, 4)


# ---------------------------------------------------------------- bad input
def _raises_like_pytorch(call, pytorch_call, error=ValueError, match=None):
    with pytest.raises(Exception):  # noqa: B017 - PyTorch's own type varies (ValueError, NotImplementedError, ...)
        pytorch_call()
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("fn", [bilinear_interpolate, bilinear_interpolate_gather, bilinear_interpolate_matmul])
def test_bilinear_argument_errors(fn):
    x = torch.rand(1, 1, 4, 4)
    ref = F.interpolate
    _raises_like_pytorch(lambda: fn(x, size=8, scale_factor=2.0),
                         lambda: ref(x, size=8, scale_factor=2.0, mode="bilinear"), match="only one of")
    _raises_like_pytorch(lambda: fn(x), lambda: ref(x, mode="bilinear"), match="either size or scale_factor")
    _raises_like_pytorch(lambda: fn(x[0], size=8), lambda: ref(x[0], size=8, mode="bilinear"),
                         match="4 dimensions")
    _raises_like_pytorch(lambda: fn(x, size=(8, 8, 8)), lambda: ref(x, size=(8, 8, 8), mode="bilinear"),
                         match="sequence of 2")
    _raises_like_pytorch(lambda: fn(x, size=0), lambda: ref(x, size=0, mode="bilinear"), match="at least 1")
    _raises_like_pytorch(lambda: fn(x, scale_factor=0.1), lambda: ref(x, scale_factor=0.1, mode="bilinear"),
                         match="at least 1")
    _raises_like_pytorch(lambda: fn(x.long(), size=8), lambda: ref(x.long(), size=8, mode="bilinear"),
                         error=TypeError, match="floating-point")
    with pytest.raises(ValueError, match="positive"):
        fn(x, scale_factor=-2.0)
    with pytest.raises(TypeError, match="align_corners"):
        fn(x, size=8, align_corners="yes")
    with pytest.raises(TypeError, match="torch.Tensor"):
        fn([[1.0, 2.0]], size=8)
    with pytest.raises(TypeError, match="size"):
        fn(x, size=8.0)


def test_linear_argument_errors():
    x = torch.rand(1, 1, 4)
    _raises_like_pytorch(lambda: linear_interpolate(x[None], size=8),
                         lambda: F.interpolate(x[None], size=8, mode="linear"), match="3 dimensions")
    with pytest.raises(ValueError, match="order"):
        bilinear_interpolate(x[None], size=8, order="zz")
    with pytest.raises(ValueError, match="dtype"):
        source_coordinates(4, 2, False, dtype=torch.float16)
    with pytest.raises(TypeError, match="out_size"):
        source_coordinates(4.0, 2, False)
    with pytest.raises(ValueError, match="in_size"):
        source_coordinates(4, 0, False)
    with pytest.raises(ValueError, match="x must lie"):
        bilinear_neighbours(3.5, 0.0, 4, 4)


def test_doctests():
    assert doctest.testmod(interp).failed == 0
