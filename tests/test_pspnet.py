"""PSPNet (visual.models.pspnet): shapes, heads, loss, batch-1 training, checkpoints, errors.

Expected values come from hand maths (channel counts, parameter counts, FLOP formulas),
from torchvision's own ResNets (state_dict keys, checkpoints) and from F.cross_entropy.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import torchvision
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from visual import trace
from visual.models.pspnet import (
    PSPNet,
    PyramidBatchNorm2d,
    PyramidPoolingModule,
    adaptive_pool_windows,
    pspnet_loss,
    pspnet_sizes,
    pyramid_features,
)

# Channels of layer3 / layer4 per backbone: He et al. 2016, Table 1 (BasicBlock x1, Bottleneck x4).
CHANNELS = {
    "resnet18": (256, 512),
    "resnet34": (256, 512),
    "resnet50": (1024, 2048),
    "resnet101": (1024, 2048),
    "resnet152": (1024, 2048),
}
SMALL = 65  # 8k + 1 pixels: layer4 is 9 x 9
NUM_CLASSES = 3


@pytest.fixture(scope="module")
def small_model() -> PSPNet:
    torch.manual_seed(0)
    return PSPNet(NUM_CLASSES, backbone="resnet18")


def _feature_shapes(model: PSPNet, x: torch.Tensor) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = [
        model.ppm.register_forward_hook(lambda m, i, o: shapes.update(layer4=tuple(i[0].shape), ppm=tuple(o.shape))),
        model.backbone.layer3.register_forward_hook(lambda m, i, o: shapes.update(layer3=tuple(o.shape))),
    ]
    try:
        out = model(x)
    finally:
        for hook in hooks:
            hook.remove()
    shapes.update({key: tuple(value.shape) for key, value in out.items()})
    return shapes


@pytest.mark.slow
@pytest.mark.parametrize("backbone", sorted(CHANNELS))
def test_forward_shapes_at_473_and_odd_size(backbone):
    c3, c4 = CHANNELS[backbone]
    model = PSPNet(5, backbone=backbone).eval()
    with torch.inference_mode():
        shapes = _feature_shapes(model, torch.rand(1, 3, 473, 473))
        # ceil(473 / 8) = 60: stride 2 (conv1), 2 (maxpool), 2 (layer2), then dilation only.
        assert shapes == {"layer3": (1, c3, 60, 60), "layer4": (1, c4, 60, 60),
                          "ppm": (1, 2 * c4, 60, 60), "out": (1, 5, 473, 473)}
        odd = _feature_shapes(model, torch.rand(1, 3, 97, 131))
        # ceil(97 / 8) = 13, ceil(131 / 8) = 17
        assert odd == {"layer3": (1, c3, 13, 17), "layer4": (1, c4, 13, 17),
                       "ppm": (1, 2 * c4, 13, 17), "out": (1, 5, 97, 131)}


@settings(max_examples=4, deadline=None)
@given(height=st.integers(64, 100), width=st.integers(64, 100))
def test_any_size_from_64_gives_input_sized_output(small_model, height, width):
    small_model.eval()
    with torch.inference_mode():
        out = small_model(torch.rand(1, 3, height, width))
    assert set(out) == {"out"}
    assert out["out"].shape == (1, NUM_CLASSES, height, width)


def test_output_keys_in_train_and_eval_modes():
    torch.manual_seed(0)
    model = PSPNet(NUM_CLASSES, backbone="resnet18")
    x = torch.rand(2, 3, SMALL, SMALL)
    model.train()
    train_out = model(x)
    assert set(train_out) == {"out", "aux"}
    assert train_out["aux"].shape == train_out["out"].shape == (2, NUM_CLASSES, SMALL, SMALL)
    model.eval()
    with torch.no_grad():
        assert set(model(x)) == {"out"}
    no_aux = PSPNet(NUM_CLASSES, backbone="resnet18", aux=False).train()
    assert set(no_aux(x)) == {"out"}


def _reference_keys_and_count(backbone: str, num_classes: int, bins: tuple[int, ...], aux: bool):
    """The reference design's state_dict keys and parameter count, from torchvision + hand maths."""
    resnet = getattr(torchvision.models, backbone)(weights=None)  # undilated: same keys
    keys = {f"backbone.{k}" for k in resnet.state_dict() if not k.startswith("fc.")}
    count = sum(p.numel() for name, p in resnet.named_parameters() if not name.startswith("fc."))
    c3, c4 = CHANNELS[backbone]
    reduced = c4 // len(bins)
    bn = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
    for i in range(len(bins)):  # AdaptiveAvgPool2d, Conv2d (no bias), BatchNorm2d, ReLU
        keys |= {f"ppm.stages.{i}.1.weight"} | {f"ppm.stages.{i}.2.{b}" for b in bn}
        count += c4 * reduced + 2 * reduced
    heads = [("head", c4 + len(bins) * reduced, 512)] + ([("aux_head", c3, 256)] if aux else [])
    for name, cin, mid in heads:  # Conv3x3 (no bias), BN, ReLU, Dropout2d, Conv1x1 (bias)
        keys |= {f"{name}.0.weight", f"{name}.4.weight", f"{name}.4.bias"} | {f"{name}.1.{b}" for b in bn}
        count += cin * mid * 9 + 2 * mid + mid * num_classes + num_classes
    return keys, count


@pytest.mark.parametrize("backbone, bins, aux", [("resnet18", (1, 2, 3, 6), True),
                                                 ("resnet18", (1, 2, 3, 6), False),
                                                 ("resnet50", (1, 2, 3, 6), True),
                                                 ("resnet34", (1, 3), True)])
def test_state_dict_keys_and_parameter_count_match_the_reference_design(backbone, bins, aux):
    with torch.device("meta"):
        model = PSPNet(7, backbone=backbone, bins=bins, aux=aux)
    keys, count = _reference_keys_and_count(backbone, 7, bins, aux)
    assert set(model.state_dict()) == keys
    assert sum(p.numel() for p in model.parameters()) == count


def test_bins_empty_builds_no_pyramid():
    """Issue 15 / semseg use_ppm=False: the head's 3x3 conv reads layer4's C channels directly."""
    torch.manual_seed(0)
    model = PSPNet(NUM_CLASSES, backbone="resnet18", bins=()).eval()
    assert model.ppm is None and model.bins == ()
    assert model.head[0].in_channels == CHANNELS["resnet18"][1]  # 512, not 2 x 512
    assert not [key for key in model.state_dict() if key.startswith("ppm.")]
    x = torch.rand(1, 3, SMALL, SMALL)
    with torch.no_grad():
        out = model(x)["out"]
        c3, c4 = model.backbone(x)
        expected = F.interpolate(model.head(c4), size=(SMALL, SMALL), mode="bilinear", align_corners=True)
    torch.testing.assert_close(out, expected)
    assert "ppm" not in pspnet_sizes(SMALL, ()) and pspnet_sizes(SMALL, ())["head"] == (9, 9)


def test_aux_false_has_no_aux_parameters():
    with torch.device("meta"):
        with_aux = PSPNet(4, backbone="resnet18")
        without = PSPNet(4, backbone="resnet18", aux=False)
    assert without.aux_head is None
    assert not [name for name, _ in without.named_parameters() if "aux" in name]
    difference = sum(p.numel() for p in with_aux.parameters()) - sum(p.numel() for p in without.parameters())
    assert difference == 256 * 256 * 9 + 2 * 256 + 256 * 4 + 4  # the aux head on layer3 (256 channels)


def test_batch_of_one_trains_and_the_global_bin_uses_running_statistics():
    torch.manual_seed(0)
    model = PSPNet(NUM_CLASSES, backbone="resnet18").train()
    x, target = torch.rand(1, 3, SMALL, SMALL), torch.randint(0, NUM_CLASSES, (1, SMALL, SMALL))
    # The case is real: a plain BatchNorm2d refuses one value per channel in training mode.
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm2d(4).train()(torch.rand(1, 4, 1, 1))
    global_bn = model.ppm.stages[0][2]
    other_bn = model.ppm.stages[1][2]
    global_stats = (global_bn.running_mean.clone(), global_bn.running_var.clone())
    other_mean = other_bn.running_mean.clone()
    loss = pspnet_loss(model(x), target)
    loss.backward()
    assert torch.isfinite(loss)
    grad = model.ppm.stages[0][1].weight.grad  # the 1x1 bin's conv still learns
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0
    torch.testing.assert_close(global_bn.running_mean, global_stats[0], rtol=0, atol=0)
    torch.testing.assert_close(global_bn.running_var, global_stats[1], rtol=0, atol=0)
    assert not torch.equal(other_bn.running_mean, other_mean)  # the 2x2 bin has 4 values: batch stats


def test_pyramid_batchnorm_normalises_one_value_with_running_statistics():
    torch.manual_seed(0)
    layer = PyramidBatchNorm2d(5)
    with torch.no_grad():
        layer.running_mean.uniform_(-1, 1)
        layer.running_var.uniform_(0.5, 2)
        layer.weight.uniform_(0.5, 2)
        layer.bias.uniform_(-1, 1)
    x = torch.randn(1, 5, 1, 1)
    expected = (x - layer.running_mean.view(1, 5, 1, 1)) / torch.sqrt(layer.running_var.view(1, 5, 1, 1) + layer.eps)
    expected = expected * layer.weight.view(1, 5, 1, 1) + layer.bias.view(1, 5, 1, 1)
    torch.testing.assert_close(layer.train()(x), expected)


def test_pyramid_batchnorm_is_batchnorm_with_more_values():
    torch.manual_seed(0)
    ours, reference = PyramidBatchNorm2d(3).train(), nn.BatchNorm2d(3).train()
    for x in (torch.randn(2, 3, 1, 1), torch.randn(1, 3, 2, 2), torch.randn(4, 3, 5, 5)):
        torch.testing.assert_close(ours(x), reference(x))
    torch.testing.assert_close(ours.running_mean, reference.running_mean)
    torch.testing.assert_close(ours.running_var, reference.running_var)


def test_pyramid_pooling_module_against_a_hand_built_branch():
    torch.manual_seed(0)
    ppm = PyramidPoolingModule(8, bins=(1, 2, 3, 6)).eval()
    x = torch.randn(2, 8, 9, 11)
    out = ppm(x)
    assert out.shape == (2, 8 + 4 * 2, 9, 11)
    torch.testing.assert_close(out[:, :8], x)  # the input features come first, unchanged
    for i, size in enumerate((1, 2, 3, 6)):
        conv, bn = ppm.stages[i][1], ppm.stages[i][2]
        pooled = F.adaptive_avg_pool2d(x, size)
        branch = F.relu(F.batch_norm(F.conv2d(pooled, conv.weight), bn.running_mean, bn.running_var,
                                     bn.weight, bn.bias, training=False, eps=bn.eps))
        expected = F.interpolate(branch, size=(9, 11), mode="bilinear", align_corners=True)
        torch.testing.assert_close(out[:, 8 + 2 * i: 8 + 2 * (i + 1)], expected)
    # The 1x1 bin is the global average: with an identity conv its value is the mean of x.
    assert ppm.pooled(x)[0].shape == (2, 2, 1, 1)
    assert [p.shape[-1] for p in ppm.pooled(x)] == [1, 2, 3, 6]


def test_loss_equals_hand_combined_cross_entropies():
    torch.manual_seed(0)
    out, aux = torch.randn(2, 4, 5, 6), torch.randn(2, 4, 5, 6)
    target = torch.randint(0, 4, (2, 5, 6))
    target[0, 0, :3] = 255  # ignored pixels
    keep = target != 255

    def hand_ce(logits):
        log_p = logits.log_softmax(dim=1)  # (N, K, H, W)
        picked = log_p.gather(1, target.clamp(max=3)[:, None])[:, 0]  # (N, H, W)
        return -(picked[keep]).sum() / keep.sum()

    expected = hand_ce(out) + 0.4 * hand_ce(aux)
    torch.testing.assert_close(pspnet_loss({"out": out, "aux": aux}, target), expected)
    torch.testing.assert_close(pspnet_loss({"out": out, "aux": aux}, target, aux_weight=1.5),
                               hand_ce(out) + 1.5 * hand_ce(aux))
    torch.testing.assert_close(pspnet_loss({"out": out}, target), hand_ce(out))


@pytest.mark.parametrize("outputs, target, error", [
    ({"aux": torch.zeros(1, 2, 3, 3)}, torch.zeros(1, 3, 3, dtype=torch.long), TypeError),
    ({"out": torch.zeros(1, 2, 3, 3)}, torch.zeros(1, 3, 3), TypeError),
    ({"out": torch.zeros(1, 2, 3, 3)}, torch.zeros(1, 4, 3, dtype=torch.long), ValueError),
    ({"out": torch.zeros(2, 3, 3)}, torch.zeros(1, 3, 3, dtype=torch.long), ValueError),
])
def test_loss_bad_input(outputs, target, error):
    with pytest.raises(error):
        pspnet_loss(outputs, target)
    with pytest.raises(ValueError, match="aux_weight"):
        pspnet_loss({"out": torch.zeros(1, 2, 3, 3)}, torch.zeros(1, 3, 3, dtype=torch.long), aux_weight=-1)


def test_backbone_checkpoint_round_trips(tmp_path):
    torch.manual_seed(1)
    resnet = torchvision.models.resnet18(weights=None)  # a torchvision-format checkpoint, fc included
    path = tmp_path / "resnet18.pth"
    torch.save(resnet.state_dict(), path)
    model = PSPNet(3, backbone="resnet18", backbone_weights=path)
    loaded = model.backbone.state_dict()
    for key, value in resnet.state_dict().items():
        if not key.startswith("fc."):
            torch.testing.assert_close(loaded[key], value, rtol=0, atol=0)
    # Without the classifier (a backbone-only file) it loads too.
    torch.save({k: v for k, v in resnet.state_dict().items() if not k.startswith("fc.")}, tmp_path / "b.pth")
    again = PSPNet(3, backbone="resnet18", backbone_weights=str(tmp_path / "b.pth"))
    torch.testing.assert_close(again.backbone.conv1.weight, resnet.conv1.weight, rtol=0, atol=0)


def test_backbone_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        PSPNet(3, backbone="resnet18", backbone_weights=tmp_path / "missing.pth")
    path = tmp_path / "resnet34.pth"
    torch.save(torchvision.models.resnet34(weights=None).state_dict(), path)
    with pytest.raises(ValueError, match="unexpected keys|missing keys|shape"):
        PSPNet(3, backbone="resnet18", backbone_weights=path)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"num_classes": 0}, ValueError, "num_classes"),
    ({"num_classes": 2.5}, TypeError, "num_classes"),
    ({"num_classes": 3, "backbone": "resnet20"}, ValueError, "backbone must be one of"),
    ({"num_classes": 3, "bins": (1, 0, 3)}, ValueError, "bins"),
    ({"num_classes": 3, "bins": (1, 0.5)}, TypeError, "bins"),
    ({"num_classes": 3, "bins": 6}, TypeError, "bins"),
    ({"num_classes": 3, "dropout": 1.0}, ValueError, "dropout"),
    ({"num_classes": 3, "aux": "yes"}, TypeError, "aux"),
])
def test_bad_arguments_raise_clear_errors(kwargs, error, match):
    with torch.device("meta"), pytest.raises(error, match=match):
        PSPNet(**{"backbone": "resnet18", **kwargs})


def test_bad_images_raise_clear_errors(small_model):
    small_model.eval()
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        small_model(torch.rand(1, 1, SMALL, SMALL))  # a 1-channel image
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        small_model(torch.rand(3, SMALL, SMALL))  # no batch dimension
    with pytest.raises(TypeError, match="floating"):
        small_model(torch.zeros(1, 3, SMALL, SMALL, dtype=torch.uint8))


@settings(max_examples=40, deadline=None)
@given(in_size=st.integers(1, 70), out_size=st.integers(1, 12))
def test_adaptive_pool_windows_match_pytorch(in_size, out_size):
    one_hot = torch.eye(in_size)[None]  # (1, C = in_size, L = in_size): channel c is 1 at cell c only
    pooled = F.adaptive_avg_pool1d(one_hot, out_size)[0]  # (in_size, out_size)
    expected = []
    for i in range(out_size):
        cells = torch.nonzero(pooled[:, i] > 0).flatten().tolist()
        assert cells == list(range(cells[0], cells[-1] + 1))  # a contiguous window
        torch.testing.assert_close(pooled[cells, i], torch.full((len(cells),), 1 / len(cells)))
        expected.append((cells[0], cells[-1] + 1))
    assert adaptive_pool_windows(in_size, out_size) == expected


def test_adaptive_pool_windows_overlap_only_when_not_divisible():
    assert adaptive_pool_windows(60, 6) == [(10 * i, 10 * i + 10) for i in range(6)]  # 473 px: tiles
    windows = adaptive_pool_windows(64, 6)  # 512 px: ceil(512 / 8) = 64 cells, 64 / 6 not an int
    assert any(a[1] > b[0] for a, b in zip(windows, windows[1:]))
    with pytest.raises(ValueError):
        adaptive_pool_windows(0, 3)


@settings(max_examples=4, deadline=None)
@given(height=st.integers(33, 140), width=st.integers(33, 140))
def test_pspnet_sizes_agree_with_the_tracer(height, width):
    with torch.device("meta"):
        model = PSPNet(2, backbone="resnet18", bins=(1, 2, 3, 6))
    rows = trace(model, (height, width))
    sizes = pspnet_sizes((height, width))
    for name, size in sizes.items():
        if name != "out":
            assert rows[name].size == size, name
    with torch.device("meta"):
        assert model.eval()(torch.empty(1, 3, height, width))["out"].shape[-2:] == sizes["out"]


def test_pyramid_features_are_the_pooled_branches(small_model):
    x = torch.rand(2, 3, SMALL, SMALL)
    features = pyramid_features(small_model.train(), x)
    assert [tuple(f.shape) for f in features] == [(2, 128, b, b) for b in (1, 2, 3, 6)]  # 512 / 4 channels
    assert small_model.training  # the mode is restored
    small_model.eval()
    with torch.no_grad():
        _, c4 = small_model.backbone(x)
        torch.testing.assert_close(features[3], small_model.ppm.stages[3](c4))
