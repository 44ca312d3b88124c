"""Item 3 (lesson 01): ``visual.trace`` of ResNet-101 at 473 x 473 vs a real forward pass with hooks.

``visual.trace`` runs the model's own ``forward`` on the meta device (shapes only) and reads
sizes, strides and receptive fields from the ops; the classic alternative is a real forward
pass with a forward hook on every module recording output shapes (what shape-summary tools
do). Both are timed in the same rotating rounds on the same built model (batch 1,
``torch.inference_mode`` for the forward pass), together with the two ways of *building* the
model first: on the CPU (torchvision initialises 44.5 M weights) and on the meta device
(``visual.meta_device()``: no weights, no initialisation; this is how ``visual.stride_table``
builds, and all ``trace`` needs).

    python -m benchmarks --only trace
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.profiling import describe
from benchmarks.suite import MISS, Context, Row, Section, Target, benchmark, fmt_stats
from benchmarks.timing import rounds, summarize

ARCH = "resnet101"  # benchmarks issue, item 3
INPUT_SIZE = 473  # PSPNet's crop (Zhao et al. 2017, Sec. 5.1)
BUILD_AND_TRACE_TARGET = Target("<=", 0.35, "s")  # item 3: including building the model
SPEEDUP_TARGET = Target(">=", 10.0, "x")  # item 3: at least 10x faster than a forward pass with hooks


def build(arch: str, device: str = "cpu", **kwargs: Any) -> Any:
    """A torchvision ResNet with random weights (``weights=None``: nothing is downloaded).

    ``device="meta"`` builds it as the course does for ``trace`` (``visual.meta_device()``:
    shapes only, weight initialisation skipped).
    """
    import torch
    import torchvision

    import visual

    with visual.meta_device() if device == "meta" else torch.device(device):
        return getattr(torchvision.models, arch)(weights=None, **kwargs)


def forward_with_hooks(model: Any, input_size: int) -> dict[str, tuple[int, ...]]:
    """Output shape of every module from a real forward pass (batch 1, inference mode)."""
    import torch

    shapes: dict[str, tuple[int, ...]] = {}
    handles = [module.register_forward_hook(
        lambda mod, args, out, name=name: shapes.__setitem__(name, tuple(out.shape)))
        for name, module in model.named_modules()]
    try:
        x = torch.rand(1, 3, input_size, input_size)  # (N, C, H, W)
        with torch.inference_mode():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return shapes


def workloads(arch: str, input_size: int, **kwargs: Any) -> tuple[dict[str, Callable[[], object]], Any]:
    import visual

    model = build(arch, **kwargs).eval()
    # Same answer both ways, checked once (a benchmark of a wrong result is worthless).
    traced = visual.trace(model, input_size)
    shapes = forward_with_hooks(model, input_size)
    assert traced["layer4"].size == shapes["layer4"][-2:], (traced["layer4"].size, shapes["layer4"])
    return {
        "trace": lambda: visual.trace(model, input_size),
        "forward with hooks": lambda: forward_with_hooks(model, input_size),
        "meta build + trace": lambda: visual.trace(build(arch, "meta", **kwargs), input_size),
        "meta build": lambda: build(arch, "meta", **kwargs),
        "CPU build": lambda: build(arch, **kwargs),
    }, model


@benchmark(item=3, key="trace", title="`visual.trace` of ResNet-101 at 473 vs a forward pass with hooks",
           source="benchmarks issue, item 3; tracer from the dilation & receptive-field issue (lesson 01)")
def trace_resnet101(ctx: Context) -> Section:
    n = ctx.pick(ctx.slow_repeats, 2)
    work, model = workloads(ARCH, INPUT_SIZE)
    ctx.log(f"trace: {ARCH} at {INPUT_SIZE}, {n} rounds of {list(work)}")
    r = rounds(work, rounds=n, warmup=1, between=lambda i: ctx.log(f"trace: round {i + 1}/{n}"))
    forward = r.stats("forward with hooks")
    cpu_build_and_trace = summarize([b + t for b, t in zip(r.times["CPU build"], r.times["trace"])])
    reference = f"forward with hooks {fmt_stats(forward, 's')}"
    build_share = r.stats("CPU build").median / cpu_build_and_trace.median
    rows = [
        Row(f"build `{ARCH}` on the meta device + `trace(model, {INPUT_SIZE})`", r.stats("meta build + trace"),
            "s", BUILD_AND_TRACE_TARGET, reference,
            note=f"the course's path (`stride_table` builds on the meta device): meta build alone "
                 f"{fmt_stats(r.stats('meta build'), 's')}, `trace` of a built model {fmt_stats(r.stats('trace'), 's')}"),
        Row(f"forward with hooks / `trace` (same built `{ARCH}`, per round)",
            r.ratio("forward with hooks", "trace"), "x", SPEEDUP_TARGET, reference,
            note=f"`trace` alone: {fmt_stats(r.stats('trace'), 's')}"),
        Row(f"build `{ARCH}` on the CPU + `trace(model, {INPUT_SIZE})`", cpu_build_and_trace, "s",
            reference=reference,
            note=f"for comparison, not the course's path: torchvision's weight initialisation is "
                 f"{100 * build_share:.0f} % of it (CPU build alone {fmt_stats(r.stats('CPU build'), 's')}); "
                 "`trace` needs no weights, so the course builds under `visual.meta_device()`"),
        Row("(CPU build + forward with hooks) / (meta build + trace)",
            summarize([(b + f) / m for b, f, m in zip(r.times["CPU build"], r.times["forward with hooks"],
                                                      r.times["meta build + trace"])]), "x",
            note="what a student saves over building a real model and running it"),
    ]
    if any(row.status == MISS for row in rows[:2]):
        import visual

        rows[1].note += "; " + describe(lambda: visual.trace(model, INPUT_SIZE), what="`trace` call")
    return Section(rows)
