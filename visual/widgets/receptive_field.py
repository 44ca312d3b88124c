"""Slider explorers for the dilation and receptive-field lesson (notebook 01): each callback calls a pure
``*_summary`` function (the gradient and ERF ones are cached), then the matching ``update_*`` plot helper."""

from __future__ import annotations

import functools
import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from visual.checks import check_choice, check_int, check_ints
from visual.conv_arithmetic import (conv_output_size, effective_kernel_size, gridding_count_map, has_holes,
                                    hdc_max_distance, satisfies_hdc, stack_receptive_field)
from visual.gradient_rf import ACTIVATIONS, WEIGHT_SCHEMES, conv_stack, effective_receptive_field, erf_std, \
    gradient_receptive_field
from visual.plots.profiles import draw_erf_profile, draw_gridding_profile, update_erf_profile, \
    update_gridding_profile
from visual.plots.receptive_field import (draw_dilated_kernel, draw_effective_receptive_field, draw_gridding,
    draw_receptive_field_stack, update_dilated_kernel, update_effective_receptive_field, update_gridding,
    update_receptive_field_stack)
from visual.trace import trace
from visual.widgets.controls import slider
from visual.widgets.core import Explorer, figure, finish_explorer

__all__ = ["receptive_field_summary", "gridding_summary", "gradient_rf_summary", "effective_rf_summary",
           "explore_receptive_field", "explore_gridding", "explore_gradient_rf", "explore_effective_rf"]

SUMMARY_INPUT_SIZE = 473  # PSPNet's input side (Zhao et al. 2017, Sec. 4.1): the output-size readout
RF_MAX = {"kernel_size": 7, "dilation": 4, "stride": 2, "n_layers": 5}  # explore_receptive_field's sliders
MAX_RATE = 9  # gridding explorer: rates 1..9 cover Wang et al.'s examples (1, 2, 5), (1, 2, 9)
GRADIENT_MAX = {"kernel_size": 5, "dilation": 3, "n_layers": 4}
LABELS = {"kernel_size": "kernel size k", "dilation": "dilation d", "stride": "stride s", "n_layers": "layers"}
GRADIENT_MIN_VIEW = 15  # the gradient explorer shows at least this many pixels around the field
GRADIENT_VIEW_MARGIN = 3  # pixels shown beyond the theoretical field on each side
GRADIENT_INPUT_SIZE = 61  # holds the largest stack of the gradient explorer: RF 1 + 4 * 3 * (5 - 1) = 49
ERF_INPUT_SIZE = 48  # input side of the ERF explorer; holds the RF of 10 layers of 3x3 (21)
ERF_MAX_LAYERS = 10
ERF_CHANNELS = 8  # channels per layer of the ERF toy stack (enough for a smooth average, fast)
ERF_SAMPLES = 16  # random inputs averaged per heatmap
ERF_VIEW = 27  # pixels shown around the centre: the RF of 10 layers of 3x3 (21) plus a margin
SUMMARY_MAX_SIDE = 256  # input side of the cached gradient / ERF summaries (toy stacks)


def receptive_field_summary(kernel_size: int, dilation: int, stride: int, n_layers: int,
                            input_size: int = SUMMARY_INPUT_SIZE) -> dict[str, Any]:
    """Numbers ``explore_receptive_field`` shows for ``n_layers`` (1..64) equal layers, padding ``d(k-1)//2``:
    ``effective_kernel_size``, ``rf``, ``jump``, ``rfs`` (after each layer), ``output_size`` (``None`` below 1 px)."""
    n_layers = check_int(n_layers, "n_layers", minimum=1, maximum=64)
    steps = stack_receptive_field([kernel_size] * n_layers, stride, dilation)
    size: int | None = check_int(input_size, "input_size", minimum=1)
    padding = dilation * (kernel_size - 1) // 2
    for _ in range(n_layers):
        try:
            size = conv_output_size(size, kernel_size, stride, padding, dilation)
        except ValueError:
            size = None
            break
    return {
        "kernel_size": kernel_size, "dilation": dilation, "stride": stride, "n_layers": n_layers,
        "effective_kernel_size": effective_kernel_size(kernel_size, dilation),
        "rf": steps[-1].rf, "jump": steps[-1].jump, "rfs": [s.rf for s in steps],
        "input_size": input_size, "padding": padding, "output_size": size,
        "weights": n_layers * kernel_size * kernel_size,
    }


def gridding_summary(dilations: Sequence[int], kernel_size: int = 3) -> dict[str, Any]:
    """Numbers shown by ``explore_gridding``: ``rf``, ``holes``, ``coverage`` (fraction not a hole), ``m2`` and
    ``hdc`` (``None`` for one layer), ``rule_agrees`` (the HDC rule's verdict matches the count map)."""
    counts = gridding_count_map(kernel_size, dilations)
    dilations = tuple(dilations)
    rf = len(counts)
    holes = sum(value == 0 for row in counts for value in row)
    hdc = satisfies_hdc(dilations, kernel_size) if len(dilations) >= 2 else None
    return {
        "dilations": dilations, "kernel_size": kernel_size, "rf": rf, "holes": holes,
        "coverage": 1 - holes / (rf * rf), "m2": hdc_max_distance(dilations) if len(dilations) >= 2 else None,
        "hdc": hdc, "rule_agrees": None if hdc is None else hdc == (not has_holes(kernel_size, dilations)),
    }


def gradient_rf_summary(kernel_size: int, dilation: int, n_layers: int,
                        input_size: int = GRADIENT_INPUT_SIZE) -> dict[str, Any]:
    """``trace_rf``, ``gradient_rf`` (pairs), ``box`` and ``grad_map`` (numpy ``(H, W)``) of a 1-channel conv stack."""
    return _gradient_rf_summary(check_int(kernel_size, "kernel_size", minimum=1, maximum=RF_MAX["kernel_size"]),
                                check_int(dilation, "dilation", minimum=1, maximum=MAX_RATE),
                                check_int(n_layers, "n_layers", minimum=1, maximum=ERF_MAX_LAYERS),
                                check_int(input_size, "input_size", minimum=1, maximum=SUMMARY_MAX_SIDE))


@functools.lru_cache(maxsize=128)
def _gradient_rf_summary(kernel_size: int, dilation: int, n_layers: int, input_size: int) -> dict[str, Any]:
    stack = conv_stack([dilation] * n_layers, kernel_size=kernel_size)
    traced = trace(stack, input_size)
    extent, grad_map = gradient_receptive_field(stack, input_size, return_map=True)
    return {"kernel_size": kernel_size, "dilation": dilation, "n_layers": n_layers, "trace_rf": traced.rf,
            "gradient_rf": extent, "box": traced.output.box(), "grad_map": grad_map.numpy()}


def effective_rf_summary(n_layers: int, activation: str = "relu", weights: str = "random",
                         input_size: int = ERF_INPUT_SIZE, seed: int = 0) -> dict[str, Any]:
    """ERF of ``n_layers`` 3x3 convs (cached): ``heatmap`` (numpy ``(H, W)``, max 1), ``std``, ``rf``, ``box`` and
    ``ratio`` (``4 std / rf``: the share of the theoretical RF that holds ~95 % of the ERF)."""
    return _effective_rf_summary(check_int(n_layers, "n_layers", minimum=1, maximum=ERF_MAX_LAYERS),
                                 check_choice(activation, "activation", ACTIVATIONS),
                                 check_choice(weights, "weights", WEIGHT_SCHEMES),
                                 check_int(input_size, "input_size", minimum=1, maximum=SUMMARY_MAX_SIDE),
                                 check_int(seed, "seed", minimum=0))


@functools.lru_cache(maxsize=64)
def _effective_rf_summary(n_layers: int, activation: str, weights: str, input_size: int, seed: int) -> dict[str, Any]:
    stack = conv_stack([1] * n_layers, channels=ERF_CHANNELS, activation=activation, weights=weights, seed=seed)
    heatmap = effective_receptive_field(stack, input_size, n_samples=ERF_SAMPLES, seed=seed)
    std = erf_std(heatmap)
    traced = trace(stack, input_size)
    return {"n_layers": n_layers, "activation": activation, "weights": weights, "heatmap": heatmap.numpy(),
            "std": std, "rf": traced.rf[0], "box": traced.output.box(), "ratio": 4 * std[0] / traced.rf[0]}


def explore_receptive_field(kernel_size: int = 3, dilation: int = 2, stride: int = 1, n_layers: int = 3) -> Explorer:
    """Sliders for kernel size (1..7), dilation (1..4), stride (1..2) and depth (1..5): footprint and cone.
    ``state``: the last ``receptive_field_summary``."""
    values = {"kernel_size": kernel_size, "dilation": dilation, "stride": stride, "n_layers": n_layers}
    controls = {name: slider(widgets.IntSlider, value, 1, RF_MAX[name], LABELS[name], name=name)
                for name, value in values.items()}
    fig, (ax_kernel, ax_cone) = figure((10.5, 4.2), 1, 2, width_ratios=[1, 2.2])
    kernel = draw_dilated_kernel(ax_kernel, kernel_size, dilation)
    cone = draw_receptive_field_stack(ax_cone, kernel_size, stride, dilation, n_layers)
    readout = widgets.HTML()
    explorer = Explorer(widget=None, controls=controls, fig=fig, update=lambda *_: None)

    def update(*_: Any) -> None:
        k, d, s, n = (controls[name].value for name in RF_MAX)
        summary = receptive_field_summary(k, d, s, n)
        update_dilated_kernel(kernel, k, d)
        update_receptive_field_stack(cone, k, s, d, n)
        out = summary["output_size"]
        readout.value = (
            f"<b>effective kernel</b> d(k&minus;1)+1 = {summary['effective_kernel_size']} &nbsp;|&nbsp; "
            f"<b>RF after {n} layers</b> = {summary['rf']} px &nbsp;|&nbsp; <b>jump</b> = {summary['jump']} px "
            f"&nbsp;|&nbsp; <b>output</b> on {summary['input_size']}x{summary['input_size']} (padding "
            f"{summary['padding']}): {'collapses below 1 pixel' if out is None else f'{out}x{out}'} &nbsp;|&nbsp; "
            f"<b>weights</b> per channel pair: {summary['weights']}")
        explorer.state = summary
        fig.canvas.draw_idle()

    explorer.update = update
    return finish_explorer(explorer, readouts=[readout])


def explore_gridding(dilations: Sequence[int] = (2, 2, 2), kernel_size: int = 3) -> Explorer:
    """Three rate sliders (1..9): the count map, its middle row, and the HDC rule's verdict (``kernel_size``
    fixed, 1..7). ``state``: the last ``gridding_summary``."""
    dilations = check_ints(dilations, "dilations (three rates)", minimum=1, maximum=MAX_RATE, min_length=3,
                           max_length=3)
    kernel_size = check_int(kernel_size, "kernel_size", minimum=1, maximum=RF_MAX["kernel_size"])
    fig, (ax_map, ax_line) = figure((10.5, 4.6), 1, 2, width_ratios=[1, 1.4])
    count_map = draw_gridding(ax_map, kernel_size, dilations)
    profile = draw_gridding_profile(ax_line)
    controls = {f"rate{i + 1}": slider(widgets.IntSlider, rate, 1, MAX_RATE, f"rate r{i + 1}", name=f"rate{i + 1}")
                for i, rate in enumerate(dilations)}
    readout = widgets.HTML()
    explorer = Explorer(widget=None, controls=controls, fig=fig, update=lambda *_: None)

    def update(*_: Any) -> None:
        rates = tuple(controls[f"rate{i + 1}"].value for i in range(3))
        summary = gridding_summary(rates, kernel_size)
        update_gridding(count_map, kernel_size, rates)
        update_gridding_profile(profile, kernel_size, rates)
        readout.value = (
            f"<b>rates</b> {html.escape(str(rates))} &nbsp;|&nbsp; <b>RF</b> {summary['rf']}x{summary['rf']} "
            f"&nbsp;|&nbsp; <b>holes</b> {summary['holes']} ({100 * summary['coverage']:.0f}% covered) &nbsp;|&nbsp; "
            f"<b>HDC</b> (r1 = 1 and M2 = {summary['m2']} &le; {kernel_size}): "
            f"{'satisfied' if summary['hdc'] else 'violated'}, "
            f"{'agrees with' if summary['rule_agrees'] else 'disagrees with'} the count map")
        explorer.state = summary
        fig.canvas.draw_idle()

    explorer.update = update
    return finish_explorer(explorer, readouts=[readout])


def explore_gradient_rf(kernel_size: int = 3, dilation: int = 1, n_layers: int = 3) -> Explorer:
    """Sliders for kernel size (1..5), dilation (1..3), depth (1..4): gradient map vs ``trace``'s RF box.
    ``state``: the last ``gradient_rf_summary`` without the map."""
    controls = {name: slider(widgets.IntSlider, value, 1, GRADIENT_MAX[name], LABELS[name], name=name)
                for name, value in (("kernel_size", kernel_size), ("dilation", dilation), ("n_layers", n_layers))}
    first = gradient_rf_summary(kernel_size, dilation, n_layers)
    fig, ax = figure((6.0, 5.0))
    heat = draw_effective_receptive_field(ax, first["grad_map"], box=first["box"], log=True)
    readout = widgets.HTML()
    explorer = Explorer(widget=None, controls=controls, fig=fig, update=lambda *_: None)

    def update(*_: Any) -> None:
        k, d, n = (controls[name].value for name in GRADIENT_MAX)
        summary = gradient_rf_summary(k, d, n)
        same = summary["gradient_rf"] == summary["trace_rf"]
        update_effective_receptive_field(
            heat, summary["grad_map"], box=summary["box"],
            title=f"{n} layer{'s' if n > 1 else ''} of k={k}, d={d}: trace RF {summary['trace_rf'][0]}, "
                  f"gradient RF {summary['gradient_rf'][0]} {'(equal)' if same else '(differ)'}")
        top, left, height, width = summary["box"]
        half_view = max(height, GRADIENT_MIN_VIEW) / 2 + GRADIENT_VIEW_MARGIN  # zoom on the field
        ax.set_xlim(left + (width - 1) / 2 - half_view, left + (width - 1) / 2 + half_view)
        ax.set_ylim(top + (height - 1) / 2 + half_view, top + (height - 1) / 2 - half_view)
        readout.value = (
            f"<b>theoretical RF</b> (trace) {summary['trace_rf'][0]}x{summary['trace_rf'][1]} &nbsp;|&nbsp; "
            f"<b>gradient RF</b> {summary['gradient_rf'][0]}x{summary['gradient_rf'][1]} &nbsp;|&nbsp; "
            f"{'equal &#10003;' if same else 'different &#10007;'}")
        explorer.state = {key: value for key, value in summary.items() if key != "grad_map"}
        fig.canvas.draw_idle()

    explorer.update = update
    return finish_explorer(explorer, readouts=[readout])


def explore_effective_rf(n_layers: int = 4, activation: str = "relu", weights: str = "random") -> Explorer:
    """Depth slider (1..10) and weight/activation choices: the ERF heatmap inside the theoretical RF.
    ``state``: the last ``effective_rf_summary`` without the heatmap."""
    first = effective_rf_summary(n_layers, activation, weights)  # checks the three values
    fig, (ax_map, ax_profile) = figure((10.5, 4.3), 1, 2, width_ratios=[1.15, 1])
    heat = draw_effective_receptive_field(ax_map, first["heatmap"], box=first["box"])
    view = (ERF_INPUT_SIZE // 2 - ERF_VIEW // 2 - 0.5, ERF_INPUT_SIZE // 2 + ERF_VIEW // 2 + 0.5)
    profile = draw_erf_profile(ax_profile, view)
    ax_map.set(xlim=view, ylim=view[::-1])
    controls = {
        "n_layers": slider(widgets.IntSlider, n_layers, 1, ERF_MAX_LAYERS, LABELS["n_layers"], name="n_layers"),
        "activation": widgets.Dropdown(options=list(ACTIVATIONS), value=activation, description="activation"),
        "weights": widgets.Dropdown(options=list(WEIGHT_SCHEMES), value=weights, description="weights"),
    }
    readout = widgets.HTML()
    explorer = Explorer(widget=None, controls=controls, fig=fig, update=lambda *_: None)

    def update(*_: Any) -> None:
        n, act, w = (controls[name].value for name in ("n_layers", "activation", "weights"))
        summary = effective_rf_summary(n, act, w)
        update_effective_receptive_field(heat, summary["heatmap"], box=summary["box"],
                                         title=f"ERF of {n} layer{'s' if n > 1 else ''} of 3x3, {act}, {w} weights")
        ax_map.set(xlim=view, ylim=view[::-1])
        update_erf_profile(profile, summary["heatmap"], summary["std"][1], summary["box"])
        readout.value = (f"<b>theoretical RF</b> {summary['rf']} px &nbsp;|&nbsp; "
                         f"<b>ERF std</b> {summary['std'][1]:.2f} px &nbsp;|&nbsp; "
                         f"<b>4 std / RF</b> = {summary['ratio']:.2f}")
        explorer.state = {key: value for key, value in summary.items() if key != "heatmap"}
        fig.canvas.draw_idle()

    explorer.update = update
    return finish_explorer(explorer, readouts=[readout])
