"""What every slider explorer shares: the ``Explorer`` bundle, its wiring and the CI ``sweep`` (which drives
every control so that a callback error fails nbval)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets
import matplotlib.figure
import matplotlib.pyplot as plt
from IPython.display import display

from visual.checks import check_int
from visual.widgets.controls import control_values, lay_out_controls

__all__ = ["Explorer", "sweep", "freeze_layout", "finish_explorer", "figure"]

MAX_SWEEP_STEPS = 50  # the most values ``sweep`` visits on one slider: every code path, never a hang
MAX_FIG_WIDTH_IN = 8.0  # 800 px at dpi 100: fits a JupyterLab column in a 1024 px window


@dataclass
class Explorer:
    """A built slider explorer: the ``widget`` to display, its ``controls`` by name, the ``fig`` that
    ``update()`` redraws in place, the last values it computed (``state``, for tests and exercises) and
    ``displayed``, set once shown in a notebook (the browser tests count them)."""

    widget: Any
    controls: dict[str, Any]
    fig: Any
    update: Callable[..., Any]
    state: dict[str, Any] = field(default_factory=dict)
    displayed: bool = field(default=False, repr=False, compare=False)

    def _ipython_display_(self) -> None:
        self.displayed = True
        display(self.widget)


def _check_figure(fig: Any, name: str = "fig") -> matplotlib.figure.Figure:
    if not isinstance(fig, matplotlib.figure.Figure):
        raise TypeError(f"{name} must be a matplotlib Figure, got {type(fig).__name__}")
    return fig


def figure(figsize: tuple[float, float], nrows: int = 1, ncols: int = 1, **kwargs: Any) -> tuple[Any, Any]:
    """``plt.subplots(nrows, ncols, figsize=..., layout="constrained", **kwargs)`` under ``plt.ioff()``."""
    with plt.ioff():
        return plt.subplots(nrows, ncols, figsize=figsize, layout="constrained", **kwargs)


def freeze_layout(fig: matplotlib.figure.Figure) -> None:
    """Lay a slider figure (all its artists made) out once, then keep that layout for every redraw.

    Titles get a ``y``, axis labels ``set_label_coords``, legends ``set_loc((x, y))``, so matplotlib no longer
    places them on each draw; callbacks then change a title with ``ax.title.set_text(...)``."""
    _check_figure(fig)
    # Lay out without rendering: drawing an ipympl canvas before it is displayed leaves it 0x0.
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    for ax in fig.axes:
        if any(ax.get_title(loc) for loc in ("center", "left", "right")):
            # A title with a ``y`` stops matplotlib placing the three titles on every draw (~15 %).
            title = ax.title
            pad_pt = ax.titleOffsetTrans.get_matrix()[1, 2] * 72 / fig.dpi  # pixels -> points
            ax.set_title(title.get_text(), y=title.get_position()[1], pad=pad_pt,
                         fontsize=title.get_fontsize(), fontweight=title.get_fontweight(),
                         color=title.get_color(), verticalalignment=title.get_verticalalignment(),
                         horizontalalignment=title.get_horizontalalignment())
        # set_label_coords: no measuring of every tick label on each draw.
        for axis in (ax.xaxis, ax.yaxis):
            label = axis.label
            if label.get_text() and label.get_visible():
                where = label.get_transform().transform(label.get_position())  # display pixels
                axis.set_label_coords(*ax.transAxes.inverted().transform(where))
    for legend in [legend for legend in (*(ax.get_legend() for ax in fig.axes), *fig.legends) if legend is not None]:
        box, anchor = legend.get_window_extent(), legend.get_bbox_to_anchor()
        if anchor.width > 0 and anchor.height > 0:  # a point anchor (width 0) keeps its own loc
            # a (x, y) loc: the legend's lower-left corner as a fraction of its anchor box
            legend.set_loc(((box.x0 - anchor.x0) / anchor.width, (box.y0 - anchor.y0) / anchor.height))


def finish_explorer(explorer: Explorer, *, rows: Iterable[Iterable[Any]] | None = None,
                    readouts: Iterable[Any] = ()) -> Explorer:
    """Wire an explorer's controls to its callback, draw it once, freeze its layout, pack it in a ``VBox``
    (replacing ``widget``); a figure wider than ``MAX_FIG_WIDTH_IN`` is scaled down. Returns ``explorer``.

    Args:
        rows: controls per row, in display order; default: all of them in one row.
        readouts: widgets shown between the controls and the figure.
    """
    if not isinstance(explorer, Explorer):
        raise TypeError(f"explorer must be an Explorer, got {type(explorer).__name__}")
    if explorer.fig is not None:
        _check_figure(explorer.fig, "explorer.fig")
    for control in explorer.controls.values():
        control.observe(explorer.update, names="value")
    lay_out_controls(list(explorer.controls.values()))
    layout_rows = [list(explorer.controls.values())] if rows is None else [list(row) for row in rows]
    # rows wrap in a narrow column instead of squeezing the tracks
    children: list[Any] = [widgets.HBox(row, layout={"flex_flow": "row wrap"}) for row in layout_rows]
    children.extend(readouts)
    if explorer.fig is not None:
        width, height = explorer.fig.get_size_inches()
        if width > MAX_FIG_WIDTH_IN:  # keep the aspect ratio, fit the notebook column
            explorer.fig.set_size_inches(MAX_FIG_WIDTH_IN, height * MAX_FIG_WIDTH_IN / width)
    canvas = getattr(explorer.fig, "canvas", None)
    if isinstance(canvas, widgets.DOMWidget):  # `%matplotlib widget`: the canvas is a widget
        canvas.header_visible = False
        canvas.layout.max_width = "100%"
        children.append(canvas)
    explorer.widget = widgets.VBox(children)
    explorer.update()
    if explorer.fig is not None:
        freeze_layout(explorer.fig)
    return explorer


def sweep(explorer: Explorer | dict[str, Any] | Iterable[Any], steps: int = 5) -> int:
    """Drive every control (of an ``Explorer``, a dict or a list) through its range, then restore its value.

    Callbacks run synchronously, so an error in one propagates here (and fails nbval). ``steps``: values per
    numeric slider, ends included (2 to ``MAX_SWEEP_STEPS``). Returns the number of value changes made."""
    steps = check_int(steps, "steps", minimum=2, maximum=MAX_SWEEP_STEPS)
    if isinstance(explorer, Explorer):
        explorer = explorer.controls
    if isinstance(explorer, dict):
        controls = list(explorer.values())
    elif isinstance(explorer, (list, tuple)):
        controls = list(explorer)
    else:
        raise TypeError(f"explorer must be an Explorer, a dict or a list of controls, got {type(explorer).__name__}")
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
