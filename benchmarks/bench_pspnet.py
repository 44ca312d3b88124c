"""Items 5 and 6 (lesson 04): PSPNet inference speed and memory, and the classroom training demo.

**Inference** (item 5). ``visual.PSPNet`` (150 classes, ADE20K's count) with a ResNet-50 and a
ResNet-18 backbone, on one ``(1, 3, 473, 473)`` image, in ``eval()`` mode under
``torch.inference_mode()``. In the same rotating rounds: torchvision's ``deeplabv3_resnet50``
(150 classes, no aux head: the same dilated ResNet-50 at output stride 8, a different head)
and a float32 ``2048 x 2048`` matrix product, the machine's practical peak. Per round:

* achieved GFLOP/s = forward FLOPs / time, as a fraction of the matmul's GFLOP/s in that round;
* time ratio to ``deeplabv3_resnet50`` (with the FLOP ratio beside it, to tell a slower
  implementation from a bigger model);
* the same PSPNet-ResNet-50 with ``channels_last`` weights and input, to see whether the
  memory layout would help on this machine.

FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` on the meta device for every
model alike (convolutions and matrix products, a multiply-add counts 2). Peak memory is the
peak resident set size (``ru_maxrss``) of a fresh interpreter that imports torch, builds one
model and runs one forward pass; 1 GB = 10^9 bytes.

**Training** (item 6): the classroom demo of notebook 04 (section 5: PSPNet-ResNet18 from
scratch on 65 x 65 ``SyntheticShapes``, ``visual.CLASSROOM_TRAINING``, 64 held-out images, the
same seeds), timed from building the model until the first held-out evaluation with mIoU >= 0.7
(``stop_at_miou``); CPU seconds per step beside it, the steadier number on a busy machine.

    python -m benchmarks --only pspnet training
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from benchmarks.report import REPO, table
from benchmarks.suite import Context, Row, Section, Target, benchmark, fmt_stats, fmt_value
from benchmarks.timing import rounds, summarize

NUM_CLASSES = 150  # ADE20K (Zhou et al. 2017), PSPNet's scene-parsing benchmark
INPUT_SIZE = 473  # PSPNet's crop (Zhao et al. 2017, Sec. 5.1)
MATMUL_N = 2048  # float32 matrix side for the machine's practical peak: big enough to be compute-bound
FRACTION_TARGET = Target(">=", 60.0, "%")  # item 5: achieved GFLOP/s >= 60 % of the matmul's
RSS_TARGET = Target("<=", 1.5, "GB")  # item 5: peak RSS for PSPNet-ResNet101, 150 classes
RSS_ARCH = "resnet101"
BACKBONES = ("resnet50", "resnet18")  # item 5: ResNet-50, "and the same for PSPNet-ResNet18"
DEEPLAB = "deeplabv3_resnet50"
MATMUL = f"matmul {MATMUL_N}"


def pspnet(backbone: str) -> Any:
    import visual

    return visual.PSPNet(NUM_CLASSES, backbone).eval()


def deeplab() -> Any:
    import torchvision

    return torchvision.models.segmentation.deeplabv3_resnet50(
        weights=None, weights_backbone=None, num_classes=NUM_CLASSES, aux_loss=False).eval()


def inference_flops(model: Any, size: int = INPUT_SIZE) -> int:
    """Forward FLOPs of ``model`` (eval mode) for one ``size x size`` image, counted on the meta device."""
    import torch
    from torch.func import functional_call
    from torch.utils.flop_counter import FlopCounterMode

    meta = {name: torch.empty_like(t, device="meta") for name, t in
            [*model.named_parameters(), *model.named_buffers()]}
    x = torch.empty(1, 3, size, size, device="meta")  # (N, C, H, W)
    with FlopCounterMode(display=False) as counter:
        functional_call(model, meta, (x,))
    return int(counter.get_total_flops())


def forward(model: Any, x: Any) -> Callable[[], object]:
    import torch

    def run() -> object:
        with torch.inference_mode():
            return model(x)["out"]

    return run


_RSS_SCRIPT = """
import json, resource, sys
import torch, visual


def status(key):
    # /proc/self/status (Linux): VmRSS now, VmHWM the peak. ru_maxrss is not used on Linux: it
    # keeps the parent's high-water mark across fork + exec, so a child of a big process starts "big".
    try:
        with open("/proc/self/status") as lines:
            for line in lines:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


model = visual.PSPNet({classes}, {backbone!r}).eval()
x = torch.rand(1, 3, {size}, {size})
before = status("VmRSS")
with torch.inference_mode():
    out = model(x)["out"]
print(json.dumps({{"before": before, "peak": status("VmHWM"), "shape": list(out.shape)}}))
"""


def peak_rss_gb(backbone: str) -> tuple[float, float]:
    """Peak RSS (GB) of a fresh interpreter running one forward pass, and its RSS just before the pass."""
    script = _RSS_SCRIPT.format(classes=NUM_CLASSES, backbone=backbone, size=INPUT_SIZE)
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                          timeout=600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"PSPNet-{backbone} forward failed in a fresh interpreter:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result["peak"] / 1e9, result["before"] / 1e9


@benchmark(item=5, key="pspnet", title="PSPNet inference at 1 × 3 × 473 × 473: latency, GFLOP/s, memory",
           source="benchmarks issue, item 5; PSPNet issue (lesson 04)")
def pspnet_inference(ctx: Context) -> Section:
    import torch

    x = torch.rand(1, 3, INPUT_SIZE, INPUT_SIZE, generator=torch.Generator().manual_seed(0))  # (N, C, H, W)
    models = {f"PSPNet-{b}": pspnet(b) for b in BACKBONES}
    models[DEEPLAB] = deeplab()
    flops = {name: inference_flops(model) for name, model in models.items()}
    cl_name = f"PSPNet-{BACKBONES[0]} channels_last"
    models[cl_name] = pspnet(BACKBONES[0]).to(memory_format=torch.channels_last)
    flops[cl_name] = flops[f"PSPNet-{BACKBONES[0]}"]
    a, b = (torch.randn(MATMUL_N, MATMUL_N, generator=torch.Generator().manual_seed(i)) for i in (1, 2))
    out = torch.empty(MATMUL_N, MATMUL_N)
    flops[MATMUL] = 2 * MATMUL_N ** 3
    work: dict[str, Callable[[], object]] = {
        name: forward(model, x.contiguous(memory_format=torch.channels_last) if "channels_last" in name else x)
        for name, model in models.items()}
    work[MATMUL] = lambda: torch.mm(a, b, out=out)
    n = ctx.pick(ctx.slow_repeats + 2, 2)
    ctx.log(f"pspnet: {n} rounds of {list(work)}")
    r = rounds(work, rounds=n, warmup=1, between=lambda i: ctx.log(f"pspnet: round {i + 1}/{n}"))

    def fraction(name: str) -> Any:
        return summarize([100 * (flops[name] / t) / (flops[MATMUL] / m)
                          for t, m in zip(r.times[name], r.times[MATMUL])])

    matmul_gflops = summarize([flops[MATMUL] / m / 1e9 for m in r.times[MATMUL]])
    mm_text = f"float32 matmul {MATMUL_N}²: {fmt_stats(matmul_gflops, 'GFLOP/s')}"
    deeplab_text = f"{DEEPLAB} {fmt_stats(r.stats(DEEPLAB), 's')}"
    rows: list[Row] = []
    rss = {}
    for backbone in (BACKBONES[0], BACKBONES[1]):
        name = f"PSPNet-{backbone}"
        gflops = summarize([flops[name] / t / 1e9 for t in r.times[name]])
        rows += [
            Row(f"{name}: latency", r.stats(name), "s",
                note=f"{flops[name] / 1e9:.0f} GFLOP per image; {fmt_stats(gflops, 'GFLOP/s')}"),
            Row(f"{name}: achieved GFLOP/s / matmul GFLOP/s (per round)", fraction(name), "%", FRACTION_TARGET,
                mm_text),
            Row(f"{name} / {DEEPLAB} time (per round)", r.ratio(name, DEEPLAB), "x", reference=deeplab_text,
                note=f"FLOP ratio {flops[name] / flops[DEEPLAB]:.2f}× ({flops[DEEPLAB] / 1e9:.0f} GFLOP for {DEEPLAB}); "
                     f"{DEEPLAB} reaches {fmt_stats(fraction(DEEPLAB), '%')} of the matmul"),
        ]
    rows.append(Row(f"{cl_name} / default layout (per round)", r.ratio(cl_name, f"PSPNet-{BACKBONES[0]}"), "x",
                    note="below 1 means `channels_last` would be faster here"))
    for backbone in (RSS_ARCH, *BACKBONES):
        samples = [peak_rss_gb(backbone) for _ in range(ctx.pick(2, 1))]
        rss[backbone] = samples
        ctx.log(f"pspnet: peak RSS PSPNet-{backbone}: {samples[0][0]:.2f} GB")
        rows.append(Row(f"PSPNet-{backbone}, {NUM_CLASSES} classes: peak RSS of a fresh process, one forward",
                        summarize([s[0] for s in samples]), "GB", RSS_TARGET if backbone == RSS_ARCH else None,
                        note=f"{fmt_value(summarize([s[1] for s in samples]).median, 'GB')} before the forward "
                             "pass (interpreter, torch, weights)"))
    detail = table(["Model", "GFLOP / image", "Time", "GFLOP/s", "Fraction of matmul"],
                   [(name, f"{flops[name] / 1e9:.1f}", fmt_stats(r.stats(name), "s"),
                     fmt_stats(summarize([flops[name] / t / 1e9 for t in r.times[name]]), ""),
                     fmt_stats(fraction(name), "%")) for name in work], "lrrrr")
    return Section(rows, ["Every workload of the rounds:\n\n" + detail])


TRAINING_TARGET = Target("<=", 90.0, "s")  # item 6: seconds until the held-out mIoU reaches 0.7
TARGET_MIOU = 0.7  # item 6
DEMO_CLASSES = 4  # notebook 04, section 5: background + three shape classes of SyntheticShapes
DEMO_IMAGE_SIZE = 65  # notebook 04: 65 x 65 synthetic images (8k + 1)
DEMO_VAL_IMAGES = 64  # notebook 04: held-out images


def classroom_demo(*, stop_at_miou: float | None, steps: int | None = None) -> tuple[float, float, Any]:
    """Notebook 04's training demo (section 5), timed from building the model.

    Same data, seed, model and ``visual.CLASSROOM_TRAINING`` as the notebook's cell; with
    ``stop_at_miou`` the run ends at the first held-out evaluation that reaches it.

    Returns:
        Wall seconds, CPU seconds of this process (all threads), and the ``History``.
    """
    import dataclasses
    import time

    import torch

    import visual

    config = dataclasses.replace(visual.CLASSROOM_TRAINING, stop_at_miou=stop_at_miou)
    if steps is not None:
        config = dataclasses.replace(config, steps=steps, eval_every=max(1, steps // 2))
    train_data = visual.SyntheticShapes(config.steps * config.batch_size, DEMO_IMAGE_SIZE, DEMO_CLASSES, seed=0)
    val_data = visual.SyntheticShapes(DEMO_VAL_IMAGES, DEMO_IMAGE_SIZE, DEMO_CLASSES, seed=1)
    start, start_cpu = time.perf_counter(), time.process_time()
    torch.manual_seed(0)
    model = visual.PSPNet(DEMO_CLASSES, backbone="resnet18")
    history = visual.train_model(model, train_data, DEMO_CLASSES, config=config, val_dataset=val_data,
                                 progress=False)
    return time.perf_counter() - start, time.process_time() - start_cpu, history


@benchmark(item=6, key="training", title="Classroom training demo: seconds to held-out mIoU ≥ 0.7",
           source="benchmarks issue, item 6; PSPNet issue (lesson 04, section 5's training demo)")
def training_demo(ctx: Context) -> Section:
    runs = []
    for i in range(ctx.pick(2, 1)):
        wall, cpu, history = classroom_demo(stop_at_miou=TARGET_MIOU, steps=ctx.pick(None, 4))
        reached = bool(history.miou) and max(history.miou) >= TARGET_MIOU
        runs.append((wall, cpu, history, reached))
        ctx.log(f"training: run {i + 1}: {wall:.1f} s, held-out mIoU {[round(m, 3) for m in history.miou]} "
                f"at steps {history.eval_step}")
    last = runs[-1][2]
    evals = ", ".join(f"step {s}: {m:.2f}" for s, m in zip(last.eval_step, last.miou))
    steps = summarize([h.step[-1] for _, _, h, _ in runs])
    per_step = summarize([h.train_seconds[-1] / h.step[-1] for _, _, h, _ in runs if h.train_seconds])
    cpu_per_step = summarize([cpu / h.step[-1] for _, cpu, h, _ in runs])
    note = (f"held-out mIoU by step (last run): {evals}; {fmt_stats(per_step, 's')} per training step; "
            f"CPU time of the whole run (all threads, evaluations included) {cpu_per_step.median:.2f} s per step")
    if ctx.quick:
        return Section([Row(f"build + train until held-out mIoU ≥ {TARGET_MIOU}", summarize([r[0] for r in runs]),
                            "s", note=note, skipped="quick mode trains 4 steps")])
    if not all(r[3] for r in runs):
        note += f"; mIoU {TARGET_MIOU} not reached in {int(steps.max)} steps by {sum(not r[3] for r in runs)} run(s)"
    times = summarize([wall if reached else float("inf") for wall, _, _, reached in runs])
    return Section([Row(f"build + train until held-out mIoU ≥ {TARGET_MIOU}", times, "s", TRAINING_TARGET,
                        note=note)])
