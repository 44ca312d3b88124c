"""Benchmark for lesson 02: the interactive stride table of ResNet-101, per control change.

    .venv/bin/python benchmarks/bench_output_stride.py [--repeats 30]

Prints medians (no assertions; target from the lesson-02 issue: <= 50 ms per control change for
resnet101). A "control change" is what a student does in ``explore_output_stride``: drag the
input-size slider, tick a dilation flag, switch the schedule. Measured:

* ``stride_table`` alone, and ``output_stride_summary`` (the table and its undilated reference);
* the explorer's whole callback (table, grid over the photo, bars, text) with the ipympl canvas
  the notebooks use (``draw_idle`` only schedules the render) and with Agg, where ``draw_idle``
  renders the whole figure synchronously (an upper bound);
* the first visit of an (arch, flags, schedule) combination, which builds the model on the meta
  device and traces it once (``visual.trace``); every later change reuses that trace.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Iterator

ARCH = "resnet101"
SIZES = list(range(401, 602, 8)) + list(range(600, 400, -9))  # a slider drag back and forth
FLAG_SEQUENCE = [  # tick / untick the three checkboxes
    (False, True, True), (False, False, True), (False, False, False), (True, False, False),
    (True, True, False), (True, True, True), (False, True, True),
]


def median_ms(run: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds of ``run`` over ``repeats`` calls."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return 1000 * statistics.median(wall), 1000 * statistics.median(cpu)


def _cycle(values: list) -> Iterator:
    while True:
        yield from values


def pure_functions(repeats: int) -> dict[str, tuple[float, float]]:
    from visual.output_stride import stride_table
    from visual.widgets.output_stride import output_stride_summary

    for flags in FLAG_SEQUENCE:  # warm the per-(arch, flags) traces, as a first sweep would
        stride_table(ARCH, 473, flags)
    sizes, flags = _cycle(SIZES), _cycle(FLAG_SEQUENCE)
    return {
        "stride_table, input-size change": median_ms(lambda: stride_table(ARCH, next(sizes)), repeats),
        "stride_table, flag change": median_ms(lambda: stride_table(ARCH, 473, next(flags)), repeats),
        "output_stride_summary, input-size change": median_ms(
            lambda: output_stride_summary(ARCH, next(sizes)), repeats),
    }


def explorer_callback(backend: str, repeats: int) -> dict[str, tuple[float, float]]:
    import matplotlib

    matplotlib.use(backend, force=True)
    import torch

    from visual.widgets.output_stride import explore_output_stride

    explorer = explore_output_stride(torch.rand(3, 473, 473), arch=ARCH, input_size=473)
    explorer.fig.canvas.draw()  # the first full render (layout, fonts) happens once, at display
    controls = explorer.controls
    for flags in FLAG_SEQUENCE:  # warm the traces
        controls["layer2"].value, controls["layer3"].value, controls["layer4"].value = flags
    sizes, flags = _cycle(SIZES), _cycle(FLAG_SEQUENCE)

    def change_size() -> None:
        controls["input_size"].value = next(sizes)

    def change_flag() -> None:
        wanted = next(flags)
        for name, value in zip(("layer2", "layer3", "layer4"), wanted):
            if controls[name].value != value:
                controls[name].value = value  # one checkbox per step of FLAG_SEQUENCE
                return

    def change_schedule() -> None:
        controls["schedule"].value = "semseg" if controls["schedule"].value == "torchvision" else "torchvision"

    change_schedule(), change_schedule()  # warm the semseg trace
    return {
        "input-size slider": median_ms(change_size, repeats),
        "dilation checkbox": median_ms(change_flag, repeats),
        "schedule dropdown": median_ms(change_schedule, repeats),
    }


def first_visits() -> dict[str, tuple[float, float]]:
    from visual.output_stride import _arch_stages, stride_table

    results = {}
    for arch in ("resnet50", "resnet101", "resnet152"):
        _arch_stages.cache_clear()
        results[f"first table of {arch} (meta build + trace)"] = median_ms(
            lambda arch=arch: stride_table(arch, 473, (False, True, True)), 1)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=30, help="timed control changes per measurement")
    args = parser.parse_args()
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} intra-op threads; arch {ARCH}")

    def show(results: dict[str, tuple[float, float]]) -> None:
        for label, (wall, cpu) in results.items():
            print(f"  {label:48s} {wall:9.3f} ms  (CPU {cpu:.3f} ms)")

    print("pure functions (median per control change, warm caches):")
    show(pure_functions(args.repeats))
    try:
        import ipympl  # noqa: F401

        print("explorer callback, ipympl canvas (draw_idle schedules the render):")
        show(explorer_callback("module://ipympl.backend_nbagg", args.repeats))
    except ImportError:
        print("explorer callback, ipympl canvas: (ipympl not installed)")
    print("explorer callback, Agg (draw_idle renders the whole figure: upper bound):")
    show(explorer_callback("Agg", args.repeats))
    print("first visit of a combination (once per arch/flags/schedule, then cached):")
    show(first_visits())
    print(f"load average while measuring: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
