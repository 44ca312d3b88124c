"""Issue 13, lesson 02 area: every public function refuses bad values with an error naming the argument.

One table of (call, argument name) cases per module; each case must raise ``ValueError`` or
``TypeError`` (``FileNotFoundError`` for a missing checkpoint file) whose message names the
argument: never a deep torch traceback, a silently wrong result, a hang or a huge allocation.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from visual.cost import cost_table, measure_cost, meta_forward, part_costs
from visual.models.resnet import (
    check_arch,
    check_flags,
    dilated_resnet,
    load_checkpoint,
    load_strict,
    read_state_dict,
    resnet_arch,
    semseg_resnet,
)
from visual.output_stride import dilation_flags, stride_table, upsampled_positions, upsampling_drift
from visual.plots import output_stride as plots
from visual.widgets.output_stride import (
    alignment_summary,
    explore_alignment,
    explore_output_stride,
    output_stride_summary,
)

ERRORS = (ValueError, TypeError)
BAD_ARCHS = ["resnet", "ResNet50", "vgg16", 50, None, True]
BAD_FLAGS = [(True, True), (False, True, True, True), (0, 1, 1), "FTT", True, (False, None, True), {1, 2, 3}]
BAD_SIZES = [0, -5, True, 47.0, "473", (4, 5, 6), (0, 10), (10, -1), (10.0, 5), 10**6, (8, 10**6), None]
BAD_SCHEDULES = ["deeplab", "Torchvision", None, 1]
BAD_OUTPUT_STRIDES = [2, 12, 64, 0, -8, True, 8.0, "8", None]
TABLE = stride_table("resnet18", 97)
IMAGE = torch.rand(3, 16, 16)


def _cases(function, name, values, call):
    return [pytest.param(function, name, value, call, id=f"{function.__name__}-{name}={value!r:.30}")
            for value in values]


CASES = [
    # visual.models.resnet
    *_cases(check_arch, "arch", BAD_ARCHS, lambda f, v: f(v)),
    *_cases(check_flags, "replace_stride_with_dilation", BAD_FLAGS + [None], lambda f, v: f(v)),
    *_cases(resnet_arch, "model", ["resnet50", None, 3], lambda f, v: f(v)),
    *_cases(dilated_resnet, "arch", BAD_ARCHS, lambda f, v: f(v)),
    *_cases(dilated_resnet, "replace_stride_with_dilation", BAD_FLAGS + [None], lambda f, v: f("resnet18", v)),
    *_cases(dilated_resnet, "schedule", BAD_SCHEDULES, lambda f, v: f("resnet18", schedule=v)),
    *_cases(dilated_resnet, "deep_stem", [1, "yes", None], lambda f, v: f("resnet18", deep_stem=v)),
    *_cases(dilated_resnet, "weights", [True, 3, ["a.pth"], b"a.pth"], lambda f, v: f("resnet18", weights=v)),
    *_cases(semseg_resnet, "arch", BAD_ARCHS, lambda f, v: f(v)),
    *_cases(semseg_resnet, "replace_stride_with_dilation", BAD_FLAGS, lambda f, v: f("resnet18", v)),
    *_cases(semseg_resnet, "deep_stem", [1, "yes"], lambda f, v: f("resnet18", deep_stem=v)),
    *_cases(load_checkpoint, "model", ["model", None, {"conv1.weight": 1}], lambda f, v: f(v, "weights.pth")),
    *_cases(load_checkpoint, "path", [3, None, ["a.pth"]], lambda f, v: f(nn.Linear(1, 1), v)),
    *_cases(load_checkpoint, "strip_prefix", [3, None], lambda f, v: f(nn.Linear(1, 1), "w.pth", strip_prefix=v)),
    *_cases(load_checkpoint, "ignore_prefixes", ["fc.", (1,)],
            lambda f, v: f(nn.Linear(1, 1), "w.pth", ignore_prefixes=v)),
    *_cases(read_state_dict, "path", [3, None, ["a.pth"]], lambda f, v: f(v)),
    *_cases(load_strict, "module", ["model", None, {"weight": 1}], lambda f, v: f(v, {}, "hint")),
    # visual.output_stride
    *_cases(stride_table, "arch_or_model", BAD_ARCHS[:-1] + [nn.Sequential(nn.Conv2d(3, 3, 1)), 42],
            lambda f, v: f(v)),
    *_cases(stride_table, "input_size", BAD_SIZES, lambda f, v: f("resnet18", v)),
    *_cases(stride_table, "input_size", [0, True, (4, 5, 6), 10**6], lambda f, v: f(dilated_resnet("resnet18"), v)),
    *_cases(stride_table, "replace_stride_with_dilation", BAD_FLAGS, lambda f, v: f("resnet18", 97, v)),
    *_cases(stride_table, "replace_stride_with_dilation", [(False, True, True)],
            lambda f, v: f(dilated_resnet("resnet18"), 97, v)),
    *_cases(stride_table, "schedule", BAD_SCHEDULES, lambda f, v: f("resnet18", schedule=v)),
    *_cases(dilation_flags, "output_stride", BAD_OUTPUT_STRIDES, lambda f, v: f(v)),
    *_cases(upsampling_drift, "table", [473, None, "table", [TABLE]], lambda f, v: f(v, align_corners=True)),
    *_cases(upsampling_drift, "align_corners", [None, 1, "True"], lambda f, v: f(TABLE, align_corners=v)),
    *_cases(upsampled_positions, "table", [473, None], lambda f, v: f(v, align_corners=False)),
    *_cases(upsampled_positions, "align_corners", [None, 0], lambda f, v: f(TABLE, align_corners=v)),
    # visual.cost
    *_cases(meta_forward, "model", ["model", None], lambda f, v: f(v, 64)),
    *_cases(meta_forward, "input_size", BAD_SIZES, lambda f, v: f(nn.Conv2d(3, 4, 3), v)),
    *_cases(measure_cost, "arch_or_model", BAD_ARCHS[:-1] + [42], lambda f, v: f(v)),
    *_cases(measure_cost, "input_size", BAD_SIZES, lambda f, v: f("resnet18", v)),
    *_cases(measure_cost, "replace_stride_with_dilation", BAD_FLAGS, lambda f, v: f("resnet18", 97, v)),
    *_cases(cost_table, "arch", BAD_ARCHS, lambda f, v: f(v)),
    *_cases(cost_table, "input_size", BAD_SIZES, lambda f, v: f("resnet18", v)),
    *_cases(cost_table, "output_stride", [(), 8, "32", (32, 12), (32, True), (32, 8.0), [32] * 5],
            lambda f, v: f("resnet18", 97, v)),
    *_cases(part_costs, "model", ["model", None, nn.Conv2d(3, 3, 1)], lambda f, v: f(v, 65)),
    # visual.plots.output_stride
    *_cases(plots.plot_stage_sizes, "tables", [[], None, "table", [TABLE, 3]], lambda f, v: f(v)),
    *_cases(plots.plot_stage_sizes, "quantity", ["area", None], lambda f, v: f(TABLE, quantity=v)),
    *_cases(plots.plot_stage_sizes, "labels", [["a", "b"], []], lambda f, v: f(TABLE, labels=v)),
    *_cases(plots.plot_feature_grid, "image",
            ["photo", None, torch.rand(1, 3, 8, 8), torch.full((3, 8, 8), float("nan")),
             torch.empty(3, 8, 8, device="meta"), torch.ones(3, 8, 8, dtype=torch.complex64),
             np.ones((8, 8, 5)), np.full((8, 8), np.inf)], lambda f, v: f(v, TABLE)),
    *_cases(plots.plot_feature_grid, "table", [None, 473], lambda f, v: f(IMAGE, v)),
    *_cases(plots.plot_feature_centres, "table", [None, 473], lambda f, v: f(v)),
    *_cases(plots.plot_upsampling_drift, "tables", [[], None, [TABLE, "t"]], lambda f, v: f(v)),
    *_cases(plots.plot_stride_cost, "costs", [[1, 2], None, TABLE], lambda f, v: f(v)),
    # visual.widgets.output_stride
    *_cases(output_stride_summary, "arch", BAD_ARCHS[:-1], lambda f, v: f(v)),
    *_cases(output_stride_summary, "input_size", BAD_SIZES, lambda f, v: f("resnet18", v)),
    *_cases(output_stride_summary, "replace_stride_with_dilation", BAD_FLAGS, lambda f, v: f("resnet18", 97, v)),
    *_cases(output_stride_summary, "schedule", BAD_SCHEDULES, lambda f, v: f("resnet18", 97, schedule=v)),
    *_cases(alignment_summary, "input_size", BAD_SIZES, lambda f, v: f(v)),
    *_cases(alignment_summary, "output_stride", BAD_OUTPUT_STRIDES + [4], lambda f, v: f(473, v)),
    *_cases(explore_output_stride, "arch", BAD_ARCHS, lambda f, v: f(IMAGE, arch=v)),
    *_cases(explore_output_stride, "input_size", [10, 32, 1026, 2000, True, 473.0, "473", (473, 473)],
            lambda f, v: f(IMAGE, input_size=v)),
    *_cases(explore_output_stride, "replace_stride_with_dilation", BAD_FLAGS,
            lambda f, v: f(IMAGE, replace_stride_with_dilation=v)),
    *_cases(explore_output_stride, "schedule", BAD_SCHEDULES, lambda f, v: f(IMAGE, schedule=v)),
    *_cases(explore_output_stride, "image", ["photo", torch.rand(2, 3, 8, 8)], lambda f, v: f(v, arch="resnet18")),
    *_cases(explore_alignment, "input_size", [5, 32, 1026, True, 473.0], lambda f, v: f(input_size=v)),
    *_cases(explore_alignment, "output_stride", BAD_OUTPUT_STRIDES + [4], lambda f, v: f(output_stride=v)),
]


@pytest.mark.parametrize("function, name, value, call", CASES)
def test_bad_value_is_refused_naming_the_argument(function, name, value, call):
    with pytest.raises(ERRORS, match=name):
        call(function, value)
    plt.close("all")


def test_the_table_covers_every_public_function():
    import visual.cost
    import visual.models.resnet
    import visual.output_stride
    import visual.plots.output_stride
    import visual.widgets.output_stride

    covered = {case.values[0].__name__ for case in CASES}
    # draw_x / update_x share their checks with plot_x (which calls both); the text/html
    # renderers take the tables' own strings.
    exempt = {"text_table", "html_table"}
    for module in (visual.models.resnet, visual.output_stride, visual.cost, visual.plots.output_stride,
                   visual.widgets.output_stride):
        for name in module.__all__:
            obj = getattr(module, name)
            if callable(obj) and not isinstance(obj, type) and name not in exempt:
                base = name.replace("draw_", "plot_").replace("update_", "plot_")
                assert name in covered or base in covered, f"{module.__name__}.{name} has no bad-input case"


@pytest.fixture()
def checkpoint_files(tmp_path):
    torch.manual_seed(0)
    torch.save(dilated_resnet("resnet18").state_dict(), tmp_path / "resnet18.pth")
    (tmp_path / "text.pth").write_text("not a checkpoint")
    torch.save([torch.zeros(1)], tmp_path / "list.pth")
    return tmp_path


@pytest.mark.parametrize("build, file, error, match", [
    (lambda: dilated_resnet("resnet50"), "resnet18.pth", ValueError,
     r"path .*model is a resnet50: is this a checkpoint of another architecture"),
    (lambda: dilated_resnet("resnet18", deep_stem=True), "resnet18.pth", ValueError, "path .*missing keys"),
    (lambda: dilated_resnet("resnet18"), "missing.pth", FileNotFoundError, "path .* is not a file"),
    (lambda: dilated_resnet("resnet18"), "text.pth", ValueError, "path .*torch.load"),
    (lambda: dilated_resnet("resnet18"), "list.pth", ValueError, "path .*state_dict"),
    (lambda: _meta("resnet18"), "resnet18.pth", ValueError, "model is on the meta device"),
], ids=["wrong-arch", "wrong-stem", "missing-file", "not-a-checkpoint", "not-a-state-dict", "meta-model"])
def test_bad_checkpoints(checkpoint_files, build, file, error, match):
    model = build()
    before = {k: v.clone() for k, v in model.state_dict().items()} if file != "resnet18.pth" else None
    with pytest.raises(error, match=match):
        load_checkpoint(model, checkpoint_files / file)
    if before is not None and model.conv1.weight.device.type != "meta":
        assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # nothing loaded


def _meta(arch: str) -> nn.Module:
    with torch.device("meta"):
        return dilated_resnet(arch)

