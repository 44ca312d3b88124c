"""Shared by tests/test_segment_*.py: a tiny dataset in the official layout and a small config."""

from __future__ import annotations

import os
import subprocess
import sys

import torch

from visual.segment.config import load_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_CONFIG = os.path.join(ROOT, "configs", "tiny_cpu.yaml")


def tiny_config(data_root: str, save_path: str, *overrides: str) -> dict:
    """configs/tiny_cpu.yaml on ``data_root`` (made by make_tiny_dataset), saving under ``save_path``."""
    return load_config(TINY_CONFIG, [
        f"DATA.data_root={data_root}", f"DATA.train_list={data_root}/list/train.txt",
        f"DATA.val_list={data_root}/list/val.txt", f"TEST.test_list={data_root}/list/val.txt",
        f"TRAIN.save_path={save_path}", "TRAIN.sync_bn=False", *overrides,
    ])


def weights(path: str) -> dict[str, torch.Tensor]:
    """The state_dict of a checkpoint file."""
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


def run_cli(args: list[str], *, torchrun: int = 0, timeout: float = 240, cwd: str | None = None):
    """Run ``python -m visual.segment ARGS`` (under torchrun with ``torchrun`` processes on 127.0.0.1)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo", "PYTHONPATH": ROOT}
    launcher = [sys.executable]
    if torchrun:
        launcher += ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={torchrun}"]
    return subprocess.run([*launcher, "-m", "visual.segment", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=cwd or ROOT)
