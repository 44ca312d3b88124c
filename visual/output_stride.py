"""Output stride of ResNet backbones: the per-stage table (from one cached :func:`visual.trace` per arch,
flags and schedule; other input sizes by conv arithmetic) and the drift of bilinear upsampling.

Drift = the input pixel where upsampling puts a feature minus where it was computed (``start + s * i``);
positive: moved right (or down).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from visual.checks import as_size, check_bool, check_choice, check_int, check_module
from visual.conv_arithmetic import conv_output_size
from visual.interpolation import source_coordinates
from visual.models.resnet import (DILATABLE_STAGES, DILATION_SCHEDULES, check_arch, check_flags,
    dilated_resnet, resnet_arch)
from visual.trace import Trace, html_table, meta_device, text_table, trace
from visual.trace_rules import as_pair

__all__ = ["RESNET_STAGES", "StrideRow", "StrideTable", "stride_table", "text_table", "html_table",
    "dilation_flags", "upsampling_drift", "upsampled_positions"]

RESNET_STAGES = ("conv1", "maxpool", "layer1", "layer2", "layer3", "layer4")  # torchvision's names, in order

# He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, Table 1: the 3x3 max
# pool opens the conv2_x row, then come the conv2_x blocks (torchvision's layer1).
PAPER_NAMES = {"conv1": "conv1", "maxpool": "conv2_x (pool)", "layer1": "conv2_x", "layer2": "conv3_x",
               "layer3": "conv4_x", "layer4": "conv5_x"}

REFERENCE_SIZE = 473  # the input at which cached traces are taken (PSPNet's, Zhao et al. 2017, Sec. 4.1)
OUTPUT_STRIDES = (32, 16, 8, 4)  # 32 / 2 ** (number of dilated stages)


def dilation_flags(output_stride: int) -> tuple[bool, bool, bool]:
    """``replace_stride_with_dilation`` (layer2, layer3, layer4) for output stride 32, 16, 8 or 4 (layer4 first).

    Example:
        >>> dilation_flags(8)
        (False, True, True)
    """
    dilated = OUTPUT_STRIDES.index(check_choice(check_int(output_stride, "output_stride"), "output_stride",
                                                OUTPUT_STRIDES))
    n = len(DILATABLE_STAGES)
    return tuple(i >= n - dilated for i in range(n))  # type: ignore[return-value]


@dataclass(frozen=True)
class StrideRow:
    """One stage of a :class:`StrideTable`, in input pixels (pixel ``i`` centred on ``start + output_stride * i``).
    ``first_block_dilations``: the 3x3 convs' in the first block (conv1 / maxpool: their own);
    ``other_blocks_dilations``: the distinct ones of the other blocks.
    """

    stage: str
    paper_name: str
    size: tuple[int, int]
    output_stride: int
    rf: int
    start: float
    channels: int
    first_block_dilations: tuple[int, ...]
    other_blocks_dilations: tuple[int, ...]


COLUMNS = ("stage", "paper", "output size", "stride", "dilation 1st block", "dilation other blocks",
           "RF (px)", "channels")


def _cells(row: StrideRow) -> tuple[str, ...]:
    return (row.stage, row.paper_name, f"{row.size[0]}×{row.size[1]}", str(row.output_stride),
            ", ".join(map(str, row.first_block_dilations)) or "-",
            ", ".join(map(str, row.other_blocks_dilations)) or "-", str(row.rf), str(row.channels))


@dataclass(frozen=True)
class StrideTable:
    """Per-stage output sizes, strides, dilations and receptive fields of a ResNet (``str``: a text table).

    Index by stage name (``table["layer4"]``) or position. ``schedule`` is ``"model"`` for a given model.
    """

    arch: str
    input_size: tuple[int, int]
    replace_stride_with_dilation: tuple[bool, bool, bool]
    schedule: str
    rows: tuple[StrideRow, ...]

    def __getitem__(self, key: str | int) -> StrideRow:
        if isinstance(key, int) and not isinstance(key, bool):
            return self.rows[key]
        for row in self.rows:
            if row.stage == key:
                return row
        raise KeyError(f"no stage {key!r}; stages are {[row.stage for row in self.rows]}")

    def __iter__(self) -> Iterator[StrideRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def output_stride(self) -> int:  # layer4's
        return self.rows[-1].output_stride

    @property
    def output_size(self) -> tuple[int, int]:  # (h, w) of layer4
        return self.rows[-1].size

    @property
    def title(self) -> str:
        h, w = self.input_size
        flags = ", ".join(str(flag) for flag in self.replace_stride_with_dilation)
        schedule = "" if self.schedule in ("torchvision", "model") else f", {self.schedule} schedule"
        return (f"{self.arch} at {h}×{w}, replace_stride_with_dilation=[{flags}]{schedule}: "
                f"output stride {self.output_stride}, {self.output_size[0]}×{self.output_size[1]} features")

    def __str__(self) -> str:
        return text_table(self.title, COLUMNS, [_cells(row) for row in self.rows], left=2)

    def _repr_html_(self) -> str:
        return html_table(self.title, COLUMNS, [_cells(row) for row in self.rows], left=2)


Layer = tuple[str, tuple[tuple[int, int, int, int], ...], bool]  # name, per axis (k, s, p, d), ceil_mode
Stages = tuple[tuple[StrideRow, tuple[Layer, ...]], ...]  # per stage: its row and the layers on its main path


def _square(pair: Sequence[float], what: str, stage: str) -> float:
    if pair[0] != pair[1]:
        raise ValueError(f"stride_table expects square kernels and strides; {stage} has {what} {tuple(pair)}")
    return pair[0]


def _stages(model: nn.Module, traced: Trace) -> Stages:
    """Per stage: its row (at the traced size) and the layers on its main path."""
    stages = []
    for stage in RESNET_STAGES:
        row = traced[stage]
        leaves = [(name, model.get_submodule(name)) for name in traced
                  if (name == stage or name.startswith(stage + ".")) and traced[name].kernel_size is not None]
        layers = tuple(
            (name, tuple(zip(*(as_pair(getattr(m, a)) for a in ("kernel_size", "stride", "padding", "dilation")))),
             bool(getattr(m, "ceil_mode", False)))
            for name, m in leaves if isinstance(m, (nn.Conv2d, nn.MaxPool2d)) and "downsample" not in name.split(".")
        )
        three_by_three = [(name, as_pair(m.dilation)[0]) for name, m in leaves
                          if isinstance(m, nn.Conv2d) and as_pair(m.kernel_size)[0] > 1]
        if stage.startswith("layer"):
            first = tuple(d for name, d in three_by_three if name.startswith(f"{stage}.0."))
            rest = tuple(sorted({d for name, d in three_by_three if not name.startswith(f"{stage}.0.")}))
        else:
            first, rest = tuple(d for _, d in three_by_three) or tuple(as_pair(row.dilation or 1)[:1]), ()
        stages.append((StrideRow(
            stage=stage, paper_name=PAPER_NAMES[stage], size=tuple(row.size),
            output_stride=int(_square(row.stride, "stride", stage)), rf=int(_square(row.rf, "receptive field", stage)),
            start=float(_square(row.start, "start", stage)), channels=int(row.channels),
            first_block_dilations=first, other_blocks_dilations=rest), layers))
    return tuple(stages)


def _sizes(layers: Sequence[Sequence[Layer]], input_size: tuple[int, int], arch: str) -> list[tuple[int, int]]:
    """Output ``(h, w)`` of every stage, by conv arithmetic along its main path."""
    size, sizes = input_size, []
    for stage_layers in layers:
        for name, axes, ceil_mode in stage_layers:
            try:
                size = tuple(conv_output_size(n, k, s, p, d, ceil_mode) for n, (k, s, p, d) in zip(size, axes))
            except ValueError as error:
                raise ValueError(f"input_size={input_size} is too small for {arch}: {name} gets "
                                 f"{size[0]}×{size[1]} ({error})") from error
        sizes.append(size)
    return sizes


@functools.lru_cache(maxsize=None)
def _arch_stages(arch: str, flags: tuple[bool, bool, bool], schedule: str) -> Stages:
    """Trace a meta-device model once per (arch, flags, schedule): the slider then only does arithmetic."""
    with meta_device():  # no weights are needed for geometry: shapes only, no initialisation
        model = dilated_resnet(arch, flags, schedule=schedule)
    stages = _stages(model, trace(model, REFERENCE_SIZE))
    assert _sizes([layers for _, layers in stages], (REFERENCE_SIZE,) * 2, arch) == [r.size for r, _ in stages]
    return stages


def stride_table(arch_or_model: str | nn.Module, input_size: int | tuple[int, int] = REFERENCE_SIZE,
                 replace_stride_with_dilation: Sequence[bool] | None = None, *,
                 schedule: str = "torchvision") -> StrideTable:
    """The output-stride table of a ResNet (rows ``conv1, maxpool, layer1..4``), from :func:`visual.trace`.

    Args:
        arch_or_model: ``"resnet18"`` ... ``"resnet152"``, or a model with ``conv1, maxpool, layer1..4``.
        replace_stride_with_dilation: (layer2, layer3, layer4); ``None``: OS 8 (arch) or the model's.
        schedule: ``"torchvision"`` (à trous) or ``"semseg"``, see :func:`visual.dilated_resnet`.

    Returns:
        A :class:`StrideTable` with six rows. Raises ValueError for a size too small, or flags with a model.

    Example:
        >>> table = stride_table("resnet50", 473)
        >>> table["maxpool"].size, table.output_size, table.output_stride
        ((119, 119), (60, 60), 8)
    """
    hw = as_size(input_size, "input_size")
    check_choice(schedule, "schedule", DILATION_SCHEDULES)
    if isinstance(arch_or_model, str):
        arch = check_arch(arch_or_model, "arch_or_model")
        flags = (False, True, True) if replace_stride_with_dilation is None else check_flags(
            replace_stride_with_dilation)
        stages = _arch_stages(arch, flags, schedule)
        sizes = _sizes([layers for _, layers in stages], hw, arch)
        rows = tuple(replace(row, size=size) for (row, _), size in zip(stages, sizes))
        return StrideTable(arch, hw, flags, schedule, rows)
    check_module(arch_or_model, "arch_or_model")
    missing = [stage for stage in RESNET_STAGES if not isinstance(getattr(arch_or_model, stage, None), nn.Module)]
    if missing:
        raise ValueError(f"arch_or_model must be an arch name or a ResNet-like model with submodules "
                         f"{list(RESNET_STAGES)}; {type(arch_or_model).__name__} has no {missing}")
    if replace_stride_with_dilation is not None:
        raise ValueError("replace_stride_with_dilation goes with an arch name; a model already has its "
                         "dilations (build it with visual.dilated_resnet(arch, flags))")
    rows = tuple(row for row, _ in _stages(arch_or_model, trace(arch_or_model, hw)))
    flags = tuple(rows[i].output_stride == rows[i - 1].output_stride for i in (3, 4, 5))  # layer2..4 kept it
    return StrideTable(resnet_arch(arch_or_model) or type(arch_or_model).__name__, hw, flags, "model", rows)


def _layer4(table: StrideTable) -> tuple[int, int, int, float]:
    if not isinstance(table, StrideTable):
        raise TypeError(f"table must be a StrideTable (from visual.stride_table), got {type(table).__name__}")
    row = table["layer4"]
    return table.input_size[0], row.size[0], row.output_stride, row.start


def upsampling_drift(table: StrideTable, *, align_corners: bool) -> torch.Tensor:
    """Drift of every upsampled layer4 pixel ``X``: ``X - (start + s * x(X))``, ``x(X)`` its feature coordinate.

    Returns:
        Tensor ``(H,)``, float64, drift in input pixels per output row ``X = 0 .. H-1``.

    Example:
        >>> float(upsampling_drift(stride_table("resnet50", 473), align_corners=True).abs().max())
        0.0
    """
    check_bool(align_corners, "align_corners")
    H, h, s, start = _layer4(table)
    coordinate = torch.arange(h, dtype=torch.float64).view(1, 1, h, 1)  # (1, 1, h, 1): x = i at feature i
    x = F.interpolate(coordinate, size=(H, 1), mode="bilinear", align_corners=align_corners)  # (1, 1, H, 1)
    return torch.arange(H, dtype=torch.float64) - (start + s * x[0, 0, :, 0])  # (H,)


def upsampled_positions(table: StrideTable, *, align_corners: bool) -> torch.Tensor:
    """Output pixel on which ``F.interpolate`` places layer4 feature ``i``: the unclamped source coordinates
    of resampling ``H -> h`` (``i (H-1)/(h-1)`` with ``align_corners``, else ``(i + 1/2) H/h - 1/2``).

    Returns:
        Tensor ``(h,)``, float64, positions in input pixels.

    Example:
        >>> upsampled_positions(stride_table("resnet50", 473), align_corners=True)[-1].item()
        472.0
    """
    check_bool(align_corners, "align_corners")
    H, h, _, _ = _layer4(table)
    return source_coordinates(h, H, align_corners, raw=True)  # (h,)
