"""``visual.trace``: sizes against real forward passes, strides and receptive fields by hand, the table."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import torchvision
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from stack_strategies import stacks
from visual.gradient_rf import effective_receptive_field, gradient_receptive_field
from visual.trace import Trace, TraceRow, meta_device, trace

DILATED = [False, True, True]  # replace_stride_with_dilation for output stride 8


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def real_output_sizes(model: nn.Module, input_size: tuple[int, int], in_channels: int = 3) -> dict:
    """Spatial size of every module's (last) tensor output, from a real forward pass."""
    sizes: dict[str, tuple[int, ...] | None] = {}
    names = {id(m): n for n, m in model.named_modules()}
    handles = [
        m.register_forward_hook(
            lambda mod, args, out: sizes.__setitem__(
                names[id(mod)], tuple(out.shape[-2:]) if out.dim() >= 3 else None
            ) if isinstance(out, torch.Tensor) else None
        )
        for m in model.modules()
    ]
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, in_channels, *input_size))
    finally:
        for h in handles:
            h.remove()
    return sizes


def row_sizes(t: Trace) -> dict:
    return {name: row.size for name, row in t.items()}


# ---------------------------------------------------------------------------------------------
# torchvision ResNets: sizes from a real forward pass, strides, hand-derived receptive fields
# ---------------------------------------------------------------------------------------------
RESNETS = [
    ("resnet18", None),
    ("resnet18", DILATED),
    ("resnet50", None),
    ("resnet50", DILATED),
    ("resnet101", None),
    ("resnet101", DILATED),
]


@pytest.fixture(scope="module")
def resnets():
    torch.manual_seed(0)
    built = {}
    for arch, dilation in RESNETS:
        kwargs = {} if dilation is None else {"replace_stride_with_dilation": dilation}
        if arch == "resnet18" and dilation is not None:
            # torchvision's BasicBlock refuses dilation > 1; build the same geometry by hand
            model = torchvision.models.resnet18(weights=None)
            for layer, rate in (("layer3", 2), ("layer4", 4)):
                for i, block in enumerate(getattr(model, layer)):
                    first = rate // 2 if i == 0 else rate
                    block.conv1.stride, block.conv1.dilation, block.conv1.padding = (1, 1), (first,) * 2, (first,) * 2
                    block.conv2.dilation, block.conv2.padding = (rate,) * 2, (rate,) * 2
                    if block.downsample is not None:
                        block.downsample[0].stride = (1, 1)
        else:
            model = getattr(torchvision.models, arch)(weights=None, **kwargs)
        built[(arch, None if dilation is None else tuple(dilation))] = model
    return built


@pytest.mark.parametrize("arch,dilation", RESNETS, ids=lambda v: str(v))
@pytest.mark.parametrize("input_size", [(97, 97), (75, 130)])
def test_trace_sizes_match_real_forward(resnets, arch, dilation, input_size):
    model = resnets[(arch, None if dilation is None else tuple(dilation))]
    traced = trace(model, input_size)
    expected = real_output_sizes(model, input_size)
    assert row_sizes(traced) == expected
    assert list(traced) == [n for n in traced]  # iteration order is stable


@pytest.mark.parametrize("arch,dilation", RESNETS, ids=lambda v: str(v))
def test_resnet_strides_and_channels(resnets, arch, dilation):
    model = resnets[(arch, None if dilation is None else tuple(dilation))]
    size = 256  # a multiple of 32: every stride divides the input exactly
    t = trace(model, size)
    for name in ("conv1", "maxpool", "layer1", "layer2", "layer3", "layer4"):
        row = t[name]
        assert row.stride == (size // row.size[0], size // row.size[1]), name
    expected_stride = {"layer3": 8, "layer4": 8} if dilation else {"layer3": 16, "layer4": 32}
    for name, stride in expected_stride.items():
        assert t[name].stride == (stride, stride)
    assert t["layer4"].channels == model.fc.in_features
    assert t["fc"].channels == model.fc.out_features and t["fc"].size is None


def _resnet_rf_by_hand(blocks: list[int], bottleneck: bool, dilated: bool) -> dict[str, int]:
    """RF recurrence written out for torchvision ResNets: rf += (k_eff - 1) * jump, jump *= s."""
    rf, jump = 1, 1
    rf, jump = rf + (7 - 1) * jump, jump * 2  # conv1: 7x7 stride 2
    rf, jump = rf + (3 - 1) * jump, jump * 2  # maxpool: 3x3 stride 2
    out = {"maxpool": rf}
    rates = {"layer1": (1, 1, 1), "layer2": (2, 1, 1), "layer3": (2, 1, 1), "layer4": (2, 1, 1)}
    if dilated:  # (stride, dilation of first block's 3x3, dilation of the other blocks' 3x3)
        rates["layer3"], rates["layer4"] = (1, 1, 2), (1, 2, 4)
    for layer, n in zip(("layer1", "layer2", "layer3", "layer4"), blocks):
        stride, first, rest = rates[layer]
        for i in range(n):
            d = first if i == 0 else rest
            # Bottleneck: 1x1, 3x3 (stride, dilation d), 1x1.
            # BasicBlock: 3x3 (stride, dilation d), 3x3 (dilation ``rest``).
            rf, jump = rf + 2 * d * jump, jump * (stride if i == 0 else 1)
            if not bottleneck:
                rf = rf + 2 * rest * jump
        out[layer] = rf
    return out


@pytest.mark.parametrize("arch,dilation", RESNETS, ids=lambda v: str(v))
def test_resnet_receptive_fields_by_hand(resnets, arch, dilation):
    blocks = {"resnet18": [2, 2, 2, 2], "resnet50": [3, 4, 6, 3], "resnet101": [3, 4, 23, 3]}[arch]
    model = resnets[(arch, None if dilation is None else tuple(dilation))]
    expected = _resnet_rf_by_hand(blocks, bottleneck=arch != "resnet18", dilated=dilation is not None)
    t = trace(model, 473)
    assert {name: t[name].rf[0] for name in expected} == expected
    assert all(t[name].rf[0] == t[name].rf[1] for name in expected)
    if arch == "resnet50" and dilation is None:
        assert t["layer4"].rf == (427, 427)  # the value usually quoted for torchvision ResNet-50


def test_dilated_resnet_rows_report_dilation(resnets):
    t = trace(resnets[("resnet50", tuple(DILATED))], 473)
    assert t["layer3"].dilation == (2, 2) and t["layer4"].dilation == (4, 4)
    assert t["layer4.0.conv2"].dilation == (2, 2) and t["layer4.1.conv2"].dilation == (4, 4)
    assert t["layer4.1.conv2"].kernel_size == (3, 3) and t["layer4.1.conv2"].padding == (4, 4)
    assert t["layer2"].dilation == (1, 1) and t["layer1.0.bn1"].dilation is None
    assert t["layer4"].size == (60, 60) and t["layer4"].stride == (8, 8)
    assert t["layer1.0.relu"].calls == 3 and t["conv1"].calls == 1


@pytest.mark.slow
def test_dilated_resnet50_at_473_matches_real_forward(resnets):
    model = resnets[("resnet50", tuple(DILATED))]
    assert row_sizes(trace(model, 473)) == real_output_sizes(model, (473, 473))


# ---------------------------------------------------------------------------------------------
# Toy stacks (hypothesis): sizes vs a real forward pass; rf vs gradients where the rf fits
# ---------------------------------------------------------------------------------------------


def _real_sizes_or_none(model, hw):
    try:
        return real_output_sizes(model, hw, in_channels=1)
    except RuntimeError:
        return None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=stacks(), h=st.integers(1, 40), w=st.integers(1, 40))
def test_toy_stack_sizes_match_real_forward(model, h, w):
    expected = _real_sizes_or_none(model, (h, w))
    if expected is None:  # PyTorch refuses: the input is too small; trace must say so clearly
        with pytest.raises(ValueError, match="trace"):
            trace(model, (h, w))
        return
    assert row_sizes(trace(model, (h, w))) == expected


# ---------------------------------------------------------------------------------------------
# Branches, merges, resampling
# ---------------------------------------------------------------------------------------------
class TwoBranch(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.wide = nn.Conv2d(8, 8, 3, padding=4, dilation=4)
        self.narrow = nn.Conv2d(8, 8, 1)
        self.pool = nn.AdaptiveAvgPool2d(3)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)

    def forward(self, x):
        x = self.stem(x)
        y = torch.cat([self.wide(x), self.narrow(x)], dim=1)
        z = F.interpolate(self.pool(y), size=y.shape[-2:], mode="bilinear", align_corners=False)
        return self.up(torch.cat([y, z], dim=1))


def test_branches_merge_with_the_larger_rf_and_sizes_match():
    model = TwoBranch()
    t = trace(model, 24)
    assert row_sizes(t) == real_output_sizes(model, (24, 24))
    assert t["stem"].rf == (3, 3) and t["stem"].stride == (2, 2)
    assert t["wide"].rf == (3 + 8 * 2,) * 2 and t["narrow"].rf == (3, 3)
    assert t["pool"].size == (3, 3) and t["pool"].stride == (8, 8)  # 12 / 3 = 4 feature pixels
    assert t["pool"].rf == (19 + 3 * 2,) * 2  # bins of 4 feature pixels at jump 2
    # the model output mixes the pooled context (largest rf) and is upsampled: jump halves
    assert t.rf[0] > t["pool"].rf[0] and t.stride == (1, 1) and t.size == (24, 24)


class TinyPyramid(nn.Module):
    """PSPNet's pattern: pool to 1x1 and 2x2, upsample (align_corners=True), concatenate."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.pools = nn.ModuleList([nn.AdaptiveAvgPool2d(1), nn.AdaptiveAvgPool2d(2)])
        self.classifier = nn.Conv2d(12, 5, 1)

    def forward(self, x):
        f = self.stem(x)
        branches = [F.interpolate(pool(f), size=f.shape[-2:], mode="bilinear", align_corners=True)
                    for pool in self.pools]
        out = self.classifier(torch.cat([f, *branches], dim=1))
        return {"out": F.interpolate(out, size=x.shape[-2:], mode="bilinear", align_corners=False)}


def test_pyramid_pooling_keeps_the_backbone_grid_and_the_global_rf():
    model = TinyPyramid()
    t = trace(model, 32)
    f_rf, f_jump, f_size = 3, 2, 16
    assert t["stem"].size == (f_size, f_size) and t["stem"].stride == (f_jump, f_jump)
    # the 1x1 branch sees the whole feature map: rf + (16 - 1) * jump
    assert t["pools.0"].rf == (f_rf + (f_size - 1) * f_jump,) * 2 and t["pools.0"].size == (1, 1)
    # the concatenation lives on the stem's grid (stride 2), with the global branch's rf
    assert t["classifier"].stride == (f_jump, f_jump)
    assert t["classifier"].rf == (f_rf + (f_size - 1) * f_jump,) * 2
    # dict output: the model row describes output["out"], upsampled back to the input grid
    assert t[""].size == (32, 32) and t.stride == (1, 1)
    assert row_sizes(t)[""] == (32, 32)


def test_pspnet_style_pooling_to_non_dividing_bins_gives_fractional_stride():
    size, bins = 20, 6
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.AdaptiveAvgPool2d(bins))
    t = trace(model, size)
    assert t["1"].size == (bins, bins)
    assert t["1"].stride == pytest.approx((size / bins, size / bins))
    # widest bin of the real adaptive pooling, measured from gradients of each output bin
    x = torch.ones(1, 1, size, 1, requires_grad=True)
    pooled = F.adaptive_avg_pool2d(x, (bins, 1))  # (1, 1, bins, 1)
    widths = []
    for i in range(bins):
        (grad,) = torch.autograd.grad(pooled[0, 0, i, 0], x, retain_graph=True)
        widths.append(int((grad[0, 0, :, 0] > 0).sum()))
    assert t["1"].rf == (3 + max(widths) - 1,) * 2


# ---------------------------------------------------------------------------------------------
# The model is left alone; errors are clear
# ---------------------------------------------------------------------------------------------
def test_trace_leaves_the_model_unchanged():
    model = torchvision.models.resnet18(weights=None).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    params_before = [id(p) for p in model.parameters()]
    trace(model, 64)
    gradient_receptive_field(nn.Sequential(*list(model.children())[:4]), 33)
    effective_receptive_field(nn.Sequential(*list(model.children())[:4]), 33, n_samples=2)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert [id(p) for p in model.parameters()] == params_before
    assert all(p.device.type == "cpu" for p in model.parameters())
    assert model.training and all(m.training for m in model.modules())
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())
    from torch.nn.modules import module as module_impl

    assert not module_impl._global_forward_hooks and not module_impl._global_forward_pre_hooks


def test_unsupported_geometry_names_the_module():
    model = nn.Sequential(nn.Conv2d(3, 12, 3), nn.PixelShuffle(2))
    with pytest.raises(ValueError, match=r"'1' \(PixelShuffle\)"):
        trace(model, 16)
    from torch.nn.modules import module as module_impl

    assert not module_impl._global_forward_hooks  # removed even after the error


def test_input_smaller_than_kernel_names_the_module():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 5, dilation=2))
    with pytest.raises(ValueError, match=r"'1' \(Conv2d\).*effective kernel size 9"):
        trace(model, 8)


@pytest.mark.parametrize("bad", [0, -3, (4, 0), (4, 4, 4), 10**6])
def test_bad_input_size_value(bad):
    with pytest.raises(ValueError, match="input_size"):
        trace(nn.Conv2d(3, 3, 1), bad)


@pytest.mark.parametrize("bad", [2.5, "224", True, (4, 4.0)])
def test_bad_input_size_type(bad):
    with pytest.raises(TypeError, match="input_size"):
        trace(nn.Conv2d(3, 3, 1), bad)


def test_not_a_module():
    with pytest.raises(TypeError, match="nn.Module"):
        trace(lambda x: x, 8)


# ---------------------------------------------------------------------------------------------
# The Trace table
# ---------------------------------------------------------------------------------------------
def test_trace_is_a_read_only_mapping_in_execution_order():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Sequential(nn.ReLU(), nn.MaxPool2d(2)))
    t = trace(model, 10)
    assert list(t) == ["", "0", "1", "1.0", "1.1"]
    assert isinstance(t["1.1"], TraceRow) and t["1.1"].type == "MaxPool2d"
    with pytest.raises(TypeError):
        t["0"] = t["1"]  # type: ignore[index]
    with pytest.raises(KeyError, match="no module named 'conv9'"):
        t["conv9"]


def test_select_and_text_rendering():
    t = trace(torchvision.models.resnet18(weights=None), 224)
    small = t.select(["conv1", "maxpool", "layer4"])
    assert list(small) == ["conv1", "maxpool", "layer4"] and isinstance(small, Trace)
    lines = str(small).splitlines()
    assert lines[0] == "input 224x224"
    assert lines[1].split() == ["name", "type", "size", "channels", "stride", "rf", "start", "dilation",
                                "kernel", "padding"]
    assert lines[4].split()[:6] == ["layer4", "Sequential", "7x7", "512", "32", "435"]
    assert "<th>start</th>" in small._repr_html_()
    assert len({len(line) for line in lines[1:]}) <= 2  # aligned columns (right-stripped)
    html = small._repr_html_()
    assert html.count("<tr>") == 4 and "layer4" in html and "<table" in html
    with pytest.raises(ValueError, match="not in this trace"):
        t.select(["layer5"])


# ---------------------------------------------------------------------------------------------
# Helpers: box, erf_std, conv_stack
# ---------------------------------------------------------------------------------------------
def test_box_is_where_the_gradient_is():
    model = nn.Sequential(nn.Conv2d(1, 1, 3, stride=2), nn.Conv2d(1, 1, 3, dilation=2, padding=1))
    t = trace(model, 41)
    inside = 0
    for index in [(0, 0), (3, 5), None]:
        top, left, height, width = t.output.box(index)
        out = t.output.size
        row, col = index if index is not None else (out[0] // 2, out[1] // 2)
        x = torch.ones(1, 1, 41, 41, requires_grad=True)
        # all-ones weights: no path can cancel another
        with torch.no_grad():
            for conv in model:
                conv.weight.fill_(1.0)
        y = model(x)
        (grad,) = torch.autograd.grad(y[0, 0, row, col], x)
        rows = (grad[0, 0] != 0).any(dim=1).nonzero().flatten()
        cols = (grad[0, 0] != 0).any(dim=0).nonzero().flatten()
        # the gradient never leaves the box; where the box is inside the input, it fills it
        assert top <= rows[0] and rows[-1] <= top + height - 1
        assert left <= cols[0] and cols[-1] <= left + width - 1
        if top >= 0 and left >= 0 and top + height <= 41 and left + width <= 41:
            assert (rows[0], rows[-1], cols[0], cols[-1]) == (top, top + height - 1, left, left + width - 1)
            inside += 1
    assert inside == 2  # (3, 5) and the centre; (0, 0) reaches into the padding
    with pytest.raises(ValueError, match="no spatial output"):
        trace(torchvision.models.resnet18(weights=None), 64)["fc"].box()


@pytest.mark.parametrize("builder, kwargs", [(torchvision.models.resnet18, {}),
                                             (torchvision.models.resnet50, {"replace_stride_with_dilation": DILATED})])
def test_meta_device_builds_the_same_model_without_data(builder, kwargs):
    with meta_device():
        meta_model = builder(**kwargs)
    cpu_model = builder(**kwargs)
    meta_shapes = {name: (t.shape, t.dtype, t.device.type) for name, t in meta_model.state_dict().items()}
    cpu_shapes = {name: (t.shape, t.dtype, "meta") for name, t in cpu_model.state_dict().items()}
    assert meta_shapes == cpu_shapes
    assert [str(row) for row in trace(meta_model, 97).values()] == [str(row) for row in trace(cpu_model, 97).values()]


def test_meta_device_skips_fills_on_meta_only_and_ends_with_the_block():
    with meta_device():
        on_meta = torch.empty(4)
        assert on_meta.device.type == "meta"
        assert on_meta.normal_() is on_meta
        on_cpu = torch.zeros(1000, device="cpu")
        nn.init.normal_(on_cpu)  # real tensors are still initialised
    assert on_cpu.std() > 0.5
    assert torch.empty(2).device.type == "cpu"
    layer = nn.Linear(20, 20)  # outside the block: initialised as usual
    assert layer.weight.device.type == "cpu" and layer.weight.abs().sum() > 0


def test_start_column_follows_the_centre_recurrence():
    # start_l = start_{l-1} + ((k_eff - 1) / 2 - p_l) * jump_{l-1}, by hand:
    # conv 3 p0: 0 + 1 * 1 = 1; conv 3 s2 p0: 1 + 1 * 1 = 2 (jump 2); conv 5 p1 d1: 2 + (2 - 1) * 2 = 4;
    # conv 3 d2 p0 (k_eff 5): 4 + 2 * 2 = 8
    model = nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3, stride=2), nn.Conv2d(1, 1, 5, padding=1),
                          nn.Conv2d(1, 1, 3, dilation=2))
    t = trace(model, 40)
    assert [t[str(i)].start for i in range(4)] == [(1, 1), (2, 2), (4, 4), (8, 8)]
    assert str(t).splitlines()[-1].split()[:7] == ["3", "Conv2d", "12x12", "1", "2", "21", "8"]
    # pixel 0 of the last layer really is centred at input 8: its gradient spans 8 +- 10 (clipped at 0)
    x = torch.ones(1, 1, 40, 40, requires_grad=True)
    with torch.no_grad():
        for conv in model:
            conv.weight.fill_(1.0)
    (grad,) = torch.autograd.grad(model(x)[0, 0, 1, 1], x)  # pixel 1: centre 8 + 2 = 10, span 0..20
    rows = (grad[0, 0] != 0).any(dim=1).nonzero().flatten()
    assert (rows[0].item() + rows[-1].item()) / 2 == 8 + 1 * 2


class Around(nn.Module):
    """A conv, then ``op``: trace must refuse ops it does not model that keep the shape."""

    def __init__(self, op):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3, padding=1)
        self.op = op

    def forward(self, x):
        return self.op(self.conv(x))


class Lambda(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


UNMODELLED = {
    "torch.roll": lambda x: torch.roll(x, 1, dims=-1),
    "torch.flip": lambda x: torch.flip(x, dims=[-1]),
    "Tensor.flip": lambda x: x.flip(-2),
    "Tensor.transpose": lambda x: x.transpose(-1, -2),
    "Tensor.softmax": lambda x: x.softmax(dim=-1),
    "Tensor.__getitem__ (pixels)": lambda x: x[..., torch.arange(x.shape[-1] - 1, -1, -1)],
    "F.interpolate antialias": lambda x: F.interpolate(x, scale_factor=0.5, mode="bilinear", antialias=True),
    "conv3d": lambda x: F.conv3d(x, torch.ones(1, 1, 1, 3, 3, device=x.device), padding=(0, 1, 1)),
}


@pytest.mark.parametrize("name", list(UNMODELLED))
def test_ops_that_move_pixels_but_keep_the_shape_raise(name):
    with pytest.raises(ValueError, match=r"'op' \(Lambda\)"):
        trace(Around(Lambda(UNMODELLED[name])), 16)


def test_conv3d_over_channels_height_width_raises():
    class Volume(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv3d = nn.Conv3d(2, 2, (1, 3, 3), padding=(0, 1, 1))  # reads (N, C, H, W) as (C, D, H, W)

        def forward(self, x):
            return self.conv3d(x[:, :2] if x.shape[1] > 2 else x)

    model = nn.Sequential(nn.Conv2d(3, 3, 1), Volume())
    with pytest.raises(ValueError, match=r"conv3d.*'1.conv3d' \(Conv3d\)"):
        trace(model, 12)


@pytest.mark.parametrize("fn", [lambda x: x.softmax(dim=1), lambda x: torch.sigmoid(x) * x,
                                lambda x: x[:, :1] + x[:, 1:, ...],
                                lambda x: torch.cat([x, x.contiguous().view(x.shape[0], -1, *x.shape[-2:])], dim=1),
                                lambda x: F.interpolate(x, scale_factor=2, mode="bilinear", antialias=True)])
def test_ops_that_keep_pixels_in_place_are_traced(fn):
    t = trace(Around(Lambda(fn)), 16)
    assert t["conv"].rf == (3, 3) and t["op"].rf[0] >= 3
