"""The output-stride table, the semseg schedule, upsampling drift and cost, against PyTorch."""

from __future__ import annotations

import functools
import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from visual.models.resnet import RESNET_ARCHS, dilated_resnet, semseg_resnet
from visual.output_stride import (
    RESNET_STAGES,
    StrideTable,
    dilation_flags,
    stride_table,
    upsampled_positions,
    upsampling_drift,
)

ALL_FLAGS = list(itertools.product((False, True), repeat=3))
OS8 = (False, True, True)
# Odd, even, tiny and non-square inputs; 1x1 is the smallest a ResNet accepts (every layer pads).
SIZES = [(1, 1), (2, 3), (33, 47), (97, 61), (473, 473)]
DEEP_SIZES = [(2, 3), (97, 61), (473, 473)]  # resnet101/152 differ from resnet50 only in depth


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _stage_sizes_by_forward(model: nn.Module, size: tuple[int, int], device: str) -> list[tuple[int, int]]:
    """Run the model and record each stage's output (H, W) with forward hooks."""
    sizes: dict[str, tuple[int, int]] = {}
    handles = [
        getattr(model, stage).register_forward_hook(
            lambda _m, _i, out, stage=stage: sizes.__setitem__(stage, tuple(out.shape[-2:]))
        )
        for stage in RESNET_STAGES
    ]
    try:
        with torch.inference_mode():
            model.eval()(torch.zeros(1, 3, *size, device=device))
    finally:
        for handle in handles:
            handle.remove()
    return [sizes[stage] for stage in RESNET_STAGES]


@functools.lru_cache(maxsize=None)
def _meta_model(arch: str, flags: tuple[bool, bool, bool], schedule: str = "torchvision") -> nn.Module:
    with torch.device("meta"):
        return dilated_resnet(arch, flags) if schedule == "torchvision" else semseg_resnet(arch, flags)


# --- sizes against forward passes -------------------------------------------------------------

DEEP = ("resnet101", "resnet152")


@pytest.mark.parametrize("flags", ALL_FLAGS, ids=str)
@pytest.mark.parametrize(
    "arch", [pytest.param(a, marks=pytest.mark.slow) if a in DEEP else a for a in sorted(RESNET_ARCHS)]
)
def test_sizes_match_a_forward_pass(arch, flags):
    # PyTorch's own shape functions (meta device: same output shapes as CPU/CUDA, no arithmetic).
    model = _meta_model(arch, flags)
    for size in DEEP_SIZES if arch in DEEP else SIZES:
        table = stride_table(arch, size, flags)
        assert [row.size for row in table] == _stage_sizes_by_forward(model, size, "meta"), size


@pytest.mark.parametrize("flags", [(False, False, False), OS8, (True, True, True)], ids=str)
@pytest.mark.parametrize("arch", ["resnet18", "resnet50"])
@pytest.mark.parametrize("size", [(1, 1), (37, 50)], ids=str)
def test_sizes_match_a_real_cpu_forward(arch, flags, size):
    model = dilated_resnet(arch, flags)
    assert [row.size for row in stride_table(arch, size, flags)] == _stage_sizes_by_forward(model, size, "cpu")


@pytest.mark.parametrize("flags", [(False, False, False), OS8], ids=str)
def test_semseg_sizes_match_a_forward_pass(flags):
    model = _meta_model("resnet50", flags, "semseg")
    for size in SIZES:
        table = stride_table("resnet50", size, flags, schedule="semseg")
        assert [row.size for row in table] == _stage_sizes_by_forward(model, size, "meta")


@settings(max_examples=30, deadline=None)
@given(h=st.integers(1, 1200), w=st.integers(1, 1200), flags=st.sampled_from(ALL_FLAGS))
def test_ceil_rule(h, w, flags):
    # Each stride-2 layer with "same" padding maps n to ceil(n / 2): the maxpool output is
    # ceil(H / 4) and layer4 ceil(H / output_stride).
    table = stride_table("resnet34", (h, w), flags)
    output_stride = 32 // 2 ** sum(flags)
    assert table["conv1"].size == (math.ceil(h / 2), math.ceil(w / 2))
    assert table["maxpool"].size == (math.ceil(h / 4), math.ceil(w / 4))
    assert table.output_size == (math.ceil(h / output_stride), math.ceil(w / output_stride))
    assert table.output_stride == output_stride


# --- strides, dilations, receptive fields (hand-derived) --------------------------------------

def _hand_receptive_fields(arch: str, flags: tuple[bool, ...], schedule: str) -> list[int]:
    """RF after each stage, from r += (k_eff - 1) * jump along the main path (Araujo et al. 2019)."""
    block_is_basic = RESNET_ARCHS[arch][0].expansion == 1
    layers = RESNET_ARCHS[arch][1]
    rf, jump = 1 + (7 - 1), 2  # conv1: 7x7, stride 2
    out = [rf]
    rf, jump = rf + (3 - 1) * jump, jump * 2  # maxpool: 3x3, stride 2
    out.append(rf)
    dilation = 1
    for index, blocks in enumerate(layers):
        dilate = index > 0 and flags[index - 1]
        stride = 2 if index > 0 and not dilate else 1
        previous, dilation = dilation, dilation * (2 if dilate else 1)
        for block in range(blocks):
            # 3x3 convs of this block: (dilation, stride) in order
            if block_is_basic:
                first_d = previous if schedule == "torchvision" and block == 0 else dilation
                convs = [(first_d, stride if block == 0 else 1), (dilation, 1)]
            else:
                first_d = previous if schedule == "torchvision" and block == 0 else dilation
                convs = [(first_d, stride if block == 0 else 1)]
            for d, s in convs:
                rf += 2 * d * jump
                jump *= s
        out.append(rf)
    return out


@pytest.mark.parametrize("flags", ALL_FLAGS, ids=str)
@pytest.mark.parametrize(
    "arch", [pytest.param(a, marks=pytest.mark.slow) if a in DEEP else a for a in sorted(RESNET_ARCHS)]
)
def test_receptive_fields_and_strides_by_hand(arch, flags):
    table = stride_table(arch, 473, flags)
    assert [row.rf for row in table] == _hand_receptive_fields(arch, flags, "torchvision")
    strides, s = [], 1
    for stage, halves in zip(RESNET_STAGES, (True, True, False, not flags[0], not flags[1], not flags[2])):
        s *= 2 if halves else 1
        strides.append(s)
    assert [row.output_stride for row in table] == strides
    assert all(row.start == 0 for row in table)  # "same" padding: pixel i centred on stride * i


@pytest.mark.parametrize("arch", sorted(RESNET_ARCHS))
def test_dilation_does_not_change_the_receptive_field(arch):
    plain, dilated = stride_table(arch, 473, (False, False, False)), stride_table(arch, 473, OS8)
    assert [row.rf for row in plain] == [row.rf for row in dilated]
    assert dilated.output_size[0] * dilated.output_size[1] == 16 * plain.output_size[0] * plain.output_size[1]


def test_published_numbers_at_473():
    # Zhao et al. (PSPNet) use 473x473 crops and a 60x60 feature map (Sec. 3.3, 4.1).
    table = stride_table("resnet50", 473, OS8)
    assert [row.size for row in table] == [(237, 237), (119, 119), (119, 119), (60, 60), (60, 60), (60, 60)]
    assert stride_table("resnet101", 473, (False, False, False)).output_size == (15, 15)
    assert table["layer4"].rf == 427  # widely quoted theoretical RF of ResNet-50
    assert table["layer4"].channels == 2048 and stride_table("resnet18")["layer4"].channels == 512


@pytest.mark.parametrize("arch", ["resnet18", "resnet101"])
def test_dilation_columns_follow_the_a_trous_rule(arch):
    table = stride_table(arch, 473, OS8)
    basic = RESNET_ARCHS[arch][0].expansion == 1
    first = {"layer1": (1, 1), "layer2": (1, 1), "layer3": (1, 2), "layer4": (2, 4)} if basic else {
        "layer1": (1,), "layer2": (1,), "layer3": (1,), "layer4": (2,)}
    rest = {"layer1": (1,), "layer2": (1,), "layer3": (2,), "layer4": (4,)}
    for stage in ("layer1", "layer2", "layer3", "layer4"):
        assert table[stage].first_block_dilations == first[stage]
        assert table[stage].other_blocks_dilations == rest[stage]
    assert table["conv1"].first_block_dilations == (1,) and table["conv1"].other_blocks_dilations == ()


def test_semseg_schedule_dilates_every_block():
    table = stride_table("resnet50", 473, OS8, schedule="semseg")
    assert table["layer3"].first_block_dilations == table["layer3"].other_blocks_dilations == (2,)
    assert table["layer4"].first_block_dilations == table["layer4"].other_blocks_dilations == (4,)
    # By hand: layer3.0.conv2 at jump 8 gains (2 - 1) * 2 * 8 = 16 px, layer4.0.conv2 gains
    # (4 - 2) * 2 * 8 = 32 px over torchvision's 427.
    assert table["layer4"].rf == 427 + 16 + 32
    for arch in ("resnet18", "resnet152"):
        assert [row.rf for row in stride_table(arch, 473, OS8, schedule="semseg")] == _hand_receptive_fields(
            arch, OS8, "semseg")


def test_semseg_deep_stem_adds_four_pixels():
    # Three 3x3 convs (stride 2, 1, 1) see 3 + 2*2 + 2*2 = 11 px at stride 2, the 7x7 conv 7 px.
    table = stride_table(semseg_resnet("resnet50", OS8, deep_stem=True), 473)
    assert table["conv1"].rf == 11 and table["layer4"].rf == 427 + 16 + 32 + 4
    assert table["conv1"].channels == 128 and table["conv1"].size == (237, 237)


def test_semseg_schedule_is_not_a_trous():
    # Negative control for the equivalence test of tests/test_models_resnet.py: dilating the
    # conv that carried the stride changes the function, so the subsampled features differ.
    torch.manual_seed(0)
    reference = dilated_resnet("resnet18", (False, False, False)).double().eval()
    semseg = semseg_resnet("resnet18", OS8).double().eval()
    semseg.load_state_dict(reference.state_dict())
    image = torch.randn(1, 3, 45, 45, dtype=torch.float64)

    def features(model):
        x = model.maxpool(model.relu(model.bn1(model.conv1(image))))
        return model.layer4(model.layer3(model.layer2(model.layer1(x))))

    with torch.inference_mode():
        sparse, dense = features(reference), features(semseg)
    assert dense.shape[-2:] == (6, 6) and sparse.shape[-2:] == (2, 2)
    assert not torch.allclose(dense[..., ::4, ::4], sparse)


# --- a model instead of an arch name ----------------------------------------------------------

def test_a_model_gives_the_same_table_as_its_arch_name():
    from_model = stride_table(dilated_resnet("resnet34", (False, False, True)), (97, 80))
    from_name = stride_table("resnet34", (97, 80), (False, False, True))
    assert from_model.rows == from_name.rows
    assert from_model.arch == "resnet34" and from_model.replace_stride_with_dilation == (False, False, True)


def test_flags_with_a_model_are_refused():
    with pytest.raises(ValueError, match="goes with an arch name"):
        stride_table(dilated_resnet("resnet18"), 473, OS8)


def test_non_resnet_models_are_refused():
    with pytest.raises(ValueError, match="ResNet-like model"):
        stride_table(nn.Sequential(nn.Conv2d(3, 8, 3)), 64)
    with pytest.raises(TypeError, match="arch_or_model"):
        stride_table(42, 64)


# --- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("arch", ["resnet", "vgg16", "ResNet50"])
def test_unknown_arch(arch):
    with pytest.raises(ValueError, match="arch_or_model must be one of"):
        stride_table(arch)


@pytest.mark.parametrize("flags", [(True, True), (1, 1, 1), "FTT", (False, True, None)], ids=repr)
def test_flags_must_be_three_booleans(flags):
    with pytest.raises((TypeError, ValueError), match="replace_stride_with_dilation"):
        stride_table("resnet50", 473, flags)


@pytest.mark.parametrize("size", [0, -5, (0, 10), (10, 0), 10**6, (4, 5, 6)], ids=repr)
def test_input_size_out_of_range(size):
    with pytest.raises(ValueError, match="input_size"):
        stride_table("resnet50", size)


@pytest.mark.parametrize("size", [473.0, "473", True, (4.0, 5)], ids=repr)
def test_input_size_type(size):
    with pytest.raises(TypeError, match="input_size"):
        stride_table("resnet50", size)


def test_unknown_schedule():
    with pytest.raises(ValueError, match="schedule must be one of"):
        stride_table("resnet50", schedule="deeplab")


# --- display -----------------------------------------------------------------------------------

def test_text_and_html():
    table = stride_table("resnet101", 473, OS8)
    lines = str(table).splitlines()
    assert lines[0].startswith("resnet101 at 473×473") and "output stride 8" in lines[0]
    assert len(lines) == 1 + 1 + len(RESNET_STAGES)
    assert len({len(line) for line in lines[1:]}) == 1  # aligned columns
    assert "conv4_x" in lines[6] and "60×60" in lines[6] and "971" in lines[7]
    markup = table._repr_html_()
    assert markup.count("<tr>") == 1 + len(RESNET_STAGES) and "<caption>" in markup
    assert isinstance(table, StrideTable) and table[-1] is table["layer4"] and len(table) == 6
    with pytest.raises(KeyError, match="no stage"):
        table["layer5"]


@pytest.mark.parametrize("output_stride, flags", [(32, (False, False, False)), (16, (False, False, True)),
                                                  (8, OS8), (4, (True, True, True))])
def test_dilation_flags(output_stride, flags):
    assert dilation_flags(output_stride) == flags
    assert stride_table("resnet50", 100, dilation_flags(output_stride)).output_stride == output_stride


@pytest.mark.parametrize("output_stride", [2, 64, 12, True, "8", 8.0])
def test_dilation_flags_bad(output_stride):
    with pytest.raises((TypeError, ValueError), match="output_stride must be"):
        dilation_flags(output_stride)


# --- alignment ---------------------------------------------------------------------------------

def test_feature_centres_by_autograd():
    # The receptive-field support of stem output pixel i is [4i - 5, 4i + 5] (RF 11, stride 4),
    # so its centre is 4i: start 0, as the table says. Measured with a real backward pass.
    model = dilated_resnet("resnet18").eval()
    stem = nn.Sequential(model.conv1, model.bn1, model.relu, model.maxpool)
    image = torch.rand(1, 3, 41, 41, requires_grad=True)
    row = stride_table("resnet18", 41)["maxpool"]
    for i in (3, 5, 7):
        image.grad = None
        stem(image)[0, :, i, i].sum().backward()
        rows = image.grad[0].abs().sum(dim=(0, 2)).nonzero().flatten()
        assert (rows.min() + rows.max()) / 2 == row.start + row.output_stride * i
        assert rows.max() - rows.min() + 1 == row.rf


@settings(max_examples=40, deadline=None)
@given(size=st.integers(9, 1100), output_stride=st.sampled_from([32, 16, 8]), align=st.booleans())
def test_drift_matches_pytorchs_documented_coordinate_maps(size, output_stride, align):
    table = stride_table("resnet50", size, dilation_flags(output_stride))
    h = table.output_size[0]
    X = torch.arange(size, dtype=torch.float64)
    if align:
        x = X * (h - 1) / (size - 1) if h > 1 else torch.zeros_like(X)
    else:
        x = ((X + 0.5) * h / size - 0.5).clamp(0, h - 1)
    expected = X - output_stride * x  # drift: where the pixel is minus where its feature was computed
    torch.testing.assert_close(upsampling_drift(table, align_corners=align), expected)


@pytest.mark.parametrize("size", [473, 713, 8 * 40 + 1])
def test_eight_k_plus_one_lands_on_the_grid(size):
    table = stride_table("resnet101", size, OS8)
    assert upsampling_drift(table, align_corners=True).abs().max() == 0
    positions = upsampled_positions(table, align_corners=True)
    assert torch.equal(positions, 8 * torch.arange(table.output_size[0], dtype=torch.float64))


def test_misalignment_at_512():
    table = stride_table("resnet50", 512, OS8)  # h = 64, (H - 1) / (h - 1) = 511 / 63
    drift_true = upsampling_drift(table, align_corners=True)
    drift_false = upsampling_drift(table, align_corners=False)
    assert drift_true[-1].item() == pytest.approx(511 - 8 * 63)  # the last feature is moved 7 px right
    # Half a cell everywhere, except where the source index is clamped to the first/last feature.
    assert drift_false[4:508].tolist() == pytest.approx([3.5] * (508 - 4))
    assert drift_false[-1].item() == pytest.approx(511 - 8 * 63)
    assert upsampled_positions(table, align_corners=True)[-1].item() == pytest.approx(511)
    assert upsampled_positions(table, align_corners=False)[0].item() == pytest.approx(3.5)


def test_feature_drift_at_473_is_plus_minus_3_44():
    # Per feature: where upsampling puts it minus where it was computed; the same sign per pixel.
    table = stride_table("resnet50", 473, OS8)
    drift = upsampled_positions(table, align_corners=False) - 8 * torch.arange(60, dtype=torch.float64)
    assert drift[0].item() == pytest.approx(0.5 * 473 / 60 - 0.5) == pytest.approx(3.44, abs=0.005)
    assert drift[-1].item() == pytest.approx(-drift[0].item())
    X = upsampled_positions(table, align_corners=False)[1:-1].round().long()  # pixels near features 1..58
    assert torch.all(torch.sign(upsampling_drift(table, align_corners=False)[X]) == torch.sign(drift[1:-1]))


@pytest.mark.parametrize("align", [True, False])
def test_upsampled_positions_sample_each_feature_exactly(align):
    # Where F.interpolate reads feature coordinate i, interpolating the coordinate ramp gives i.
    table = stride_table("resnet18", 300, OS8)
    h, H = table.output_size[0], table.input_size[0]
    ramp = torch.arange(h, dtype=torch.float64).view(1, 1, h, 1)
    x = F.interpolate(ramp, size=(H, 1), mode="bilinear", align_corners=align)[0, 0, :, 0]  # (H,)
    positions = upsampled_positions(table, align_corners=align)
    inside = torch.ones(h, dtype=torch.bool)
    if not align:  # the source index is clamped next to the first and last feature: not linear there
        inside[[0, -1]] = False
    lo = positions[inside].floor().long()
    frac = positions[inside] - lo
    hi = (lo + 1).clamp(max=H - 1)
    sampled = x[lo] * (1 - frac) + x[hi] * frac  # x is linear between output pixels
    torch.testing.assert_close(sampled, torch.arange(h, dtype=torch.float64)[inside])


def test_drift_arguments():
    with pytest.raises(TypeError, match="StrideTable"):
        upsampling_drift(473, align_corners=True)
    with pytest.raises(TypeError, match="align_corners"):
        upsampling_drift(stride_table("resnet18"), align_corners=None)


def test_docstring_examples():
    import doctest

    import visual.output_stride

    results = doctest.testmod(visual.output_stride)
    assert results.attempted >= 5 and results.failed == 0
