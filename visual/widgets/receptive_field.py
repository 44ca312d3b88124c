"""Slider explorers for the dilation and receptive-field lesson (notebook 01).

Each ``explore_*`` builds its figure once (``with plt.ioff()``), then its callback calls a pure
function (``receptive_field_summary``, ``gridding_summary``, ``gradient_rf_summary``,
``effective_rf_summary``; tests call them without widgets), updates the artists in place and
calls ``fig.canvas.draw_idle()``. Models and gradient maps are cached, so moving a slider back
never recomputes.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Sequence
from typing import Any

from visual.conv_arithmetic import (
    conv_output_size,
    effective_kernel_size,
    gridding_count_map,
    has_holes,
    hdc_max_distance,
    satisfies_hdc,
    stack_receptive_field,
)
from visual.widgets.core import Explorer, finish_explorer

__all__ = [
    "receptive_field_summary",
    "gridding_summary",
    "gradient_rf_summary",
    "effective_rf_summary",
    "explore_receptive_field",
    "explore_gridding",
    "explore_gradient_rf",
    "explore_effective_rf",
]

SUMMARY_INPUT_SIZE = 473  # PSPNet's input side (Zhao et al. 2017, Sec. 4.1): the output-size readout
MAX_KERNEL_SIZE = 7
MAX_DILATION = 4
MAX_STRIDE = 2
MAX_LAYERS = 5
MAX_RATE = 9  # gridding explorer: rates 1..9 cover Wang et al.'s examples (1, 2, 5), (1, 2, 9)
GRADIENT_MAX = {"kernel_size": 5, "dilation": 3, "n_layers": 4}
GRADIENT_MIN_VIEW = 15  # the gradient explorer shows at least this many pixels around the field
GRADIENT_VIEW_MARGIN = 3  # pixels shown beyond the theoretical field on each side
GRADIENT_INPUT_SIZE = 61  # holds the largest stack of the gradient explorer: RF 1 + 4 * 3 * (5 - 1) = 49
ERF_INPUT_SIZE = 48  # input side of the ERF explorer; holds the RF of 10 layers of 3x3 (21)
ERF_MAX_LAYERS = 10
ERF_CHANNELS = 8  # channels per layer of the ERF toy stack (enough for a smooth average, fast)
ERF_SAMPLES = 16  # random inputs averaged per heatmap
ERF_VIEW = 27  # pixels shown around the centre: the RF of 10 layers of 3x3 (21) plus a margin


# --------------------------------------------------------------------------------------------
# Pure functions (what the callbacks compute)
# --------------------------------------------------------------------------------------------
def receptive_field_summary(
    kernel_size: int, dilation: int, stride: int, n_layers: int, input_size: int = SUMMARY_INPUT_SIZE
) -> dict[str, Any]:
    """Numbers shown by ``explore_receptive_field`` for ``n_layers`` identical layers.

    Args:
        kernel_size, dilation, stride: of every layer.
        n_layers: depth of the stack.
        input_size: input side for the output-size readout; padding is ``d (k - 1) // 2``.

    Returns:
        dict with ``effective_kernel_size``, ``rf`` and ``jump`` after the stack, the list
        ``rfs`` (after each layer), ``output_size`` (on ``input_size``; ``None`` if it
        collapses below one pixel) and ``weights`` per channel pair (``n_layers * k * k``).
    """
    steps = stack_receptive_field([kernel_size] * n_layers, stride, dilation)
    padding = dilation * (kernel_size - 1) // 2
    size: int | None = input_size
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
    """Numbers shown by ``explore_gridding``: holes of the count map and the HDC rule's verdict.

    Returns:
        dict with ``rf``, ``holes`` (pixels of the RF square that never reach the output),
        ``coverage`` (fraction that does), ``m2`` (``None`` for one layer), ``hdc`` (rule says
        no holes) and ``rule_agrees`` (the rule's verdict matches the count map).
    """
    counts = gridding_count_map(kernel_size, dilations)
    rf = len(counts)
    holes = sum(value == 0 for row in counts for value in row)
    hdc = satisfies_hdc(dilations, kernel_size) if len(dilations) >= 2 else None
    return {
        "dilations": tuple(dilations), "kernel_size": kernel_size, "rf": rf, "holes": holes,
        "coverage": 1 - holes / (rf * rf),
        "m2": hdc_max_distance(dilations) if len(dilations) >= 2 else None,
        "hdc": hdc,
        "rule_agrees": None if hdc is None else hdc == (not has_holes(kernel_size, dilations)),
    }


@functools.lru_cache(maxsize=128)
def gradient_rf_summary(kernel_size: int, dilation: int, n_layers: int,
                        input_size: int = GRADIENT_INPUT_SIZE) -> dict[str, Any]:
    """Theoretical (``trace``) and gradient receptive field of a 1-channel conv stack (cached).

    Returns:
        dict with ``trace_rf``, ``gradient_rf`` (per-axis pairs), ``box`` (the theoretical RF
        of the centre unit, ``(top, left, height, width)``) and ``grad_map`` (numpy ``(H, W)``).
    """
    from visual.receptive_field import conv_stack, gradient_receptive_field, trace

    stack = conv_stack([dilation] * n_layers, kernel_size=kernel_size)
    traced = trace(stack, input_size)
    extent, grad_map = gradient_receptive_field(stack, input_size, return_map=True)
    return {
        "kernel_size": kernel_size, "dilation": dilation, "n_layers": n_layers,
        "trace_rf": traced.rf, "gradient_rf": extent, "box": traced.output.box(),
        "grad_map": grad_map.numpy(),
    }


@functools.lru_cache(maxsize=64)
def effective_rf_summary(n_layers: int, activation: str = "relu", weights: str = "random",
                         input_size: int = ERF_INPUT_SIZE, seed: int = 0) -> dict[str, Any]:
    """ERF heatmap of ``n_layers`` 3x3 convs, its spread and the theoretical RF (cached).

    Returns:
        dict with ``heatmap`` (numpy ``(H, W)``, max 1), ``std`` (per-axis, pixels),
        ``rf`` (theoretical, pixels), ``box`` and ``ratio`` (``4 std / rf``: the share of the
        theoretical RF that holds ~95 % of the ERF).
    """
    from visual.receptive_field import conv_stack, effective_receptive_field, erf_std, trace

    stack = conv_stack([1] * n_layers, channels=ERF_CHANNELS, activation=activation,
                       weights=weights, seed=seed)
    heatmap = effective_receptive_field(stack, input_size, n_samples=ERF_SAMPLES, seed=seed)
    std = erf_std(heatmap)
    traced = trace(stack, input_size)
    return {
        "n_layers": n_layers, "activation": activation, "weights": weights,
        "heatmap": heatmap.numpy(), "std": std, "rf": traced.rf[0], "box": traced.output.box(),
        "ratio": 4 * std[0] / traced.rf[0],
    }


# --------------------------------------------------------------------------------------------
# Widget plumbing
# --------------------------------------------------------------------------------------------
def _slider(description: str, value: int, low: int, high: int) -> Any:
    import ipywidgets as widgets

    return widgets.IntSlider(value=value, min=low, max=high, step=1, description=description,
                             continuous_update=True, style={"description_width": "initial"})


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an int in [{low}, {high}], got {value!r}")


def _set_image(image: Any, data: Any, extent: tuple[float, float, float, float]) -> None:
    image.set_data(data)
    image.set_extent(extent)


def _set_pixel_grid(ax: Any, height: int, width: int) -> None:
    from visual.plots.receptive_field import pixel_grid_segments

    ax.collections[0].set_segments(pixel_grid_segments(height, width))
    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(height - 0.5, -0.5)


# --------------------------------------------------------------------------------------------
# Explorer 1: one dilated kernel and a stack of them
# --------------------------------------------------------------------------------------------
def explore_receptive_field(kernel_size: int = 3, dilation: int = 2, stride: int = 1,
                            n_layers: int = 3) -> Explorer:
    """Sliders for kernel size, dilation, stride and depth: a kernel's footprint and the RF cone.

    Left: the pixels one dilated kernel reads and its effective span. Right: the units of every
    layer that feed one output unit (``plot_receptive_field_stack``). The readout gives the
    effective kernel size, the RF, the jump and the output size on a 473-pixel input.

    Args:
        kernel_size: initial kernel size (1..7).
        dilation: initial dilation (1..4).
        stride: initial stride of every layer (1..2).
        n_layers: initial depth (1..5).

    Returns:
        An ``Explorer``; ``state`` holds the last ``receptive_field_summary``.

    Raises:
        ValueError: if an initial value is outside its slider's range.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from visual.plots.receptive_field import (
        _layers,
        cone_image,
        kernel_footprint_image,
        plot_dilated_kernel,
        plot_receptive_field_stack,
    )

    for name, value, high in (("kernel_size", kernel_size, MAX_KERNEL_SIZE), ("dilation", dilation, MAX_DILATION),
                              ("stride", stride, MAX_STRIDE), ("n_layers", n_layers, MAX_LAYERS)):
        _check_range(name, value, 1, high)
    with plt.ioff():
        fig, (ax_kernel, ax_cone) = plt.subplots(
            1, 2, figsize=(10.5, 4.2), layout="constrained", gridspec_kw={"width_ratios": [1, 2.2]})
        plot_dilated_kernel(kernel_size, dilation, ax=ax_kernel)
        plot_receptive_field_stack(kernel_size, stride, dilation, n_layers, ax=ax_cone)
    kernel_image, span = ax_kernel.images[0], ax_kernel.patches[0]
    cone, rf_label = ax_cone.images[0], ax_cone.texts[0]
    controls = {
        "kernel_size": _slider("kernel size k", kernel_size, 1, MAX_KERNEL_SIZE),
        "dilation": _slider("dilation d", dilation, 1, MAX_DILATION),
        "stride": _slider("stride s", stride, 1, MAX_STRIDE),
        "n_layers": _slider("layers", n_layers, 1, MAX_LAYERS),
    }
    readout = widgets.HTML()
    explorer = Explorer(widget=None, controls=controls, fig=fig, update=lambda *_: None)

    def update(*_: Any) -> None:
        k, d, s, n = (controls[name].value for name in ("kernel_size", "dilation", "stride", "n_layers"))
        summary = receptive_field_summary(k, d, s, n)
        k_eff = summary["effective_kernel_size"]
        footprint = kernel_footprint_image(k, d)
        side = footprint.shape[0]
        _set_image(kernel_image, footprint, (-0.5, side - 0.5, side - 0.5, -0.5))
        span.set_xy((0.5, 0.5))
        span.set_width(k_eff)
        span.set_height(k_eff)
        _set_pixel_grid(ax_kernel, side, side)
        ax_kernel.set_title(f"k={k}, d={d}: effective kernel {k_eff}x{k_eff}\n"
                            f"(dark: the {k * k} pixels read; dashed: the span)")
        image = cone_image(k, s, d, n)
        width = image.shape[1]
        _set_image(cone, image, (-0.5, width - 0.5, -0.5, n + 0.5))
        ax_cone.set_xlim(-0.5, width - 0.5)
        ax_cone.set_ylim(-0.5, n + 0.5)
        ax_cone.set_yticks(range(n + 1), ["input"] + [f"layer {i}" for i in range(1, n + 1)])
        ax_cone.set_title(f"{_layers(n)} of k={k}, stride={s}, dilation={d}: receptive field {width} px")
        rf_label.set_text(f"RF = {width} px")
        out = summary["output_size"]
        out_text = "collapses below 1 pixel" if out is None else f"{out}x{out}"
        readout.value = (
            f"<b>effective kernel</b> d(k&minus;1)+1 = {k_eff} &nbsp;|&nbsp; <b>RF after {n} layers</b> = "
            f"{summary['rf']} px &nbsp;|&nbsp; <b>jump</b> = {summary['jump']} px &nbsp;|&nbsp; "
            f"<b>output</b> on {summary['input_size']}x{summary['input_size']} (padding {summary['padding']}): "
            f"{out_text} &nbsp;|&nbsp; <b>weights</b> per channel pair: {summary['weights']}"
        )
        explorer.state = summary
        fig.canvas.draw_idle()

    explorer.update = update
    return finish_explorer(explorer, readouts=[readout])


# --------------------------------------------------------------------------------------------
# Explorer 2: three dilation rates and the gridding count map
# --------------------------------------------------------------------------------------------
def explore_gridding(dilations: Sequence[int] = (2, 2, 2), kernel_size: int = 3) -> Explorer:
    """Three rate sliders: which input pixels reach one output after three dilated 3x3 convs.

    Left: the count map (``plot_gridding``); right: its middle row, with holes marked.
    The readout compares the Hybrid Dilated Convolution rule with the count map.

    Args:
        dilations: the three initial rates (1..9 each).
        kernel_size: the side of every kernel (fixed; 1..7).

    Returns:
        An ``Explorer``; ``state`` holds the last ``gridding_summary``.

    Raises:
        ValueError: if ``dilations`` is not three rates in range, or a bad ``kernel_size``.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    import numpy as np

    from visual.plots.receptive_field import _gridding_title, plot_gridding

    dilations = tuple(dilations)
    if len(dilations) != 3:
        raise ValueError(f"dilations must be three rates, got {dilations!r}")
    for i, rate in enumerate(dilations):
        _check_range(f"dilations[{i}]", rate, 1, MAX_RATE)
    _check_range("kernel_size", kernel_size, 1, MAX_KERNEL_SIZE)
    with plt.ioff():
        fig, (ax_map, ax_line) = plt.subplots(
            1, 2, figsize=(10.5, 4.6), layout="constrained", gridspec_kw={"width_ratios": [1, 1.4]})
        plot_gridding(kernel_size, dilations, ax=ax_map)
        (line,) = ax_line.plot([], [], drawstyle="steps-mid", color="#08519c", label="paths")
        (holes_marks,) = ax_line.plot([], [], "x", color="#d7301f", markersize=8, mew=2, label="hole")
        ax_line.set_xlabel("input column offset (pixels)")
        ax_line.set_ylabel("paths to the output (middle row)")
        ax_line.set_title("middle row of the count map")
        ax_line.grid(alpha=0.3)
        ax_line.legend(loc="upper right", fontsize="small")
    count_image = ax_map.images[0]
    controls = {f"rate{i + 1}": _slider(f"rate r{i + 1}", rate, 1, MAX_RATE) for i, rate in enumerate(dilations)}
    readout = widgets.HTML()
    explorer = Explorer(widget=None, controls=controls, fig=fig, update=lambda *_: None)

    def update(*_: Any) -> None:
        rates = tuple(controls[f"rate{i + 1}"].value for i in range(3))
        summary = gridding_summary(rates, kernel_size)
        counts = np.asarray(gridding_count_map(kernel_size, rates), dtype=float)
        side = counts.shape[0]
        half = (side - 1) // 2
        count_image.set_data(np.where(counts > 0, counts, np.nan))
        count_image.set_extent((-half - 0.5, side - half - 0.5, side - half - 0.5, -half - 0.5))
        count_image.set_clim(0, counts.max())
        ax_map.set_title(_gridding_title(kernel_size, rates, counts))
        peak = counts[half].max()
        offsets = np.arange(side) - half
        line.set_data(offsets, counts[half])
        holes_marks.set_data(offsets[counts[half] == 0], np.zeros(int((counts[half] == 0).sum())))
        ax_line.set_xlim(-half - 1, half + 1)
        ax_line.set_ylim(-0.05 * peak - 0.5, 1.1 * peak + 0.5)
        verdict = "satisfied" if summary["hdc"] else "violated"
        agree = "agrees with" if summary["rule_agrees"] else "disagrees with"
        readout.value = (
            f"<b>rates</b> {html.escape(str(rates))} &nbsp;|&nbsp; <b>RF</b> {side}x{side} &nbsp;|&nbsp; "
            f"<b>holes</b> {summary['holes']} ({100 * summary['coverage']:.0f}% covered) &nbsp;|&nbsp; "
            f"<b>HDC</b> (r1 = 1 and M2 = {summary['m2']} &le; {kernel_size}): {verdict}, "
            f"{agree} the count map"
        )
        explorer.state = summary
        fig.canvas.draw_idle()

    explorer.update = update
    return finish_explorer(explorer, readouts=[readout])


# --------------------------------------------------------------------------------------------
# Explorer 3: theoretical vs gradient receptive field
# --------------------------------------------------------------------------------------------
def explore_gradient_rf(kernel_size: int = 3, dilation: int = 1, n_layers: int = 3) -> Explorer:
    """Sliders for a 1-channel conv stack: gradient map of the centre unit vs ``trace``'s RF box.

    The map shows ``log10`` of the gradient (path-weighted counts; white: exactly zero).

    Args:
        kernel_size: initial kernel size (1..5).
        dilation: initial dilation of every layer (1..3).
        n_layers: initial depth (1..4).

    Returns:
        An ``Explorer``; ``state`` holds the last ``gradient_rf_summary`` (without the map).

    Raises:
        ValueError: if an initial value is outside its slider's range.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import MaxNLocator

    for name, value in (("kernel_size", kernel_size), ("dilation", dilation), ("n_layers", n_layers)):
        _check_range(name, value, 1, GRADIENT_MAX[name])
    size = GRADIENT_INPUT_SIZE
    with plt.ioff():
        fig, ax = plt.subplots(figsize=(6.0, 5.0), layout="constrained")
        cmap = plt.get_cmap("magma").with_extremes(bad="white")
        image = ax.imshow(np.full((size, size), np.nan), cmap=cmap, vmin=-12, vmax=0, interpolation="nearest")
        fig.colorbar(image, ax=ax, label="log10 gradient (relative to its max)")
        box = Rectangle((0, 0), 1, 1, fill=False, edgecolor="#4dac26", linewidth=2.5, linestyle="--",
                        label="theoretical RF (trace)")
        ax.add_patch(box)
        ax.legend(loc="upper right", fontsize="small")
        ax.set_xlabel("input column (pixels)")
        ax.set_ylabel("input row (pixels)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    controls = {
        "kernel_size": _slider("kernel size k", kernel_size, 1, GRADIENT_MAX["kernel_size"]),
        "dilation": _slider("dilation d", dilation, 1, GRADIENT_MAX["dilation"]),
        "n_layers": _slider("layers", n_layers, 1, GRADIENT_MAX["n_layers"]),
    }
    readout = widgets.HTML()
    explorer = Explorer(widget=None, controls=controls, fig=fig, update=lambda *_: None)

    def update(*_: Any) -> None:
        k, d, n = (controls[name].value for name in ("kernel_size", "dilation", "n_layers"))
        summary = gradient_rf_summary(k, d, n)
        grad = summary["grad_map"]
        with np.errstate(divide="ignore"):
            log_grad = np.where(grad > 0, np.log10(grad / grad.max()), np.nan)
        image.set_data(log_grad)
        image.set_clim(min(float(np.nanmin(log_grad)), -1.0), 0.0)
        top, left, height, width = summary["box"]
        box.set_xy((left - 0.5, top - 0.5))
        box.set_width(width)
        box.set_height(height)
        half_view = max(height, GRADIENT_MIN_VIEW) / 2 + GRADIENT_VIEW_MARGIN  # zoom on the field
        centre_row, centre_col = top + (height - 1) / 2, left + (width - 1) / 2
        ax.set_xlim(centre_col - half_view, centre_col + half_view)
        ax.set_ylim(centre_row + half_view, centre_row - half_view)
        same = summary["gradient_rf"] == summary["trace_rf"]
        ax.set_title(f"{n} layer{'s' if n > 1 else ''} of k={k}, d={d}: trace RF {summary['trace_rf'][0]}, "
                     f"gradient RF {summary['gradient_rf'][0]} {'(equal)' if same else '(differ)'}")
        readout.value = (
            f"<b>theoretical RF</b> (trace) {summary['trace_rf'][0]}x{summary['trace_rf'][1]} &nbsp;|&nbsp; "
            f"<b>gradient RF</b> {summary['gradient_rf'][0]}x{summary['gradient_rf'][1]} &nbsp;|&nbsp; "
            f"{'equal &#10003;' if same else 'different &#10007;'}"
        )
        explorer.state = {key: value for key, value in summary.items() if key != "grad_map"}
        fig.canvas.draw_idle()

    explorer.update = update
    return finish_explorer(explorer, readouts=[readout])


# --------------------------------------------------------------------------------------------
# Explorer 4: the effective receptive field
# --------------------------------------------------------------------------------------------
def explore_effective_rf(n_layers: int = 4, activation: str = "relu", weights: str = "random") -> Explorer:
    """Depth slider and weight/activation choices: the ERF heatmap inside the theoretical RF.

    Args:
        n_layers: initial depth of the 3x3 stack (1..10).
        activation: ``"relu"`` or ``"linear"``.
        weights: ``"random"`` or ``"uniform"``.

    Returns:
        An ``Explorer``; ``state`` holds the last ``effective_rf_summary`` (without the heatmap).

    Raises:
        ValueError: for a value outside the controls' options.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from visual.plots.receptive_field import plot_effective_receptive_field
    from visual.receptive_field import ACTIVATIONS, WEIGHT_SCHEMES

    _check_range("n_layers", n_layers, 1, ERF_MAX_LAYERS)
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    if weights not in WEIGHT_SCHEMES:
        raise ValueError(f"weights must be one of {WEIGHT_SCHEMES}, got {weights!r}")
    first = effective_rf_summary(n_layers, activation, weights)
    with plt.ioff():
        fig, (ax_map, ax_profile) = plt.subplots(
            1, 2, figsize=(10.5, 4.3), layout="constrained", gridspec_kw={"width_ratios": [1.15, 1]})
        plot_effective_receptive_field(first["heatmap"], box=first["box"], ax=ax_map)
        (profile,) = ax_profile.plot([], [], "o-", color="#08519c", markersize=3, label="ERF, middle row")
        (gauss,) = ax_profile.plot([], [], "--", color="#e6550d", label="Gaussian with the ERF's std")
        rf_span = ax_profile.axvspan(0, 1, color="#4dac26", alpha=0.15, label="theoretical RF")
        ax_profile.set_xlabel("input column (pixels)")
        ax_profile.set_ylabel("ERF (max = 1)")
        view = (ERF_INPUT_SIZE // 2 - ERF_VIEW // 2 - 0.5, ERF_INPUT_SIZE // 2 + ERF_VIEW // 2 + 0.5)
        ax_profile.set_xlim(*view)
        ax_map.set_xlim(*view)
        ax_map.set_ylim(view[1], view[0])
        ax_profile.set_ylim(-0.05, 1.1)
        ax_profile.grid(alpha=0.3)
        ax_profile.legend(loc="upper right", fontsize="small")
    heat_image, box = ax_map.images[0], ax_map.patches[0]
    controls = {
        "n_layers": _slider("layers", n_layers, 1, ERF_MAX_LAYERS),
        "activation": widgets.Dropdown(options=list(ACTIVATIONS), value=activation, description="activation"),
        "weights": widgets.Dropdown(options=list(WEIGHT_SCHEMES), value=weights, description="weights"),
    }
    readout = widgets.HTML()
    explorer = Explorer(widget=None, controls=controls, fig=fig, update=lambda *_: None)

    def update(*_: Any) -> None:
        import numpy as np

        n, act, w = (controls[name].value for name in ("n_layers", "activation", "weights"))
        summary = effective_rf_summary(n, act, w)
        heat = summary["heatmap"]
        heat_image.set_data(heat)
        top, left, height, width = summary["box"]
        box.set_xy((left - 0.5, top - 0.5))
        box.set_width(width)
        box.set_height(height)
        box.set_label(f"theoretical RF {height}x{width}")
        ax_map.legend(loc="upper right", fontsize="small")
        ax_map.set_title(f"ERF of {n} layer{'s' if n > 1 else ''} of 3x3, {act}, {w} weights")
        middle = heat.shape[0] // 2
        columns = np.arange(heat.shape[1])
        row = heat[middle]
        profile.set_data(columns, row)
        centre = float((row * columns).sum() / row.sum())
        std = summary["std"][1]
        gauss.set_data(columns, np.exp(-0.5 * ((columns - centre) / max(std, 1e-6)) ** 2))
        rf_span.set_x(left - 0.5)
        rf_span.set_width(width)
        ax_profile.set_title(f"middle row: 4 std = {4 * std:.1f} px vs RF {width} px")
        readout.value = (
            f"<b>theoretical RF</b> {summary['rf']} px &nbsp;|&nbsp; <b>ERF std</b> {std:.2f} px &nbsp;|&nbsp; "
            f"<b>4 std / RF</b> = {summary['ratio']:.2f}"
        )
        explorer.state = {key: value for key, value in summary.items() if key != "heatmap"}
        fig.canvas.draw_idle()

    explorer.update = update
    return finish_explorer(explorer, readouts=[readout])
