"""Issue 13, lesson 01 area: every public function refuses bad values with an error naming the argument.

One table row per (function, bad value): wrong type, bool for int, zero/negative, NaN/inf, wrong
rank/dtype/device (a meta tensor or model where data is needed), oversized (refused before
allocating). Each must raise ``ValueError`` or ``TypeError`` whose message names the argument.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from visual.conv_arithmetic import (
    conv_output_size, dilated_footprint, effective_kernel_size, gridding_count_map, has_holes, hdc_max_distance,
    receptive_field_cone, satisfies_hdc, stack_receptive_field,
)
from visual.gradient_rf import conv_stack, effective_receptive_field, erf_std, gradient_receptive_field
from visual.plots import profiles
from visual.plots import receptive_field as plots
from visual.trace import infer_in_channels, meta_device, trace
from visual.widgets import receptive_field as explorers

NAN, INF = math.nan, math.inf
CONV = nn.Conv2d(1, 1, 3)
with meta_device():
    META_CONV = nn.Conv2d(1, 1, 3)
HEAT = torch.rand(9, 9)
NAN_HEAT = HEAT.clone().index_put_((torch.tensor([4]), torch.tensor([4])), torch.tensor(NAN))
INF_HEAT = HEAT.clone().index_put_((torch.tensor([4]), torch.tensor([4])), torch.tensor(INF))


def _traced():
    return trace(CONV, 9)


def _axes():
    import matplotlib.pyplot as plt

    return plt.subplots()[1]


def _artists(draw, *args):
    return draw(_axes(), *args)


# (id, call, argument name the message must contain)
CASES = [
    # conv_arithmetic
    ("conv_output_size str size", lambda: conv_output_size("9", 3), "size"),
    ("conv_output_size bool size", lambda: conv_output_size(True, 3), "size"),
    ("conv_output_size zero size", lambda: conv_output_size(0, 3), "size"),
    ("conv_output_size float kernel", lambda: conv_output_size(9, 3.0), "kernel_size"),
    ("conv_output_size nan stride", lambda: conv_output_size(9, 3, stride=NAN), "stride"),
    ("conv_output_size zero stride", lambda: conv_output_size(9, 3, stride=0), "stride"),
    ("conv_output_size negative padding", lambda: conv_output_size(9, 3, padding=-1), "padding"),
    ("conv_output_size zero dilation", lambda: conv_output_size(9, 3, dilation=0), "dilation"),
    ("conv_output_size int ceil_mode", lambda: conv_output_size(9, 3, ceil_mode=1), "ceil_mode"),
    ("effective_kernel_size bool", lambda: effective_kernel_size(True, 1), "kernel_size"),
    ("effective_kernel_size inf dilation", lambda: effective_kernel_size(3, INF), "dilation"),
    ("effective_kernel_size negative", lambda: effective_kernel_size(-3, 1), "kernel_size"),
    ("stack_receptive_field float strides", lambda: stack_receptive_field([3, 3], strides=2.5), "strides"),
    ("stack_receptive_field bool strides", lambda: stack_receptive_field([3, 3], strides=True), "strides"),
    ("stack_receptive_field zero dilation", lambda: stack_receptive_field([3, 3], dilations=[1, 0]), "dilations"),
    ("stack_receptive_field short strides", lambda: stack_receptive_field([3, 3], strides=[1]), "strides"),
    ("stack_receptive_field int kernels", lambda: stack_receptive_field(3), "kernel_sizes"),
    ("stack_receptive_field str kernels", lambda: stack_receptive_field("333"), "kernel_sizes"),
    ("stack_receptive_field nan kernel", lambda: stack_receptive_field([3, NAN]), "kernel_sizes"),
    ("stack_receptive_field too many layers", lambda: stack_receptive_field([3] * 1000), "kernel_sizes"),
    ("receptive_field_cone oversized", lambda: receptive_field_cone([3] * 10, strides=4), "strides"),
    ("receptive_field_cone zero kernel", lambda: receptive_field_cone([0]), "kernel_sizes"),
    ("dilated_footprint int dilations", lambda: dilated_footprint(3, 2), "dilations"),
    ("dilated_footprint huge rate", lambda: dilated_footprint(3, [10**9]), "dilations"),
    ("dilated_footprint footprint too wide", lambda: dilated_footprint(3, [3000, 3000]), "dilations"),
    ("dilated_footprint float kernel", lambda: dilated_footprint(2.5, [1]), "kernel_size"),
    ("dilated_footprint zero rate", lambda: dilated_footprint(3, [1, 0]), "dilations"),
    ("gridding_count_map huge", lambda: gridding_count_map(3, [20000]), "dilations"),
    ("gridding_count_map map too large", lambda: gridding_count_map(3, [1500]), "dilations"),
    ("gridding_count_map bool kernel", lambda: gridding_count_map(True, [1]), "kernel_size"),
    ("has_holes iterator", lambda: has_holes(3, iter([1, 2])), "dilations"),
    ("has_holes negative rate", lambda: has_holes(3, [-1]), "dilations"),
    ("hdc_max_distance one rate", lambda: hdc_max_distance([1]), "dilations"),
    ("hdc_max_distance float rate", lambda: hdc_max_distance([1, 2.0]), "dilations"),
    ("satisfies_hdc iterator", lambda: satisfies_hdc(iter([1, 2, 5])), "dilations"),
    ("satisfies_hdc zero kernel", lambda: satisfies_hdc([1, 2, 5], 0), "kernel_size"),
    ("satisfies_hdc str rates", lambda: satisfies_hdc("125"), "dilations"),
    # trace
    ("trace not a module", lambda: trace("resnet", 64), "model"),
    ("trace float size", lambda: trace(CONV, 64.0), "input_size"),
    ("trace bool size", lambda: trace(CONV, True), "input_size"),
    ("trace zero size", lambda: trace(CONV, 0), "input_size"),
    ("trace nan size", lambda: trace(CONV, NAN), "input_size"),
    ("trace oversized", lambda: trace(CONV, 10**6), "input_size"),
    ("trace 3-tuple size", lambda: trace(CONV, (9, 9, 9)), "input_size"),
    ("trace zero in_channels", lambda: trace(CONV, 9, in_channels=0), "in_channels"),
    ("trace bool in_channels", lambda: trace(CONV, 9, in_channels=True), "in_channels"),
    ("Trace.select string names", lambda: _traced().select("0"), "names"),
    ("Trace.select unknown names", lambda: _traced().select(["nope"]), "names"),
    ("meta_device takes no value", lambda: meta_device(True), "meta_device"),
    ("infer_in_channels not a module", lambda: infer_in_channels([CONV]), "model"),
    # gradient_rf
    ("gradient_receptive_field not a module", lambda: gradient_receptive_field(lambda x: x, 9), "model"),
    ("gradient_receptive_field meta model", lambda: gradient_receptive_field(META_CONV, 9), "model"),
    ("gradient_receptive_field oversized", lambda: gradient_receptive_field(CONV, 10**5), "input_size"),
    ("gradient_receptive_field too many values", lambda: gradient_receptive_field(CONV, 8192, in_channels=8),
     "input_size"),
    ("gradient_receptive_field bool size", lambda: gradient_receptive_field(CONV, False), "input_size"),
    ("gradient_receptive_field zero in_channels", lambda: gradient_receptive_field(CONV, 9, in_channels=0),
     "in_channels"),
    ("gradient_receptive_field int return_map", lambda: gradient_receptive_field(CONV, 9, return_map=1),
     "return_map"),
    ("effective_receptive_field meta model", lambda: effective_receptive_field(META_CONV, 9), "model"),
    ("effective_receptive_field huge n_samples", lambda: effective_receptive_field(CONV, 48, n_samples=10**7),
     "n_samples"),
    ("effective_receptive_field zero n_samples", lambda: effective_receptive_field(CONV, 9, n_samples=0),
     "n_samples"),
    ("effective_receptive_field float n_samples", lambda: effective_receptive_field(CONV, 9, n_samples=2.0),
     "n_samples"),
    ("effective_receptive_field str seed", lambda: effective_receptive_field(CONV, 9, seed="0"), "seed"),
    ("effective_receptive_field negative size", lambda: effective_receptive_field(CONV, -9), "input_size"),
    ("effective_receptive_field str model", lambda: effective_receptive_field("model", 9), "model"),
    ("erf_std numpy", lambda: erf_std(np.ones((5, 5))), "heatmap"),
    ("erf_std nan", lambda: erf_std(NAN_HEAT), "heatmap"),
    ("erf_std inf", lambda: erf_std(INF_HEAT), "heatmap"),
    ("erf_std 1-D", lambda: erf_std(torch.ones(5)), "heatmap"),
    ("erf_std bool dtype", lambda: erf_std(torch.ones(5, 5, dtype=torch.bool)), "heatmap"),
    ("erf_std complex dtype", lambda: erf_std(torch.ones(5, 5, dtype=torch.complex64)), "heatmap"),
    ("erf_std meta", lambda: erf_std(torch.ones(5, 5, device="meta")), "heatmap"),
    ("erf_std negative", lambda: erf_std(-torch.ones(5, 5)), "heatmap"),
    ("conv_stack zero in_channels", lambda: conv_stack([1], in_channels=0), "in_channels"),
    ("conv_stack zero strides", lambda: conv_stack([1], strides=0), "strides"),
    ("conv_stack float strides", lambda: conv_stack([1, 1], strides=[1, 1.5]), "strides"),
    ("conv_stack int dilations", lambda: conv_stack(2), "dilations"),
    ("conv_stack zero channels", lambda: conv_stack([1], channels=0), "channels"),
    ("conv_stack bool kernel", lambda: conv_stack([1], kernel_size=True), "kernel_size"),
    ("conv_stack activation", lambda: conv_stack([1], activation="tanh"), "activation"),
    ("conv_stack weights", lambda: conv_stack([1], weights=None), "weights"),
    ("conv_stack oversized", lambda: conv_stack([1], channels=100_000), "channels"),
    ("conv_stack nan seed", lambda: conv_stack([1], seed=NAN), "seed"),
    # plots
    ("kernel_footprint_image float grid", lambda: plots.kernel_footprint_image(3, 1, grid=5.5), "grid"),
    ("kernel_footprint_image small grid", lambda: plots.kernel_footprint_image(3, 2, grid=4), "grid"),
    ("kernel_footprint_image huge grid", lambda: plots.kernel_footprint_image(3, 1, grid=10**6), "grid"),
    ("kernel_footprint_image zero dilation", lambda: plots.kernel_footprint_image(3, 0), "dilation"),
    ("cone_image zero layers", lambda: plots.cone_image(3, 1, 1, 0), "n_layers"),
    ("cone_image float stride", lambda: plots.cone_image(3, 1.5, 1, 2), "strides"),
    ("cone_image huge layers", lambda: plots.cone_image(3, 1, 1, 10**6), "n_layers"),
    ("pixel_grid_segments negative", lambda: plots.pixel_grid_segments(-1, 3), "height"),
    ("pixel_grid_segments huge", lambda: plots.pixel_grid_segments(3, 10**9), "width"),
    ("plot_dilated_kernel bool kernel", lambda: plots.plot_dilated_kernel(True, 1), "kernel_size"),
    ("draw_dilated_kernel str grid", lambda: plots.draw_dilated_kernel(_axes(), 3, 1, grid="9"), "grid"),
    ("update_dilated_kernel zero kernel",
     lambda: plots.update_dilated_kernel(_artists(plots.draw_dilated_kernel, 3, 1), 0, 1), "kernel_size"),
    ("plot_receptive_field_stack zero stride", lambda: plots.plot_receptive_field_stack(3, 0), "strides"),
    ("draw_receptive_field_stack nan dilation",
     lambda: _artists(plots.draw_receptive_field_stack, 3, 1, NAN), "dilations"),
    ("update_receptive_field_stack zero layers",
     lambda: plots.update_receptive_field_stack(_artists(plots.draw_receptive_field_stack, 3), 3, 1, 1, 0),
     "n_layers"),
    ("plot_gridding int dilations", lambda: plots.plot_gridding(3, 2), "dilations"),
    ("draw_gridding huge", lambda: _artists(plots.draw_gridding, 3, [20000]), "dilations"),
    ("update_gridding zero rate",
     lambda: plots.update_gridding(_artists(plots.draw_gridding, 3, [1]), 3, [0]), "dilations"),
    ("heatmap_values nan", lambda: plots.heatmap_values(NAN_HEAT), "heatmap"),
    ("heatmap_values 1-D", lambda: plots.heatmap_values(np.ones(3)), "heatmap"),
    ("draw_gridding_profile str ax", lambda: profiles.draw_gridding_profile("ax"), "ax"),
    ("update_gridding_profile zero rate",
     lambda: profiles.update_gridding_profile(_artists(profiles.draw_gridding_profile), 3, [0]), "dilations"),
    ("draw_erf_profile nan view", lambda: _artists(profiles.draw_erf_profile, (NAN, 3.0)), "view"),
    ("draw_erf_profile 3 values", lambda: _artists(profiles.draw_erf_profile, (0.0, 1.0, 2.0)), "view"),
    ("update_erf_profile nan std",
     lambda: profiles.update_erf_profile(_artists(profiles.draw_erf_profile, (0.0, 3.0)), HEAT, NAN, (0, 0, 3, 3)), "std"),
    ("update_erf_profile short box",
     lambda: profiles.update_erf_profile(_artists(profiles.draw_erf_profile, (0.0, 3.0)), HEAT, 1.0, (0, 3)), "box"),
    ("update_erf_profile nan heatmap",
     lambda: profiles.update_erf_profile(_artists(profiles.draw_erf_profile, (0.0, 3.0)), NAN_HEAT, 1.0, (0, 0, 3, 3)),
     "heatmap"),
    ("plot_effective_receptive_field nan", lambda: plots.plot_effective_receptive_field(NAN_HEAT), "heatmap"),
    ("plot_effective_receptive_field 3-D", lambda: plots.plot_effective_receptive_field(torch.ones(2, 3, 3)),
     "heatmap"),
    ("plot_effective_receptive_field list", lambda: plots.plot_effective_receptive_field([[1.0]]), "heatmap"),
    ("plot_effective_receptive_field meta",
     lambda: plots.plot_effective_receptive_field(torch.ones(3, 3, device="meta")), "heatmap"),
    ("plot_effective_receptive_field nan box",
     lambda: plots.plot_effective_receptive_field(HEAT, box=(0, 0, NAN, 3)), "box"),
    ("plot_effective_receptive_field int log", lambda: plots.plot_effective_receptive_field(HEAT, log=1), "log"),
    ("draw_effective_receptive_field inf", lambda: _artists(plots.draw_effective_receptive_field, INF_HEAT),
     "heatmap"),
    ("update_effective_receptive_field numpy nan",
     lambda: plots.update_effective_receptive_field(_artists(plots.draw_effective_receptive_field, HEAT),
                                                    np.full((3, 3), NAN)), "heatmap"),
    ("plot_receptive_field_growth list", lambda: plots.plot_receptive_field_growth([3, 5]), "curves"),
    ("plot_receptive_field_growth nan", lambda: plots.plot_receptive_field_growth({"a": [3, NAN]}), "curves"),
    ("plot_receptive_field_growth str values", lambda: plots.plot_receptive_field_growth({"a": "35"}), "curves"),
    ("plot_receptive_field_growth x length",
     lambda: plots.plot_receptive_field_growth({"a": [3, 5]}, x=[1, 2, 3]), "x"),
    ("plot_receptive_field_growth inf x", lambda: plots.plot_receptive_field_growth({"a": [3]}, x=[INF]), "x"),
    # widgets: pure summaries and explorers (initial values out of range raise, never clamp)
    ("receptive_field_summary zero layers", lambda: explorers.receptive_field_summary(3, 1, 1, 0), "n_layers"),
    ("receptive_field_summary float kernel", lambda: explorers.receptive_field_summary(3.0, 1, 1, 2),
     "kernel_sizes"),
    ("receptive_field_summary bool input", lambda: explorers.receptive_field_summary(3, 1, 1, 2, True),
     "input_size"),
    ("gridding_summary iterator", lambda: explorers.gridding_summary(iter([1, 2])), "dilations"),
    ("gridding_summary huge", lambda: explorers.gridding_summary([20000]), "dilations"),
    ("gradient_rf_summary list", lambda: explorers.gradient_rf_summary([3], 1, 1), "kernel_size"),
    ("gradient_rf_summary huge input", lambda: explorers.gradient_rf_summary(3, 1, 1, 10**5), "input_size"),
    ("gradient_rf_summary zero layers", lambda: explorers.gradient_rf_summary(3, 1, 0), "n_layers"),
    ("effective_rf_summary list layers", lambda: explorers.effective_rf_summary([4]), "n_layers"),
    ("effective_rf_summary activation", lambda: explorers.effective_rf_summary(2, "tanh"), "activation"),
    ("effective_rf_summary huge input", lambda: explorers.effective_rf_summary(2, input_size=10**4), "input_size"),
    ("explore_receptive_field kernel 0", lambda: explorers.explore_receptive_field(kernel_size=0), "kernel_size"),
    ("explore_receptive_field dilation 9", lambda: explorers.explore_receptive_field(dilation=9), "dilation"),
    ("explore_receptive_field float stride", lambda: explorers.explore_receptive_field(stride=1.0), "stride"),
    ("explore_receptive_field bool layers", lambda: explorers.explore_receptive_field(n_layers=True), "n_layers"),
    ("explore_gridding two rates", lambda: explorers.explore_gridding((1, 2)), "dilations"),
    ("explore_gridding rate 10", lambda: explorers.explore_gridding((1, 2, 10)), "dilations"),
    ("explore_gridding kernel 8", lambda: explorers.explore_gridding(kernel_size=8), "kernel_size"),
    ("explore_gradient_rf layers 7", lambda: explorers.explore_gradient_rf(n_layers=7), "n_layers"),
    ("explore_gradient_rf dilation nan", lambda: explorers.explore_gradient_rf(dilation=NAN), "dilation"),
    ("explore_effective_rf layers 11", lambda: explorers.explore_effective_rf(n_layers=11), "n_layers"),
    ("explore_effective_rf activation", lambda: explorers.explore_effective_rf(activation="tanh"), "activation"),
    ("explore_effective_rf weights", lambda: explorers.explore_effective_rf(weights="ones"), "weights"),
]


@pytest.mark.parametrize("call,name", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_value_raises_naming_the_argument(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()


def test_the_table_covers_every_public_function():
    import visual.conv_arithmetic as ca
    import visual.gradient_rf as gr

    names = {case[0].split()[0] for case in CASES}
    import importlib

    tr = importlib.import_module("visual.trace")  # ``visual.trace`` is the function

    public = {n for m in (ca, gr, tr, plots, profiles, explorers) for n in m.__all__ if callable(getattr(m, n))
              and not isinstance(getattr(m, n), type) and n.islower()}
    assert public - names == set()


# Issue 13, "must work": gradients are needed, so they are enabled inside.
@pytest.mark.parametrize("context", [torch.no_grad, torch.inference_mode])
def test_gradient_receptive_field_works_without_autograd(context):
    stack = nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3, dilation=2))
    with context():
        assert gradient_receptive_field(stack, 21) == (7, 7)  # 1 + 2 + 4, by hand


@pytest.mark.parametrize("context", [torch.no_grad, torch.inference_mode])
def test_effective_receptive_field_works_without_autograd(context):
    stack = conv_stack([1, 1], channels=2, activation="relu")
    expected = effective_receptive_field(stack, 15, n_samples=2)
    with context():
        heat = effective_receptive_field(stack, 15, n_samples=2)
    torch.testing.assert_close(heat, expected)
    assert (heat[:5] == 0).all() and heat.max() == 1  # RF 5 around the centre (7): rows 5..9


def test_meta_model_traces_but_gradients_need_data():
    with meta_device():
        stack = nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3))
    assert trace(stack, 9).rf == (5, 5)
    with pytest.raises(ValueError, match="meta"):
        gradient_receptive_field(stack, 9)
