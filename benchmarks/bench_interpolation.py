"""Item 4 (lesson 03): from-scratch bilinear interpolation vs ``F.interpolate``.

Workload: PSPNet's final upsampling of stride-8 class scores, a ``(1, 150, 60, 60)`` float32
tensor (150 ADE20K classes, scores in [-1, 1]) to 473 x 473, for both values of ``align_corners``. Every
from-scratch variant of ``visual.interpolation`` and ``F.interpolate`` run in the same
rotating rounds; each variant's time is divided by ``F.interpolate``'s in the same round and
the median of those per-round ratios is reported; variants several times slower than
``F.interpolate`` get fewer rounds of their own, still alternating with it. Each variant is
first checked equal to ``F.interpolate`` with ``torch.testing.assert_close`` (float32 default
tolerances; PyTorch's fused multiply-add moves a float32 coordinate by at most one step, i.e. an
output by about 4e-6 times the difference of its neighbours, well inside them for scores in
[-1, 1]): a fast wrong answer is not a result. The target is the teaching one: the matrix form
``A_h @ X @ A_w.T`` within 2x of ``F.interpolate`` (it multiplies mostly zeros, and is plain).

    python -m benchmarks --only bilinear
"""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.report import table
from benchmarks.suite import Context, Row, Section, Target, benchmark, fmt_stats
from benchmarks.timing import rounds, time_call

INPUT_SHAPE = (1, 150, 60, 60)  # (N, classes, H/8, W/8): 150 ADE20K classes at output stride 8
OUTPUT_SIZE = (473, 473)  # PSPNet's crop (Zhao et al. 2017, Sec. 5.1)
RATIO_TARGET = Target("<=", 2.0, "x")  # issue 12: the plain matrix form within 2x of F.interpolate
TARGET_VARIANT = "bilinear_interpolate_matmul (A_h @ X @ A_w.T)"
REFERENCE = "F.interpolate"
SLOW_FACTOR = 3.0  # variants slower than this x F.interpolate on a first call get fewer rounds of their own


def variants() -> dict[str, Callable[..., object]]:
    """The from-scratch bilinear implementations (public ``visual`` API), by name."""
    import visual

    return {
        TARGET_VARIANT: visual.bilinear_interpolate_matmul,
        "bilinear_interpolate (separable)": visual.bilinear_interpolate,
        "bilinear_interpolate_gather (four neighbours)": visual.bilinear_interpolate_gather,
    }


@benchmark(item=4, key="bilinear", title="From-scratch bilinear vs `F.interpolate`, (1, 150, 60, 60) → 473 × 473",
           source="benchmarks issue, item 4; interpolation-from-scratch issue (lesson 03)")
def bilinear(ctx: Context) -> Section:
    import torch
    import torch.nn.functional as F

    x = torch.rand(*INPUT_SHAPE, generator=torch.Generator().manual_seed(0)) * 2 - 1  # (N, C, H, W)
    n_fast, n_slow = ctx.pick((15, 3), (3, 1))
    rows: list[Row] = []
    detail = []
    for align_corners in (False, True):
        def reference(align_corners: bool = align_corners) -> torch.Tensor:
            return F.interpolate(x, size=OUTPUT_SIZE, mode="bilinear", align_corners=align_corners)  # (N, C, 473, 473)

        expected = reference()
        reference_s = time_call(reference)  # second call: warm
        fast: dict[str, Callable[[], object]] = {}
        slow: dict[str, Callable[[], object]] = {}
        mismatches = []
        chosen = variants()
        for name, fn in chosen.items():
            try:
                torch.testing.assert_close(fn(x, OUTPUT_SIZE, align_corners=align_corners), expected)
            except AssertionError as err:
                mismatches.append(f"{name}: {str(err).splitlines()[0]}")
                continue

            def call(fn: Callable[..., object] = fn, align_corners: bool = align_corners) -> object:
                return fn(x, OUTPUT_SIZE, align_corners=align_corners)  # (N, C, 473, 473)

            warm_s = time_call(call)  # second call: warm
            group = fast if name == TARGET_VARIANT or warm_s <= SLOW_FACTOR * reference_s else slow
            group[name] = call
        ratios, times = {}, {}
        for group, n in ((fast, n_fast), (slow, n_slow)):
            if not group or (ctx.quick and group is slow):
                continue
            ctx.log(f"bilinear: align_corners={align_corners}, {n} rounds of {REFERENCE} + {list(group)}")
            r = rounds({REFERENCE: reference, **group}, rounds=n, warmup=1)
            for name in group:
                ratios[name], times[name] = r.ratio(name, REFERENCE), r.stats(name)
            times.setdefault(REFERENCE, r.stats(REFERENCE))  # from the rounds of the fast variants
        ref_text = f"{REFERENCE} {fmt_stats(times[REFERENCE].scaled(1e3), 'ms')}" if times else ""
        timed = TARGET_VARIANT in ratios  # not timed only when it failed the assert_close check
        rows.append(Row(f"matrix form / {REFERENCE}, `align_corners={align_corners}`",
                        ratios[TARGET_VARIANT] if timed else float("inf"), "x", RATIO_TARGET, ref_text,
                        note=f"`{TARGET_VARIANT}` {fmt_stats(times[TARGET_VARIANT].scaled(1e3), 'ms')}" if timed
                        else "not timed: it differs from F.interpolate"))
        equal = len(fast) + len(slow)
        rows.append(Row(f"variants equal to {REFERENCE} (`assert_close`), `align_corners={align_corners}`",
                        float(equal), "", Target(">=", float(len(chosen)), ""),
                        note="; ".join(mismatches) or f"all {len(chosen)} variants within float32 tolerances"))
        for name in chosen:
            if name in ratios:
                detail.append((f"`{name}`", str(align_corners), fmt_stats(times[name].scaled(1e3), "ms"),
                               fmt_stats(ratios[name], "x")))
            elif name in slow:
                detail.append((f"`{name}`", str(align_corners), "not timed in quick mode", ""))
        detail.append((REFERENCE, str(align_corners), fmt_stats(times[REFERENCE].scaled(1e3), "ms"), "1"))
    details = ["Every variant, per-round ratio to `F.interpolate` in the same rounds (variants more than "
               f"{SLOW_FACTOR:g}× slower than `F.interpolate` on a warm call get {n_slow} rounds of their own, "
               f"the others {n_fast}):\n\n"
               + table(["Implementation", "align_corners", "Time", f"Ratio to {REFERENCE}"], detail, "llrr")]
    return Section(rows, details)
