"""Item 8 (lesson 05, issue 17): the cost of the official test protocol beyond its forward passes.

``visual.predict_probabilities`` with sliding windows and flip, crop 473 (PSPNet's, Zhao et al.
2017 Sec. 5.1), on one 512 x 683 uint8 image (an ADE20K-like landscape; ``base_size`` 683 keeps
it at that size, so the canvas is 512 x 683: 2 x 2 windows, 8 crops with their mirrors), with a
PSPNet-ResNet50 of random weights (150 classes). In the same rotating rounds, the reference runs
**the same number of plain forward passes**: the 8 crops in the protocol's batches, in
``eval()`` under ``torch.no_grad()``, plus their softmax. The ratio of the two is the protocol's
overhead: resize, padding, normalisation, upsampling, flip and overlap averaging (target <= 1.15x).

Peak memory: on CUDA, ``torch.cuda.max_memory_allocated`` of one protocol call; on the CPU, the
peak resident set size of a fresh interpreter running one call (1 GB = 10^9 bytes). The device
is CUDA when one is present, else the CPU. Quick mode runs a ResNet-18 for one round.

    python -m benchmarks --only evaluation
"""

from __future__ import annotations

import json
import subprocess
import sys

from benchmarks.report import REPO
from benchmarks.suite import Context, Row, Section, Target, benchmark, fmt_stats
from benchmarks.timing import rounds

NUM_CLASSES = 150  # ADE20K (Zhou et al. 2017)
CROP = 473  # PSPNet's test crop for ADE20K and VOC (semseg config: test_h = test_w = 473)
IMAGE_SIZE = (512, 683)  # an ADE20K-like 3:4 landscape image
OVERHEAD_TARGET = Target("<=", 1.15, "x")  # issue 17: sliding + flip vs the same number of plain forwards
PROTOCOL = "predict_probabilities (sliding 473 + flip)"
PLAIN = "plain forwards of the same crops"

_RSS_SCRIPT = """
import json, torch, visual
from visual.inference import predict_probabilities
model = visual.PSPNet({classes}, {backbone!r}).eval()
image = torch.randint(0, 256, (3, {h}, {w}), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
predict_probabilities(model, image, num_classes={classes}, crop_size={crop}, base_size={base})
with open("/proc/self/status") as lines:
    peak = next(int(line.split()[1]) * 1024 for line in lines if line.startswith("VmHWM:"))
print(json.dumps({{"peak": peak}}))
"""


def peak_rss_gb(backbone: str) -> float:
    """Peak RSS (GB) of a fresh interpreter running one protocol call on the CPU (Linux)."""
    script = _RSS_SCRIPT.format(classes=NUM_CLASSES, backbone=backbone, h=IMAGE_SIZE[0], w=IMAGE_SIZE[1],
                                crop=CROP, base=max(IMAGE_SIZE))
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                          timeout=1200, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"predict_probabilities failed in a fresh interpreter:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])["peak"] / 1e9


@benchmark(item=8, key="evaluation", title="Official test protocol: sliding 473 + flip vs plain forwards",
           source="issue 17 (lesson 05, evaluate like the paper), Performance")
def evaluation_overhead(ctx: Context) -> Section:
    import torch

    import visual
    from visual.inference import predict_probabilities, sliding_windows, windows_per_pass

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    backbone = ctx.pick("resnet50", "resnet18")
    torch.manual_seed(0)
    model = visual.PSPNet(NUM_CLASSES, backbone).eval().to(device)
    image = torch.randint(0, 256, (3, *IMAGE_SIZE), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    crops = 2 * len(sliding_windows(*IMAGE_SIZE, CROP, 2 / 3))  # the windows and their mirrors
    per_pass = 2 * windows_per_pass(NUM_CLASSES, (CROP, CROP), flip=True)  # the protocol's batches (memory guard)
    batches = [torch.rand(min(per_pass, crops - i), 3, CROP, CROP, device=device)
               for i in range(0, crops, per_pass)]  # (B, 3, 473, 473) each

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    def protocol() -> None:
        predict_probabilities(model, image, num_classes=NUM_CLASSES, crop_size=CROP, base_size=max(IMAGE_SIZE))
        sync()

    def plain() -> None:
        with torch.no_grad():
            for batch in batches:
                model(batch)["out"].softmax(1)
        sync()

    n = ctx.pick(ctx.slow_repeats, 1)
    ctx.log(f"evaluation: {n} rounds of {crops} crops, PSPNet-{backbone} on {device}")
    r = rounds({PROTOCOL: protocol, PLAIN: plain}, rounds=n, warmup=1,
               between=lambda i: ctx.log(f"evaluation: round {i + 1}/{n}"))
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
        protocol()
        peak, how = torch.cuda.max_memory_allocated() / 1e9, "torch.cuda.max_memory_allocated of one call"
    else:
        peak, how = peak_rss_gb(backbone), "peak RSS of a fresh process running one call"
    where = (f"{crops} crops of {CROP}² for one {IMAGE_SIZE[0]}×{IMAGE_SIZE[1]} image, PSPNet-{backbone}, "
             f"{NUM_CLASSES} classes, on {device}, batches of {per_pass} crops")
    return Section([
        Row(f"{PROTOCOL} / {PLAIN} (per round)", r.ratio(PROTOCOL, PLAIN), "x", OVERHEAD_TARGET,
            f"{PLAIN}: {fmt_stats(r.stats(PLAIN), 's')}", note=where),
        Row(f"{PROTOCOL}: time per image", r.stats(PROTOCOL), "s", note=where),
        Row(f"{PROTOCOL}: peak memory", peak, "GB", note=how),
    ])
