"""The training loop on PyTorch's distributed engine (hszhao/semseg ``tool/train.py``, with torchrun).

One process per device, launched by ``torchrun``: :func:`setup_distributed` reads torchrun's
environment (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``/``MASTER_PORT``) and
joins the process group — nccl on CUDA, gloo on the CPU. A plain ``python -m visual.segment``
run is one process without a process group. Per optimizer step (one *iteration*):

* each process takes ``batch_size / (world_size * accumulate_steps)`` images per micro-batch
  from a ``DistributedSampler`` (reshuffled by ``set_epoch``), so ``batch_size`` is the global
  batch; DistributedDataParallel averages the gradients over processes;
* loss = CE(out) + ``aux_weight`` * CE(aux) (``visual.pspnet_loss``), under ``torch.autocast``
  when ``amp`` is set (CUDA only; fp16 with a ``GradScaler``);
* SGD with momentum and weight decay; the backbone at ``base_lr``, ``ppm``/``head``/``aux_head``
  at 10x; ``PolynomialLR`` (``power`` 0.9) over ``epochs * iterations per epoch``, stepped per
  iteration — semseg's ``base_lr * (1 - iter / max_iter) ** power``.

``sync_bn`` converts BatchNorm to ``nn.SyncBatchNorm`` on CUDA. SyncBatchNorm refuses CPU
tensors, so on the CPU the engine warns once and keeps per-process BatchNorm.

Rank 0 shows a tqdm bar, prints a line every ``print_freq`` iterations (loss, lr) and one per
epoch (loss, mIoU, mAcc, allAcc of the training predictions, summed over processes), appends
every line's values to ``save_path/metrics.jsonl``, writes TensorBoard events when the
``tensorboard`` package is installed, and saves checkpoints (:mod:`visual.segment.checkpoint`).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler
from tqdm.auto import tqdm

import visual
from visual.checks import check_tensor
from visual.segment.checkpoint import (checkpoint_path, model_state, read_checkpoint, rng_state, save_checkpoint,
                                       set_rng_state)
from visual.segment.data import SegmentationList
from visual.segment.model import build_model, load_backbone_weights, load_weights, param_groups
from visual.segment.transforms import train_transform

__all__ = ["Runtime", "Logger", "setup_distributed", "split_batch", "freeze_batchnorm", "label_areas",
           "area_metrics", "train"]

SYNC_BN_CPU_WARNING = ("TRAIN.sync_bn: nn.SyncBatchNorm needs CUDA tensors; on the CPU each process "
                       "keeps its own BatchNorm statistics")
AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
EPS = 1e-10  # semseg util/util.py: iou = intersection / (union + 1e-10)


@dataclass(frozen=True)
class Runtime:
    """Where this process runs: its rank among ``world_size`` processes and its device."""

    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @property
    def main(self) -> bool:
        """Rank 0 logs and saves."""
        return self.rank == 0


def setup_distributed() -> Runtime:
    """Join torchrun's process group (nccl on CUDA, gloo on the CPU), or run alone without one."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Runtime(rank, local_rank, world_size, device)


def split_batch(batch_size: int, world_size: int, accumulate_steps: int) -> int:
    """Images per process and micro-batch: ``batch_size / (world_size * accumulate_steps)``.

    Raises:
        ValueError: naming ``TRAIN.batch_size`` when it does not divide evenly.
    """
    parts = world_size * accumulate_steps
    if batch_size % parts:
        raise ValueError(f"TRAIN.batch_size={batch_size} (the global batch) must be a multiple of "
                         f"world_size * accumulate_steps = {world_size} * {accumulate_steps}")
    return batch_size // parts


def freeze_batchnorm(model: nn.Module) -> None:
    """Put every BatchNorm layer in eval mode: running statistics used and left unchanged."""
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm2d, nn.SyncBatchNorm)):
            module.eval()


def label_areas(pred: torch.Tensor, target: torch.Tensor, num_classes: int, ignore_index: int) -> torch.Tensor:
    """Per-class ``[intersection, union, target]`` pixel counts, ``(3, K)`` int64 (semseg ``intersectionAndUnionGPU``).

    ``pred`` and ``target`` are integer tensors of one shape, e.g. ``(N, H, W)``.
    """
    check_tensor(pred, "pred", dtype="integer")
    check_tensor(target, "target", dtype="integer")
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have one shape, got {tuple(pred.shape)} and {tuple(target.shape)}")
    valid = target != ignore_index  # (N, H, W)
    pred, target = pred[valid], target[valid]  # (P,)
    intersection = torch.bincount(pred[pred == target], minlength=num_classes)  # (K,)
    area_pred = torch.bincount(pred, minlength=num_classes)
    area_target = torch.bincount(target, minlength=num_classes)
    return torch.stack([intersection, area_pred + area_target - intersection, area_target])  # (3, K)


def area_metrics(areas: torch.Tensor) -> dict[str, float]:
    """mIoU, mAcc (over classes present in the labels or predictions) and allAcc from :func:`label_areas` sums."""
    intersection, union, target = areas.double()
    present = union > 0
    iou = intersection / (union + EPS)  # (K,)
    acc = intersection / (target + EPS)
    seen = target > 0
    return {"mIoU": float(iou[present].mean()) if present.any() else 0.0,
            "mAcc": float(acc[seen].mean()) if seen.any() else 0.0,
            "allAcc": float(intersection.sum() / (target.sum() + EPS))}


class Logger:
    """Rank 0's output: printed lines, ``metrics.jsonl``, TensorBoard events (when installed)."""

    def __init__(self, save_path: str, enabled: bool) -> None:
        self.enabled, self.writer, self.path = enabled, None, os.path.join(save_path, "metrics.jsonl")
        if not enabled:
            return
        os.makedirs(save_path, exist_ok=True)
        try:
            from torch.utils.tensorboard import SummaryWriter  # optional: needs the tensorboard package
        except ImportError:
            return
        self.writer = SummaryWriter(save_path)

    def log(self, kind: str, step: int, values: Mapping[str, Any], text: str) -> None:
        if not self.enabled:
            return
        tqdm.write(text)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"kind": kind, "iteration": step, **values}) + "\n")
        if self.writer is not None:
            for key, value in values.items():
                if isinstance(value, float):
                    self.writer.add_scalar(f"{kind}/{key}", value, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _prepare_model(config: Mapping[str, Any], runtime: Runtime) -> tuple[nn.Module, nn.Module]:
    train = config["TRAIN"]
    model = build_model(config)
    if train["backbone_weights"]:
        load_backbone_weights(model, train["backbone_weights"], train)
    if train["weight"]:
        load_weights(model, train["weight"], train)
    if train["sync_bn"] and runtime.device.type == "cuda":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    elif train["sync_bn"] and runtime.main:
        warnings.warn(SYNC_BN_CPU_WARNING, RuntimeWarning, stacklevel=3)
    model = model.to(runtime.device)
    if runtime.world_size == 1:
        return model, model
    ids = [runtime.local_rank] if runtime.device.type == "cuda" else None
    return model, DistributedDataParallel(model, device_ids=ids)


def _autocast(device: torch.device, amp: str | None) -> contextlib.AbstractContextManager:
    # No autocast context at all in float32: even a disabled one costs ~10 % per step on the CPU.
    return torch.autocast(device.type, dtype=AMP_DTYPES[amp]) if amp else contextlib.nullcontext()


def _all_reduce(tensor: torch.Tensor, runtime: Runtime) -> torch.Tensor:
    if runtime.world_size > 1:
        dist.all_reduce(tensor)
    return tensor


def train(config: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Train PSPNet as ``config`` says (one process, or one of torchrun's).

    Args:
        config: from :func:`visual.segment.config.load_config`.

    Returns:
        ``{"epoch", "iteration", "checkpoint" (last path or None), "history" (epoch records), "model"}``.

    Raises:
        ValueError: a batch size that does not split, a list file problem (naming its line).
    """
    data, train_cfg = config["DATA"], config["TRAIN"]
    runtime = setup_distributed()
    accumulate = train_cfg["accumulate_steps"]
    per_process = split_batch(train_cfg["batch_size"], runtime.world_size, accumulate)
    amp = train_cfg["amp"] if runtime.device.type == "cuda" else None
    if train_cfg["amp"] and amp is None and runtime.main:
        warnings.warn("TRAIN.amp: mixed precision runs on CUDA only; training in float32", RuntimeWarning, stacklevel=2)
    seed = train_cfg["manual_seed"]
    if seed is not None:
        torch.manual_seed(seed)
        random.seed(seed)
    dataset = SegmentationList(data["train_list"], data["data_root"], train_transform(train_cfg),
                               classes=data["classes"], ignore_label=train_cfg["ignore_label"])
    raw_model, model = _prepare_model(config, runtime)
    if seed is not None:  # same weights everywhere (DDP also broadcasts rank 0's); own augmentation per rank
        torch.manual_seed(seed + runtime.rank)
        random.seed(seed + runtime.rank)
    sampler = DistributedSampler(dataset, num_replicas=runtime.world_size, rank=runtime.rank, shuffle=True,
                                 seed=seed or 0, drop_last=True)
    loader = DataLoader(dataset, batch_size=per_process, sampler=sampler, num_workers=train_cfg["workers"],
                        pin_memory=runtime.device.type == "cuda", drop_last=True)
    per_epoch = len(loader) // accumulate
    if per_epoch == 0:
        raise ValueError(f"TRAIN.batch_size={train_cfg['batch_size']} is larger than the {len(dataset)} images "
                         f"of DATA.train_list (split over {runtime.world_size} process(es))")
    optimizer = torch.optim.SGD(param_groups(raw_model, train_cfg["base_lr"]), lr=train_cfg["base_lr"],
                                momentum=train_cfg["momentum"], weight_decay=train_cfg["weight_decay"])
    scheduler = torch.optim.lr_scheduler.PolynomialLR(optimizer, total_iters=train_cfg["epochs"] * per_epoch,
                                                      power=train_cfg["power"])
    scaler = torch.amp.GradScaler(runtime.device.type, enabled=amp == "fp16")
    start_epoch, iteration = train_cfg["start_epoch"], 0
    if train_cfg["resume"]:
        checkpoint = read_checkpoint(train_cfg["resume"])
        load_weights(raw_model, train_cfg["resume"], train_cfg, "TRAIN.resume")
        optimizer.load_state_dict(checkpoint["optimizer"])
        for key, target in (("scheduler", scheduler), ("scaler", scaler)):
            if checkpoint.get(key):
                target.load_state_dict(checkpoint[key])
        start_epoch, iteration = checkpoint["epoch"], checkpoint.get("iteration", checkpoint["epoch"] * per_epoch)
        states = checkpoint.get("rng") or []
        if len(states) == runtime.world_size:
            set_rng_state(states[runtime.rank])
    logger = Logger(train_cfg["save_path"], runtime.main)
    max_iter = train_cfg["max_iter"] or train_cfg["epochs"] * per_epoch
    history: list[dict[str, Any]] = []
    last_path = None
    try:
        for epoch in range(start_epoch, train_cfg["epochs"]):
            if iteration >= max_iter:
                break
            sampler.set_epoch(epoch)
            model.train()
            if train_cfg["freeze_bn"]:
                freeze_batchnorm(model)
            areas = torch.zeros(3, data["classes"], dtype=torch.int64, device=runtime.device)
            loss_sum = torch.zeros((), dtype=torch.float64, device=runtime.device)
            batches = iter(loader)
            steps = min(per_epoch, max_iter - iteration)
            started = time.perf_counter()
            for step in tqdm(range(steps), desc=f"epoch {epoch + 1}/{train_cfg['epochs']}", disable=not runtime.main,
                             leave=False, dynamic_ncols=True):
                optimizer.zero_grad(set_to_none=True)
                step_loss = torch.zeros((), device=runtime.device)
                for micro in range(accumulate):
                    images, labels = next(batches)
                    images = images.to(runtime.device, non_blocking=True)  # (n, 3, h, w)
                    labels = labels.to(runtime.device, non_blocking=True)  # (n, h, w)
                    syncing = micro == accumulate - 1 or runtime.world_size == 1
                    with (contextlib.nullcontext() if syncing else model.no_sync()):
                        with _autocast(runtime.device, amp):
                            outputs = model(images)  # {"out": (n, K, h, w), "aux": ...}
                            loss = visual.pspnet_loss(outputs, labels, train_cfg["aux_weight"],
                                                      train_cfg["ignore_label"])
                        scaler.scale(loss / accumulate).backward()
                    step_loss += loss.detach() / accumulate
                    areas += label_areas(outputs["out"].detach().argmax(1), labels, data["classes"],
                                         train_cfg["ignore_label"])
                scaler.step(optimizer)
                scaler.update()
                lr = optimizer.param_groups[0]["lr"]
                scheduler.step()
                iteration += 1
                loss_sum += step_loss
                if iteration % train_cfg["print_freq"] == 0:
                    value = float(_all_reduce(step_loss.clone(), runtime)) / runtime.world_size
                    logger.log("train", iteration, {"epoch": epoch + 1, "loss": value, "lr": lr},
                               f"Epoch [{epoch + 1}/{train_cfg['epochs']}][{step + 1}/{per_epoch}] "
                               f"iteration {iteration} loss {value:.4f} lr {lr:.6f}")
            _all_reduce(areas, runtime)
            mean_loss = float(_all_reduce(loss_sum, runtime)) / (runtime.world_size * steps)
            record = {"epoch": epoch + 1, "loss": mean_loss, **area_metrics(areas),
                      "seconds": time.perf_counter() - started}
            history.append(record)
            logger.log("epoch", iteration, record,
                       f"Epoch [{epoch + 1}/{train_cfg['epochs']}] loss {mean_loss:.4f} mIoU {record['mIoU']:.4f} "
                       f"mAcc {record['mAcc']:.4f} allAcc {record['allAcc']:.4f}")
            if steps < per_epoch:  # stopped by max_iter mid-epoch: no checkpoint of a partial epoch
                break
            if (epoch + 1) % train_cfg["save_freq"] == 0 or epoch + 1 == train_cfg["epochs"]:
                last_path = _save(config, epoch + 1, iteration, raw_model, optimizer, scheduler, scaler, runtime)
    finally:
        logger.close()
    return {"epoch": history[-1]["epoch"] if history else start_epoch, "iteration": iteration,
            "checkpoint": last_path, "history": history, "model": raw_model}


def _save(config: Mapping[str, Any], epoch: int, iteration: int, model: nn.Module, optimizer: Any,
          scheduler: Any, scaler: Any, runtime: Runtime) -> str:
    states: list[Any] = [None] * runtime.world_size
    if runtime.world_size > 1:
        dist.all_gather_object(states, rng_state())
    else:
        states = [rng_state()]
    path = checkpoint_path(config["TRAIN"]["save_path"], epoch)
    if runtime.main:
        save_checkpoint(path, {
            "epoch": epoch, "state_dict": model_state(model, config["TRAIN"]), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict(), "rng": states,
            "iteration": iteration, "config": {k: dict(v) for k, v in config.items()},
        })
    if runtime.world_size > 1:
        dist.barrier()
    return path
