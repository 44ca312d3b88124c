"""Run the benchmark suite and write the markdown report: ``python -m benchmarks`` (``make bench``).

    python -m benchmarks                     # everything -> benchmarks/RESULTS.md (about 10 min)
    python -m benchmarks --quick             # fewer repeats, smaller workloads -> build/bench/
    python -m benchmarks --only sliders trace
    python -m benchmarks --list

A missed target is reported, not an error: the exit status is 0 when every benchmark ran
(1 if one raised; with ``--fail-on-miss`` also 1 when a target was missed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import sys
import time
import traceback
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless, like the tests; set before any module imports pyplot

from benchmarks import report  # noqa: E402
from benchmarks.suite import ERROR, MISS, REGISTRY, Context  # noqa: E402

# One module per topic; each registers its benchmarks with @benchmark when imported.
MODULES = (
    "benchmarks.bench_notebooks",
    "benchmarks.bench_sliders",
    "benchmarks.bench_latency",
    "benchmarks.bench_receptive_field",
    "benchmarks.bench_output_stride",
    "benchmarks.bench_interpolation",
    "benchmarks.bench_pspnet",
    "benchmarks.bench_evaluation",
    "benchmarks.bench_import",
    "benchmarks.bench_segment",
    "benchmarks.bench_context",
)
RESULTS = report.REPO / "benchmarks" / "RESULTS.md"
SCRATCH = report.REPO / "build" / "bench"


def load() -> None:
    for name in MODULES:
        importlib.import_module(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats and smaller workloads (development; not the course's results)")
    parser.add_argument("--only", nargs="+", metavar="KEY", help="run only these benchmarks (see --list)")
    parser.add_argument("--out", type=Path, help="report path (default: benchmarks/RESULTS.md for a full "
                        "run of everything, else build/bench/RESULTS-quick.md or RESULTS-partial.md)")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's, one per core)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--fail-on-miss", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    load()
    benches = sorted(REGISTRY, key=lambda b: (b.item, MODULES.index(b.fn.__module__), b.key))
    if args.list:
        for b in benches:
            print(f"{b.key:20s} item {b.item}: {b.title}")
        return 0
    if args.only:
        unknown = sorted(set(args.only) - {b.key for b in benches})
        if unknown:
            parser.error(f"unknown benchmark(s) {unknown}; choose from {[b.key for b in benches]}")
        benches = [b for b in benches if b.key in args.only]
    if args.threads is not None:
        import torch

        if args.threads < 1:
            parser.error(f"--threads must be at least 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    out = args.out
    if out is None:
        name = "RESULTS-quick.md" if args.quick else "RESULTS-partial.md"
        out = SCRATCH / name if (args.quick or args.only) else RESULTS

    ctx = Context(quick=args.quick, repeats=5 if args.quick else 9, slow_repeats=2 if args.quick else 5)
    started = dt.datetime.now()
    load_start = report.load_average()
    machine = report.machine_info()
    t0 = time.perf_counter()
    outcomes = []
    for b in benches:
        ctx.log(f"--- {b.key}: {b.title}")
        start = time.perf_counter()
        try:
            section, error = b.fn(ctx), ""
        except Exception:  # report it and go on with the other benchmarks
            section, error = None, traceback.format_exc()
            ctx.log(f"{b.key} FAILED:\n{error}")
        outcomes.append(report.Outcome(b, section, time.perf_counter() - start, error))
        for row in outcomes[-1].rows:
            ctx.log(f"{row.status:4s} {row.name}: {row.measured()}"
                    + (f" (target {row.target})" if row.target else ""))
    seconds = time.perf_counter() - t0
    given = " ".join(argv if argv is not None else sys.argv[1:])
    if os.environ.get("MAKELEVEL"):  # run by make
        command = "make bench" + (f' BENCH_ARGS="{given}"' if given else "")
    else:
        command = "python -m benchmarks" + (f" {given}" if given else "")
    text = report.render(outcomes, machine=machine, quick=args.quick, command=command, started=started,
                         seconds=seconds, load_start=load_start, load_end=report.load_average())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    misses = sum(row.status == MISS for o in outcomes for row in o.rows)
    errors = sum(bool(o.error) for o in outcomes) + sum(row.status == ERROR for o in outcomes for row in o.rows)
    print(f"wrote {out} ({seconds / 60:.1f} min): {misses} target(s) missed, {errors} benchmark(s) or measurement(s) failed")
    return 1 if errors or (args.fail_on_miss and misses) else 0


if __name__ == "__main__":
    sys.exit(main())
