"""Benchmark of lesson 04: PSPNet inference speed and memory, and the classroom training demo.

Plain script, no assertions on time (speed targets live here, not in unit tests):

    .venv/bin/python benchmarks/bench_pspnet.py            # everything
    .venv/bin/python benchmarks/bench_pspnet.py --skip-training --rounds 3

**Inference.** ``visual.PSPNet(150, "resnet50")`` (ADE20K's 150 classes) on one
``(1, 3, 473, 473)`` image, ``eval()`` mode under ``torch.inference_mode()``. In the same
rounds, in an order that rotates every round (A B C, B C A, C A B, ...) so that each sees the
same machine load: torchvision's ``deeplabv3_resnet50(weights=None, weights_backbone=None)``
(the same dilated ResNet-50 at output stride 8, a different head) and a float32
``MATMUL_N x MATMUL_N`` matrix product, the machine's practical peak. Reported: median latency,
achieved GFLOP/s (forward FLOPs from ``torch.utils.flop_counter`` on the meta device / time) as a
fraction of the matmul's GFLOP/s in the same round (target >= 60 %), the per-round time ratio to
DeepLabV3 (with the FLOP ratio beside it), and the peak memory of one forward pass: peak resident
set size (``VmHWM``) of a fresh interpreter that builds the model and runs it once (CPU), or
``torch.cuda.max_memory_allocated`` (GPU). (``ru_maxrss`` is no good here: on Linux a child
inherits its parent's high-water mark across ``fork``/``exec``.)

**Training.** The live demo of notebook 04 (``visual.CLASSROOM_TRAINING``: PSPNet-ResNet18 from
scratch, 65x65 ``SyntheticShapes``, 60 steps of 8 images), evaluated on the 64 held-out images every
``--eval-every`` steps: seconds (wall and CPU, evaluation excluded) until the held-out mIoU first
reaches 0.7, and for the whole schedule. On a shared machine the CPU time per step is the steadier
number: two free cores run the demo in about CPU time / (2 x parallel efficiency).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a plain script from anywhere
    sys.path.insert(0, str(REPO))

NUM_CLASSES = 150  # ADE20K (Zhou et al. 2017), PSPNet's scene-parsing benchmark (paper Sec. 5.2)
INPUT_SIZE = 473  # PSPNet's crop for ADE20K and VOC (paper Sec. 5.1)
MATMUL_N = 2048  # float32 matrix side: large enough to be compute-bound, the practical peak
TARGET_FRACTION = 0.60  # achieved GFLOP/s >= 60 % of the matmul's (the target)
TARGET_MIOU = 0.7  # the training demo's goal on held-out images
TARGET_SECONDS = 90.0  # ... within 90 s on 2 CPU cores
VAL_IMAGES = 64  # held-out images, as in the notebook


def build_pspnet():
    import visual

    return visual.PSPNet(NUM_CLASSES, backbone="resnet50").eval()


def build_deeplab():
    import torchvision

    return torchvision.models.segmentation.deeplabv3_resnet50(
        weights=None, weights_backbone=None, num_classes=NUM_CLASSES, aux_loss=False).eval()


def forward_flops(model, size: int = INPUT_SIZE) -> int:
    """Forward FLOPs for one ``size x size`` image, counted on the meta device (model untouched)."""
    import torch
    from torch.func import functional_call
    from torch.utils.flop_counter import FlopCounterMode

    meta = {name: torch.empty_like(t, device="meta") for name, t in [*model.named_parameters(), *model.named_buffers()]}
    with FlopCounterMode(display=False) as counter:
        functional_call(model, meta, (torch.empty(1, 3, size, size, device="meta"),))
    return int(counter.get_total_flops())


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def inference(rounds: int, device_name: str) -> dict:
    import torch

    device = torch.device(device_name)
    torch.manual_seed(0)
    models = {"pspnet_resnet50": build_pspnet().to(device), "deeplabv3_resnet50": build_deeplab().to(device)}
    flops = {name: forward_flops(model) for name, model in models.items()}
    x = torch.rand(1, 3, INPUT_SIZE, INPUT_SIZE, device=device)
    a = torch.rand(MATMUL_N, MATMUL_N, device=device)
    flops["matmul"] = 2 * MATMUL_N**3

    def run_model(model):
        def call():
            with torch.inference_mode():
                model(x)
        return call

    calls = {name: run_model(model) for name, model in models.items()}
    calls["matmul"] = lambda: a @ a
    for call in calls.values():  # warm-up: allocator, kernels, first-touch pages
        call()
    names = list(calls)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            repeats = 5 if name == "matmul" else 1
            _sync(device)
            start = time.perf_counter()
            for _ in range(repeats):
                calls[name]()
            _sync(device)
            times[name].append((time.perf_counter() - start) / repeats)
        print(f"  round {r + 1}/{rounds}: " + ", ".join(f"{n} {times[n][-1] * 1e3:.0f} ms" for n in names), flush=True)
    gflops = {name: [flops[name] / t / 1e9 for t in times[name]] for name in names}
    fraction = [p / m for p, m in zip(gflops["pspnet_resnet50"], gflops["matmul"])]
    ratio = [p / d for p, d in zip(times["pspnet_resnet50"], times["deeplabv3_resnet50"])]
    return {
        "device": str(device),
        "threads": torch.get_num_threads(),
        "rounds": rounds,
        "latency_ms": {n: statistics.median(times[n]) * 1e3 for n in names},
        "gflop_per_image": {n: flops[n] / 1e9 for n in ("pspnet_resnet50", "deeplabv3_resnet50")},
        "achieved_gflops": {n: statistics.median(gflops[n]) for n in names},
        "fraction_of_matmul": statistics.median(fraction),
        "fraction_per_round": fraction,
        "time_ratio_to_deeplabv3": statistics.median(ratio),
        "flop_ratio_to_deeplabv3": flops["pspnet_resnet50"] / flops["deeplabv3_resnet50"],
    }


PEAK_SCRIPT = r"""
import json, sys, torch
sys.path.insert(0, {repo!r})
from benchmarks.bench_pspnet import build_deeplab, build_pspnet

def status(field):  # Linux: VmRSS (now) and VmHWM (peak) of this process, in bytes; exec resets them
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # elsewhere: ru_maxrss (KiB on Linux)

device = torch.device({device!r})
model = {builder}().to(device)
x = torch.rand(1, 3, {size}, {size}, device=device)
before = status("VmRSS")
if device.type == "cuda":
    torch.cuda.reset_peak_memory_stats(device)
with torch.inference_mode():
    model(x)
gpu = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
print(json.dumps({{"rss_before_forward": before, "peak_rss": status("VmHWM"), "cuda_peak_allocated": gpu}}))
"""


def peak_memory(builder: str, device_name: str) -> dict:
    """Peak memory of one forward pass, measured in a fresh interpreter (bytes)."""
    code = PEAK_SCRIPT.format(repo=str(REPO), device=device_name, builder=builder, size=INPUT_SIZE)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def training(eval_every: int) -> dict:
    import torch

    from visual import CLASSROOM_TRAINING, PSPNet, SyntheticShapes, train_model

    config = replace(CLASSROOM_TRAINING, eval_every=eval_every)
    train_data = SyntheticShapes(config.steps * config.batch_size, 65, 4, seed=0)
    val_data = SyntheticShapes(VAL_IMAGES, 65, 4, seed=1)
    torch.manual_seed(0)
    model = PSPNet(4, backbone="resnet18")
    cpu_start = time.process_time()
    history = train_model(model, train_data, 4, config=config, val_dataset=val_data, progress=False)
    cpu_total = time.process_time() - cpu_start
    reached = next((i for i, m in enumerate(history.miou) if m >= TARGET_MIOU), None)
    steps = config.steps
    train_total = history.train_seconds[-1]
    return {
        "steps": steps,
        "batch_size": config.batch_size,
        "threads": torch.get_num_threads(),
        "miou_by_step": dict(zip(history.eval_step, [round(m, 4) for m in history.miou])),
        "final_miou": history.miou[-1],
        "final_pixel_accuracy": history.pixel_accuracy[-1],
        "step_reaching_target": history.eval_step[reached] if reached is not None else None,
        "train_seconds_to_target": history.train_seconds[reached] if reached is not None else None,
        "train_seconds_total": train_total,
        "wall_seconds_with_evaluations": history.seconds,
        "cpu_seconds_with_evaluations": cpu_total,
        "wall_seconds_per_step": train_total / steps,
        "cpu_seconds_per_step_with_evaluations": cpu_total / steps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="alternating inference rounds")
    parser.add_argument("--device", default="cpu", help="torch device for the inference part (cpu, cuda)")
    parser.add_argument("--eval-every", type=int, default=10, help="held-out evaluation period of the training run")
    parser.add_argument("--skip-inference", action="store_true")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()
    results: dict = {}
    if not args.skip_inference:
        print(f"Inference: PSPNet-ResNet50 vs deeplabv3_resnet50 vs {MATMUL_N}^2 matmul, 1x3x{INPUT_SIZE}x{INPUT_SIZE}")
        inf = inference(args.rounds, args.device)
        inf["memory"] = {b: peak_memory(b, args.device) for b in ("build_pspnet", "build_deeplab")}
        results["inference"] = inf
        lat, ach = inf["latency_ms"], inf["achieved_gflops"]
        print(f"  PSPNet-ResNet50: {lat['pspnet_resnet50']:.0f} ms median, {inf['gflop_per_image']['pspnet_resnet50']:.1f}"
              f" GFLOP -> {ach['pspnet_resnet50']:.1f} GFLOP/s")
        print(f"  float32 matmul:  {ach['matmul']:.1f} GFLOP/s; PSPNet achieves {100 * inf['fraction_of_matmul']:.0f}% "
              f"of it (target >= {100 * TARGET_FRACTION:.0f}%)")
        print(f"  deeplabv3_resnet50: {lat['deeplabv3_resnet50']:.0f} ms; PSPNet/DeepLabV3 time ratio "
              f"{inf['time_ratio_to_deeplabv3']:.2f} (FLOP ratio {inf['flop_ratio_to_deeplabv3']:.2f})")
        for builder, mem in inf["memory"].items():
            gpu = f", CUDA peak {mem['cuda_peak_allocated'] / 1e9:.2f} GB" if mem["cuda_peak_allocated"] else ""
            print(f"  {builder}: peak RSS {mem['peak_rss'] / 1e9:.2f} GB (before the forward "
                  f"{mem['rss_before_forward'] / 1e9:.2f} GB){gpu}")
    if not args.skip_training:
        print("Training demo: PSPNet-ResNet18 from scratch, 65x65 SyntheticShapes, CLASSROOM_TRAINING")
        tr = training(args.eval_every)
        results["training"] = tr
        print(f"  held-out mIoU by step: {tr['miou_by_step']}")
        if tr["step_reaching_target"] is None:
            print(f"  mIoU never reached {TARGET_MIOU}")
        else:
            print(f"  mIoU >= {TARGET_MIOU} at step {tr['step_reaching_target']}: {tr['train_seconds_to_target']:.1f} s of "
                  f"training (evaluations excluded)")
        print(f"  whole schedule ({tr['steps']} steps): {tr['train_seconds_total']:.1f} s training, "
              f"{tr['wall_seconds_with_evaluations']:.1f} s wall and {tr['cpu_seconds_with_evaluations']:.1f} s CPU "
              f"with evaluations, {tr['threads']} threads; target {TARGET_SECONDS:.0f} s on 2 free cores")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
