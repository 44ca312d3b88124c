"""visual.cost: FLOPs and activation memory, counted on the meta device, against hand maths and real runs."""

from __future__ import annotations

import contextlib
import functools

import pytest
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from visual.cost import CostTable, PartCost, cost_table, measure_cost, meta_forward, part_costs
from visual.models.pspnet import PSPNet
from visual.models.resnet import dilated_resnet

OS8 = (False, True, True)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _meta_model(arch: str, flags: tuple[bool, bool, bool]) -> nn.Module:
    with torch.device("meta"):
        return dilated_resnet(arch, flags).eval()


# --- backbones --------------------------------------------------------------------------------------

def _hand_conv_flops(model: nn.Module, size: tuple[int, int]) -> int:
    """2 * C_in * k_h * k_w * C_out * h_out * w_out summed over every conv (a MAC is 2 FLOPs)."""
    outputs: dict[nn.Module, tuple[int, int]] = {}
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    handles = [m.register_forward_hook(lambda m, _i, out: outputs.__setitem__(m, tuple(out.shape[-2:])))
               for m in convs]
    with torch.inference_mode():
        x = model.maxpool(model.relu(model.bn1(model.conv1(torch.zeros(1, 3, *size, device="meta")))))
        model.layer4(model.layer3(model.layer2(model.layer1(x))))
    for handle in handles:
        handle.remove()
    return sum(
        2 * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1] * m.out_channels
        * outputs[m][0] * outputs[m][1]
        for m in convs
    )


@pytest.mark.parametrize("flags", [(False, False, False), OS8], ids=str)
def test_flops_by_hand(flags):
    cost = measure_cost("resnet50", 473, flags)
    assert cost.flops == _hand_conv_flops(_meta_model("resnet50", flags), (473, 473))
    assert cost.output_stride == 32 // 2 ** sum(flags)
    assert cost.feature_bytes == 2048 * cost.output_size[0] * cost.output_size[1] * 4  # float32


def test_meta_cost_equals_a_real_cpu_run():
    # The meta-device count must equal the one of a real forward pass with real tensors.
    from torch.utils.flop_counter import FlopCounterMode

    model = dilated_resnet("resnet18", OS8).train()
    saved: dict[int, int] = {}
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            saved[storage.data_ptr()] = storage.nbytes()
        return t

    image = torch.rand(1, 3, 64, 48)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), FlopCounterMode(display=False) as counter:
        x = model.maxpool(model.relu(model.bn1(model.conv1(image))))
        model.layer4(model.layer3(model.layer2(model.layer1(x))))
    cost = measure_cost(model, (64, 48))
    assert cost.flops == counter.get_total_flops()
    assert cost.activation_bytes == sum(saved.values())


def test_cost_table_grows_with_smaller_output_stride():
    table = cost_table("resnet18", 225, (32, 16, 8))
    assert isinstance(table, CostTable) and [c.output_stride for c in table] == [32, 16, 8]
    flops = [c.flops for c in table]
    memory = [c.activation_bytes for c in table]
    assert flops[0] < flops[1] < flops[2] and memory[0] < memory[1] < memory[2]
    # OS 8 runs layer3 on 4x and layer4 on 16x the positions of OS 32.
    assert [c.output_size for c in table] == [(8, 8), (15, 15), (29, 29)]
    lines = str(table).splitlines()
    assert len(lines) == 5 and "1.00" in lines[2] and "<table>" in table._repr_html_()


def test_cost_table_arguments():
    with pytest.raises(ValueError, match="output_strides"):
        cost_table("resnet18", 64, ())
    with pytest.raises(ValueError, match="output_stride must be one of"):
        cost_table("resnet18", 64, (32, 12))
    with pytest.raises(TypeError, match="output_strides"):
        cost_table("resnet18", 64, 8)


def test_the_model_is_left_as_it_was():
    model = dilated_resnet("resnet18", OS8).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    measure_cost(model, 64)
    assert not model.training and next(model.parameters()).device.type == "cpu"
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # BN statistics too


def test_saved_storages_count_once():
    # y = x * w saves x and w; z = y * y saves y twice: one storage, counted once.
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.ones(1))

        def forward(self, x):
            y = x * self.w  # saves x (1*3*4*5 floats) and w (a parameter: excluded)
            return y * y  # saves y twice

    measured = meta_forward(Twice(), (4, 5))
    assert measured.activation_bytes == 2 * 3 * 4 * 5 * 4  # x and y, float32
    assert measured.flops == 0  # elementwise products are not counted


# --- parts of a PSPNet -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_pspnet() -> PSPNet:
    torch.manual_seed(0)
    return PSPNet(3, backbone="resnet18").eval()


def test_part_costs_equal_a_real_cpu_run(small_pspnet):
    size = (65, 49)
    counts, stacks = {}, {}

    def start(module, args, part):
        stacks[part] = contextlib.ExitStack()
        counts[part] = stacks[part].enter_context(FlopCounterMode(display=False))

    handles = []
    for part in ("backbone", "ppm", "head", "aux_head"):
        module = getattr(small_pspnet, part)
        handles.append(module.register_forward_pre_hook(functools.partial(start, part=part)))
        handles.append(module.register_forward_hook(lambda m, args, out, part=part: stacks[part].close()))
    small_pspnet.train()
    try:
        small_pspnet(torch.rand(1, 3, *size))
    finally:
        small_pspnet.eval()
        for handle in handles:
            handle.remove()
    rows = part_costs(small_pspnet, size)
    assert [r.part for r in rows] == ["backbone", "ppm", "head", "aux_head", "total"]
    assert all(isinstance(r, PartCost) for r in rows)
    for row in rows[:-1]:
        assert row.flops == counts[row.part].get_total_flops() > 0, row.part
        assert row.parameters == sum(p.numel() for p in getattr(small_pspnet, row.part).parameters())
    assert rows[-1].flops == sum(r.flops for r in rows[:-1])
    assert rows[-1].parameters == sum(p.numel() for p in small_pspnet.parameters())
    assert not small_pspnet.training


def test_part_costs_head_by_hand():
    with torch.device("meta"):
        model = PSPNet(150, backbone="resnet50")
    rows = {row.part: row for row in part_costs(model, 473)}
    h = w = 60  # ceil(473 / 8)
    c3, c4 = 1024, 2048  # layer3 / layer4 channels of ResNet-50 (He et al. 2016, Table 1)
    assert rows["head"].flops == 2 * h * w * (2 * c4 * 512 * 9 + 512 * 150)
    assert rows["ppm"].flops == 2 * sum(b * b for b in (1, 2, 3, 6)) * c4 * (c4 // 4)
    assert rows["aux_head"].flops == 2 * h * w * (c3 * 256 * 9 + 256 * 150)
    with torch.device("meta"):
        resnet = torchvision.models.resnet50(weights=None, replace_stride_with_dilation=[False, True, True])
        with FlopCounterMode(display=False) as counter:
            resnet(torch.empty(1, 3, 473, 473))
    assert rows["backbone"].flops == counter.get_total_flops() - 2 * 2048 * 1000  # minus the fc layer


@pytest.mark.parametrize("bad, error", [("model", TypeError), (nn.Conv2d(3, 3, 1), TypeError)])
def test_part_costs_needs_a_pspnet(bad, error):
    with pytest.raises(error, match="model must be a visual.PSPNet"):
        part_costs(bad, 65)


def test_part_costs_match_hand_maths():
    with torch.device("meta"):
        model = PSPNet(150, backbone="resnet50")
    rows = {row.part: row for row in part_costs(model, 473)}
    h = w = 60  # ceil(473 / 8)
    c3, c4 = 1024, 2048  # layer3 / layer4 channels of ResNet50 (He et al. 2016, Table 1)
    # forward FLOPs = 2 x multiply-adds of each conv
    head = 2 * h * w * (2 * c4 * 512 * 9 + 512 * 150)
    ppm = 2 * sum(b * b for b in (1, 2, 3, 6)) * c4 * (c4 // 4)
    aux = 2 * h * w * (c3 * 256 * 9 + 256 * 150)
    assert rows["head"].flops == head and rows["ppm"].flops == ppm and rows["aux_head"].flops == aux
    assert rows["head"].parameters == 2 * c4 * 512 * 9 + 2 * 512 + 512 * 150 + 150
    assert rows["total"].parameters == sum(p.numel() for p in model.parameters())
    assert rows["total"].flops == sum(rows[p].flops for p in ("backbone", "ppm", "head", "aux_head"))
    # The backbone: torchvision's dilated resnet50 counted on its own, minus its fc layer.
    with torch.device("meta"):
        resnet = torchvision.models.resnet50(weights=None, replace_stride_with_dilation=[False, True, True])
        with FlopCounterMode(display=False) as counter:
            resnet(torch.empty(1, 3, 473, 473))
    fc = 2 * 2048 * 1000
    assert rows["backbone"].flops == counter.get_total_flops() - fc
