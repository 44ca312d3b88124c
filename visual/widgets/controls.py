"""The values a slider explorer's control can take: what ``sweep`` and the docs frames visit."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from visual.checks import check_int

__all__ = ["control_values"]

MAX_STEPS = 1000  # the most points ``control_values`` takes over one range


def control_values(control: Any, steps: int) -> list[Any]:
    """Values to visit for one control: every option, or ``steps`` points over a slider's range.

    Args:
        control: an ipywidgets value widget (slider, range slider, checkbox, dropdown, toggles).
        steps: how many points to take over a numeric range, ends included (2 to ``MAX_STEPS``).

    Returns:
        The option values; ``[not value, value]`` for a checkbox; the full, lowest, highest and
        current windows of a range slider; up to ``steps`` stops of a slider, ends included.

    Raises:
        TypeError, ValueError: a bad argument (named in the message).

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
        return [option[1] if isinstance(option, tuple) and len(option) == 2 else option
                for option in options]
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
