"""Train a segmentation model the way PSPNet was trained (Zhao et al. 2017, Sec. 5.1), at classroom
scale: SGD, the "poly" schedule, the auxiliary loss; and where each loss sends gradients."""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import torch
from torch import nn
from torch.optim.lr_scheduler import PolynomialLR
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from visual.checks import check_bool, check_float, check_int, check_module
from visual.metrics import SegmentationMetrics, evaluate, model_device
from visual.models.pspnet import DEFAULTS as PSPNET_DEFAULTS
from visual.models.pspnet import MAX_CLASSES, pspnet_loss

__all__ = ["TrainConfig", "PAPER_TRAINING", "CLASSROOM_TRAINING", "NEW_LAYERS", "poly_lr", "History",
           "parameter_groups", "train_model", "GRADIENT_PARTS", "loss_gradients", "combined_gradient_norms",
           "check_gradients"]

MAX_STEPS = 10**7  # far beyond the paper's 150K iterations
NEW_LAYERS = ("ppm", "head", "aux_head")  # semseg train.py: modules_new = [model.ppm, model.cls, model.aux]


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; the defaults are the paper's (Zhao et al. 2017, Sec. 5.1), each with its source.

    :data:`NEW_LAYERS` train at ``head_lr_multiplier * base_lr``; held-out evaluation runs every
    ``eval_every`` steps and at the end; ``None`` turns ``eval_every``/``seed``/``stop_at_miou``/``patience`` off.
    """

    steps: int = 150_000  # paper Sec. 5.1: 150K iterations on ImageNet scene parsing (ADE20K)
    batch_size: int = 16  # paper Sec. 5.1: "batchsize ... 16"
    base_lr: float = 0.01  # paper Sec. 5.1: base learning rate 0.01
    head_lr_multiplier: float = 10.0  # hszhao/semseg tool/train.py: params of modules_new get base_lr * 10
    lr_power: float = 0.9  # paper Sec. 5.1: "poly" policy with power 0.9
    momentum: float = 0.9  # paper Sec. 5.1: momentum 0.9
    weight_decay: float = 1e-4  # paper Sec. 5.1: weight decay 0.0001
    aux_weight: float = PSPNET_DEFAULTS.aux_weight  # paper Sec. 4 and Table 2: alpha = 0.4
    ignore_index: int = PSPNET_DEFAULTS.ignore_index  # semseg ignore_label: 255
    eval_every: int | None = None  # ours: evaluate only at the end (the paper evaluates after training)
    eval_batch_size: int = 16  # ours: inference batch, any size gives the same metrics
    seed: int | None = 0  # ours: reproducible runs
    stop_at_miou: float | None = None  # ours: run the whole schedule, as the paper does
    patience: int | None = None  # ours: stop after this many evaluations without a better mIoU, keep the best

    def __post_init__(self) -> None:
        for name, minimum in (("steps", 1), ("batch_size", 1), ("eval_batch_size", 1), ("ignore_index", None)):
            check_int(getattr(self, name), name, minimum=minimum, maximum=MAX_STEPS if name == "steps" else None)
        for name, maximum, positive in (("base_lr", None, True), ("head_lr_multiplier", None, True),
                                        ("lr_power", None, False), ("momentum", 0.999, False),
                                        ("weight_decay", None, False), ("aux_weight", None, False)):
            check_float(getattr(self, name), name, minimum=0.0, maximum=maximum, open_minimum=positive)
        for name, check, bounds in (("eval_every", check_int, (1, None)), ("seed", check_int, (0, None)),
                                    ("stop_at_miou", check_float, (0.0, 1.0)), ("patience", check_int, (1, None))):
            if getattr(self, name) is not None:  # None: the feature is off
                check(getattr(self, name), name, minimum=bounds[0], maximum=bounds[1])


PAPER_TRAINING = TrainConfig()
# Notebook 04's live demo: PSPNet-ResNet18 from scratch on 65x65 SyntheticShapes. A step of 8 images
# (66 GFLOP) takes 1.1-1.2 s on one core: 60 steps and 3 evaluations fit in 90 s; it stops at mIoU 0.7.
# From scratch the rate is 5x the paper's; semseg's 10x head rate diverges here (mIoU 0.44 after 60
# steps), 1x reaches 0.73 at step 40 (benchmarks/bench_pspnet.py, one thread).
CLASSROOM_TRAINING = replace(PAPER_TRAINING, steps=60, batch_size=8, base_lr=0.05, head_lr_multiplier=1.0,
                             eval_every=20, stop_at_miou=0.7)


def poly_lr(base_lr: float, step: int, steps: int, power: float = PAPER_TRAINING.lr_power) -> float:
    """The "poly" learning rate of PSPNet (Sec. 5.1): ``base_lr * (1 - step / steps) ** power``.

    Example:
        >>> poly_lr(0.01, 0, 100), poly_lr(0.01, 100, 100)
        (0.01, 0.0)
        >>> round(poly_lr(0.01, 50, 100), 6)
        0.005359
    """
    base_lr = check_float(base_lr, "base_lr", minimum=0.0)
    steps = check_int(steps, "steps", minimum=1)
    step = check_int(step, "step", minimum=0, maximum=steps)
    power = check_float(power, "power", minimum=0.0)
    return base_lr * (1.0 - step / steps) ** power


@dataclass
class History:
    """What :func:`train_model` did: per step ``loss`` and backbone ``lr``; per evaluation ``miou``,
    ``pixel_accuracy`` and cumulative ``train_seconds``; the last (with ``patience``: the best)
    ``metrics`` and its ``best_step``; total ``seconds``."""

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    miou: list[float] = field(default_factory=list)
    pixel_accuracy: list[float] = field(default_factory=list)
    train_seconds: list[float] = field(default_factory=list)
    metrics: SegmentationMetrics | None = None
    best_step: int | None = None
    seconds: float = 0.0


def parameter_groups(model: nn.Module, base_lr: float, head_lr_multiplier: float) -> list[dict]:
    """SGD parameter groups as in semseg: the backbone at ``base_lr``, :data:`NEW_LAYERS` at ``x multiplier``."""
    new = [p for name in NEW_LAYERS if isinstance(getattr(model, name, None), nn.Module)
           for p in getattr(model, name).parameters()]
    new_ids = {id(p) for p in new}
    old = [p for p in model.parameters() if id(p) not in new_ids]
    groups = [{"params": old, "lr": base_lr}, {"params": new, "lr": base_lr * head_lr_multiplier}]
    return [g for g in groups if g["params"]]


def train_model(model: nn.Module, dataset: Dataset, num_classes: int, *, config: TrainConfig = CLASSROOM_TRAINING,
                val_dataset: Dataset | None = None, progress: bool = True,
                device: str | torch.device | None = None) -> History:
    """Train with SGD, the poly schedule (``PolynomialLR``, once per step) and :func:`visual.pspnet_loss`.

    Args:
        model: maps ``(N, 3, H, W)`` to ``{"out": (N, K, H, W)[, "aux": ...]}``; left in training mode.
        dataset: ``(image (3, H, W), target (H, W))`` pairs, cycled and shuffled (seed ``config.seed``).
        val_dataset: held-out pairs evaluated every ``config.eval_every`` steps and at the end, or ``None``.
        progress, device: show a ``tqdm.auto`` bar; where to move the model first (``None``: where it is).
    """
    device = model_device(model, device)
    num_classes = check_int(num_classes, "num_classes", minimum=1, maximum=MAX_CLASSES)
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    for name, data in (("dataset", dataset), ("val_dataset", val_dataset)):
        if data is not None and not isinstance(data, Dataset):
            raise TypeError(f"{name} must be a torch.utils.data.Dataset, got {type(data).__name__}")
    progress = check_bool(progress, "progress")
    if len(dataset) < config.batch_size:
        raise ValueError(f"dataset has {len(dataset)} images, fewer than one batch of {config.batch_size}")
    groups = parameter_groups(model, config.base_lr, config.head_lr_multiplier)
    if not groups:
        raise ValueError("model has no parameters to train")
    if config.seed is not None:
        torch.manual_seed(config.seed)
    order = torch.Generator().manual_seed(config.seed) if config.seed is not None else None
    loader = DataLoader(dataset, batch_size=config.batch_size, shuffle=True, drop_last=True, generator=order)
    optimizer = torch.optim.SGD(groups, lr=config.base_lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)
    scheduler = PolynomialLR(optimizer, total_iters=config.steps, power=config.lr_power)  # once per step
    history, best, stopped = History(), None, False  # best: weights of the best evaluation (patience)
    start, train_seconds, step = time.perf_counter(), 0.0, 0
    model.train()
    bar = tqdm(total=config.steps, desc="training", unit="step", disable=not progress)
    try:
        while step < config.steps and not stopped:
            for images, targets in loader:
                tick = time.perf_counter()
                outputs = model(images.to(device))
                if outputs["out"].shape[1] != num_classes:
                    raise ValueError(f"the model predicts {outputs['out'].shape[1]} classes but "
                                     f"num_classes={num_classes}")
                loss = pspnet_loss(outputs, targets.to(device), config.aux_weight, config.ignore_index)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                history.lr.append(optimizer.param_groups[0]["lr"])
                optimizer.step()
                scheduler.step()
                step += 1
                history.step.append(step)
                history.loss.append(loss.item())
                train_seconds += time.perf_counter() - tick
                bar.update(1)
                bar.set_postfix(loss=f"{history.loss[-1]:.3f}", refresh=False)
                due = config.eval_every is not None and step % config.eval_every == 0
                if val_dataset is not None and (due or step == config.steps):
                    metrics = evaluate(model, val_dataset, num_classes, batch_size=config.eval_batch_size,
                                       device=device, ignore_index=config.ignore_index)
                    history.eval_step.append(step)
                    history.miou.append(metrics.miou)
                    history.pixel_accuracy.append(metrics.pixel_accuracy)
                    history.train_seconds.append(train_seconds)
                    bar.set_postfix(loss=f"{history.loss[-1]:.3f}", mIoU=f"{metrics.miou:.3f}")  # shown at once
                    if config.patience is None or history.metrics is None or metrics.miou > history.metrics.miou:
                        history.metrics, history.best_step = metrics, step
                        best = copy.deepcopy(model.state_dict()) if config.patience is not None else None
                    if config.stop_at_miou is not None and metrics.miou >= config.stop_at_miou:
                        return history
                    stale = len(history.eval_step) - 1 - history.eval_step.index(history.best_step)
                    stopped = config.patience is not None and stale >= config.patience
                if step == config.steps or stopped:
                    break
    finally:
        bar.close()
        if best is not None:
            model.load_state_dict(best)
        history.seconds = time.perf_counter() - start
    return history


GRADIENT_PARTS = ("backbone.conv1", "backbone.layer1", "backbone.layer2", "backbone.layer3",
                  "backbone.layer4", "ppm", "head", "aux_head")


def loss_gradients(model: nn.Module, images: torch.Tensor, target: torch.Tensor, *,
                   parts: tuple[str, ...] = GRADIENT_PARTS,
                   ignore_index: int = PAPER_TRAINING.ignore_index) -> dict[str, dict[str, torch.Tensor]]:
    """Gradients of the main and of the auxiliary cross-entropy, separately, per part of the model.

    One training-mode forward pass and ``torch.autograd.grad`` (``.grad`` is left alone; BatchNorm
    statistics move); works under ``torch.inference_mode()``.

    Args:
        model, images, target: a PSPNet built with ``aux=True``, ``(N, 3, H, W)``, ``(N, H, W)`` int64.
        parts: names of submodules of ``model`` to report.

    Returns:
        ``{"main": {part: flat gradient}, "aux": {...}}``; zeros where a loss does not reach.
    """
    check_module(model, "model")
    if isinstance(parts, str) or not isinstance(parts, (tuple, list)) or not parts \
            or not all(isinstance(p, str) for p in parts):
        raise TypeError(f"parts must be a non-empty tuple of submodule names such as {GRADIENT_PARTS[:2]}, "
                        f"got {parts!r}")
    modules = dict(model.named_modules())
    missing = [p for p in parts if p not in modules or modules[p] is None]
    if missing:
        raise ValueError(f"parts must name submodules of the model, e.g. {GRADIENT_PARTS[:2]}; unknown: {missing}")
    was_training = model.training
    with torch.inference_mode(False), torch.enable_grad():
        images, target = images.clone(), target.clone()  # normal tensors even if made in inference mode
        model.train()
        try:
            outputs = model(images)
        finally:
            model.train(was_training)
        if "aux" not in outputs:
            raise ValueError('the model returned no "aux" output in training mode (build it with aux=True)')
        named = {part: [p for p in modules[part].parameters() if p.requires_grad] for part in parts}
        flat = [p for params in named.values() for p in params]
        result: dict[str, dict[str, torch.Tensor]] = {}
        for key in ("main", "aux"):
            logits = outputs["out" if key == "main" else "aux"]
            loss = pspnet_loss({"out": logits}, target, 0.0, ignore_index)
            grads = torch.autograd.grad(loss, flat, retain_graph=key == "main", allow_unused=True)
            by_param = {id(p): (torch.zeros_like(p) if g is None else g) for p, g in zip(flat, grads)}
            result[key] = {part: torch.cat([by_param[id(p)].flatten() for p in params]).detach()
                           for part, params in named.items()}
    return result


def combined_gradient_norms(gradients: Mapping[str, Mapping[str, torch.Tensor]], aux_weight: float) -> dict[str, float]:
    """``||g_main + aux_weight * g_aux||`` per part, for ``gradients`` from :func:`loss_gradients`.

    Example:
        >>> g = {"main": {"a": torch.tensor([3.0, 0.0])}, "aux": {"a": torch.tensor([0.0, 10.0])}}
        >>> combined_gradient_norms(g, 0.4)
        {'a': 5.0}
    """
    check_gradients(gradients)
    aux_weight = check_float(aux_weight, "aux_weight", minimum=0.0)
    return {part: float((gradients["main"][part] + aux_weight * gradients["aux"][part]).norm())
            for part in gradients["main"]}


def check_gradients(gradients: object) -> None:
    """Refuse anything but ``{"main": {part: tensor}, "aux": {part: tensor}}`` with the same parts."""
    if not isinstance(gradients, Mapping) or set(gradients) != {"main", "aux"} \
            or not all(isinstance(gradients[k], Mapping) for k in ("main", "aux")):
        raise TypeError(f'gradients must be the dict of loss_gradients ({{"main": {{part: tensor}}, '
                        f'"aux": {{...}}}}), got {type(gradients).__name__}')
    if set(gradients["main"]) != set(gradients["aux"]) or not gradients["main"] \
            or not all(isinstance(g, torch.Tensor) for k in ("main", "aux") for g in gradients[k].values()):
        raise ValueError('gradients["main"] and gradients["aux"] must map the same parts to tensors')
