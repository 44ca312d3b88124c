"""Dilated ResNets: the à trous equivalence, torchvision compatibility, checkpoint loading."""

from __future__ import annotations

import itertools

import pytest
import torch
import torchvision
from torch import nn

from visual.models.resnet import (RESNET_ARCHS, dilated_resnet, load_checkpoint, load_strict, read_state_dict,
                                  resnet_arch, semseg_resnet)

ALL_FLAGS = list(itertools.product((False, True), repeat=3))
SEGMENTATION_FLAGS = (False, True, True)  # output stride 8, as in PSPNet / DeepLab
SIZE = (57, 45)  # odd, non-square: 2x2 features at output stride 32, 8x6 at 8, 15x12 at 4


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _calibrate_batchnorm(model: nn.Module, image: torch.Tensor, seed: int = 0) -> nn.Module:
    """Random BN affine parameters and BN statistics of a real forward pass on ``image``.

    Realistic statistics keep the activations O(1) through 100+ layers (with the init's unit
    statistics they grow to ~1e7 and float rounding swamps the comparison), and non-trivial
    ones mean a wrong dilation cannot hide behind identity BNs.
    """
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            n = module.num_features
            module.weight.data.copy_(torch.rand(n, generator=generator) + 0.5)
            module.bias.data.copy_(torch.rand(n, generator=generator) - 0.5)
            module.momentum = None  # running stats = plain average = this batch's statistics
            module.reset_running_stats()
    model.train()
    with torch.no_grad():
        model(image)
    return model.eval()


def _features(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The backbone output (``layer4``), ``(N, C, h, w)``."""
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    return model.layer4(model.layer3(model.layer2(model.layer1(x))))


def _reference_and_image(arch: str, size: tuple[int, int]) -> tuple[nn.Module, torch.Tensor]:
    """An undilated model (float64, for exactness) and a batch of two random images."""
    torch.manual_seed(0)
    image = torch.randn(2, 3, *size, dtype=torch.float64)
    reference = _calibrate_batchnorm(dilated_resnet(arch, (False, False, False)).double(), image)
    return reference, image


def _assert_a_trous(reference: nn.Module, image: torch.Tensor, arch: str, flags: tuple[bool, ...]) -> None:
    with torch.device("meta"):  # no random init: the weights are the reference's
        dilated = dilated_resnet(arch, flags)
    dilated.load_state_dict(reference.state_dict(), assign=True)
    dilated.eval()
    with torch.inference_mode():
        sparse = _features(reference, image)  # (1, C, ceil(H/32), ceil(W/32))
        dense = _features(dilated, image)  # (1, C, ceil(H/os), ceil(W/os))
    step = 2 ** sum(flags)  # each dilated stage keeps a stride-2 grid
    assert dense.shape[-2:] == tuple(-(-s // (32 // step)) for s in image.shape[-2:])
    torch.testing.assert_close(dense[..., ::step, ::step], sparse)


@pytest.mark.parametrize(
    "arch",
    [pytest.param(a, marks=pytest.mark.slow) if a in ("resnet101", "resnet152") else a for a in RESNET_ARCHS],
)
def test_dilated_features_subsampled_equal_undilated(arch):
    reference, image = _reference_and_image(arch, SIZE)
    _assert_a_trous(reference, image, arch, SEGMENTATION_FLAGS)


@pytest.fixture(scope="module")
def resnet18_reference():
    return _reference_and_image("resnet18", SIZE)


@pytest.mark.parametrize("flags", ALL_FLAGS, ids=str)
def test_every_flag_combination_is_a_trous_for_basic_blocks(resnet18_reference, flags):
    reference, image = resnet18_reference
    _assert_a_trous(reference, image, "resnet18", flags)


@pytest.mark.parametrize("arch", ["resnet18", "resnet34"])
def test_undilated_basic_resnet_equals_torchvision(arch):
    torch.manual_seed(1)
    image = torch.randn(2, 3, 64, 71)
    theirs = _calibrate_batchnorm(getattr(torchvision.models, arch)(weights=None), image)
    ours = dilated_resnet(arch, (False, False, False)).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    with torch.inference_mode():
        torch.testing.assert_close(ours(image), theirs(image))


@pytest.mark.parametrize("arch", ["resnet18", "resnet34"])
@pytest.mark.parametrize("flags", [(False, False, False), SEGMENTATION_FLAGS, (True, True, True)], ids=str)
def test_state_dict_is_key_for_key_torchvision(arch, flags):
    with torch.device("meta"):  # keys and shapes need no weights
        theirs = getattr(torchvision.models, arch)(weights=None).state_dict()
        ours = dilated_resnet(arch, flags).state_dict()
    assert list(ours) == list(theirs)
    assert all(ours[key].shape == theirs[key].shape for key in theirs)


def test_torchvision_basic_block_refuses_dilation():
    # The gap the stride/dilation rule fills for ResNet-18/34.
    with pytest.raises(NotImplementedError, match="Dilation > 1 not supported in BasicBlock"):
        torchvision.models.resnet18(weights=None, replace_stride_with_dilation=[False, True, True])


@pytest.mark.parametrize("arch", list(RESNET_ARCHS))
def test_every_arch_is_a_torchvision_model(arch):
    with torch.device("meta"):
        model = dilated_resnet(arch, SEGMENTATION_FLAGS)
    block = torchvision.models.resnet.Bottleneck if arch in ("resnet50", "resnet101", "resnet152") else \
        torchvision.models.resnet.BasicBlock
    assert type(model) is torchvision.models.ResNet and type(model.layer3[0]) is block
    assert resnet_arch(model) == arch


def _geometry(model: nn.Module) -> dict[str, tuple]:
    return {name: (m.stride, m.dilation, m.padding) for name, m in model.named_modules() if isinstance(m, nn.Conv2d)}


@pytest.mark.parametrize("arch", ["resnet50", "resnet101"])
@pytest.mark.parametrize("flags", ALL_FLAGS, ids=str)
def test_bottleneck_rule_equals_torchvisions_replace_stride_with_dilation(arch, flags):
    with torch.device("meta"):
        ours = dilated_resnet(arch, flags)
        theirs = getattr(torchvision.models, arch)(weights=None, replace_stride_with_dilation=list(flags))
    assert _geometry(ours) == _geometry(theirs)


def _dilations(block: nn.Module) -> list[int]:
    return [m.dilation[0] for m in block.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]


def test_basic_block_schedule_follows_the_a_trous_rule():
    # Hand-derived for (False, True, True): layer3 replaces a stride 2 (dilation 1 -> 2),
    # layer4 another (2 -> 4). The conv that carried the stride keeps the previous dilation.
    model = dilated_resnet("resnet34", SEGMENTATION_FLAGS)
    assert type(model.layer3[0]) is torchvision.models.resnet.BasicBlock
    assert [_dilations(b) for b in model.layer2] == [[1, 1]] * 4
    assert [_dilations(b) for b in model.layer3] == [[1, 2]] + [[2, 2]] * 5
    assert [_dilations(b) for b in model.layer4] == [[2, 4]] + [[4, 4]] * 2
    assert model.layer2[0].conv1.stride == (2, 2)
    assert model.layer3[0].conv1.stride == model.layer4[0].conv1.stride == (1, 1)
    assert model.layer4[0].downsample[0].stride == (1, 1)
    for conv in (m for m in model.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)):
        assert conv.padding == conv.dilation  # "same" padding keeps the grid aligned


def test_torchvision_bottleneck_schedule_is_the_same_rule():
    model = dilated_resnet("resnet50", SEGMENTATION_FLAGS)
    assert [_dilations(b) for b in model.layer3] == [[1]] + [[2]] * 5
    assert [_dilations(b) for b in model.layer4] == [[2]] + [[4]] * 2


def test_docstring_examples():
    import doctest

    import visual.models.resnet

    results = doctest.testmod(visual.models.resnet)
    assert results.attempted >= 2 and results.failed == 0


def test_semseg_schedule_dilates_the_strided_conv_too():
    # hszhao/semseg model/pspnet.py: every 3x3 conv of layer3 gets dilation 2, of layer4 dilation 4.
    for arch, conv in (("resnet50", "conv2"), ("resnet18", "conv1")):
        model = semseg_resnet(arch)
        assert [_dilations(b) for b in model.layer3] == [[2] * len(_dilations(model.layer3[0]))] * len(model.layer3)
        assert {d for b in model.layer4 for d in _dilations(b)} == {4}
        assert getattr(model.layer3[0], conv).stride == (1, 1) and model.layer4[0].downsample[0].stride == (1, 1)
    assert _geometry(dilated_resnet("resnet50", schedule="semseg")) == _geometry(semseg_resnet("resnet50"))


@pytest.mark.parametrize("arch", ["resnet18", "resnet50"])
def test_deep_stem_names_and_shapes(arch):
    # The module names visual.models.semseg_keys maps the official layer0.* onto.
    model = semseg_resnet(arch, deep_stem=True)
    assert [type(m).__name__ for m in model.conv1] == ["Conv2d", "BatchNorm2d", "ReLU"] * 2 + ["Conv2d"]
    assert [model.conv1[i].out_channels for i in (0, 3, 6)] == [64, 64, 128] and model.conv1[0].stride == (2, 2)
    assert model.bn1.num_features == 128 and model.layer1[0].conv1.in_channels == 128
    assert model.layer1[0].downsample[0].in_channels == 128
    keys = set(model.state_dict())
    assert {"conv1.0.weight", "conv1.3.weight", "conv1.6.weight", "bn1.running_mean"} <= keys
    assert "conv1.weight" not in keys
    with torch.inference_mode():
        assert model.eval()(torch.zeros(1, 3, 33, 33)).shape == (1, 1000)


# --- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize("arch", ["resnet", "ResNet50", "vgg16", 50, None])
def test_unknown_arch_raises(arch):
    with pytest.raises(ValueError, match="arch must be one of"):
        dilated_resnet(arch)


def test_default_arch_is_resnet50():
    with torch.device("meta"):
        assert resnet_arch(dilated_resnet()) == "resnet50"


@pytest.mark.parametrize(
    "flags",
    [(True, True), (False, True, True, True), (0, 1, 1), "FTT", None, True, (False, None, True)],
    ids=repr,
)
def test_flags_must_be_three_booleans(flags):
    with pytest.raises((TypeError, ValueError), match="replace_stride_with_dilation"):
        dilated_resnet("resnet18", flags)


# --- checkpoints ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def resnet18_checkpoint(tmp_path_factory):
    torch.manual_seed(2)
    state = torchvision.models.resnet18(weights=None).state_dict()
    path = tmp_path_factory.mktemp("ckpt") / "resnet18.pth"
    torch.save(state, path)
    return path, state


def test_torchvision_checkpoint_loads_into_dilated_resnet18(resnet18_checkpoint):
    path, state = resnet18_checkpoint
    model = dilated_resnet("resnet18", SEGMENTATION_FLAGS, weights=path)
    for key, value in state.items():
        torch.testing.assert_close(model.state_dict()[key], value)


@pytest.mark.parametrize("wrap", ["state_dict", "model", "module."])
def test_common_checkpoint_wrappers_are_unwrapped(tmp_path, resnet18_checkpoint, wrap):
    _, state = resnet18_checkpoint
    wrapped = {"module." + k: v for k, v in state.items()} if wrap == "module." else {wrap: state, "epoch": 3}
    torch.save(wrapped, tmp_path / "wrapped.pth")
    model = load_checkpoint(dilated_resnet("resnet18"), tmp_path / "wrapped.pth")
    torch.testing.assert_close(model.conv1.weight, state["conv1.weight"])


def test_prefixes_are_stripped_and_ignored(tmp_path, resnet18_checkpoint):
    _, state = resnet18_checkpoint
    torch.save({"backbone." + k: v for k, v in state.items()}, tmp_path / "seg.pth")
    backbone = dilated_resnet("resnet18")
    backbone.fc = nn.Identity()  # a backbone without classifier
    load_checkpoint(backbone, tmp_path / "seg.pth", strip_prefix="backbone.", ignore_prefixes=("fc.",))
    torch.testing.assert_close(backbone.layer4[1].conv2.weight, state["layer4.1.conv2.weight"])


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="path .* is not a file .*nothing is downloaded"):
        dilated_resnet("resnet18", weights=tmp_path / "nope.pth")


@pytest.mark.parametrize("weights", [True, 3, ["a.pth"]])
def test_weights_must_be_a_path(weights):
    with pytest.raises(TypeError, match=r"path \(weights\) must be the path of a local"):
        dilated_resnet("resnet18", weights=weights)


def test_wrong_architecture_names_the_missing_keys(resnet18_checkpoint):
    path, _ = resnet18_checkpoint
    with pytest.raises(ValueError, match=r"missing keys: 'layer1\.2\.bn1\.bias'.*model is a resnet34: is this a "
                                         r"checkpoint of another"):
        dilated_resnet("resnet34", weights=path)


def test_wrong_shapes_are_named(tmp_path, resnet18_checkpoint):
    _, state = resnet18_checkpoint
    torch.save({**state, "fc.weight": torch.zeros(10, 512), "fc.bias": torch.zeros(10)}, tmp_path / "c10.pth")
    with pytest.raises(ValueError, match=r"fc\.weight: checkpoint \(10, 512\) vs model \(1000, 512\)"):
        dilated_resnet("resnet18", weights=tmp_path / "c10.pth")


def test_unexpected_keys_are_named(tmp_path, resnet18_checkpoint):
    _, state = resnet18_checkpoint
    torch.save({**state, "aux.weight": torch.zeros(1)}, tmp_path / "extra.pth")
    with pytest.raises(ValueError, match="unexpected keys: 'aux.weight'"):
        dilated_resnet("resnet18", weights=tmp_path / "extra.pth")


def test_files_that_are_not_state_dicts_are_refused(tmp_path):
    (tmp_path / "text.pth").write_text("not a checkpoint")
    with pytest.raises(ValueError, match="not a loadable PyTorch checkpoint"):
        dilated_resnet("resnet18", weights=tmp_path / "text.pth")
    torch.save([torch.zeros(1)], tmp_path / "list.pth")
    with pytest.raises(ValueError, match="does not hold a state_dict"):
        dilated_resnet("resnet18", weights=tmp_path / "list.pth")


def test_malicious_pickles_are_refused(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    torch.save({"conv1.weight": Payload()}, tmp_path / "evil.pth")
    with pytest.raises(ValueError, match="weights_only"):
        load_checkpoint(dilated_resnet("resnet18"), tmp_path / "evil.pth")


def test_a_meta_model_is_refused(resnet18_checkpoint):
    with torch.device("meta"):
        model = dilated_resnet("resnet18")
    with pytest.raises(ValueError, match="model is on the meta device"):
        load_checkpoint(model, resnet18_checkpoint[0])


def test_load_strict_wraps_a_mismatch_with_the_hint():
    model = nn.Linear(2, 1)
    with pytest.raises(RuntimeError, match=r"(?s)my hint: .*Missing key\(s\) in state_dict: \"bias\""):
        load_strict(model, {"weight": torch.zeros(1, 2)}, "my hint", error=RuntimeError)
    state = {"weight": torch.ones(1, 2), "bias": torch.zeros(1)}
    assert load_strict(model, state, "unused") is model
    torch.testing.assert_close(model.weight, state["weight"])


def test_read_state_dict_unwraps_and_strips_module_prefix(tmp_path):
    torch.save({"state_dict": {"module.weight": torch.ones(2)}}, tmp_path / "wrapped.pth")
    assert list(read_state_dict(tmp_path / "wrapped.pth")) == ["weight"]
