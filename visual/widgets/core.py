"""What every slider explorer shares: the ``Explorer`` bundle, its wiring and the CI ``sweep``.

An explorer is built once (figure, artists, controls); its callbacks call pure functions
and update artists in place, then ``fig.canvas.draw_idle()``. ``sweep`` drives every control
through its range so that a callback error fails nbval in CI. For the static docs an explorer
displays as a scrub-bar animation instead (``visual.widgets.animation``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets
import matplotlib.figure
import matplotlib.pyplot as plt
from IPython.display import HTML, display

from visual.checks import check_int
from visual.widgets import animation
from visual.widgets.controls import control_values

__all__ = ["Explorer", "sweep", "freeze_layout", "finish_explorer"]

MAX_SWEEP_STEPS = 50
"""The most values ``sweep`` visits on one slider: enough to hit every code path, never a hang."""

TITLE_LOCATIONS = ("center", "left", "right")


@dataclass
class Explorer:
    """A built slider explorer.

    Attributes:
        widget: the ipywidgets container to display (controls + figure canvas).
        controls: the value widgets by name (sliders, checkboxes, dropdowns, toggles).
        fig: the matplotlib Figure updated in place by the callbacks.
        update: the callback, callable with no argument to redraw from the current values.
        state: the last values computed by ``update`` (for tests and notebook exercises).
        displayed: set once the explorer has been displayed in a notebook (the browser tests
            compare how many explorers the kernel showed with how many the page renders).
    """

    widget: Any
    controls: dict[str, Any]
    fig: Any
    update: Callable[..., Any]
    state: dict[str, Any] = field(default_factory=dict)
    displayed: bool = field(default=False, repr=False, compare=False)

    def docs_control(self) -> str:
        """Name of the control the docs animation scrubs (``animation.docs_control``)."""
        return animation.docs_control(self)

    def frame_values(self, control: str | None = None, frames: int = animation.DOCS_FRAMES) -> list[Any]:
        """The values the docs animation visits (``animation.frame_values``)."""
        return animation.frame_values(self, control, frames)

    def to_jshtml(self, control: str | None = None, **options: Any) -> str:
        """This explorer as an offline scrub-bar animation (``animation.to_jshtml``)."""
        return animation.to_jshtml(self, control, **options)

    def _ipython_display_(self) -> None:
        self.displayed = True
        if not animation.docs_mode():
            display(self.widget)
            return
        display(HTML(animation.to_jshtml(self)))
        # Under the inline backend a figure left open is drawn again by the next cell that plots
        # anything: the animation already shows it, so release it from pyplot (it stays live).
        if self.fig is not None:
            plt.close(self.fig)


def _check_figure(fig: Any, name: str = "fig") -> matplotlib.figure.Figure:
    if not isinstance(fig, matplotlib.figure.Figure):
        raise TypeError(f"{name} must be a matplotlib Figure, got {type(fig).__name__}")
    return fig


def _check_explorer(explorer: Any) -> Explorer:
    if not isinstance(explorer, Explorer):
        raise TypeError(f"explorer must be an Explorer, got {type(explorer).__name__}")
    return explorer


def freeze_layout(fig: matplotlib.figure.Figure) -> None:
    """Lay a slider figure out once, then keep that layout for every redraw.

    Four costs leave each redraw: the layout engine (constrained layout re-measures every
    label), the placement of each Axes title and axis label beyond its tick labels, and the
    search of a ``loc="best"`` legend for the emptiest corner; matplotlib repeats them on
    every draw. The artists a callback changes (images, lines, titles, labels) keep their boxes,
    so the first layout stays valid for every later value of the controls, and a legend
    that stays put is easier to read while a slider moves than one that jumps.

    Public matplotlib calls only: each title is re-set with the ``y`` the layout gave it
    (``ax.set_title(text, y=...)``, which stops matplotlib placing titles), each axis label with
    ``set_label_coords``, and every legend is pinned with ``legend.set_loc((x, y))`` to where the
    layout drew it (for a ``loc="best"`` legend that ends the search; a placed one stays put).

    Callbacks must then change a title's text with ``ax.title.set_text(...)``: a later
    ``ax.set_title(...)`` without ``y`` puts the title back at ``y=1.0``, over any top tick labels.

    Args:
        fig: the explorer's ``Figure``, with all its artists already made.

    Raises:
        TypeError: if ``fig`` is not a matplotlib Figure.

    Example:
        >>> import matplotlib.pyplot as plt
        >>> fig, ax = plt.subplots(layout="constrained")
        >>> freeze_layout(fig)
        >>> type(fig.get_layout_engine()).__name__
        'PlaceHolderLayoutEngine'
        >>> plt.close(fig)
    """
    _check_figure(fig)
    # Lay out without rendering: drawing an ipympl canvas before it is displayed leaves it 0x0.
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    for ax in fig.axes:
        if any(ax.get_title(loc) for loc in TITLE_LOCATIONS):
            # Re-set the title with the height the layout gave it (matplotlib puts the three
            # titles at one height): a title with a ``y`` stops matplotlib placing all three
            # on every draw (~15 % of a redraw). Font, colour and pad are passed back unchanged.
            title = ax.title
            pad_pt = ax.titleOffsetTrans.get_matrix()[1, 2] * 72 / fig.dpi  # pixels -> points
            ax.set_title(title.get_text(), y=title.get_position()[1], pad=pad_pt,
                         fontsize=title.get_fontsize(), fontweight=title.get_fontweight(),
                         color=title.get_color(), verticalalignment=title.get_verticalalignment(),
                         horizontalalignment=title.get_horizontalalignment())
        # Axis labels likewise: set_label_coords keeps each one where the layout put it, instead
        # of measuring every tick label of the axis (and of its shared siblings) on each draw.
        for axis in (ax.xaxis, ax.yaxis):
            label = axis.label
            if label.get_text() and label.get_visible():
                where = label.get_transform().transform(label.get_position())  # display pixels
                axis.set_label_coords(*ax.transAxes.inverted().transform(where))
    for legend in [*(ax.get_legend() for ax in fig.axes), *fig.legends]:
        if legend is not None:
            box, anchor = legend.get_window_extent(), legend.get_bbox_to_anchor()
            # a (x, y) loc: the legend's lower-left corner as a fraction of its anchor box
            legend.set_loc(((box.x0 - anchor.x0) / anchor.width, (box.y0 - anchor.y0) / anchor.height))


def finish_explorer(explorer: Explorer, *, rows: Iterable[Iterable[Any]] | None = None,
                    readouts: Iterable[Any] = ()) -> Explorer:
    """Wire an explorer's controls to its callback, draw it once, freeze its layout, pack it.

    Every control calls ``explorer.update`` on a value change; ``explorer.widget`` becomes a
    ``VBox`` of the control rows, the readouts, and the canvas when it is a widget (ipympl,
    whose "Figure 1" header is hidden: the figure titles say what it shows).

    Args:
        explorer: with ``controls``, ``fig`` and ``update`` set; ``widget`` is replaced.
        rows: controls per row, in display order; default: all of them in one row.
        readouts: widgets shown between the controls and the figure (HTML readouts, tables).

    Returns:
        The same explorer, updated once from its controls' current values.

    Raises:
        TypeError: if ``explorer`` is not an ``Explorer`` or its ``fig`` is not a Figure.
    """
    _check_explorer(explorer)
    if explorer.fig is not None:
        _check_figure(explorer.fig, "explorer.fig")
    for control in explorer.controls.values():
        control.observe(explorer.update, names="value")
    layout_rows = [list(explorer.controls.values())] if rows is None else [list(row) for row in rows]
    children: list[Any] = [widgets.HBox(row) for row in layout_rows]
    children.extend(readouts)
    canvas = getattr(explorer.fig, "canvas", None)
    if isinstance(canvas, widgets.DOMWidget):  # `%matplotlib widget`: the canvas is a widget
        canvas.header_visible = False
        children.append(canvas)
    explorer.widget = widgets.VBox(children)
    explorer.update()
    if explorer.fig is not None:
        freeze_layout(explorer.fig)
    return explorer


def sweep(explorer: Explorer | dict[str, Any] | Iterable[Any], steps: int = 5) -> int:
    """Drive every control through its range, one at a time, then restore its value.

    Observer callbacks run synchronously, so an exception in any callback propagates here
    (and fails the notebook's sweep cell under nbval).

    Args:
        explorer: an ``Explorer``, a dict of controls, or a list of ipywidgets value widgets.
        steps: how many values to visit on each numeric slider, ends included
            (2 to ``MAX_SWEEP_STEPS``).

    Returns:
        The number of value changes made (so a sweep cell can show it did something).

    Raises:
        TypeError: if ``steps`` is not an int, or ``explorer`` is none of the above.
        ValueError: if ``steps`` is out of range or no control was found.
    """
    steps = check_int(steps, "steps", minimum=2, maximum=MAX_SWEEP_STEPS)
    if isinstance(explorer, Explorer):
        controls = list(explorer.controls.values())
    elif isinstance(explorer, dict):
        controls = list(explorer.values())
    elif isinstance(explorer, (list, tuple)):
        controls = list(explorer)
    else:
        raise TypeError(f"explorer must be an Explorer, a dict or a list of controls, "
                        f"got {type(explorer).__name__}")
    bad = [type(c).__name__ for c in controls if not isinstance(c, widgets.ValueWidget)]
    if bad:
        raise TypeError(f"explorer's controls must be ipywidgets value widgets, got {bad}")
    if not controls:
        raise ValueError("sweep found no controls to drive (explorer has none)")
    changes = 0
    for control in controls:
        original = control.value
        for value in control_values(control, steps):
            if value != control.value:
                control.value = value
                changes += 1
        if control.value != original:
            control.value = original
            changes += 1
    return changes
