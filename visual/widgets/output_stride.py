"""Slider explorers for the output-stride lesson (notebook 02).

Each ``explore_*`` builds its figure once (``with plt.ioff()``); its callback calls a pure
function (``output_stride_summary``, ``alignment_summary``; tests call them without widgets),
updates the artists in place and calls ``fig.canvas.draw_idle()``. ``stride_table`` caches one
trace per (arch, flags, schedule) and derives other input sizes by conv arithmetic, so a
control change costs well under a millisecond of computation (see
``benchmarks/bench_output_stride.py``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from visual.models.resnet import RESNET_ARCHS, _validate_flags
from visual.output_stride import DILATION_SCHEDULES, StrideTable, dilation_flags, stride_table, upsampling_drift
from visual.widgets.core import Explorer, finish_explorer

__all__ = [
    "output_stride_summary",
    "alignment_summary",
    "explore_output_stride",
    "explore_alignment",
]

MIN_INPUT_SIZE = 33  # 8 * 4 + 1: the smallest slider value still shows a few output-stride-8 features
MAX_INPUT_SIZE = 1025  # 8 * 128 + 1: covers PSPNet's 473 (ADE20K, VOC) and 713 (Cityscapes)
ALIGNMENT_ARCH = "resnet50"  # sizes and centres are the same for every ResNet; any arch will do
OUTPUT_STRIDES = (32, 16, 8)
SCHEDULE_LABELS = {"torchvision": "torchvision (à trous)", "semseg": "semseg (every block)"}


# --------------------------------------------------------------------------------------------
# Pure functions (what the callbacks compute)
# --------------------------------------------------------------------------------------------
def output_stride_summary(
    arch: str = "resnet101",
    input_size: int = 473,
    replace_stride_with_dilation: Sequence[bool] = (False, True, True),
    schedule: str = "torchvision",
) -> dict[str, Any]:
    """Numbers shown by ``explore_output_stride``.

    Args:
        arch: ``"resnet18"`` ... ``"resnet152"``.
        input_size: side of the square input.
        replace_stride_with_dilation: three booleans for (layer2, layer3, layer4).
        schedule: ``"torchvision"`` or ``"semseg"``.

    Returns:
        dict with ``table`` (the :class:`~visual.StrideTable`), ``reference`` (the same arch and
        size without dilation, output stride 32), ``output_stride``, ``output_size``,
        ``positions`` (``h * w``), ``positions_ratio`` (vs the reference), ``rf`` and
        ``reference_rf`` (of layer4, input pixels).
    """
    table = stride_table(arch, input_size, replace_stride_with_dilation, schedule=schedule)
    reference = stride_table(arch, input_size, (False, False, False))
    (h, w), (h0, w0) = table.output_size, reference.output_size
    return {
        "table": table, "reference": reference, "output_stride": table.output_stride,
        "output_size": (h, w), "positions": h * w, "positions_ratio": h * w / (h0 * w0),
        "rf": table["layer4"].rf, "reference_rf": reference["layer4"].rf,
    }


def alignment_summary(input_size: int = 473, output_stride: int = 8) -> dict[str, Any]:
    """Numbers shown by ``explore_alignment``: is ``H = s k + 1``, and how far features drift.

    Args:
        input_size: side of the square input ``H``.
        output_stride: 32, 16 or 8 (layer4 of a ResNet, flags from ``dilation_flags``).

    Returns:
        dict with ``table``, ``aligned`` (``(H - 1) % s == 0``), ``k`` and ``remainder`` of
        ``H - 1 = s k + remainder``, ``offset_true`` / ``offset_false`` (where upsampling puts the
        last feature minus where the network computed it, input pixels) and ``max_drift_true`` /
        ``max_drift_false`` (largest ``|upsampling_drift|`` over the output pixels).
    """
    table = stride_table(ALIGNMENT_ARCH, input_size, dilation_flags(output_stride))
    from visual.plots.output_stride import _feature_centres_data

    centres = _feature_centres_data(table)
    k, remainder = divmod(input_size - 1, output_stride)
    return {
        "table": table, "input_size": input_size, "output_stride": output_stride,
        "feature_size": table.output_size[0], "aligned": remainder == 0, "k": k, "remainder": remainder,
        "offset_true": float(centres["offsets"]["true"]), "offset_false": float(centres["offsets"]["false"]),
        "max_drift_true": float(upsampling_drift(table, align_corners=True).abs().max()),
        "max_drift_false": float(upsampling_drift(table, align_corners=False).abs().max()),
        "centres": centres,
    }


# --------------------------------------------------------------------------------------------
# Widget plumbing
# --------------------------------------------------------------------------------------------
def _check_size(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_INPUT_SIZE <= value <= MAX_INPUT_SIZE:
        raise ValueError(f"{name} must be an int in [{MIN_INPUT_SIZE}, {MAX_INPUT_SIZE}], got {value!r}")
    return value


def _size_slider(value: int) -> Any:
    import ipywidgets as widgets

    return widgets.IntSlider(value=value, min=MIN_INPUT_SIZE, max=MAX_INPUT_SIZE, step=1,
                             description="input size H (px)", continuous_update=True,
                             style={"description_width": "initial"}, layout={"width": "420px"})


# --------------------------------------------------------------------------------------------
# Explorer 1: the stride table and the feature grid over the photo
# --------------------------------------------------------------------------------------------
def explore_output_stride(
    image: Any = None,
    *,
    arch: str = "resnet101",
    input_size: int = 473,
    replace_stride_with_dilation: Sequence[bool] = (False, True, True),
    schedule: str = "torchvision",
) -> Explorer:
    """Architecture, input size, the three dilation flags and the schedule -> table and grids.

    Left: the layer4 feature grid drawn to scale over the photo; right: feature-map size per
    stage, current settings vs the undilated network. The full stride table is an HTML widget
    above the figure (text in the figure would cost most of each redraw: ~0.5 s of glyphs).

    Args:
        image: ``(3, H, W)`` photo in ``[0, 1]``; default ``visual.load_sample_image(473)``. It is
            stretched over whatever input size the slider sets.
        arch: initial architecture.
        input_size: initial input side (``MIN_INPUT_SIZE`` .. ``MAX_INPUT_SIZE``).
        replace_stride_with_dilation: initial flags for (layer2, layer3, layer4).
        schedule: initial schedule, ``"torchvision"`` or ``"semseg"``.

    Returns:
        An ``Explorer``; ``state`` holds the last ``output_stride_summary``.

    Raises:
        ValueError: an initial value out of range; TypeError: flags not three booleans.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    import numpy as np

    from visual.plots.output_stride import (
        _dot_size,
        _feature_grid_data,
        _grid_title,
        _stage_values,
        plot_feature_grid,
        plot_stage_sizes,
    )

    if arch not in RESNET_ARCHS:
        raise ValueError(f"arch must be one of {sorted(RESNET_ARCHS)}, got {arch!r}")
    _check_size("input_size", input_size)
    flags = _validate_flags(replace_stride_with_dilation)
    if schedule not in DILATION_SCHEDULES:
        raise ValueError(f"schedule must be one of {DILATION_SCHEDULES}, got {schedule!r}")
    if image is None:
        from visual.data import load_sample_image

        image = load_sample_image(473)
    summary = output_stride_summary(arch, input_size, flags, schedule)
    with plt.ioff():
        fig, (ax_grid, ax_bars) = plt.subplots(1, 2, figsize=(11.0, 5.2), layout="constrained",
                                               width_ratios=[1.0, 1.35])
        plot_feature_grid(image, summary["table"], ax=ax_grid)
        plot_stage_sizes([summary["reference"], summary["table"]], ax=ax_bars,
                         labels=["without dilation (OS 32)", "current settings"])
    grid_image = ax_grid.images[0]
    # The photo is shown near its own resolution: nearest-neighbour display and 8-bit RGB take
    # a quarter of a redraw off the default antialiasing filter on float pixels.
    grid_image.set_interpolation("nearest")
    pixels = np.asarray(grid_image.get_array())
    if pixels.ndim == 3:  # RGB in [0, 1]; a grey photo keeps its colour map's scaling
        grid_image.set_data((np.clip(pixels, 0.0, 1.0) * 255).round().astype(np.uint8))
    grid_lines = next(c for c in ax_grid.collections if c.get_gid() == "feature-grid")
    centre_dots = next(line for line in ax_grid.lines if line.get_gid() == "feature-centres")
    bar_sets = ax_bars.containers[:2]
    bar_texts = [t for t in ax_bars.texts]  # bar_label texts: reference bars, then current bars

    controls = {
        "arch": widgets.Dropdown(options=list(RESNET_ARCHS), value=arch, description="arch",
                                 layout={"width": "180px"}),
        "input_size": _size_slider(input_size),
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
        H, W = table.input_size
        grid_image.set_extent((-0.5, W - 0.5, H - 0.5, -0.5))
        segments, centres = _feature_grid_data(table)
        grid_lines.set_segments(segments)
        if len(centres) <= 10_000:
            centre_dots.set_data(centres[:, 0], centres[:, 1])
        else:
            centre_dots.set_data([], [])
        centre_dots.set_markersize(_dot_size(table, "layer4"))
        ax_grid.set_xlim(-0.5, W - 0.5)
        ax_grid.set_ylim(H - 0.5, -0.5)
        ax_grid.set_title(_grid_title(table, "layer4"), fontsize="medium")
        heights = [_stage_values(summary["reference"]), _stage_values(table)]
        for bars, values_k, k in zip(bar_sets, heights, range(2)):
            for rect, value, text in zip(bars, values_k, bar_texts[k * len(bars):(k + 1) * len(bars)]):
                rect.set_height(value)
                text.set_text(f"{value:g}")
                text.xy = (rect.get_x() + rect.get_width() / 2, value)  # bar_label's anchor: the bar top
        ax_bars.set_ylim(0, 1.15 * max(max(v) for v in heights))
        ax_bars.set_title(f"{table.arch} at {H}×{W}: output stride {table.output_stride}, "
                          f"receptive field {table['layer4'].rf} px", fontsize="medium")
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
    return finish_explorer(
        explorer,
        rows=[[controls["arch"], controls["input_size"], controls["schedule"]],
              [controls["layer2"], controls["layer3"], controls["layer4"]]],
        readouts=[readout, table_html])


# --------------------------------------------------------------------------------------------
# Explorer 2: where upsampled features land (why 8k + 1)
# --------------------------------------------------------------------------------------------
def explore_alignment(input_size: int = 512, output_stride: int = 8) -> Explorer:
    """Input size and output stride -> feature centres vs upsampled positions, and the drift.

    Top: the last few features at the far edge of the input, where the network computed them
    and where ``F.interpolate`` puts them (``align_corners`` True and False). Bottom: the drift
    of every upsampled pixel (``upsampling_drift``).

    Args:
        input_size: initial input side ``H`` (``MIN_INPUT_SIZE`` .. ``MAX_INPUT_SIZE``).
        output_stride: initial output stride (32, 16 or 8).

    Returns:
        An ``Explorer``; ``state`` holds the last ``alignment_summary``.

    Raises:
        ValueError: an initial value out of range.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    import numpy as np

    from visual.plots.output_stride import (
        CENTRE_COLOUR,
        ROW_FALSE,
        ROW_NETWORK,
        ROW_TRUE,
        SERIES_COLOURS,
        _centres_title,
        _pixel_borders,
        plot_feature_centres,
    )

    _check_size("input_size", input_size)
    if output_stride not in OUTPUT_STRIDES:
        raise ValueError(f"output_stride must be one of {OUTPUT_STRIDES}, got {output_stride!r}")
    summary = alignment_summary(input_size, output_stride)
    with plt.ioff():
        fig, (ax_centres, ax_drift) = plt.subplots(2, 1, figsize=(10.0, 6.4), layout="constrained",
                                                   height_ratios=[1.1, 1.0])
        plot_feature_centres(summary["table"], ax=ax_centres)
        ax_centres.legend(loc="upper left", fontsize="x-small", ncol=3, bbox_to_anchor=(0, -0.25))
        drift_lines = {
            align: ax_drift.plot([], [], style, color=colour, linewidth=1.6, label=f"align_corners={align}")[0]
            for align, style, colour in ((True, "-", CENTRE_COLOUR), (False, "--", SERIES_COLOURS[0]))
        }
        ax_drift.axhline(0, color="black", linewidth=0.6)
        ax_drift.set_xlabel("output pixel X (input pixels)")
        ax_drift.set_ylabel("feature centre − pixel (input px)")
        ax_drift.grid(alpha=0.3)
        ax_drift.legend(fontsize="small", loc="lower left")
    markers = {key: next(line for line in ax_centres.lines if line.get_gid() == f"centres-{key}")
               for key in ("network", "true", "false")}
    rows = {"network": ROW_NETWORK, "true": ROW_TRUE, "false": ROW_FALSE}
    links = next(c for c in ax_centres.collections if c.get_gid() == "centres-links")
    borders = next(c for c in ax_centres.collections if c.get_gid() == "pixel-borders")

    controls = {
        "input_size": _size_slider(input_size),
        "output_stride": widgets.ToggleButtons(options=list(OUTPUT_STRIDES), value=output_stride,
                                               description="output stride", style={"description_width": "initial"}),
    }
    readout = widgets.HTML()
    explorer = Explorer(widget=None, controls=controls, fig=fig, update=lambda *_: None)

    def update(*_: Any) -> None:
        summary = alignment_summary(controls["input_size"].value, controls["output_stride"].value)
        table, centres = summary["table"], summary["centres"]
        for key, line in markers.items():
            line.set_data(centres[key], np.full(len(centres[key]), rows[key]))
        links.set_segments([[(n, ROW_NETWORK), (t, ROW_TRUE), (f, ROW_FALSE)]
                            for n, t, f in zip(centres["network"], centres["true"], centres["false"])])
        borders.set_segments(_pixel_borders(centres["window"]))
        ax_centres.set_xlim(*centres["window"])
        ax_centres.set_title(_centres_title(table, "layer4", centres), fontsize="medium")
        H, s = summary["input_size"], summary["output_stride"]
        for align, line in drift_lines.items():
            line.set_data(np.arange(H), upsampling_drift(table, align_corners=align).numpy())
        ax_drift.set_xlim(-0.5, H - 0.5)
        limit = max(summary["max_drift_true"], summary["max_drift_false"], 1.0)
        ax_drift.set_ylim(-1.15 * limit, 1.15 * limit)
        ax_drift.set_title(f"Drift of every upsampled pixel, H = {H}, output stride {s}, "
                           f"h = {summary['feature_size']} features")
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
