"""An explorer as a scrub-bar animation, for the static documentation (``tools/build_docs.py``).

A handful of frames over one control's range, each drawn by the explorer's own callback, saved
with matplotlib's ``HTMLWriter`` (``grab_frame()`` once per value, as matplotlib's animation
docs show) and embedded as PNG or JPEG data, with no external resource. When the environment
variable ``VISUAL_DOCS`` is ``"1"`` (the docs builder sets it for the kernels that execute the
notebooks), displaying an ``Explorer`` shows this animation instead of the live widgets, so the
notebooks need no docs-specific code.
"""

from __future__ import annotations

import html
import io
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib.figure
from matplotlib.animation import HTMLWriter

from visual.checks import check_choice, check_float, check_int
from visual.widgets.controls import control_values

if TYPE_CHECKING:  # pragma: no cover - typing only (core imports this module)
    from visual.widgets.core import Explorer

__all__ = ["docs_mode", "offline_jshtml", "docs_control", "frame_values", "pick_frame_format",
           "to_jshtml"]

DOCS_ENV_VAR = "VISUAL_DOCS"
"""Environment variable that switches ``Explorer`` display to the static animation when "1"."""

DOCS_FRAMES = 8
"""Frames per docs animation: enough to see the trend, few enough to keep pages small."""

MAX_FRAMES = 60
"""The most frames one animation may have (each is a full-figure image in the page)."""

DOCS_INTERVAL_MS = 600
"""Delay between frames when the docs animation plays (ms); slow enough to read the numbers."""

DOCS_DPI = 80.0
"""Resolution of the docs animation frames (dots per inch); 80 keeps an 8-inch figure at 640 px."""

MAX_DPI = 300.0
"""Highest frame resolution: print quality; more only makes the page heavier."""

MAX_INTERVAL_MS = 60_000
"""Longest delay between frames (one minute)."""

PHOTO_PNG_BYTES = 100_000
"""A PNG frame above this size that is also ``PHOTO_JPEG_GAIN`` times a JPEG is photo-like."""

PHOTO_JPEG_GAIN = 2.0
"""How much smaller a JPEG frame must be before it replaces PNG (line art stays lossless PNG)."""

FRAME_FORMATS = ("png", "jpeg")

# matplotlib's HTMLWriter links Font Awesome from a CDN for its button icons; the docs must load
# nothing from the network, so the link is dropped and each icon replaced by plain text.
CDN_LINK = re.compile(r"<link[^>]*href=[\"']https?://[^\"']*font-awesome[^>]*>", re.IGNORECASE)
ICON = re.compile(r'<i class="fa ([^"]+)"></i>')
ICON_TEXT = {
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
    """Make matplotlib's HTML animation self-contained: no CDN stylesheet, text icons.

    Args:
        markup: HTML written by ``matplotlib.animation.HTMLWriter`` (or ``to_jshtml``).

    Returns:
        The same animation without the Font Awesome ``<link>``; each button icon becomes a
        Unicode glyph (the buttons keep their ``title``/``aria-label``).

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


def docs_control(explorer: "Explorer") -> str:
    """Name of the control the docs animation scrubs by default.

    The first slider-like control (one with ``min``/``max``), else the first one with
    ``options`` (dropdown, toggle buttons), else the first control.

    Raises:
        TypeError: if ``explorer`` is not an Explorer.
        ValueError: if the explorer has no controls.
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
    """Equal values, floats to rounding (slider stops are computed as ``min + i * step``)."""
    if isinstance(a, float) or isinstance(b, float):
        try:
            return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)), abs(float(b)))
        except (TypeError, ValueError):
            return False
    return a == b


def _pick_control(explorer: "Explorer", control: str | None) -> str:
    controls = _controls(explorer)
    if control is None:
        return docs_control(explorer)
    return check_choice(control, "control", sorted(controls))


def frame_values(explorer: "Explorer", control: str | None = None, frames: int = DOCS_FRAMES) -> list[Any]:
    """The values the docs animation visits: ``frames`` points over one control's range.

    Args:
        explorer: the explorer to animate.
        control: key in ``explorer.controls``; ``None`` picks ``docs_control(explorer)``.
        frames: the most frames to make (ends of the range included), 2 to ``MAX_FRAMES``.

    Returns:
        Values in slider order: every option when there are at most ``frames``, else
        ``frames`` of them evenly spaced, first and last included; plus the control's
        current value when it falls between them (the animation opens on it).

    Raises:
        TypeError: for a non-explorer or a non-int ``frames``.
        ValueError: if ``frames`` is out of range or ``control`` is not one of the controls.
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
        position = next(i for i, v in enumerate(every) if _same(v, current))
        order = {id(v): i for i, v in enumerate(every)}
        return sorted(values + [every[position]], key=lambda v: order[id(v)])
    if isinstance(current, (int, float)):  # a slider stop between the sampled ones
        return sorted(values + [current])
    return values


def pick_frame_format(fig: matplotlib.figure.Figure, dpi: float) -> str:
    """``"jpeg"`` for photo-like figures (much smaller than PNG), else lossless ``"png"``.

    Raises:
        TypeError: if ``fig`` is not a Figure or ``dpi`` not a number.
        ValueError: for a ``dpi`` outside (0, ``MAX_DPI``].
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


def to_jshtml(explorer: "Explorer", control: str | None = None, *, frames: int = DOCS_FRAMES,
              interval_ms: float = DOCS_INTERVAL_MS, dpi: float = DOCS_DPI,
              frame_format: str | None = None) -> str:
    """Render an explorer's figure as a scrub-bar animation over one control's range.

    Each frame sets the control to the next value of ``frame_values`` (so the explorer's own
    callback redraws the figure) and grabs it with ``HTMLWriter.grab_frame()``; then the
    original value is restored. ``offline_jshtml`` makes the page need no network.

    Args:
        explorer: the explorer to animate (its ``fig`` must be set).
        control: key in ``explorer.controls``; ``None`` picks ``docs_control(explorer)``.
        frames: the most frames, ends of the range included (2 to ``MAX_FRAMES``).
        interval_ms: delay between frames when playing, in milliseconds (0 < it <= 60000).
        dpi: resolution of the frames in dots per inch (0 < dpi <= ``MAX_DPI``).
        frame_format: ``"png"`` or ``"jpeg"``; ``None`` picks PNG unless the figure is
            photo-like (its PNG is over ``PHOTO_PNG_BYTES`` and ``PHOTO_JPEG_GAIN`` times
            the JPEG), which keeps pages showing photos several times smaller.

    Returns:
        An HTML fragment: a ``<figure>`` with a caption naming the control and its range,
        then the animation, opening on the control's current value.

    Raises:
        TypeError: for a non-explorer or an argument of the wrong type.
        ValueError: for a bad ``control``, ``frames``, ``interval_ms``, ``dpi`` or
            ``frame_format``, or when the explorer has no figure.
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
        markup = offline_jshtml(path.read_text(encoding="utf-8"))
    label = getattr(widget, "description", "") or name
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
