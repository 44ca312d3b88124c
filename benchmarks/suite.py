"""The benchmark registry: targets, result rows and the ``@benchmark`` decorator.

A benchmark is a small function ``fn(ctx: Context) -> Section`` registered with its item
number and title from the benchmarks issue. It measures, and returns :class:`Row` objects:
one row per target (the measured value, the target, the same-run reference if any) plus
optional markdown detail tables and notes. Whether a row passes is decided here, from the
row's median and its :class:`Target`, never inside the benchmark, and never by a unit test.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.timing import Stats

__all__ = ["Target", "Row", "Section", "Context", "Benchmark", "REGISTRY", "benchmark",
           "fmt_stats", "fmt_value"]

PASS, MISS, INFO, SKIP, ERROR = "PASS", "MISS", "INFO", "SKIP", "ERROR"


@dataclass(frozen=True)
class Target:
    """A speed or size target: ``value <op> limit`` in ``unit``.

    Attributes:
        op: ``"<="`` (at most) or ``">="`` (at least).
        limit: the bound, in ``unit``.
        unit: the unit the row's value is in (``"s"``, ``"ms"``, ``"x"``, ``"GB"``, ``"%"``).
    """

    op: str
    limit: float
    unit: str

    def __post_init__(self) -> None:
        if self.op not in ("<=", ">="):
            raise ValueError(f"op must be '<=' or '>=', got {self.op!r}")

    def met(self, value: float) -> bool:
        return value <= self.limit if self.op == "<=" else value >= self.limit

    def __str__(self) -> str:
        sign = "≤" if self.op == "<=" else "≥"
        return f"{sign} {fmt_value(self.limit, self.unit)}"


@dataclass
class Row:
    """One measured quantity, usually checked against one target.

    Attributes:
        name: what was measured (short, markdown allowed).
        value: the measurement: ``Stats`` (median [IQR] is shown and checked) or one number.
        unit: unit of ``value``.
        target: the target, or ``None`` for an informational row.
        reference: the same-run reference, as text (e.g. ``"F.interpolate 9.1 ms [8.9–9.4]"``).
        note: why it passes or misses, what was measured exactly.
        skipped: set (to the reason) when the measurement did not run in this mode.
        summary: list the row in the report's summary table too (not only in its section).
        error: set (to the message) when the measured code failed: the row is an ERROR.
    """

    name: str
    value: Stats | float | None
    unit: str
    target: Target | None = None
    reference: str = ""
    note: str = ""
    skipped: str = ""
    summary: bool = True
    error: str = ""

    @property
    def checked(self) -> float | None:
        """The number compared with the target: the median of ``Stats``, else the value."""
        if self.value is None:
            return None
        return self.value.median if isinstance(self.value, Stats) else float(self.value)

    @property
    def status(self) -> str:
        if self.error:
            return ERROR
        if self.skipped or self.value is None:
            return SKIP
        if self.target is None:
            return INFO
        return PASS if self.target.met(self.checked) else MISS

    def measured(self) -> str:
        if self.error:
            return f"failed: {self.error}"
        if self.skipped:
            return f"skipped: {self.skipped}"
        if self.value is None:
            return "n/a"
        if isinstance(self.value, Stats):
            return fmt_stats(self.value, self.unit)
        return fmt_value(float(self.value), self.unit)


@dataclass
class Section:
    """What one benchmark returns: its rows, detail tables (markdown) and notes."""

    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Context:
    """Settings every benchmark reads.

    Attributes:
        quick: development mode: fewer repeats, smaller workloads; results are not final.
        repeats: default timed repeats / rounds for fast workloads.
        slow_repeats: repeats for workloads of a second or more.
    """

    quick: bool = False
    repeats: int = 9
    slow_repeats: int = 5
    verbose: bool = True
    _start: float = field(default_factory=time.perf_counter, repr=False)

    def log(self, message: str) -> None:
        """Progress line on stderr (the report goes to a file)."""
        if self.verbose:
            print(f"[{time.perf_counter() - self._start:7.1f} s] {message}", file=sys.stderr, flush=True)

    def pick(self, full: Any, quick: Any) -> Any:
        """``quick`` in quick mode, else ``full``."""
        return quick if self.quick else full


@dataclass(frozen=True)
class Benchmark:
    """A registered benchmark: spec ``item`` number, ``key`` for ``--only``, title, source issue."""

    item: int
    key: str
    title: str
    source: str
    fn: Callable[[Context], Section]


REGISTRY: list[Benchmark] = []


def benchmark(*, item: int, key: str, title: str, source: str) -> Callable[[Callable[[Context], Section]],
                                                                           Callable[[Context], Section]]:
    """Register ``fn(ctx) -> Section`` as benchmark ``key`` (item ``item`` of the benchmarks issue)."""

    def register(fn: Callable[[Context], Section]) -> Callable[[Context], Section]:
        if any(b.key == key for b in REGISTRY):
            raise ValueError(f"benchmark key {key!r} registered twice")
        REGISTRY.append(Benchmark(item, key, title, source, fn))
        return fn

    return register


def fmt_value(value: float, unit: str) -> str:
    """A number with its unit, to 3 significant digits (``12.3 ms``, ``0.41 x``, ``1.12 GB``)."""
    if value != value:  # NaN
        return "n/a"
    digits = f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    if unit == "x":
        return f"{digits}×"
    if unit == "%":
        return f"{digits} %"
    return f"{digits} {unit}" if unit else digits


def fmt_stats(stats: Stats, unit: str) -> str:
    """``median [q1–q3] (n)``: the median, the interquartile range and the number of samples."""
    if stats.n == 1:
        return f"{fmt_value(stats.median, unit)} (n=1)"
    low, high = fmt_value(stats.q1, unit), fmt_value(stats.q3, unit)
    suffix = f" {unit}" if unit not in ("", "x", "%") else ("×" if unit == "x" else (" %" if unit == "%" else ""))
    low = low.removesuffix(suffix)
    high = high.removesuffix(suffix)
    return f"{fmt_value(stats.median, unit)} [{low}–{high}] (n={stats.n})"
