"""What a network costs: FLOPs (``FlopCounterMode``; a multiply-add counts 2) and activation memory
(``saved_tensors_hooks``) of one training-mode forward pass on the meta device: nothing is allocated.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.func import functional_call
from torch.utils.flop_counter import FlopCounterMode

from visual.checks import as_size, check_ints, check_module
from visual.models.pspnet import DEFAULTS, PSPNet
from visual.models.resnet import check_arch, dilated_resnet
from visual.output_stride import REFERENCE_SIZE, dilation_flags, html_table, stride_table, text_table
from visual.trace import meta_device

__all__ = ["MeasuredForward", "meta_forward", "StrideCost", "CostTable", "measure_cost", "cost_table",
    "PartCost", "part_costs"]

IN_CHANNELS = 3  # RGB images
BACKBONE_STAGES = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4")  # torchvision order
PSPNET_PARTS = ("backbone", "ppm", "head", "aux_head")
BYTES_PER_MIB = 2**20
FLOPS_PER_GFLOP = 1e9


@dataclass(frozen=True)
class MeasuredForward:
    """What :func:`meta_forward` counted; ``flops_per_module`` is keyed ``"ClassName.child"`` (as
    ``FlopCounterMode.get_flop_counts``); ``activation_bytes`` excludes parameters."""

    output: Any
    flops: int
    flops_per_module: dict[str, int]
    activation_bytes: int


def meta_forward(module: nn.Module, input_size: int | tuple[int, int]) -> MeasuredForward:
    """Run ``module`` on one ``(1, 3, H, W)`` meta image in training mode; count FLOPs and saved bytes.

    The module's parameters and mode are left as they were.
    """
    check_module(module, "model")
    height, width = as_size(input_size, "input_size")
    parameters = {name: torch.empty_like(t, device="meta").requires_grad_(t.requires_grad)
                  for name, t in module.named_parameters()}
    meta = {**parameters, **{name: torch.empty_like(t, device="meta") for name, t in module.named_buffers()}}
    kept = {id(t.untyped_storage()): t.untyped_storage() for t in parameters.values()}  # not activations
    saved: dict[int, Any] = {}  # id -> storage; the storages are kept alive, so ids stay unique

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if id(storage) not in kept:
            saved[id(storage)] = storage
        return tensor

    dtype = next((t.dtype for t in meta.values() if t.is_floating_point()), torch.float32)
    x = torch.empty(1, IN_CHANNELS, height, width, device="meta", dtype=dtype)  # (1, 3, H, W)
    was_training = module.training
    module.train()  # the auxiliary head runs, and BatchNorm saves what a training step saves
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            with FlopCounterMode(display=False) as counter:
                output = functional_call(module, meta, (x,))
    finally:
        module.train(was_training)
    per_module = {name: sum(counts.values()) for name, counts in counter.get_flop_counts().items()}
    return MeasuredForward(output, int(counter.get_total_flops()), per_module,
                           int(sum(storage.nbytes() for storage in saved.values())))


@dataclass(frozen=True)
class StrideCost:
    """Measured cost of one forward pass of a backbone (batch 1, float32); ``output_*`` are layer4's.

    ``activation_bytes``: what autograd saves for backward; ``feature_bytes``: the layer4 map alone.
    """

    arch: str
    input_size: tuple[int, int]
    output_stride: int
    output_size: tuple[int, int]
    flops: int
    activation_bytes: int
    feature_bytes: int


def measure_cost(arch_or_model: str | nn.Module, input_size: int | tuple[int, int] = REFERENCE_SIZE,
                 replace_stride_with_dilation: Sequence[bool] | None = None) -> StrideCost:
    """Count FLOPs and activation memory of a ResNet backbone's forward pass (conv1 .. layer4, batch 1).

    Arguments as :func:`visual.stride_table`; an arch name is built on the meta device, a model is left untouched.
    """
    table = stride_table(arch_or_model, input_size, replace_stride_with_dilation)
    if isinstance(arch_or_model, str):
        with meta_device():
            model = dilated_resnet(arch_or_model, table.replace_stride_with_dilation)
    else:
        model = arch_or_model
    backbone = nn.Sequential(*(getattr(model, name) for name in BACKBONE_STAGES))  # shares the modules
    measured = meta_forward(backbone, table.input_size)  # output: (1, C, h, w)
    return StrideCost(table.arch, table.input_size, table.output_stride, table.output_size, measured.flops,
                      measured.activation_bytes, measured.output.numel() * measured.output.element_size())


COST_COLUMNS = ("output stride", "layer4 size", "GFLOPs", "× OS 32", "activations (MiB)", "× OS 32",
                "layer4 map (MiB)")


@dataclass(frozen=True)
class CostTable:
    """Costs of one backbone at several output strides (``rows``; the first is the reference); ``str``: a table."""

    rows: tuple[StrideCost, ...]

    def __iter__(self) -> Iterator[StrideCost]:
        return iter(self.rows)

    def cells(self) -> list[tuple[str, ...]]:
        """The table's text cells, one tuple per row."""
        base = self.rows[0]
        return [
            (str(r.output_stride), f"{r.output_size[0]}×{r.output_size[1]}", f"{r.flops / FLOPS_PER_GFLOP:.1f}",
             f"{r.flops / base.flops:.2f}", f"{r.activation_bytes / BYTES_PER_MIB:.0f}",
             f"{r.activation_bytes / base.activation_bytes:.2f}", f"{r.feature_bytes / BYTES_PER_MIB:.1f}")
            for r in self.rows
        ]

    @property
    def title(self) -> str:
        first = self.rows[0]
        return (f"{first.arch} backbone at {first.input_size[0]}×{first.input_size[1]}, batch 1, float32 "
                f"(ratios vs output stride {first.output_stride})")

    def __str__(self) -> str:
        return text_table(self.title, COST_COLUMNS, self.cells())

    def _repr_html_(self) -> str:
        return html_table(self.title, COST_COLUMNS, self.cells())


def cost_table(arch: str = "resnet50", input_size: int | tuple[int, int] = REFERENCE_SIZE,
               output_strides: Sequence[int] = (32, 16, 8)) -> CostTable:
    """:func:`measure_cost` of ``arch`` at several output strides (the first is the ratios' reference)."""
    check_arch(arch)
    as_size(input_size, "input_size")
    flags = [dilation_flags(s) for s in check_ints(output_strides, "output_strides", max_length=4)]
    return CostTable(tuple(measure_cost(arch, input_size, f) for f in flags))


@dataclass(frozen=True)
class PartCost:
    """Parameters and forward FLOPs (one image) of one part of a PSPNet, or of the ``"total"``."""

    part: str
    parameters: int
    flops: int


def part_costs(model: PSPNet, input_size: int | tuple[int, int] = DEFAULTS.input_size) -> list[PartCost]:
    """Parameters and FLOPs per part of a :class:`visual.PSPNet` for one image (training mode: with the aux head).

    Returns:
        One :class:`PartCost` per part present (``aux_head`` only with the aux head), then ``"total"``.
    """
    if not isinstance(model, PSPNet):
        raise TypeError(f"model must be a visual.PSPNet, got {type(model).__name__}")
    per_module = meta_forward(model, input_size).flops_per_module
    rows = [PartCost(part, sum(p.numel() for p in module.parameters()),
                     per_module.get(f"{type(model).__name__}.{part}", 0))
            for part in PSPNET_PARTS if (module := getattr(model, part, None)) is not None]
    rows.append(PartCost("total", sum(r.parameters for r in rows), sum(r.flops for r in rows)))
    return rows
