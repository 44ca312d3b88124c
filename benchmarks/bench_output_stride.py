"""Item 3 (lesson 02): ``visual.stride_table`` of ResNet-101, first call and cached.

``stride_table(arch, ...)`` builds the arch on the meta device and traces it once per
(arch, dilation flags, schedule), then answers every other input size by conv arithmetic
along the cached stages: that arithmetic-only path is what the explorer's input-size slider
runs. Measured in the same rounds as the reference, a real forward pass with a forward hook
on every module of the same output-stride-8 ResNet-101 (already built, batch 1, inference mode):

* the first call (every ``functools`` cache of ``visual.output_stride`` cleared before it);
* a cached call at a new input size (arithmetic only).

    python -m benchmarks --only stride_table
"""

from __future__ import annotations

import itertools
import sys

from benchmarks.bench_receptive_field import ARCH, INPUT_SIZE, build, forward_with_hooks
from benchmarks.profiling import describe
from benchmarks.suite import MISS, Context, Row, Section, Target, benchmark, fmt_stats
from benchmarks.timing import measure, rounds

FIRST_CALL_TARGET = Target("<=", 0.35, "s")  # item 3: including building the model
SPEEDUP_TARGET = Target(">=", 10.0, "x")  # item 3: >= 10x faster than a forward pass with hooks
ARITHMETIC_TARGET = Target("<=", 5.0, "ms")  # item 3: the arithmetic-only path
FLAGS = (False, True, True)  # output stride 8, as in PSPNet (dilated layer3 and layer4)
SLIDER_SIZES = range(401, 602)  # the explorer's input-size slider range (pixels)


def clear_caches() -> int:
    """Clear every ``functools`` cache in ``visual.output_stride``; return how many there were."""
    import visual.output_stride as module

    caches = [obj for obj in vars(module).values() if callable(getattr(obj, "cache_clear", None))]
    for cache in caches:
        cache.cache_clear()
    return len(caches)


@benchmark(item=3, key="stride_table", title="`visual.stride_table` of ResNet-101: first call and cached",
           source="benchmarks issue, item 3; output-stride issue (lesson 02)")
def stride_table_resnet101(ctx: Context) -> Section:
    import visual

    n_slow = ctx.pick(ctx.slow_repeats, 2)
    model = build(ARCH, replace_stride_with_dilation=list(FLAGS)).eval()
    table = visual.stride_table(ARCH, INPUT_SIZE, FLAGS)
    shapes = forward_with_hooks(model, INPUT_SIZE)
    assert table.output_size == shapes["layer4"][-2:], (table.output_size, shapes["layer4"])
    caches = clear_caches()
    if not caches:
        print("warning: visual.output_stride has no functools cache to clear", file=sys.stderr)

    def first_call() -> None:
        clear_caches()
        visual.stride_table(ARCH, INPUT_SIZE, FLAGS)

    ctx.log(f"stride_table: {n_slow} rounds of first call vs forward with hooks")
    r = rounds({"first call": first_call, "forward with hooks": lambda: forward_with_hooks(model, INPUT_SIZE)},
               rounds=n_slow, warmup=1)
    visual.stride_table(ARCH, INPUT_SIZE, FLAGS)  # cache filled
    sizes = itertools.cycle(SLIDER_SIZES)
    cached = measure(lambda: visual.stride_table(ARCH, next(sizes), FLAGS), repeats=ctx.pick(200, 50), warmup=5)
    reference = f"forward with hooks {fmt_stats(r.stats('forward with hooks'), 's')}"
    rows = [
        Row(f"`stride_table('{ARCH}', {INPUT_SIZE})`, first call (meta build + trace)", r.stats("first call"), "s",
            FIRST_CALL_TARGET, reference, note=f"{caches} cache(s) cleared before each call"),
        Row("forward with hooks / first `stride_table` call (per round)",
            r.ratio("forward with hooks", "first call"), "x", SPEEDUP_TARGET, reference,
            note="the reference's model is already built; the first call builds its own (meta)"),
        Row(f"`stride_table('{ARCH}', size)`, cached trace: arithmetic only", cached.scaled(1e3), "ms",
            ARITHMETIC_TARGET, note=f"input size cycling through {SLIDER_SIZES.start}..{SLIDER_SIZES.stop - 1} "
                                    "(the explorer's slider)"),
    ]
    if any(row.status == MISS for row in rows[:2]):
        rows[0].note += "; " + describe(first_call, what="first call")
    return Section(rows)
