"""Benchmark: from-scratch bilinear interpolation vs F.interpolate, and the lesson's sliders.

    .venv/bin/python benchmarks/bench_interpolation.py            # full run (a few minutes)
    .venv/bin/python benchmarks/bench_interpolation.py --quick    # fewer rounds, fast variants only

Workload: PSPNet's upsampling of stride-8 features, a (1, 150, 60, 60) float32 tensor to
473 x 473 (150 classes as in ADE20K), for both values of align_corners.

Each from-scratch variant is timed *alternating* with F.interpolate (F, variant, F,
variant, ...) so both see the same machine load; the script prints both medians, the
ratio of the medians and the median of the per-pair ratios. It asserts correctness
(``torch.testing.assert_close`` against F.interpolate) but never a time: timings depend on
the machine and its load, and are reported, not tested.

Then every slider explorer of notebook 03 is built with the Agg backend and each of its
controls is moved through its range; the script prints the median time of one callback
(recompute + move artists; the redraw deferred as under ipympl) and, separately, of one
full Agg redraw of the figure.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")  # headless; must run before pyplot is imported

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import visual  # noqa: E402
from visual.widgets.core import _control_values  # noqa: E402

INPUT_SHAPE = (1, 150, 60, 60)  # (N, classes, H/8, W/8) for a 473 x 473 PSPNet input on ADE20K
OUTPUT_SIZE = (473, 473)  # PSPNet's crop size for ADE20K / VOC (official code, hszhao/semseg configs)
CALLBACK_TARGET_MS = 50.0  # the course's budget for one slider callback


def variants() -> dict[str, Callable[..., torch.Tensor]]:
    """The from-scratch bilinear implementations, fastest first."""
    return {
        "matmul, banded": visual.bilinear_interpolate_matmul,
        "matmul, dense": lambda x, size, align_corners: visual.bilinear_interpolate_matmul(
            x, size, align_corners=align_corners, banded=False),
        "separable (two linear passes)": visual.bilinear_interpolate,
        "gather (four neighbours)": visual.bilinear_interpolate_gather,
    }


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3  # ms


def bench_variant(name: str, fn: Callable[..., torch.Tensor], x: torch.Tensor, align_corners: bool,
                  rounds: int) -> dict[str, float]:
    """Alternate F.interpolate and ``fn`` ``rounds`` times; return medians and ratios (ms)."""

    def reference() -> torch.Tensor:
        return F.interpolate(x, size=OUTPUT_SIZE, mode="bilinear", align_corners=align_corners)

    def ours() -> torch.Tensor:
        return fn(x, size=OUTPUT_SIZE, align_corners=align_corners)

    torch.testing.assert_close(ours(), reference())  # correct first (also warms both up)
    pairs = [(_time(reference), _time(ours)) for _ in range(rounds)]
    ref_ms = statistics.median(p[0] for p in pairs)
    our_ms = statistics.median(p[1] for p in pairs)
    return {
        "reference_ms": ref_ms,
        "ours_ms": our_ms,
        "ratio_of_medians": our_ms / ref_ms,
        "median_pair_ratio": statistics.median(p[1] / p[0] for p in pairs),
        "rounds": rounds,
    }


def explorers() -> dict[str, Callable[[], visual.Explorer]]:
    """The explorers of notebook 03, as built there."""
    photo = visual.load_sample_image(256)
    return {
        "explore_linear_interpolation": lambda: visual.explore_linear_interpolation(),
        "explore_align_corners": lambda: visual.explore_align_corners(),
        "explore_bilinear_point": lambda: visual.explore_bilinear_point(),
        "explore_resampling": lambda: visual.explore_resampling(photo),
        "explore_interpolation_matrix": lambda: visual.explore_interpolation_matrix(),
        "explore_segmentation_upsampling": lambda: visual.explore_segmentation_upsampling(),
        "explore_feature_alignment": lambda: visual.explore_feature_alignment(),
    }


def bench_callbacks(steps: int) -> dict[str, tuple[float, float, int]]:
    """Median ms of one callback (redraw deferred) and of one full Agg redraw, per explorer.

    Under ``%matplotlib widget`` (ipympl) ``draw_idle`` only schedules a redraw; with Agg it
    would draw at once. To time the callback itself we make ``draw_idle`` a no-op, then
    time a full ``canvas.draw()`` separately.
    """
    import matplotlib.pyplot as plt

    results = {}
    for name, build in explorers().items():
        explorer = build()
        canvas = explorer.fig.canvas
        canvas.draw()
        canvas.draw_idle = lambda *args, **kwargs: None  # deferred, as under ipympl
        callback, redraw = [], []
        for control in explorer.controls.values():
            original = control.value
            for value in _control_values(control, steps) + [original]:
                if value == control.value:
                    continue
                callback.append(_time(lambda: setattr(control, "value", value)))  # fires the callback
                redraw.append(_time(canvas.draw))
        results[name] = (statistics.median(callback), statistics.median(redraw), len(callback))
        plt.close(explorer.fig)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9, help="alternating pairs per fast variant")
    parser.add_argument("--slow-rounds", type=int, default=3, help="pairs for the slow variants")
    parser.add_argument("--quick", action="store_true", help="matrix form only, 5 rounds")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--steps", type=int, default=9, help="values per slider in the callback benchmark")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    cpu = platform.processor() or platform.machine()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU {cpu}, "
          f"kernel capability {torch.backends.cpu.get_cpu_capability()}, {os.cpu_count()} CPUs, "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    x = torch.randn(*INPUT_SHAPE, generator=torch.Generator().manual_seed(0))
    print(f"\nbilinear {tuple(x.shape)} -> {OUTPUT_SIZE}, float32; each variant alternated with F.interpolate")
    print(f"{'variant':32s} {'align':>6s} {'F.interp ms':>12s} {'ours ms':>9s} {'ratio':>6s} {'pair ratio':>10s}")
    chosen = variants()
    if args.quick:
        chosen = {k: v for k, v in chosen.items() if k.startswith("matmul")}
    for name, fn in chosen.items():
        slow = not name.startswith("matmul")
        rounds = 5 if args.quick else (args.slow_rounds if slow else args.rounds)
        for align_corners in (False, True):
            r = bench_variant(name, fn, x, align_corners, rounds)
            print(f"{name:32s} {align_corners!s:>6s} {r['reference_ms']:12.1f} {r['ours_ms']:9.1f} "
                  f"{r['ratio_of_medians']:6.2f} {r['median_pair_ratio']:10.2f}   ({rounds} pairs)")
    print(f"\nslider callbacks, median over every control value; budget {CALLBACK_TARGET_MS:.0f} ms per callback")
    print(f"{'explorer':34s} {'callback ms':>12s} {'Agg redraw ms':>14s} {'changes':>8s}")
    for name, (callback, redraw, count) in bench_callbacks(args.steps).items():
        print(f"{name:34s} {callback:12.1f} {redraw:14.1f} {count:8d}")


if __name__ == "__main__":
    main()
