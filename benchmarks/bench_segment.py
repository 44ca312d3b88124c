"""Item 18 (training issue): overhead of the ``visual.segment`` engine, and DDP on the CPU.

**Engine overhead.** ``visual.segment.train`` (sampler, poly schedule, metrics, logging,
checkpoints) against a minimal hand loop — the same PSPNet-ResNet18, the same tiny dataset
(``visual.segment.tiny``, 33 x 33, 3 classes), the same ``DataLoader`` and v2 transforms, SGD,
``visual.pspnet_loss`` — in the same rotating rounds. Each side trains two epochs of
``ITERATIONS`` iterations at batch ``BATCH`` and times its second epoch (the first pays oneDNN's
kernel selection); the row is iterations/s of the engine over the hand loop's (target >= 0.9x).

**DDP.** ``torchrun --standalone --nproc_per_node=2 -m visual.segment train`` (gloo, one
thread per process) against one process, the same global batch; each run's second epoch
seconds come from its ``metrics.jsonl``. Reported only: on a 2-core machine shared with other
work two processes rarely gain.

    python -m benchmarks --only segment
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from benchmarks.report import REPO
from benchmarks.suite import Context, Row, Section, Target, benchmark, fmt_stats
from benchmarks.timing import rounds

OVERHEAD_TARGET = Target(">=", 0.9, "x")  # training issue: engine >= 0.9x a minimal hand loop
BATCH = 4  # the tiny config's global batch
ITERATIONS = 4  # iterations per epoch: 16 images / batch 4
CONFIG = os.path.join(REPO, "configs", "tiny_cpu.yaml")


def _overrides(root: str, save: str) -> list[str]:
    return [f"DATA.data_root={root}", f"DATA.train_list={root}/list/train.txt", f"TRAIN.save_path={save}",
            "TRAIN.epochs=2", "TRAIN.sync_bn=False", "TRAIN.print_freq=1000", "TRAIN.save_freq=1000"]


def engine_epoch(root: str) -> float:
    """Seconds of the engine's second epoch."""
    from visual.segment import load_config, train

    with tempfile.TemporaryDirectory() as save:
        history = train(load_config(CONFIG, _overrides(root, save)))["history"]
    return history[1]["seconds"]


def hand_epoch(root: str) -> float:
    """Seconds of the second epoch of a minimal loop over the same data and model."""
    import torch
    from torch.utils.data import DataLoader

    import visual
    from visual.segment import load_config
    from visual.segment.data import SegmentationList
    from visual.segment.transforms import train_transform

    config = load_config(CONFIG, _overrides(root, "unused"))
    torch.manual_seed(0)
    model = visual.PSPNet(3, backbone="resnet18").train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    dataset = SegmentationList(f"{root}/list/train.txt", root, train_transform(config["TRAIN"]))
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, drop_last=True)
    seconds = 0.0
    for _ in range(2):
        start = time.perf_counter()
        for images, labels in loader:
            optimizer.zero_grad()
            visual.pspnet_loss(model(images), labels).backward()
            optimizer.step()
        seconds = time.perf_counter() - start
    return seconds


def cli_epoch(root: str, processes: int) -> float:
    """Second-epoch seconds of ``visual.segment train`` in ``processes`` processes (torchrun when > 1)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo", "PYTHONPATH": REPO}
    launcher = [sys.executable] + (["-m", "torch.distributed.run", "--standalone",
                                    f"--nproc_per_node={processes}"] if processes > 1 else [])
    with tempfile.TemporaryDirectory() as save:
        subprocess.run([*launcher, "-m", "visual.segment", "train", "--config", CONFIG, "--set",
                        *_overrides(root, save)], check=True, capture_output=True, env=env, timeout=600)
        with open(os.path.join(save, "metrics.jsonl"), encoding="utf-8") as handle:
            epochs = [r for r in map(json.loads, handle) if r["kind"] == "epoch"]
    return epochs[1]["seconds"]


@benchmark(item=18, key="segment", title="visual.segment: engine overhead vs a hand loop; DDP 2 processes (gloo)",
           source="training issue (issue 18), Performance")
def segment_engine(ctx: Context) -> Section:
    from visual.segment.tiny import make_tiny_dataset

    with tempfile.TemporaryDirectory() as root:
        make_tiny_dataset(root, count=BATCH * ITERATIONS, size=33)
        r = rounds({"engine": lambda: engine_epoch(root), "hand loop": lambda: hand_epoch(root)},
                   rounds=ctx.pick(3, 1), warmup=0, self_timed=True)
        ddp = rounds({"1 process": lambda: cli_epoch(root, 1), "2 processes": lambda: cli_epoch(root, 2)},
                     rounds=ctx.pick(2, 1), warmup=0, self_timed=True)
    engine, hand = r.stats("engine"), r.stats("hand loop")
    speed = r.ratio("hand loop", "engine")  # = (iterations/s of the engine) / (iterations/s of the hand loop)
    return Section([
        Row("engine iterations/s ÷ hand loop's (PSPNet-ResNet18, batch 4, 33 × 33)", speed, "x", OVERHEAD_TARGET,
            reference=f"hand loop {fmt_stats(hand.scaled(1 / ITERATIONS), 's')} per iteration",
            note=f"engine {fmt_stats(engine.scaled(1 / ITERATIONS), 's')} per iteration"),
        Row("DDP 2 processes (gloo) ÷ 1 process, iterations/s, global batch 4", ddp.ratio("1 process", "2 processes"),
            "x", reference=f"1 process {fmt_stats(ddp.stats('1 process').scaled(1 / ITERATIONS), 's')} per iteration",
            note=f"2 processes {fmt_stats(ddp.stats('2 processes').scaled(1 / ITERATIONS), 's')} per iteration; "
                 "one thread per process"),
    ])
