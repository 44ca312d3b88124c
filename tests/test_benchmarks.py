"""The benchmark suite's bookkeeping (``benchmarks/``): statistics, rounds, targets, report.

No timing is asserted here (speed targets live in ``make bench``): the timing functions are
driven by a fake clock, so every expected number below is exact hand arithmetic.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `benchmarks` is a folder of the repository, not an installed package
    sys.path.insert(0, str(REPO))

from benchmarks import report  # noqa: E402
from benchmarks.suite import Benchmark, Row, Section, Target, fmt_stats, fmt_value  # noqa: E402
from benchmarks.timing import Stats, measure, rounds, summarize  # noqa: E402


class FakeClock:
    """A clock that only moves when a workload says how long it took."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def work(self, seconds: float) -> None:
        self.now += seconds


def test_stats_median_and_inclusive_quartiles():
    stats = summarize([5, 1, 4, 2, 3])
    assert (stats.n, stats.median, stats.min, stats.max) == (5, 3, 1, 5)
    # inclusive quartiles of 1..5: positions 1 + (5 - 1) / 4 and 1 + 3 (5 - 1) / 4 -> 2 and 4
    assert (stats.q1, stats.q3, stats.iqr) == (2, 4, 2)
    even = summarize([10, 20, 30, 40])
    assert even.median == 25
    assert even.q1 == pytest.approx(17.5) and even.q3 == pytest.approx(32.5)  # 10 + 0.75 * 10, 30 + 0.25 * 10


def test_stats_single_sample_and_scaling():
    one = summarize([0.25])
    assert one.q1 == one.median == one.q3 == 0.25
    assert summarize([0.001, 0.003]).scaled(1e3).samples == pytest.approx((1.0, 3.0))
    with pytest.raises(ValueError, match="at least one sample"):
        Stats(())


def test_measure_skips_warmup_and_times_each_call():
    clock = FakeClock()
    durations = iter([9.0, 1.0, 2.0, 3.0])  # the first call is the warm-up
    stats = measure(lambda: clock.work(next(durations)), repeats=3, warmup=1, clock=clock)
    assert stats.samples == (1.0, 2.0, 3.0)
    with pytest.raises(ValueError, match="repeats"):
        measure(lambda: None, repeats=0)


def test_rounds_rotate_the_order_and_pair_ratios_by_round():
    clock = FakeClock()
    log: list[str] = []
    cost = {"a": 2.0, "b": 1.0, "c": 4.0}
    slowdown = iter([1, 1, 1, 3, 3, 3, 5, 5, 5])  # round r is (2r + 1)x slower for everyone

    def workload(name: str):
        def run() -> None:
            log.append(name)
            clock.work(cost[name] * next(slowdown))
        return run

    r = rounds({name: workload(name) for name in "abc"}, rounds=3, warmup=0, clock=clock)
    assert r.orders == [("a", "b", "c"), ("b", "c", "a"), ("c", "a", "b")]
    assert log == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert r.times["a"] == [2.0, 6.0, 10.0]
    # the load changes between rounds, the per-round ratio a/b does not
    assert r.ratio("a", "b").samples == (2.0, 2.0, 2.0)
    assert r.stats("c").median == 12.0


def test_rounds_warmup_and_self_timed_workloads():
    calls = {"x": 0}

    def x() -> float:
        calls["x"] += 1
        return 0.5 * calls["x"]  # reports its own duration

    r = rounds({"x": x}, rounds=2, warmup=1, self_timed=True)
    assert calls["x"] == 3 and r.times["x"] == [1.0, 1.5]


def test_target_and_row_status():
    at_most = Target("<=", 20.0, "ms")
    assert at_most.met(20.0) and not at_most.met(20.1)
    assert Target(">=", 10.0, "x").met(10.0) and not Target(">=", 10.0, "x").met(9.9)
    with pytest.raises(ValueError, match="op"):
        Target("<", 1.0, "s")
    assert Row("fast", summarize([10, 30, 12]), "ms", at_most).status == "PASS"  # median 12
    assert Row("slow", summarize([10, 30, 25]), "ms", at_most).status == "MISS"  # median 25
    assert Row("info", 3.0, "s").status == "INFO"
    assert Row("skipped", None, "s", at_most, skipped="quick mode").status == "SKIP"


def test_formatting():
    assert fmt_value(12.345, "ms") == "12.3 ms"
    assert fmt_value(0.5, "x") == "0.5×"
    assert fmt_value(1234.0, "ms") == "1234 ms"
    assert fmt_stats(summarize([1.0, 2.0, 3.0, 4.0, 5.0]), "ms") == "3 ms [2–4] (n=5)"
    assert fmt_stats(summarize([2.0]), "s") == "2 s (n=1)"
    assert str(Target("<=", 0.35, "s")) == "≤ 0.35 s"


def test_report_lists_misses_and_machine():
    bench = Benchmark(2, "demo", "Demo benchmark", "an issue", lambda ctx: Section())
    rows = [Row("callback", summarize([5, 6, 7]), "ms", Target("<=", 20, "ms")),
            Row("draw", summarize([150, 160, 170]), "ms", Target("<=", 100, "ms"), note="a | pipe")]
    text = report.render([report.Outcome(bench, Section(rows, ["extra detail"], ["a note"]), 1.0)],
                         machine={"CPU": "Test CPU"}, quick=False, command="make bench",
                         started=dt.datetime(2024, 1, 1), seconds=60.0, load_start=(0.1, 0.1, 0.1),
                         load_end=(0.2, 0.2, 0.2))
    assert "**1 targets met, 1 missed**" in text
    assert "| 2 | draw | 160 ms [155–165] (n=3) | ≤ 100 ms |  | ❌ MISS |" in text
    assert "✅ PASS" in text and "| CPU | Test CPU |" in text
    assert "a \\| pipe" in text and "extra detail" in text and "- a note" in text
    assert "Quick mode" not in text


def test_slider_benchmark_discovers_every_public_explorer():
    import visual
    from benchmarks.bench_sliders import discover

    found = {name for name, _ in discover()}
    assert found == {name for name in dir(visual) if name.startswith("explore_")}


def test_latency_benchmark_reads_the_browser_suite_file(tmp_path):
    import json

    from benchmarks.bench_latency import slider_latency
    from benchmarks.suite import Context

    ctx = Context(verbose=False)
    missing = slider_latency(ctx, tmp_path / "latency.json").rows
    assert [r.status for r in missing] == ["SKIP"] and "make test-browser" in missing[0].skipped
    data = {
        "01_rf/explore_a": {"median_ms": 100.0, "samples": [90.0, 110.0, 100.0, None], "slider": "k"},
        "03_interp/explore_b": {"median_ms": 170.0, "samples": [200.0, 160.0, 170.0], "slider": "s"},
        "02_os/explore_c": {"median_ms": None, "samples": [None, None], "slider": "size"},
        "positive_slider/explorer0": {"median_ms": 40.0, "samples": [30.0, 40.0, 50.0]},
    }
    (tmp_path / "latency.json").write_text(json.dumps(data))
    summary, *rows = slider_latency(ctx, tmp_path / "latency.json").rows
    by_name = {r.name.split("`")[1]: r for r in rows}
    assert set(by_name) == {"01_rf/explore_a", "03_interp/explore_b", "02_os/explore_c"}  # fixture: reference
    a, b, c = by_name["01_rf/explore_a"], by_name["03_interp/explore_b"], by_name["02_os/explore_c"]
    assert (a.checked, a.target.limit, a.status) == (100.0, 100.0, "PASS")   # median of 90, 100, 110; 01: <= 100
    assert (b.checked, b.target.limit, b.status) == (170.0, 150.0, "MISS")   # median of 160, 170, 200; 03: <= 150
    assert c.status == "ERROR" and c.target.limit == 100.0
    assert a.reference == "one-line fixture figure: 40 ms [35–45] (n=3)"
    assert "3 of 4 moves" in a.note
    # the summary row names the explorer furthest over its target: 170/150 > 100/100
    assert summary.checked == 170.0 and "`03_interp/explore_b`" in summary.note and "missing" in summary.note
