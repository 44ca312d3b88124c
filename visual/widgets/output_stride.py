"""Slider explorers for the output-stride lesson (notebook 02): each callback calls a pure ``*_summary``
function, then the ``update_*`` plot helpers (``benchmarks/bench_output_stride.py`` times them)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from visual.checks import check_choice, check_int
from visual.data import load_sample_image
from visual.models.resnet import DILATION_SCHEDULES, RESNET_ARCHS, check_arch, check_flags
from visual.output_stride import (StrideTable, dilation_flags, stride_table, upsampled_positions,
    upsampling_drift)
from visual.plots.output_stride import (draw_feature_centres, draw_feature_grid, draw_stage_sizes,
    draw_upsampling_drift, update_feature_centres, update_feature_grid, update_stage_sizes,
    update_upsampling_drift)
from visual.widgets.controls import slider
from visual.widgets.core import Explorer, figure, finish_explorer

__all__ = ["output_stride_summary", "alignment_summary", "explore_output_stride", "explore_alignment"]

MIN_INPUT_SIZE = 33  # 8 * 4 + 1: the smallest slider value still shows a few output-stride-8 features
MAX_INPUT_SIZE = 1025  # 8 * 128 + 1: covers PSPNet's 473 (ADE20K, VOC) and 713 (Cityscapes)
ALIGNMENT_ARCH = "resnet50"  # sizes and centres are the same for every ResNet; any arch will do
OUTPUT_STRIDES = (32, 16, 8)
SCHEDULE_LABELS = {"torchvision": "torchvision (à trous)", "semseg": "semseg (every block)"}
SAMPLE_IMAGE_SIZE = 473  # the default photo's side (any size is stretched over the input grid)


def output_stride_summary(arch: str = "resnet101", input_size: int = 473,
                          replace_stride_with_dilation: Sequence[bool] = (False, True, True),
                          schedule: str = "torchvision") -> dict[str, Any]:
    """Numbers shown by ``explore_output_stride``; arguments as for :func:`visual.stride_table` (square input).

    Returns a dict with ``table``, ``reference`` (the same without dilation), ``output_stride``, ``output_size``,
    ``positions`` (``h * w``), ``positions_ratio``, ``rf`` and ``reference_rf``."""
    table = stride_table(arch, input_size, replace_stride_with_dilation, schedule=schedule)
    reference = stride_table(arch, input_size, (False, False, False))
    (h, w), (h0, w0) = table.output_size, reference.output_size
    return {
        "table": table, "reference": reference, "output_stride": table.output_stride,
        "output_size": (h, w), "positions": h * w, "positions_ratio": h * w / (h0 * w0),
        "rf": table["layer4"].rf, "reference_rf": reference["layer4"].rf,
    }


def alignment_summary(input_size: int = 473, output_stride: int = 8) -> dict[str, Any]:
    """Numbers shown by ``explore_alignment`` (square side ``H``, ``output_stride`` 32, 16 or 8): is ``H = s k + 1``?

    Returns a dict with ``table``, ``aligned``, ``k`` and ``remainder`` of ``H - 1 = s k + remainder``,
    ``offset_true`` / ``offset_false`` (the last feature's shift, px) and ``max_drift_true`` / ``max_drift_false``
    (largest ``|upsampling_drift|``)."""
    check_choice(check_int(output_stride, "output_stride"), "output_stride", OUTPUT_STRIDES)
    table = stride_table(ALIGNMENT_ARCH, input_size, dilation_flags(output_stride))
    row = table["layer4"]
    last = row.start + row.output_stride * (row.size[0] - 1)  # where the network computed the last feature
    k, remainder = divmod(table.input_size[0] - 1, output_stride)
    summary = {"table": table, "input_size": table.input_size[0], "output_stride": output_stride,
               "feature_size": row.size[0], "aligned": remainder == 0, "k": k, "remainder": remainder}
    for align in (True, False):
        key = str(align).lower()
        summary[f"offset_{key}"] = float(upsampled_positions(table, align_corners=align)[-1]) - last
        summary[f"max_drift_{key}"] = float(upsampling_drift(table, align_corners=align).abs().max())
    return summary


def _check_size(value: Any, name: str = "input_size") -> int:
    return check_int(value, name, minimum=MIN_INPUT_SIZE, maximum=MAX_INPUT_SIZE)


def explore_output_stride(image: Any = None, *, arch: str = "resnet101", input_size: int = 473,
                          replace_stride_with_dilation: Sequence[bool] = (False, True, True),
                          schedule: str = "torchvision") -> Explorer:
    """Architecture, input size, dilation flags and schedule -> the layer4 grid over ``image`` (``(3, H, W)``,
    default ``load_sample_image(473)``) and feature-map sizes per stage vs the undilated network; the stride
    table is an HTML widget (text in the figure costs ~0.5 s per redraw). ``state``: the last
    ``output_stride_summary``."""
    check_arch(arch)
    _check_size(input_size)
    flags = check_flags(replace_stride_with_dilation)
    check_choice(schedule, "schedule", DILATION_SCHEDULES)
    image = load_sample_image(SAMPLE_IMAGE_SIZE) if image is None else image
    summary = output_stride_summary(arch, input_size, flags, schedule)
    fig, (ax_grid, ax_bars) = figure((11.0, 5.2), 1, 2, width_ratios=[1.0, 1.35])
    grid = draw_feature_grid(ax_grid, image, summary["table"])
    bars = draw_stage_sizes(ax_bars, [summary["reference"], summary["table"]],
                            labels=["without dilation (OS 32)", "current settings"])
    grid.image.set_interpolation("nearest")  # a quarter of a redraw less than antialiasing

    controls = {
        "arch": widgets.Dropdown(options=list(RESNET_ARCHS), value=arch, description="arch",
                                 layout={"width": "180px"}),
        "input_size": slider(widgets.IntSlider, input_size, MIN_INPUT_SIZE, MAX_INPUT_SIZE, "input size H (px)"),
        "layer2": widgets.Checkbox(value=flags[0], description="dilate layer2 (conv3_x)", indent=False),
        "layer3": widgets.Checkbox(value=flags[1], description="dilate layer3 (conv4_x)", indent=False),
        "layer4": widgets.Checkbox(value=flags[2], description="dilate layer4 (conv5_x)", indent=False),
        "schedule": widgets.Dropdown(options=[(SCHEDULE_LABELS[s], s) for s in DILATION_SCHEDULES],
                                     value=schedule, description="schedule", layout={"width": "280px"}),
    }
    readout, table_html = widgets.HTML(), widgets.HTML()
    explorer = Explorer(widget=None, controls=controls, fig=fig, update=lambda *_: None)

    def update(*_: Any) -> None:
        values = {name: control.value for name, control in controls.items()}
        flags_now = (values["layer2"], values["layer3"], values["layer4"])
        summary = output_stride_summary(values["arch"], values["input_size"], flags_now, values["schedule"])
        table: StrideTable = summary["table"]
        update_feature_grid(grid, table)
        update_stage_sizes(bars, [summary["reference"], table])
        table_html.value = table._repr_html_()
        h, w = summary["output_size"]
        readout.value = (
            f"<b>output stride {summary['output_stride']}</b>: layer4 is {h}×{w} = {summary['positions']} "
            f"positions, {summary['positions_ratio']:g}× those of output stride 32 &nbsp;|&nbsp; "
            f"<b>receptive field</b> {summary['rf']} px (undilated: {summary['reference_rf']} px)"
            f" &nbsp;|&nbsp; schedule: {html.escape(SCHEDULE_LABELS[values['schedule']])}"
        )
        explorer.state = summary
        fig.canvas.draw_idle()

    explorer.update = update
    return finish_explorer(explorer, rows=[[controls["arch"], controls["input_size"], controls["schedule"]],
                                           [controls["layer2"], controls["layer3"], controls["layer4"]]],
                           readouts=[readout, table_html])


def explore_alignment(input_size: int = 512, output_stride: int = 8) -> Explorer:
    """Input size and output stride -> where the last features were computed and where ``F.interpolate`` puts
    them (top), the drift of every upsampled pixel (bottom). ``state``: the last ``alignment_summary``."""
    _check_size(input_size)
    check_choice(check_int(output_stride, "output_stride"), "output_stride", OUTPUT_STRIDES)
    summary = alignment_summary(input_size, output_stride)
    fig, (ax_centres, ax_drift) = figure((10.0, 6.4), 2, 1, height_ratios=[1.1, 1.0])
    centres = draw_feature_centres(ax_centres, summary["table"])
    ax_centres.legend(loc="upper left", fontsize="x-small", ncol=3, bbox_to_anchor=(0, -0.25))
    drift = draw_upsampling_drift(ax_drift, summary["table"])

    controls = {
        "input_size": slider(widgets.IntSlider, input_size, MIN_INPUT_SIZE, MAX_INPUT_SIZE, "input size H (px)"),
        "output_stride": widgets.ToggleButtons(options=list(OUTPUT_STRIDES), value=output_stride,
                                               description="output stride"),
    }
    readout = widgets.HTML()
    explorer = Explorer(widget=None, controls=controls, fig=fig, update=lambda *_: None)

    def update(*_: Any) -> None:
        summary = alignment_summary(controls["input_size"].value, controls["output_stride"].value)
        update_feature_centres(centres, summary["table"])
        update_upsampling_drift(drift, summary["table"])
        H, s = summary["input_size"], summary["output_stride"]
        verdict = ("H = s·k + 1: align_corners=True puts every feature back on its pixel ✓"
                   if summary["aligned"] else "H is not s·k + 1: upsampled features drift ✗")
        readout.value = (
            f"<b>H − 1 = {H - 1} = {s}·{summary['k']} + {summary['remainder']}</b>: {verdict} &nbsp;|&nbsp; "
            f"last feature off by "
            f"{summary['offset_true']:+.2f} px (True), {summary['offset_false']:+.2f} px (False) &nbsp;|&nbsp; "
            f"largest drift {summary['max_drift_true']:.2f} px (True), {summary['max_drift_false']:.2f} px (False)"
        )
        explorer.state = summary
        fig.canvas.draw_idle()

    explorer.update = update
    return finish_explorer(explorer, rows=[[controls["input_size"], controls["output_stride"]]],
                           readouts=[readout])
