"""Item 2: slider callbacks of every explorer, driven programmatically.

Every ``explore_*`` function of ``visual/widgets/*.py`` is built once with its default
arguments (Agg backend), its figure drawn once (as when it is first displayed), then each of
its controls is set to other values of its range (``visual.widgets.controls.control_values``) and back:

* **compute + artist update**: the time of ``control.value = v``, which runs the explorer's
  observer synchronously (pure functions, ``set_data``/``set_text``, ...). The canvas's
  ``draw_idle`` is replaced by a counter for this measurement: under ipympl it only schedules
  a render, but under Agg it would render synchronously, which is the next measurement;
* **+ full draw**: the same change followed by a synchronous ``fig.canvas.draw()``: the whole
  figure rendered by Agg, which is what the kernel does for ipympl after ``draw_idle``.

Each control value is first visited once untimed (caches fill as a student's first drag
fills them; that first visit is reported separately), then ``passes`` timed passes alternate
between the two measurements. A callback that never calls ``draw_idle`` is reported (its
figure would not refresh under ipympl), and so is one that draws synchronously itself. For an
explorer that misses a target, one change of its slowest control (or one draw) is profiled
and the report names the ``visual`` functions (or the kinds of artists) that take the time.

    python -m benchmarks --only sliders
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.profiling import describe, profile
from benchmarks.report import REPO, table
from benchmarks.suite import Context, Row, Section, Target, benchmark, fmt_stats, fmt_value
from benchmarks.timing import summarize
from visual.widgets.controls import control_values

CALLBACK_TARGET = Target("<=", 20.0, "ms")  # benchmarks issue, item 2: compute + artist updates
DRAW_TARGET = Target("<=", 100.0, "ms")  # benchmarks issue, item 2: including a full canvas draw
WIDGETS_DIR = REPO / "visual" / "widgets"
REFERENCE_FIGSIZE = (6.4, 4.8)  # matplotlib's default figure size (inches): the reference draw
# Draw-time hot spots named when an explorer misses the draw target: (label, file suffix, function).
DRAW_HOTSPOTS = (
    ("all text (titles, labels, tick labels, tables)", "matplotlib/text.py", "draw"),
    ("tick placement", "matplotlib/axis.py", "_update_ticks"),
    ('legend `loc="best"` search', "matplotlib/legend.py", "_find_best_position"),
    ("layout engine", "matplotlib/layout_engine.py", "execute"),
    ("images (resampling)", "matplotlib/image.py", "_make_image"),
    ("collections", "matplotlib/collections.py", "draw"),
    ("patches", "matplotlib/patches.py", "draw"),
)


def _pspnet_inputs() -> dict[str, Any]:
    """The computed arguments of the lesson-04 explorers, built as notebook 04 builds them.

    The notebook's trained model is replaced by an untrained one of the same architecture: a
    slider's cost does not depend on the weights.
    """
    import torch

    import visual

    classes, size, ade20k_classes = 4, 65, 150  # notebook 04: its training task; ADE20K
    torch.manual_seed(0)
    small = visual.PSPNet(classes, backbone="resnet18").train()
    data = visual.SyntheticShapes(8, size, seed=2)
    images, targets = (torch.stack(t) for t in zip(*(data[i] for i in range(8))))  # (8, 3, 65, 65), (8, 65, 65)
    costs = {}
    for arch in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"):
        with torch.device("meta"):  # shapes only
            costs[arch] = visual.part_costs(visual.PSPNet(ade20k_classes, backbone=arch), 473)
    return {"gradients": visual.loss_gradients(small, images, targets), "costs": costs,
            "model": small.eval(), "dataset": visual.SyntheticShapes(64, size, classes, seed=1)}


# Explorers whose parameters have no default: how to build their arguments from public APIs.
EXPLORER_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "explore_part_costs": ("costs",),
    "explore_aux_weight": ("gradients",),
    "explore_predictions": ("model", "dataset"),
}


def required_parameters(fn: Callable[..., Any]) -> list[str]:
    import inspect

    return [name for name, p in inspect.signature(fn).parameters.items()
            if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def factory_for(name: str, fn: Callable[..., Any], inputs: Callable[[], dict[str, Any]]) -> Callable[[], Any]:
    """``fn`` called with its defaults, plus computed arguments for the parameters that have none.

    Raises:
        ValueError: ``fn`` has a parameter without default that ``EXPLORER_ARGUMENTS`` does not cover.
    """
    required = required_parameters(fn)
    if not required:
        return fn
    missing = sorted(set(required) - set(EXPLORER_ARGUMENTS.get(name, ())))
    if missing:
        raise ValueError(f"`{name}` needs {missing} and benchmarks/bench_sliders.py does not know how to "
                         "build them: add them to EXPLORER_ARGUMENTS")
    return lambda: fn(**{key: inputs()[key] for key in required})


def discover() -> list[tuple[str, Callable[[], Any]]]:
    """Every ``explore_*`` function defined in ``visual/widgets/*.py``, as (name, function)."""
    found = []
    for path in sorted(WIDGETS_DIR.glob("*.py")):
        if path.stem.startswith("_"):
            continue
        module = importlib.import_module(f"visual.widgets.{path.stem}")
        for name in sorted(vars(module)):
            fn = getattr(module, name)
            if name.startswith("explore_") and callable(fn) and getattr(fn, "__module__", "") == module.__name__:
                found.append((name, fn))
    return found


@dataclass
class ControlTimes:
    """Per control: timed changes (ms) without and with a full draw, first visits, errors."""

    callback: list[float] = field(default_factory=list)
    callback_cpu: list[float] = field(default_factory=list)
    with_draw: list[float] = field(default_factory=list)
    with_draw_cpu: list[float] = field(default_factory=list)
    first_visit: list[float] = field(default_factory=list)
    slowest_value: Any = None
    error: str = ""


@dataclass
class ExplorerTimes:
    name: str
    build_ms: float = 0.0
    first_draw_ms: float = 0.0
    controls: dict[str, ControlTimes] = field(default_factory=dict)
    draw_idle_calls: int = 0
    sync_draws: int = 0
    changes: int = 0
    figure: str = ""
    error: str = ""

    def all(self, attr: str) -> list[float]:
        return [t for c in self.controls.values() for t in getattr(c, attr)]


def _values(explorer: Any, name: str, frames: int) -> list[Any]:
    try:
        values = control_values(explorer.controls[name], frames)
    except (ValueError, TypeError):
        return []
    last = len(values) - 1  # at most ``frames`` of them, evenly spaced, ends included
    return values if last < frames else [values[round(i * last / (frames - 1))] for i in range(frames)]


def _ms(fn: Callable[[], object]) -> float:
    return _wall_and_cpu_ms(fn)[0]


def _wall_and_cpu_ms(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU (this process) milliseconds of one call.

    A callback is single-threaded Python and matplotlib, so its CPU time is close to the wall
    time of a quiet machine: on a busy one it is the steadier of the two numbers.
    """
    start, start_cpu = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - start) * 1e3, (time.process_time() - start_cpu) * 1e3


def reference_figure() -> Any:
    """The same-run reference for the draw: a default-size figure with one axes and one line."""
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=REFERENCE_FIGSIZE)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(range(10), label="line")
    ax.set(title="reference", xlabel="x (pixels)", ylabel="y (pixels)")
    fig.canvas.draw()
    return fig


def measure_explorer(name: str, factory: Callable[[], Any], *, frames: int, passes: int,
                     reference: Any = None, reference_ms: list[float] | None = None) -> tuple[ExplorerTimes, Any]:
    """Build one explorer and time its control changes; returns the times and the explorer.

    With ``reference`` (a figure), its full draw is timed once per timed pass, in the same
    rounds as the explorer's draws, into ``reference_ms``.
    """
    result = ExplorerTimes(name)
    start = time.perf_counter()
    explorer = factory()
    result.build_ms = (time.perf_counter() - start) * 1e3
    canvas = explorer.fig.canvas
    result.first_draw_ms = _ms(canvas.draw)
    width, height = explorer.fig.get_size_inches() * explorer.fig.dpi
    result.figure = f"{len(explorer.fig.axes)} axes, {width:.0f}×{height:.0f} px"

    counts = {"idle": 0, "draw": 0}
    real_draw = canvas.draw

    def counting_draw_idle(*args: Any, **kwargs: Any) -> None:
        counts["idle"] += 1

    def counting_draw(*args: Any, **kwargs: Any) -> None:
        counts["draw"] += 1
        real_draw(*args, **kwargs)

    canvas.draw_idle = counting_draw_idle  # instance attributes shadow the class's methods
    canvas.draw = counting_draw
    try:
        for control_name, control in explorer.controls.items():
            times = result.controls.setdefault(control_name, ControlTimes())
            if getattr(control, "disabled", False):
                times.error = "disabled at the defaults"
                continue
            original = control.value
            values = [v for v in _values(explorer, control_name, frames) if v != original] + [original]
            if len(values) < 2:
                times.error = "no other value to set"
                continue
            slowest = -1.0
            try:
                for value in values:  # first visit: caches fill here
                    times.first_visit.append(_ms(lambda: setattr(control, "value", value)))
                for _ in range(passes):
                    for value in values:
                        if value == control.value:
                            continue
                        idle_before, draws_before = counts["idle"], counts["draw"]
                        ms, cpu_ms = _wall_and_cpu_ms(lambda: setattr(control, "value", value))
                        times.callback_cpu.append(cpu_ms)
                        result.changes += 1
                        result.draw_idle_calls += counts["idle"] > idle_before
                        result.sync_draws += counts["draw"] > draws_before
                        times.callback.append(ms)
                        if ms > slowest:
                            slowest, times.slowest_value = ms, value
                    for value in values:
                        if value == control.value:
                            continue

                        def change_and_draw(value: Any = value) -> None:
                            control.value = value
                            real_draw()

                        ms, cpu_ms = _wall_and_cpu_ms(change_and_draw)
                        times.with_draw.append(ms)
                        times.with_draw_cpu.append(cpu_ms)
                    if reference is not None and reference_ms is not None:
                        reference_ms.append(_ms(reference.canvas.draw))
            except Exception as err:  # a callback error: report it, go on with the next control
                times.error = f"{type(err).__name__}: {err}"
            finally:
                try:
                    control.value = original
                except Exception:  # noqa: BLE001 - already reported above
                    pass
    finally:
        del canvas.draw_idle, canvas.draw
    return result, explorer


def profile_change(explorer: Any, control_name: str, value: Any) -> str:
    """Profile one change of ``control_name`` to ``value``; name the ``visual`` functions that cost most."""
    control = explorer.controls[control_name]
    original = control.value
    target = value if value != original else next(
        (v for v in _values(explorer, control_name, 5) if v != original), original)
    canvas = explorer.fig.canvas
    canvas.draw_idle = lambda *a, **k: None  # compute + artists only, as measured
    try:
        return describe(lambda: setattr(control, "value", target), what=f"change to {target!r}",
                        exclude=("widgets/core.py",))
    finally:
        del canvas.draw_idle
        control.value = original


def profile_draw(explorer: Any) -> str:
    """Profile one full draw of the explorer's figure; the share of each known hot spot."""
    stats = profile(explorer.fig.canvas.draw)
    total = stats.total_tt  # type: ignore[attr-defined]
    shares = []
    for label, suffix, function in DRAW_HOTSPOTS:
        cumulative = sum(v[3] for (filename, _, fn), v in stats.stats.items()  # type: ignore[attr-defined]
                         if fn == function and filename.endswith(suffix))
        if cumulative >= 0.05 * total:
            shares.append((cumulative, f"{label} {100 * cumulative / total:.0f} %"))
    shares.sort(reverse=True)
    return (f"profile of one draw ({total * 1e3:.0f} ms under the profiler; shares overlap): "
            + (", ".join(text for _, text in shares) or "no single hot spot"))


def figure_contents(fig: Any) -> str:
    """How much the figure holds: axes, text objects, image pixels."""
    from matplotlib.image import AxesImage
    from matplotlib.text import Text

    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    images = fig.findobj(AxesImage)
    pixels = sum(int(im.get_array().shape[0] * im.get_array().shape[1]) for im in images
                 if im.get_array() is not None)
    return f"{len(fig.axes)} axes, {len(texts)} visible texts, {len(images)} images ({pixels} data pixels)"


@benchmark(item=2, key="sliders", title="Slider callbacks of every explorer",
           source="benchmarks issue, item 2; slider conventions in STYLE.md and the notebook issues")
def sliders(ctx: Context) -> Section:
    import matplotlib.pyplot as plt

    frames, passes = ctx.pick((5, 3), (3, 1))
    found = discover()
    ctx.log(f"sliders: {len(found)} explorers, {frames} values per control, {passes} timed passes")
    reference = reference_figure()
    reference_ms: list[float] = []
    results: list[ExplorerTimes] = []
    notes: list[str] = []
    rows: list[Row] = []
    cache: dict[str, Any] = {}

    def inputs() -> dict[str, Any]:
        if not cache:
            cache.update(_pspnet_inputs())
        return cache

    for name, fn in found:
        try:
            factory = factory_for(name, fn, inputs)
            times, explorer = measure_explorer(name, factory, frames=frames, passes=passes,
                                               reference=reference, reference_ms=reference_ms)
        except Exception as err:  # building failed: report, continue
            results.append(ExplorerTimes(name, error=f"{type(err).__name__}: {err}"))
            rows.append(Row(f"`{name}`: build", None, "ms", error=f"{type(err).__name__}: {err}"))
            continue
        results.append(times)
        callback = times.all("callback")
        with_draw = times.all("with_draw")
        ctx.log(f"sliders: {name}: {len(callback)} changes, callback "
                f"{summarize(callback).median if callback else float('nan'):.1f} ms, +draw "
                f"{summarize(with_draw).median if with_draw else float('nan'):.1f} ms")
        if callback:
            rows.append(Row(f"`{name}`: compute + artist update", summarize(callback), "ms", CALLBACK_TARGET,
                            summary=False, note=f"CPU {summarize(times.all('callback_cpu')).median:.3g} ms; "
                                                + _slowest_control(times, "callback")))
            if not CALLBACK_TARGET.met(summarize(callback).median):
                control = max((c for c in times.controls if times.controls[c].callback),
                              key=lambda c: summarize(times.controls[c].callback).median)
                notes.append(f"`{name}` ({_where(fn)}) misses {CALLBACK_TARGET}: slowest control `{control}` "
                             f"({fmt_stats(summarize(times.controls[control].callback), 'ms')}); "
                             + profile_change(explorer, control, times.controls[control].slowest_value))
        if with_draw:
            rows.append(Row(f"`{name}`: + full `fig.canvas.draw()`", summarize(with_draw), "ms", DRAW_TARGET,
                            summary=False,
                            note=f"{times.figure}; first draw {times.first_draw_ms:.0f} ms"
                                 + (f"; {summarize(with_draw).median / summarize(reference_ms).median:.1f}× the "
                                    "reference draw" if reference_ms else "")))
            if not DRAW_TARGET.met(summarize(with_draw).median):
                notes.append(f"`{name}` ({_where(fn)}) misses {DRAW_TARGET} with the draw: the draw adds about "
                             f"{summarize(with_draw).median - summarize(callback).median:.0f} ms per change for "
                             f"{figure_contents(explorer.fig)}; {profile_draw(explorer)}")
        if times.changes and times.draw_idle_calls < times.changes:
            notes.append(f"`{name}`: {times.changes - times.draw_idle_calls} of {times.changes} changes did not "
                         "call `fig.canvas.draw_idle()`: under ipympl the figure would not refresh")
        if times.sync_draws:
            notes.append(f"`{name}`: {times.sync_draws} of {times.changes} changes drew the canvas "
                         "synchronously (`canvas.draw()`) instead of `draw_idle()`")
        for control, c in times.controls.items():
            if c.error and c.error not in ("disabled at the defaults", "no other value to set"):
                notes.append(f"`{name}`, control `{control}`: callback raised {c.error}")
        plt.close(explorer.fig)

    measured = [t for t in results if t.all("callback")]
    ref = summarize(reference_ms) if reference_ms else None
    ref_text = f"; reference draw (one-axes {REFERENCE_FIGSIZE[0]:g}×{REFERENCE_FIGSIZE[1]:g} in line plot): " \
               f"{fmt_stats(ref, 'ms')}" if ref else ""
    summary_rows = []
    for attr, target, label in (("callback", CALLBACK_TARGET, "compute + artist update"),
                                ("with_draw", DRAW_TARGET, "+ full synchronous canvas draw")):
        medians = {t.name: summarize(t.all(attr)) for t in measured if t.all(attr)}
        if not medians:
            continue
        worst = max(medians, key=lambda k: medians[k].median)
        misses = [k for k, s in medians.items() if not target.met(s.median)]
        pooled = summarize([x for t in measured for x in t.all(attr)])
        summary_rows.append(Row(
            f"slider change, {label}: slowest explorer's median ({len(medians)} explorers)",
            medians[worst], "ms", target,
            f"all changes pooled: {fmt_stats(pooled, 'ms')}" + (ref_text if attr == "with_draw" else ""),
            note=f"slowest: `{worst}`" + (f"; missing: {', '.join(f'`{m}`' for m in misses)}" if misses else
                                          "; every explorer meets it")))
    def cpu(t: ExplorerTimes, attr: str) -> str:
        return fmt_value(summarize(t.all(attr)).median, "ms") if t.all(attr) else "n/a"

    details = [
        "Per explorer (wall-clock medians; CPU time of this process beside them, steadier on a busy "
        "machine; first visit = the slowest first change of a control value, when caches fill):\n\n"
        + table(["Explorer", "Controls", "Changes", "Build", "Compute + artists", "CPU", "+ full draw", "CPU",
                 "First visit (max)", "Figure"],
                [(f"`{t.name}`", str(len(t.controls)), str(len(t.all("callback"))), fmt_value(t.build_ms, "ms"),
                  fmt_stats(summarize(t.all("callback")), "ms") if t.all("callback") else t.error or "n/a",
                  cpu(t, "callback_cpu"),
                  fmt_stats(summarize(t.all("with_draw")), "ms") if t.all("with_draw") else "n/a",
                  cpu(t, "with_draw_cpu"),
                  fmt_value(max(t.all("first_visit")), "ms") if t.all("first_visit") else "n/a", t.figure)
                 for t in results], "lrrrrrrrrl")]
    return Section(summary_rows + rows, details, notes)


def _where(factory: Callable[..., Any]) -> str:
    import inspect

    try:
        path = Path(inspect.getsourcefile(factory) or "")
        return f"`{path.relative_to(REPO)}`"
    except (TypeError, ValueError):
        return "?"


def _slowest_control(times: ExplorerTimes, attr: str) -> str:
    medians = {c: summarize(getattr(t, attr)) for c, t in times.controls.items() if getattr(t, attr)}
    if not medians:
        return ""
    control = max(medians, key=lambda c: medians[c].median)
    return f"slowest control `{control}`: {fmt_stats(medians[control], 'ms')}"
