"""Issue 15 (lesson 04, section 5): the context ablation on ``visual.ContextShapes``: per-pixel
baseline, PSPNet-ResNet18 without and with the pyramid pooling module; seconds per training (seed 0,
as the notebook runs it) and the test IoU gaps on the context classes over 3 seeds. Trained in a fresh
cache folder (``VISUAL_CACHE_DIR``), so nothing comes from an earlier run.

    python -m benchmarks --only context
"""

from __future__ import annotations

import os
import tempfile
import time

from benchmarks.suite import Context, Row, Section, Target, benchmark

SEEDS = (0, 1, 2)
TEST_IMAGES = 128  # the notebook's test split


def ablation(seed: int) -> dict[str, tuple[float, list[float], float]]:
    """``{model: (seconds, test IoU per class, test mIoU)}`` for one seed, trained from scratch."""
    import visual
    from visual.context_shapes import ABLATION_MODELS, train_context_model

    test = visual.ContextShapes(TEST_IMAGES, split="test", seed=seed)
    result = {}
    for name in ABLATION_MODELS:
        start = time.perf_counter()
        model, _ = train_context_model(name, seed=seed)
        seconds = time.perf_counter() - start
        metrics = visual.evaluate(model, test, test.num_classes)
        result[name] = (seconds, metrics.iou.tolist(), metrics.miou)
    return result


@benchmark(item=15, key="context", title="Context ablation: three trainings' time and the context-class IoU gaps",
           source="issue 15 (lesson 04, section 5)")
def context_ablation(ctx: Context) -> Section:
    import visual

    if ctx.quick:
        return Section([Row("three trainings (seed 0)", None, "s", skipped="quick mode: a full run takes ~4 min per seed")])
    previous = os.environ.get("VISUAL_CACHE_DIR")
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        os.environ["VISUAL_CACHE_DIR"] = folder
        try:
            for seed in SEEDS:
                runs.append(ablation(seed))
                ctx.log(f"context: seed {seed}: " + "; ".join(
                    f"{k} {s:.0f} s, IoU {[round(v, 2) for v in iou]}" for k, (s, iou, _) in runs[-1].items()))
        finally:
            if previous is None:
                os.environ.pop("VISUAL_CACHE_DIR")
            else:
                os.environ["VISUAL_CACHE_DIR"] = previous
    context = visual.ContextShapes.context_classes

    def mean_context(run: dict, name: str) -> float:
        return sum(run[name][1][k] for k in context) / len(context)

    rows = [Row(f"train {name} (seed 0)", runs[0][name][0], "s", summary=False) for name in runs[0]]
    rows.append(Row("all three trainings (seed 0)", sum(v[0] for v in runs[0].values()), "s", Target("<=", 240.0, "s")))
    rows.append(Row("PSPNet with PPM: test mIoU (mean of 3 seeds)",
                    sum(r["PPM"][2] for r in runs) / len(runs), "", Target(">=", 0.7, "")))
    for other, limit in (("no PPM", 0.2), ("per-pixel", 0.3)):
        gaps = [mean_context(r, "PPM") - mean_context(r, other) for r in runs]
        rows.append(Row(f"context-class IoU: PPM minus {other} (mean of 3 seeds)", sum(gaps) / len(gaps), "",
                        Target(">=", limit, ""), note="per seed: " + ", ".join(f"{g:.2f}" for g in gaps)))
    return Section(rows, notes=["load average: " + ", ".join(f"{v:.2f}" for v in os.getloadavg())])
