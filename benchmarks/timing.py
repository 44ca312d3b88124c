"""Timing primitives shared by every benchmark: warm-up, repeats, median and IQR, A/B rounds.

The machine the course runs on is usually shared (a laptop in class, a CI runner, a busy
server), so a single timing means little. Every number here is a *distribution*:

* ``measure``: ``warmup`` untimed calls, then ``repeats`` timed calls -> :class:`Stats`
  (median, quartiles, min, max of the samples).
* ``rounds``: several functions timed *round by round*, in an order that rotates every
  round (A B C, B C A, C A B, ...), so that each sees the same machine load on average and
  none always runs first (warm caches) or last. :meth:`Rounds.ratio` gives the per-round
  ratios ``t_a / t_b`` and their median: on a noisy machine this is much steadier than the
  ratio of two medians measured minutes apart.

Times are seconds (``time.perf_counter``). The clock is a parameter so tests can drive
these functions with a fake clock and check the bookkeeping exactly.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["Stats", "summarize", "measure", "Rounds", "rounds", "time_call"]

Clock = Callable[[], float]


@dataclass(frozen=True)
class Stats:
    """Summary of repeated measurements (any unit; timings are seconds).

    Attributes:
        samples: the raw measurements, in the order taken.
    """

    samples: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.samples:
            raise ValueError("Stats needs at least one sample")

    @property
    def n(self) -> int:
        return len(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def q1(self) -> float:
        """First quartile (inclusive method: the samples' own range; equals the median for n=1)."""
        return self._quartiles()[0]

    @property
    def q3(self) -> float:
        """Third quartile (inclusive method)."""
        return self._quartiles()[2]

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)

    def _quartiles(self) -> tuple[float, float, float]:
        if self.n == 1:
            return (self.samples[0],) * 3
        q1, q2, q3 = statistics.quantiles(self.samples, n=4, method="inclusive")
        return q1, q2, q3

    def scaled(self, factor: float) -> "Stats":
        """The same samples multiplied by ``factor`` (e.g. 1e3 for seconds -> milliseconds)."""
        return Stats(tuple(s * factor for s in self.samples))

    def map(self, fn: Callable[[float], float]) -> "Stats":
        """The samples transformed one by one (e.g. seconds -> GFLOP/s)."""
        return Stats(tuple(fn(s) for s in self.samples))


def summarize(samples: Sequence[float]) -> Stats:
    """``Stats`` of a sequence of measurements."""
    return Stats(tuple(float(s) for s in samples))


def time_call(fn: Callable[[], object], clock: Clock = time.perf_counter) -> float:
    """Seconds one call of ``fn`` takes."""
    start = clock()
    fn()
    return clock() - start


def measure(fn: Callable[[], object], *, repeats: int, warmup: int = 1,
            clock: Clock = time.perf_counter) -> Stats:
    """Call ``fn`` ``warmup`` times untimed, then ``repeats`` times timed.

    Args:
        fn: the workload, called with no argument.
        repeats: timed calls (at least 1).
        warmup: untimed calls first (first-call costs: imports, caches, allocator, oneDNN
            kernel selection); 0 to time the first call too.
        clock: seconds as a float.

    Returns:
        ``Stats`` of the ``repeats`` durations in seconds.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    if warmup < 0:
        raise ValueError(f"warmup must be >= 0, got {warmup}")
    for _ in range(warmup):
        fn()
    return summarize([time_call(fn, clock) for _ in range(repeats)])


@dataclass
class Rounds:
    """Durations of several workloads timed round by round (seconds).

    Attributes:
        times: workload name -> one duration per round, round ``i`` at index ``i``.
        orders: the order the workloads ran in, per round.
    """

    times: dict[str, list[float]]
    orders: list[tuple[str, ...]] = field(default_factory=list)

    def stats(self, name: str) -> Stats:
        return summarize(self.times[name])

    def ratio(self, numerator: str, denominator: str) -> Stats:
        """Per-round ratios ``t[numerator] / t[denominator]`` (same round, same load)."""
        return summarize([a / b for a, b in zip(self.times[numerator], self.times[denominator])])


def rounds(workloads: Mapping[str, Callable[[], object]], *, rounds: int, warmup: int = 1,
           clock: Clock = time.perf_counter, self_timed: bool = False,
           between: Callable[[int], None] | None = None) -> Rounds:
    """Time every workload once per round, rotating the order each round.

    Round ``r`` runs the workloads starting at index ``r mod k`` (A B C, B C A, C A B, ...),
    so each workload runs first, in the middle and last equally often.

    Args:
        workloads: name -> workload called with no argument (at least one).
        rounds: timed rounds (at least 1).
        warmup: untimed calls of every workload before the first round.
        clock: seconds as a float.
        self_timed: the workloads return their own duration in seconds (e.g. a subprocess
            that times an import inside itself, without the interpreter's start-up); that
            value is recorded instead of the wall time of the call.
        between: called with the round index after each round (progress output).

    Returns:
        ``Rounds`` with one duration per workload per round.
    """
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    if not workloads:
        raise ValueError("rounds needs at least one workload")
    names = list(workloads)
    for _ in range(warmup):
        for name in names:
            workloads[name]()
    result = Rounds({name: [] for name in names})
    for r in range(rounds):
        shift = r % len(names)
        order = tuple(names[shift:] + names[:shift])
        for name in order:
            if self_timed:
                result.times[name].append(float(workloads[name]()))
            else:
                result.times[name].append(time_call(workloads[name], clock))
        result.orders.append(order)
        if between is not None:
            between(r)
    return result
