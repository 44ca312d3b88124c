"""Benchmark for lesson 01: slider callback latency and ``trace`` of ResNet-101 at 473 x 473.

    .venv/bin/python benchmarks/bench_receptive_field.py [--repeats 15]

Prints medians (no assertions; targets from the lesson-01 issue):
* kernel-side slider callback (compute + ``fig.canvas.draw_idle()``) -- target <= 50 ms.
  Measured with the ipympl canvas the notebooks use (``draw_idle`` schedules the render) and with
  Agg, where ``draw_idle`` renders the whole figure synchronously (an upper bound);
* ``trace(resnet101, 473)`` -- target <= 0.5 s; and with the model build included
  (later target <= 0.35 s), both for the usual CPU build and for a build on the meta device.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

KERNEL_SIDE_VALUES = [(3, 1), (5, 2), (7, 3), (3, 4), (2, 2), (4, 1)]  # (kernel_size, dilation)
INPUT_SIZE = 473  # PSPNet's input side


CPU_TIMES: dict[str, float] = {}  # label -> median CPU ms of this process (less noisy on a busy machine)


def median_ms(run: Callable[[], object], repeats: int, label: str = "") -> float:
    """Median wall-clock ms of ``run``; the median CPU ms goes to ``CPU_TIMES[label]``."""
    times, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    if label:
        CPU_TIMES[label] = 1000 * statistics.median(cpu)
    return 1000 * statistics.median(times)


def slider_callback(backend: str, repeats: int) -> float:
    """Median ms of one kernel-side slider change (the observer's compute + draw_idle)."""
    import matplotlib

    matplotlib.use(backend, force=True)
    from visual.widgets.receptive_field import explore_receptive_field

    explorer = explore_receptive_field(kernel_size=3, dilation=1, stride=1, n_layers=3)
    explorer.fig.canvas.draw()  # first full render (layout, fonts) happens once, at display
    values = iter(KERNEL_SIDE_VALUES * (repeats // len(KERNEL_SIDE_VALUES) + 2))

    def change() -> None:
        kernel_size, dilation = next(values)
        explorer.controls["dilation"].value = dilation
        explorer.controls["kernel_size"].value = kernel_size

    wall = median_ms(change, repeats, label=backend) / 2  # two value changes per call
    CPU_TIMES[backend] /= 2
    return wall


def compute_only(repeats: int) -> float:
    from visual.plots.receptive_field import cone_image, kernel_footprint_image
    from visual.widgets.receptive_field import receptive_field_summary

    values = iter(KERNEL_SIDE_VALUES * (repeats // len(KERNEL_SIDE_VALUES) + 2))

    def compute() -> None:
        kernel_size, dilation = next(values)
        receptive_field_summary(kernel_size, dilation, 1, 3)
        kernel_footprint_image(kernel_size, dilation)
        cone_image(kernel_size, 1, dilation, 3)

    return median_ms(compute, repeats)


def trace_resnet101(repeats: int) -> dict[str, float]:
    import torch
    import torchvision

    from visual.receptive_field import trace

    model = torchvision.models.resnet101(weights=None)
    trace(model, INPUT_SIZE)  # warm-up: imports and first-call caches
    results = {"trace(resnet101, 473), model built": median_ms(lambda: trace(model, INPUT_SIZE), repeats, "trace")}
    builds = max(3, repeats // 5)
    results["build on CPU + trace"] = median_ms(
        lambda: trace(torchvision.models.resnet101(weights=None), INPUT_SIZE), builds)

    def meta_build_and_trace() -> None:
        with torch.device("meta"):  # no weight initialisation: shapes only
            meta_model = torchvision.models.resnet101(weights=None)
        trace(meta_model, INPUT_SIZE)

    results["build on meta device + trace"] = median_ms(meta_build_and_trace, repeats)
    dilated = torchvision.models.resnet101(weights=None, replace_stride_with_dilation=[False, True, True])
    results["trace(dilated resnet101, 473)"] = median_ms(lambda: trace(dilated, INPUT_SIZE), repeats)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15, help="timed runs per measurement")
    args = parser.parse_args()
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} intra-op threads")
    print("slider callback, kernel side (median per value change):")
    print(f"  compute only (pure functions)          {compute_only(args.repeats):8.2f} ms")
    try:
        import ipympl  # noqa: F401

        wall = slider_callback("module://ipympl.backend_nbagg", args.repeats)
        print(f"  compute + draw_idle, ipympl canvas     {wall:8.2f} ms (CPU {CPU_TIMES['module://ipympl.backend_nbagg']:.2f} ms)")
    except ImportError:
        print("  compute + draw_idle, ipympl canvas     (ipympl not installed)")
    wall = slider_callback("Agg", args.repeats)
    print(f"  compute + draw_idle, Agg (full render) {wall:8.2f} ms (CPU {CPU_TIMES['Agg']:.2f} ms)")
    print("trace (median):")
    for label, value in trace_resnet101(args.repeats).items():
        print(f"  {label:38s} {value / 1000:8.3f} s")
    print(f"  (CPU time of trace(resnet101, 473): {CPU_TIMES['trace'] / 1000:.3f} s)")
    print(f"load average while measuring: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
