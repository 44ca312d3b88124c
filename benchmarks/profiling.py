"""Where a missed target's time goes: profile one call and name the ``visual`` functions.

Used only when a benchmark misses its target, so that the report says *what* is slow and
*where* (file and function), not just *that* it is slow. Times under ``cProfile`` are inflated
by the profiler itself, so they are given as shares of the profiled total.
"""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable
from pathlib import Path

from benchmarks.report import REPO

__all__ = ["profile", "hotspots", "describe"]

VISUAL = REPO / "visual"
WRAPPER_SHARE = 0.95  # a function with this share of the cumulative time just wraps the call
WRAPPERS = 3  # how many such wrappers to look past


def profile(fn: Callable[[], object]) -> pstats.Stats:
    """Run ``fn`` once under ``cProfile``."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        fn()
    finally:
        profiler.disable()
    return pstats.Stats(profiler)


def hotspots(stats: pstats.Stats, *, top: int = 3, by: str = "cumulative",
             root: Path = VISUAL, exclude: tuple[str, ...] = ()) -> list[tuple[float, str]]:
    """The ``top`` functions under ``root`` by ``"cumulative"`` or ``"self"`` time.

    Returns:
        ``(seconds under the profiler, "path/file.py:function")``, slowest first.
    """
    if by not in ("cumulative", "self"):
        raise ValueError(f"by must be 'cumulative' or 'self', got {by!r}")
    found = []
    for (filename, _line, function), (_cc, _nc, self_time, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if not filename.startswith(str(root)) or filename.endswith(exclude):
            continue
        where = f"{Path(filename).relative_to(REPO)}:{function}"
        found.append((cumulative if by == "cumulative" else self_time, where))
    found.sort(reverse=True)
    return found[:top]


def describe(fn: Callable[[], object], *, what: str, top: int = 3, exclude: tuple[str, ...] = ()) -> str:
    """One sentence for the report: the biggest ``visual`` functions of one profiled call of ``fn``."""
    stats = profile(fn)
    total = stats.total_tt  # type: ignore[attr-defined]
    parts = []
    for by in ("cumulative", "self"):
        spots = hotspots(stats, top=top + WRAPPERS, by=by, exclude=exclude)
        if by == "cumulative":  # drop the entry points that wrap (nearly) everything: no information
            spots = [(t, where) for t, where in spots if t < WRAPPER_SHARE * total]
        spots = spots[:top]
        if spots:
            parts.append(f"{by} time: " + ", ".join(f"`{where}` {100 * t / total:.0f} %" for t, where in spots))
    return (f"profile of one {what} ({total * 1e3:.0f} ms under the profiler): "
            + ("; ".join(parts) if parts else "no `visual` code in it"))
