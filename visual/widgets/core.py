"""What every slider explorer shares: the ``Explorer`` bundle and the CI ``sweep``.

An explorer is built once (figure, artists, controls); its callbacks call pure functions
and update artists in place, then ``fig.canvas.draw_idle()``. ``sweep`` drives every control
through its range so that a callback error fails nbval in CI.

For the static documentation (``tools/build_docs.py``), an explorer can also render itself as
a scrub-bar animation (``Explorer.to_jshtml``): a handful of frames over one control's range,
drawn by the explorer's own callback, embedded as PNG frames with no external resource. When
the environment variable ``VISUAL_DOCS`` is ``"1"`` (the docs builder sets it for the kernels
that execute the notebooks), displaying an explorer shows that animation instead of the live
widgets, so the notebooks need no docs-specific code.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Explorer", "sweep", "freeze_layout", "finish_explorer"]

DOCS_ENV_VAR = "VISUAL_DOCS"
"""Environment variable that switches ``Explorer`` display to the static animation when "1"."""

DOCS_FRAMES = 8
"""Frames per docs animation: enough to see the trend, few enough to keep pages small."""

DOCS_INTERVAL_MS = 600
"""Delay between frames when the docs animation plays (ms); slow enough to read the numbers."""

DOCS_DPI = 80.0
"""Resolution of the docs animation frames (dots per inch); 80 keeps an 8-inch figure at 640 px."""

PHOTO_PNG_BYTES = 100_000
"""A PNG frame above this size that is also ``PHOTO_JPEG_GAIN`` times a JPEG is photo-like."""

PHOTO_JPEG_GAIN = 2.0
"""How much smaller a JPEG frame must be before it replaces PNG (line art stays lossless PNG)."""

FRAME_FORMATS = ("png", "jpeg")

# matplotlib's HTMLWriter links Font Awesome from a CDN for its button icons; the docs must load
# nothing from the network, so the link is dropped and each icon replaced by plain text.
_CDN_LINK = re.compile(r"<link[^>]*href=[\"']https?://[^\"']*font-awesome[^>]*>", re.IGNORECASE)
_ICON = re.compile(r'<i class="fa ([^"]+)"></i>')
_ICON_TEXT = {
    "fa-minus": "&minus;",
    "fa-fast-backward": "|&#9664;&#9664;",
    "fa-step-backward": "|&#9664;",
    "fa-play fa-flip-horizontal": "&#9664;",
    "fa-pause": "&#10074;&#10074;",
    "fa-play": "&#9654;",
    "fa-step-forward": "&#9654;|",
    "fa-fast-forward": "&#9654;&#9654;|",
    "fa-plus": "+",
}


def docs_mode() -> bool:
    """Whether explorers display as static animations (``VISUAL_DOCS=1``, set by the docs builder)."""
    return os.environ.get(DOCS_ENV_VAR, "") == "1"


def offline_jshtml(markup: str) -> str:
    """Make matplotlib's ``to_jshtml`` output self-contained: no CDN stylesheet, text icons.

    Args:
        markup: HTML from ``matplotlib.animation.Animation.to_jshtml``.

    Returns:
        The same animation without the Font Awesome ``<link>``; each button icon becomes a
        Unicode glyph (the buttons keep their ``title``/``aria-label``).

    Example:
        >>> offline_jshtml('<link rel="stylesheet" href="https://x.org/font-awesome.css">'
        ...                '<button><i class="fa fa-play"></i></button>')
        '<button>&#9654;</button>'
    """
    markup = _CDN_LINK.sub("", markup)
    return _ICON.sub(lambda m: _ICON_TEXT.get(m.group(1), html.escape(m.group(1))), markup)


class _NoTimer:
    """An animation event source that never fires: docs animations are saved, never played live."""

    def add_callback(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        pass

    def remove_callback(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        pass

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


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
        """Name of the control the docs animation scrubs by default.

        The first slider-like control (one with ``min``/``max``), else the first one with
        ``options`` (dropdown, toggle buttons), else the first control.

        Raises:
            ValueError: if the explorer has no controls.
        """
        if not self.controls:
            raise ValueError("explorer has no controls to animate")
        for name, control in self.controls.items():
            if not isinstance(control.value, bool) and getattr(control, "max", None) is not None:
                return name
        for name, control in self.controls.items():
            if getattr(control, "options", None) is not None:
                return name
        return next(iter(self.controls))

    def frame_values(self, control: str | None = None, frames: int = DOCS_FRAMES) -> list[Any]:
        """The values the docs animation visits: ``frames`` points over one control's range.

        Args:
            control: key in ``controls``; ``None`` picks ``docs_control()``.
            frames: the most frames to make (ends of the range included), at least 2.

        Returns:
            Values in slider order: every option when there are at most ``frames``, else
            ``frames`` of them evenly spaced, first and last included; plus the control's
            current value when it falls between them (the animation opens on it).

        Raises:
            ValueError: if ``frames`` < 2 or ``control`` is not one of ``controls``.
        """
        if frames < 2:
            raise ValueError(f"frames must be at least 2, got {frames}")
        name = self.docs_control() if control is None else control
        if name not in self.controls:
            raise ValueError(f"control must be one of {sorted(self.controls)}, got {control!r}")
        widget = self.controls[name]
        if isinstance(widget.value, bool):
            return [False, True]
        values = _control_values(widget, frames)
        if isinstance(widget.value, tuple):  # range slider: grow the window from its low end
            low, high = values[0]
            cast = int if isinstance(widget.value[0], int) else float
            values = [(low, cast(low + (high - low) * i / (frames - 1))) for i in range(frames)]
            values = list(dict.fromkeys(values))
        every = list(values)
        if len(values) > frames:
            last = len(values) - 1
            values = [values[round(i * last / (frames - 1))] for i in range(frames)]
        current = widget.value
        if isinstance(current, tuple) or any(_same(v, current) for v in values):
            return values
        if any(_same(v, current) for v in every):  # an option: keep the options' order
            order = {id(v): i for i, v in enumerate(every)}
            position = next(i for i, v in enumerate(every) if _same(v, current))
            return sorted(values + [every[position]], key=lambda v: order[id(v)])
        if isinstance(current, (int, float)):  # a slider stop between the sampled ones
            return sorted(values + [current])
        return values

    def to_jshtml(
        self,
        control: str | None = None,
        *,
        frames: int = DOCS_FRAMES,
        interval_ms: int = DOCS_INTERVAL_MS,
        dpi: float = DOCS_DPI,
        frame_format: str | None = None,
    ) -> str:
        """Render the figure as a scrub-bar animation over one control's range (no kernel needed).

        Each frame sets the control to the next value of ``frame_values`` (so the explorer's
        own callback redraws the figure), then the original value is restored. Built with
        ``matplotlib.animation.FuncAnimation(...).to_jshtml()`` and made offline with
        ``offline_jshtml``: the frames are embedded, nothing is loaded from the network.

        Args:
            control: key in ``controls``; ``None`` picks ``docs_control()``.
            frames: the most frames, ends of the range included (at least 2).
            interval_ms: delay between frames when playing, in milliseconds (positive).
            dpi: resolution of the frames in dots per inch (positive).
            frame_format: ``"png"`` or ``"jpeg"``; ``None`` picks PNG unless the figure is
                photo-like (its PNG is over ``PHOTO_PNG_BYTES`` and ``PHOTO_JPEG_GAIN`` times
                the JPEG), which keeps pages showing photos several times smaller.

        Returns:
            An HTML fragment: a caption naming the control and its range, then the animation.

        Raises:
            ValueError: for a bad ``control``, ``frames``, ``interval_ms``, ``dpi`` or
                ``frame_format``, or when the explorer has no figure.
        """
        import matplotlib as mpl
        from matplotlib.animation import FuncAnimation

        if self.fig is None:
            raise ValueError("explorer has no figure to animate (fig is None)")
        if interval_ms <= 0:
            raise ValueError(f"interval_ms must be positive, got {interval_ms}")
        if dpi <= 0:
            raise ValueError(f"dpi must be positive, got {dpi}")
        if frame_format is not None and frame_format not in FRAME_FORMATS:
            raise ValueError(f"frame_format must be one of {FRAME_FORMATS} or None, got {frame_format!r}")
        name = self.docs_control() if control is None else control
        values = self.frame_values(name, frames)
        if frame_format is None:
            frame_format = _pick_frame_format(self.fig, dpi)
        widget = self.controls[name]
        original = widget.value

        def show(value: Any) -> list[Any]:
            widget.value = value  # the explorer's observer updates the artists
            return []

        animation = FuncAnimation(self.fig, show, frames=values, interval=interval_ms,
                                  repeat=False, cache_frame_data=False, event_source=_NoTimer())
        start = next((i for i, v in enumerate(values) if _same(v, original)), 0)
        try:
            # Animation.save's default frame dpi, and HTMLWriter's default frame format.
            with mpl.rc_context({"savefig.dpi": dpi, "animation.frame_format": frame_format}):
                markup = animation.to_jshtml(default_mode="once")
        finally:
            # Saved, never played: stop it from starting on the figure's next live draw.
            first_draw = getattr(animation, "_first_draw_id", None)
            if first_draw is not None:
                self.fig.canvas.mpl_disconnect(first_draw)
            widget.value = original
        label = getattr(widget, "description", "") or name
        caption = (f"<figcaption>Scrub <b>{html.escape(str(label))}</b> from "
                   f"{html.escape(_format_value(values[0]))} to {html.escape(_format_value(values[-1]))} "
                   f"({len(values)} frames, opening on the notebook's value "
                   f"{html.escape(_format_value(original))}); other controls stay at their "
                   "defaults. Run the notebook in JupyterLab for the live sliders.</figcaption>")
        markup = offline_jshtml(markup)
        anim_id = re.search(r'id="_anim_img(\w+)"', markup)
        if start and anim_id:  # queued after matplotlib's own setTimeout that builds anim<id>
            markup += (f"<script>setTimeout(function() {{ anim{anim_id.group(1)}.set_frame({start}); }}, 0);"
                       "</script>")
        return (f'<figure class="visual-explorer-animation" data-control="{html.escape(name)}" '
                f'data-start-frame="{start}">{caption}{markup}</figure>')

    def _ipython_display_(self) -> None:
        from IPython.display import HTML, display

        self.displayed = True
        if docs_mode():
            display(HTML(self.to_jshtml()))
            # Under the inline backend a figure left open is drawn again by the next cell that
            # plots anything: the animation already shows it, so release it from pyplot.
            import sys

            pyplot = sys.modules.get("matplotlib.pyplot")
            if pyplot is not None and self.fig is not None:
                pyplot.close(self.fig)
        else:
            display(self.widget)


def freeze_layout(fig: Any) -> None:
    """Lay a slider figure out once, then keep that layout for every redraw.

    Four costs leave each redraw: the layout engine (constrained layout re-measures every
    label), the placement of each Axes title and axis label beyond its tick labels, and the
    search of a ``loc="best"`` legend for the emptiest corner; matplotlib repeats them on
    every draw. The artists a callback changes (images, lines, titles, labels) keep their boxes,
    so the first layout stays valid for every later value of the controls, and a legend
    that stays put is easier to read while a slider moves than one that jumps.

    Args:
        fig: the explorer's ``Figure``, with all its artists already made.

    Example:
        >>> import matplotlib.pyplot as plt
        >>> fig, ax = plt.subplots(layout="constrained")
        >>> freeze_layout(fig)
        >>> fig.get_layout_engine() is None or type(fig.get_layout_engine()).__name__
        'PlaceHolderLayoutEngine'
        >>> plt.close(fig)
    """
    # Lay out without rendering: drawing an ipympl canvas before it is displayed leaves it 0x0.
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    for ax in fig.axes:
        # The titles stay where this layout put them: what ``set_title(..., y=...)`` switches off.
        # Without it every draw measures the tick labels again to place them (~15 % of a redraw).
        if getattr(ax, "_autotitlepos", None) is not None:
            ax._autotitlepos = False
        # Axis labels likewise: set_label_coords keeps each one where the layout put it, instead
        # of measuring every tick label of the axis (and of its shared siblings) on each draw.
        for axis in (ax.xaxis, ax.yaxis):
            label = axis.label
            if label.get_text() and label.get_visible():
                where = label.get_transform().transform(label.get_position())  # display pixels
                axis.set_label_coords(*ax.transAxes.inverted().transform(where))
    for legend in [*(ax.get_legend() for ax in fig.axes), *fig.legends]:
        if legend is not None and getattr(legend, "_loc", None) == 0:  # loc="best" (the default)
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
    """
    import ipywidgets as widgets

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


def _pick_frame_format(fig: Any, dpi: float) -> str:
    """``"jpeg"`` for photo-like figures (much smaller than PNG), else lossless ``"png"``."""
    import io

    sizes = {}
    for fmt in FRAME_FORMATS:
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=dpi)
        sizes[fmt] = buffer.tell()
    photo_like = sizes["png"] > PHOTO_PNG_BYTES and sizes["png"] > PHOTO_JPEG_GAIN * sizes["jpeg"]
    return "jpeg" if photo_like else "png"


def _same(a: Any, b: Any) -> bool:
    """Equal values, floats to rounding (slider stops are computed as ``min + i * step``)."""
    if isinstance(a, float) or isinstance(b, float):
        try:
            return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)), abs(float(b)))
        except (TypeError, ValueError):
            return False
    return a == b


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)



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
