"""An explorer's controls: a checked slider, a layout a mouse can drag, the values ``sweep`` visits."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from visual.checks import check_float, check_int

__all__ = ["control_values", "slider", "lay_out_controls"]

MAX_STEPS = 1000  # the most points ``control_values`` takes over one range
MIN_TRACK_PX = 150  # the narrowest slider track a mouse can drag (issue 16)
TRACK_PX = 200  # the track width asked for: above the minimum, with room for rounding
READOUT_PX = 90  # the readout plus the margins around the track (ipywidgets 8's default CSS)
DROPDOWN_PX = 40  # a dropdown's arrow and padding
CHAR_PX = 8  # a generous width of one character of a 13 px label (wide letters included)


def slider(kind: type, value: Any, low: Any, high: Any, description: str, *, name: str | None = None,
           step: Any = 1) -> Any:
    """A continuously updating slider; with ``name``, ``value`` is checked to lie in ``[low, high]``."""
    if name is not None:
        check = check_int if kind is widgets.IntSlider else check_float
        value = check(value, name, minimum=low, maximum=high)
    return kind(value=value, min=low, max=high, step=step, description=description, continuous_update=True)


def _option_pairs(options: Any) -> list[tuple[Any, Any]]:
    """``(label, value)`` of each option of a selection widget (an option is a pair or its own label)."""
    return [o if isinstance(o, tuple) and len(o) == 2 else (o, o) for o in options]


def lay_out_controls(controls: list[Any]) -> None:
    """Give every control a label as wide as the longest one and each slider a draggable track: ``layout.width =
    label + TRACK_PX + READOUT_PX`` px (track >= ``MIN_TRACK_PX``); dropdowns are as wide as their longest option;
    checkboxes keep their label beside the box."""
    labelled = [c for c in controls if getattr(c, "description", "") and not isinstance(c, widgets.Checkbox)]
    longest = max((len(c.description) for c in labelled), default=0)
    label_px = CHAR_PX * longest + 12
    for control in labelled:
        control.style.description_width = f"{label_px}px"
        if isinstance(control, (widgets.IntSlider, widgets.FloatSlider, widgets.IntRangeSlider,
                                widgets.FloatRangeSlider, widgets.SelectionSlider)):
            control.layout.width = control.layout.min_width = f"{label_px + TRACK_PX + READOUT_PX}px"
        elif isinstance(control, widgets.Dropdown):  # the menu as wide as its longest option, arrow included
            widest = max((len(str(label)) for label, _ in _option_pairs(control.options)), default=0)
            control.layout.width = control.layout.min_width = f"{label_px + CHAR_PX * widest + DROPDOWN_PX}px"


def control_values(control: Any, steps: int) -> list[Any]:
    """Values to visit for one ipywidgets value widget: its options; ``[not value, value]`` for a checkbox; the
    full, lowest, highest and current windows of a range slider; up to ``steps`` (2 to ``MAX_STEPS``) stops of a
    slider, ends included.

    Example:
        >>> import ipywidgets as widgets
        >>> control_values(widgets.IntSlider(value=3, min=1, max=9, step=2), steps=3)
        [1, 5, 9]
    """
    if not isinstance(control, widgets.ValueWidget):
        raise TypeError(f"control must be an ipywidgets value widget, got {type(control).__name__}")
    steps = check_int(steps, "steps", minimum=2, maximum=MAX_STEPS)
    options = getattr(control, "options", None)
    if options is not None and not isinstance(options, str):
        return [value for _, value in _option_pairs(options)]
    if isinstance(control.value, bool):
        return [not control.value, control.value]
    low, high = getattr(control, "min", None), getattr(control, "max", None)
    if low is None or high is None:
        return [control.value]
    step = getattr(control, "step", None) or 1
    if isinstance(control.value, tuple):  # range sliders: widen and narrow the window
        return [(low, high), (low, low), (high, high), control.value]
    n = int(round((high - low) / step))  # slider stops after the first
    indices = sorted({round(i * n / max(steps - 1, 1)) for i in range(steps)})
    values = [low + i * step for i in indices]
    if isinstance(control.value, int):
        values = [int(v) for v in values]
    return values
