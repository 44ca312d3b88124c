"""What every slider explorer shares: the ``Explorer`` bundle and the CI ``sweep``.

An explorer is built once (figure, artists, controls); its callbacks call pure functions
and update artists in place, then ``fig.canvas.draw_idle()``. ``sweep`` drives every control
through its range so that a callback error fails nbval in CI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Explorer", "sweep"]


@dataclass
class Explorer:
    """A built slider explorer.

    Attributes:
        widget: the ipywidgets container to display (controls + figure canvas).
        controls: the value widgets by name (sliders, checkboxes, dropdowns, toggles).
        fig: the matplotlib Figure updated in place by the callbacks.
        update: the callback, callable with no argument to redraw from the current values.
        state: the last values computed by ``update`` (for tests and notebook exercises).
    """

    widget: Any
    controls: dict[str, Any]
    fig: Any
    update: Callable[..., Any]
    state: dict[str, Any] = field(default_factory=dict)

    def _ipython_display_(self) -> None:  # pragma: no cover - needs a frontend
        from IPython.display import display

        display(self.widget)


def _control_values(control: Any, steps: int) -> list[Any]:
    """Values to visit for one control: every option, or ``steps`` points over a range."""
    options = getattr(control, "options", None)
    if options is not None and not isinstance(options, str):
        values = [
            option[1] if isinstance(option, tuple) and len(option) == 2 else option
            for option in options
        ]
        return values
    if isinstance(control.value, bool):
        return [not control.value, control.value]
    low, high = getattr(control, "min", None), getattr(control, "max", None)
    if low is None or high is None:
        return [control.value]
    step = getattr(control, "step", None) or 1
    if isinstance(control.value, tuple):  # range sliders: widen and narrow the window
        return [(low, high), (low, low), (high, high), control.value]
    n = int(round((high - low) / step))
    indices = sorted({round(i * n / max(steps - 1, 1)) for i in range(steps)})
    values = [low + i * step for i in indices]
    if isinstance(control.value, int):
        values = [int(v) for v in values]
    return values


def _iter_controls(explorer_or_controls: "Explorer | dict[str, Any] | Iterable[Any]") -> Iterator[Any]:
    if isinstance(explorer_or_controls, Explorer):
        yield from explorer_or_controls.controls.values()
    elif isinstance(explorer_or_controls, dict):
        yield from explorer_or_controls.values()
    else:
        yield from explorer_or_controls


def sweep(explorer: "Explorer | dict[str, Any] | Iterable[Any]", steps: int = 5) -> int:
    """Drive every control through its range, one at a time, then restore its value.

    Observer callbacks run synchronously, so an exception in any callback propagates here
    (and fails the notebook's sweep cell under nbval).

    Args:
        explorer: an ``Explorer``, a dict of controls, or an iterable of value widgets.
        steps: how many values to visit on each numeric slider (ends included).

    Returns:
        The number of value changes made (so a sweep cell can show it did something).

    Raises:
        ValueError: if ``steps`` < 2 or no control was found.
    """
    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    changes = 0
    controls = list(_iter_controls(explorer))
    if not controls:
        raise ValueError("sweep found no controls to drive")
    for control in controls:
        original = control.value
        for value in _control_values(control, steps):
            if value != control.value:
                control.value = value
                changes += 1
        if control.value != original:
            control.value = original
            changes += 1
    return changes
