"""An explorer as an offline scrub-bar animation, for the static docs (``tools/build_docs.py``).

Each frame is drawn by the explorer's own callback and grabbed with matplotlib's ``HTMLWriter``.
This is docs machinery, not teaching code, so it lives in ``tools/``: the docs builder runs
``install()`` in a first cell it adds to each notebook, which registers ``display_animation`` for
``Explorer`` with IPython's public ``ipython_display_formatter.for_type`` hook (a registered
printer wins over the object's own ``_ipython_display_``), so ``visual`` knows nothing of it.
"""

from __future__ import annotations

import html
import io
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib.figure
from matplotlib.animation import HTMLWriter

import matplotlib.pyplot as plt
from IPython.display import HTML, display

from docs_a11y import label_scrub_bar
from visual.checks import check_choice, check_float, check_int
from visual.widgets.controls import control_values
from visual.widgets.core import Explorer

__all__ = ["install", "display_animation", "offline_jshtml", "docs_control", "frame_values",
           "pick_frame_format", "to_jshtml"]

DOCS_FRAMES = 8  # frames per docs animation: enough to see the trend, pages stay small
MAX_FRAMES = 60  # each frame is a full-figure image in the page
DOCS_INTERVAL_MS = 600  # delay between frames (ms): slow enough to read the numbers
DOCS_DPI = 80.0  # keeps an 8-inch figure at 640 px
MAX_DPI = 300.0  # print quality; more only makes the page heavier
MAX_INTERVAL_MS = 60_000  # one minute
# A PNG frame over PHOTO_PNG_BYTES and PHOTO_JPEG_GAIN times its JPEG is photo-like (line art stays PNG).
PHOTO_PNG_BYTES = 100_000
PHOTO_JPEG_GAIN = 2.0
FRAME_FORMATS = ("png", "jpeg")

# HTMLWriter links Font Awesome from a CDN for its icons; the docs load nothing from the network.
CDN_LINK = re.compile(r"<link[^>]*href=[\"']https?://[^\"']*font-awesome[^>]*>", re.IGNORECASE)
ICON = re.compile(r'<i class="fa ([^"]+)"></i>')
ICON_TEXT = {  # Font Awesome icon -> text glyph, backward and forward buttons in pairs
    "fa-minus": "&minus;", "fa-plus": "+", "fa-pause": "&#10074;&#10074;",
    "fa-play fa-flip-horizontal": "&#9664;", "fa-play": "&#9654;",
    "fa-step-backward": "|&#9664;", "fa-step-forward": "&#9654;|",
    "fa-fast-backward": "|&#9664;&#9664;", "fa-fast-forward": "&#9654;&#9654;|",
}


def install(shell: Any = None) -> None:
    """Make every ``Explorer`` displayed from now on in this IPython kernel a docs animation.

    Args:
        shell: the running ``InteractiveShell``; ``None``: ``IPython.get_ipython()``.
    """
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    if shell is None:
        raise RuntimeError("install() needs a running IPython kernel (the docs builder's first cell)")
    shell.display_formatter.ipython_display_formatter.for_type(Explorer, display_animation)


def display_animation(explorer: Explorer) -> None:
    """Display an explorer as its scrub-bar animation (``to_jshtml``), then release its figure."""
    explorer.displayed = True
    display(HTML(to_jshtml(explorer)))
    # Inline backend: an open figure would be drawn again by the next plotting cell.
    if explorer.fig is not None:
        plt.close(explorer.fig)


def offline_jshtml(markup: str) -> str:
    """Make matplotlib's HTML animation self-contained: no Font Awesome ``<link>``, text icons.

    Args:
        markup: HTML written by ``matplotlib.animation.HTMLWriter`` (or ``to_jshtml``).

    Returns:
        The same animation, each button icon a Unicode glyph (buttons keep their ``title``).

    Example:
        >>> offline_jshtml('<link rel="stylesheet" href="https://x.org/font-awesome.css">'
        ...                '<button><i class="fa fa-play"></i></button>')
        '<button>&#9654;</button>'
    """
    if not isinstance(markup, str):
        raise TypeError(f"markup must be a str of HTML, got {type(markup).__name__}")
    markup = CDN_LINK.sub("", markup)
    return ICON.sub(lambda m: ICON_TEXT.get(m.group(1), html.escape(m.group(1))), markup)


def _controls(explorer: Any) -> Mapping[str, Any]:
    controls = getattr(explorer, "controls", None)
    if not isinstance(controls, Mapping) or not hasattr(explorer, "fig"):
        raise TypeError(f"explorer must be an Explorer (with controls and fig), got {type(explorer).__name__}")
    return controls


def docs_control(explorer: Explorer) -> str:
    """The control the docs animation scrubs: the first slider, else the first with options, else the first.

    Raises:
        TypeError, ValueError: not an Explorer, or one without controls.
    """
    controls = _controls(explorer)
    if not controls:
        raise ValueError("explorer has no controls to animate")
    for name, control in controls.items():
        if not isinstance(control.value, bool) and getattr(control, "max", None) is not None:
            return name
    for name, control in controls.items():
        if getattr(control, "options", None) is not None:
            return name
    return next(iter(controls))


def _same(a: Any, b: Any) -> bool:
    """Equal values, floats to rounding (slider stops are ``min + i * step``)."""
    if isinstance(a, float) or isinstance(b, float):
        try:
            return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)), abs(float(b)))
        except (TypeError, ValueError):
            return False
    return a == b


def _pick_control(explorer: Explorer, control: str | None) -> str:
    if control is None:
        return docs_control(explorer)
    return check_choice(control, "control", sorted(_controls(explorer)))


def frame_values(explorer: Explorer, control: str | None = None, frames: int = DOCS_FRAMES) -> list[Any]:
    """The values the docs animation visits: ``frames`` points over one control's range.

    Args:
        explorer: the explorer to animate.
        control: key in ``explorer.controls``; ``None`` picks ``docs_control(explorer)``.
        frames: the most frames, ends included (2 to ``MAX_FRAMES``).

    Returns:
        Values in slider order (at most ``frames`` evenly spaced, ends included), plus the
        control's current value when it falls between them (the animation opens on it).

    Raises:
        TypeError, ValueError: a bad argument (named in the message).
    """
    frames = check_int(frames, "frames", minimum=2, maximum=MAX_FRAMES)
    widget = _controls(explorer)[_pick_control(explorer, control)]
    if isinstance(widget.value, bool):
        return [False, True]
    values = control_values(widget, frames)
    if isinstance(widget.value, tuple):  # range slider: grow the window from its low end
        low, high = values[0]
        cast = int if isinstance(widget.value[0], int) else float
        values = list(dict.fromkeys((low, cast(low + (high - low) * i / (frames - 1))) for i in range(frames)))
    every = list(values)
    if len(values) > frames:
        last = len(values) - 1
        values = [values[round(i * last / (frames - 1))] for i in range(frames)]
    current = widget.value
    if isinstance(current, tuple) or any(_same(v, current) for v in values):
        return values
    if any(_same(v, current) for v in every):  # an option: keep the options' order
        order = {id(v): i for i, v in enumerate(every)}
        return sorted(values + [next(v for v in every if _same(v, current))], key=lambda v: order[id(v)])
    if isinstance(current, (int, float)):  # a slider stop between the sampled ones
        return sorted(values + [current])
    return values


def pick_frame_format(fig: matplotlib.figure.Figure, dpi: float) -> str:
    """``"jpeg"`` for photo-like figures (much smaller than PNG), else lossless ``"png"``.

    Raises:
        TypeError, ValueError: ``fig`` not a Figure, or ``dpi`` outside (0, ``MAX_DPI``].
    """
    if not isinstance(fig, matplotlib.figure.Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    dpi = check_float(dpi, "dpi", minimum=0.0, open_minimum=True, maximum=MAX_DPI)
    sizes = {}
    for fmt in FRAME_FORMATS:
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=dpi)
        sizes[fmt] = buffer.tell()
    photo_like = sizes["png"] > PHOTO_PNG_BYTES and sizes["png"] > PHOTO_JPEG_GAIN * sizes["jpeg"]
    return "jpeg" if photo_like else "png"


def _format_value(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def to_jshtml(explorer: Explorer, control: str | None = None, *, frames: int = DOCS_FRAMES,
              interval_ms: float = DOCS_INTERVAL_MS, dpi: float = DOCS_DPI,
              frame_format: str | None = None) -> str:
    """Render an explorer as an offline scrub-bar animation: one ``grab_frame()`` per ``frame_values``.

    Args:
        explorer: the explorer to animate (its ``fig`` must be set).
        control: key in ``explorer.controls``; ``None`` picks ``docs_control(explorer)``.
        frames: the most frames, ends included (2 to ``MAX_FRAMES``).
        interval_ms: delay between frames when playing, in ms (0 < it <= ``MAX_INTERVAL_MS``).
        dpi: resolution of the frames (0 < dpi <= ``MAX_DPI``).
        frame_format: ``"png"``, ``"jpeg"``, or ``None``: ``pick_frame_format``.

    Returns:
        An HTML ``<figure>``: a caption naming the control and its range, then the animation,
        opening on the control's current value.

    Raises:
        TypeError, ValueError: a bad argument (named in the message), or no figure.
    """
    controls = _controls(explorer)
    fig = explorer.fig
    if not isinstance(fig, matplotlib.figure.Figure):
        raise ValueError(f"explorer has no figure to animate (fig is {type(fig).__name__})")
    interval_ms = check_float(interval_ms, "interval_ms", minimum=0.0, open_minimum=True,
                              maximum=MAX_INTERVAL_MS)
    dpi = check_float(dpi, "dpi", minimum=0.0, open_minimum=True, maximum=MAX_DPI)
    if frame_format is not None:
        check_choice(frame_format, "frame_format", FRAME_FORMATS)
    name = _pick_control(explorer, control)
    values = frame_values(explorer, name, frames)
    widget = controls[name]
    original = widget.value
    start = next((i for i, v in enumerate(values) if _same(v, original)), 0)
    # codec: HTMLWriter would otherwise round the figure to even pixels for the default h264.
    writer = HTMLWriter(fps=1000 / interval_ms, codec=frame_format or "png", embed_frames=True,
                        default_mode="once")
    writer.frame_format = frame_format or pick_frame_format(fig, dpi)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "animation.html"
        try:
            with writer.saving(fig, path, dpi):
                for value in values:
                    widget.value = value  # the explorer's observer updates the artists
                    writer.grab_frame()
        finally:
            widget.value = original
        label = getattr(widget, "description", "") or name
        markup = label_scrub_bar(offline_jshtml(path.read_text(encoding="utf-8")), f"animation over {label}")
    caption = (f"<figcaption>Scrub <b>{html.escape(str(label))}</b> from "
               f"{html.escape(_format_value(values[0]))} to {html.escape(_format_value(values[-1]))} "
               f"({len(values)} frames, opening on the notebook's value "
               f"{html.escape(_format_value(original))}); other controls stay at their "
               "defaults. Run the notebook in JupyterLab for the live sliders.</figcaption>")
    anim_id = re.search(r'id="_anim_img(\w+)"', markup)
    if start and anim_id:  # queued after matplotlib's own setTimeout that builds anim<id>
        markup += (f"<script>setTimeout(function() {{ anim{anim_id.group(1)}.set_frame({start}); }}, 0);"
                   "</script>")
    return (f'<figure class="visual-explorer-animation" data-control="{html.escape(name)}" '
            f'data-start-frame="{start}">{caption}{markup}</figure>')
