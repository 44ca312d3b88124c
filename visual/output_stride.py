"""Output stride of ResNet backbones: the per-stage table and the alignment of upsampling.

* :func:`stride_table` lists, per stage (``conv1, maxpool, layer1..layer4``), the output size,
  the output stride, the dilations of the stage's 3x3 convs and the theoretical receptive field,
  all read from :func:`visual.trace` on the real torchvision model.
* :func:`upsampling_drift` measures, with the real ``F.interpolate``, how far bilinear upsampling
  puts each feature from the input pixel the network centred it on (why 473 = 8 * 59 + 1).

Sizes for other input sizes are pure conv arithmetic (:func:`visual.conv_output_size`) along
each stage's main path, read from the model's modules once; the receptive field, stride and
centre offset of each stage do not depend on the input size and come from one cached trace per
(arch, flags, schedule), so a slider that moves the input size only does arithmetic.
"""

from __future__ import annotations

import dataclasses
import functools
import html
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from visual.checks import as_size, check_bool, check_choice, check_int, check_module
from visual.conv_arithmetic import conv_output_size
from visual.models.resnet import (DILATABLE_STAGES, DILATION_SCHEDULES, check_arch, check_flags,
    dilated_resnet, resnet_arch)
from visual.trace import Trace, meta_device, trace

__all__ = ["RESNET_STAGES", "StrideRow", "StrideTable", "stride_table", "text_table", "html_table",
    "dilation_flags", "upsampling_drift", "upsampled_positions"]

RESNET_STAGES = ("conv1", "maxpool", "layer1", "layer2", "layer3", "layer4")
"""torchvision's names of a ResNet's stages, in order."""

# He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, Table 1: the 3x3 max
# pool opens the conv2_x row, then come the conv2_x blocks (torchvision's layer1).
PAPER_NAMES = {"conv1": "conv1", "maxpool": "conv2_x (pool)", "layer1": "conv2_x", "layer2": "conv3_x",
               "layer3": "conv4_x", "layer4": "conv5_x"}

REFERENCE_SIZE = 473  # the input at which cached traces are taken (PSPNet's, Zhao et al. 2017, Sec. 4.1)
OUTPUT_STRIDES = (32, 16, 8, 4)  # 32 / 2 ** (number of dilated stages)


def dilation_flags(output_stride: int) -> tuple[bool, bool, bool]:
    """``replace_stride_with_dilation`` that gives a ResNet the requested output stride.

    Stages are dilated from the end (layer4 first), as DeepLab and PSPNet do.

    Args:
        output_stride: 32, 16, 8 or 4.

    Returns:
        Three booleans for (layer2, layer3, layer4).

    Raises:
        TypeError: not an int; ValueError: any other output stride.

    Example:
        >>> dilation_flags(8)
        (False, True, True)
        >>> dilation_flags(32)
        (False, False, False)
    """
    dilated = OUTPUT_STRIDES.index(check_choice(check_int(output_stride, "output_stride"), "output_stride",
                                                OUTPUT_STRIDES))
    return tuple(i >= len(DILATABLE_STAGES) - dilated for i in range(len(DILATABLE_STAGES)))  # type: ignore[return-value]


@dataclass(frozen=True)
class StrideRow:
    """One stage of a :class:`StrideTable` (lengths in input pixels).

    Attributes:
        stage: torchvision's name, e.g. ``"layer3"``.
        paper_name: the ResNet paper's name (He et al. 2016, Table 1), e.g. ``"conv4_x"``.
        size: ``(h, w)`` of the stage's output feature map.
        output_stride: distance between neighbouring output pixels, in input pixels.
        rf: theoretical receptive field of one output pixel (not clipped to the image).
        start: input coordinate of the centre of output pixel 0 (pixel ``i`` is centred on
            ``start + output_stride * i``).
        channels: channels of the output.
        first_block_dilations: dilation of each 3x3 conv of the stage's first block (for conv1 /
            maxpool: of the layer itself), in execution order.
        other_blocks_dilations: the distinct dilations of the 3x3 convs of the other blocks
            (empty for conv1 and maxpool).
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


def text_table(title: str, columns: Sequence[str], body: Sequence[Sequence[str]], left: int = 0) -> str:
    """An aligned plain-text table: ``title``, the header, one line per row (first ``left`` columns left-aligned)."""
    widths = [max(len(cell) for cell in column) for column in zip(columns, *body)]
    return "\n".join([title] + ["  ".join(cell.ljust(w) if i < left else cell.rjust(w)
                                          for i, (cell, w) in enumerate(zip(cells, widths))).rstrip()
                                for cells in (columns, *body)])


def html_table(title: str, columns: Sequence[str], body: Sequence[Sequence[str]], left: int = 0) -> str:
    """The same table as HTML (a notebook's ``_repr_html_``)."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    rows = "".join("<tr>" + "".join(f"<td style='text-align:{'left' if i < left else 'right'}'>{html.escape(c)}</td>"
                                    for i, c in enumerate(cells)) + "</tr>" for cells in body)
    return f"<table><caption>{html.escape(title)}</caption><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _cells(row: StrideRow) -> tuple[str, ...]:
    def dilations(values: tuple[int, ...]) -> str:
        return ", ".join(str(d) for d in values) if values else "-"

    return (row.stage, row.paper_name, f"{row.size[0]}×{row.size[1]}", str(row.output_stride),
            dilations(row.first_block_dilations), dilations(row.other_blocks_dilations), str(row.rf),
            str(row.channels))


@dataclass(frozen=True)
class StrideTable:
    """Per-stage output sizes, strides, dilations and receptive fields of a ResNet.

    ``str(table)`` is an aligned text table; in a notebook the table renders as HTML. Index it by
    stage name (``table["layer4"]``) or position; iterate over its rows.

    Attributes:
        arch: e.g. ``"resnet50"`` (the class name for a model that is not a standard ResNet).
        input_size: ``(H, W)`` of the input.
        replace_stride_with_dilation: the flags for (layer2, layer3, layer4).
        schedule: ``"torchvision"`` (à trous rule) or ``"semseg"`` (every block dilated); for a
            model given directly, ``"model"``.
        rows: one :class:`StrideRow` per stage of :data:`RESNET_STAGES`.
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
    def output_stride(self) -> int:
        """Output stride of the last stage (layer4)."""
        return self.rows[-1].output_stride

    @property
    def output_size(self) -> tuple[int, int]:
        """``(h, w)`` of the last stage's feature map."""
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


Layer = tuple[str, tuple[tuple[int, int, int, int], ...], bool]
"""A size-changing layer on a stage's main path: name, per axis (kernel, stride, padding, dilation), ceil_mode."""


def _square(pair: Sequence[float], what: str, stage: str) -> float:
    if pair[0] != pair[1]:
        raise ValueError(f"stride_table expects square kernels and strides; {stage} has {what} {tuple(pair)}")
    return pair[0]


def _check_resnet_like(model: Any) -> nn.Module:
    check_module(model, "arch_or_model")
    missing = [stage for stage in RESNET_STAGES if not isinstance(getattr(model, stage, None), nn.Module)]
    if missing:
        raise ValueError(f"arch_or_model must be an arch name or a ResNet-like model with submodules "
                         f"{list(RESNET_STAGES)}; {type(model).__name__} has no {missing}")
    return model


def _stages(model: nn.Module, traced: Trace) -> tuple[tuple[StrideRow, tuple[Layer, ...]], ...]:
    """Per stage: its row (at the traced size) and the layers on its main path (read from the modules)."""
    stages = []
    for stage in RESNET_STAGES:
        row = traced[stage]
        leaves = [(name, model.get_submodule(name)) for name in traced
                  if (name == stage or name.startswith(stage + ".")) and traced[name].kernel_size is not None]
        layers = tuple(
            (name, tuple(zip(*(_pair(getattr(m, a)) for a in ("kernel_size", "stride", "padding", "dilation")))),
             bool(getattr(m, "ceil_mode", False)))
            for name, m in leaves if isinstance(m, (nn.Conv2d, nn.MaxPool2d)) and "downsample" not in name.split(".")
        )
        three_by_three = [(name, _pair(m.dilation)[0]) for name, m in leaves
                          if isinstance(m, nn.Conv2d) and _pair(m.kernel_size)[0] > 1]
        if stage.startswith("layer"):
            first = tuple(d for name, d in three_by_three if name.startswith(f"{stage}.0."))
            rest = tuple(sorted({d for name, d in three_by_three if not name.startswith(f"{stage}.0.")}))
        else:
            first, rest = tuple(d for _, d in three_by_three) or tuple(_pair(row.dilation or 1)[:1]), ()
        stages.append((StrideRow(
            stage=stage, paper_name=PAPER_NAMES[stage], size=tuple(row.size),
            output_stride=int(_square(row.stride, "stride", stage)), rf=int(_square(row.rf, "receptive field", stage)),
            start=float(_square(row.start, "start", stage)), channels=int(row.channels),
            first_block_dilations=first, other_blocks_dilations=rest), layers))
    return tuple(stages)


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _sizes(layers: Sequence[Sequence[Layer]], input_size: tuple[int, int], arch: str) -> list[tuple[int, int]]:
    """Output ``(h, w)`` of every stage, by conv arithmetic (:func:`conv_output_size`) along its main path."""
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
def _arch_stages(arch: str, flags: tuple[bool, bool, bool], schedule: str) -> tuple[tuple[StrideRow, tuple[Layer, ...]], ...]:
    """Trace a meta-device model once per (arch, flags, schedule): the slider then only does arithmetic."""
    with meta_device():  # no weights are needed for geometry: shapes only, no initialisation
        model = dilated_resnet(arch, flags, schedule=schedule)
    stages = _stages(model, trace(model, REFERENCE_SIZE))
    assert _sizes([layers for _, layers in stages], (REFERENCE_SIZE,) * 2, arch) == [r.size for r, _ in stages]
    return stages


def stride_table(
    arch_or_model: str | nn.Module,
    input_size: int | tuple[int, int] = REFERENCE_SIZE,
    replace_stride_with_dilation: Sequence[bool] | None = None,
    *,
    schedule: str = "torchvision",
) -> StrideTable:
    """The output-stride table of a ResNet: per stage, size, stride, dilations, receptive field.

    Rows: ``conv1, maxpool, layer1, layer2, layer3, layer4`` (the paper's ``conv1, conv2_x ...
    conv5_x``). Everything is read from :func:`visual.trace` of the real model; for an arch name
    the trace is cached, and other input sizes are conv arithmetic along each stage's layers
    (fast enough for sliders; tests check it against real forward passes).

    Args:
        arch_or_model: an arch name (``"resnet18"`` ... ``"resnet152"``) or a ResNet-like
            ``nn.Module`` with ``conv1, maxpool, layer1..layer4`` (traced at ``input_size``).
        input_size: ``H`` for a square input or ``(H, W)``; 473 is PSPNet's crop.
        replace_stride_with_dilation: three bools for (layer2, layer3, layer4). ``None`` means
            ``(False, True, True)`` (output stride 8) for an arch name, and whatever the model
            does for a model (passing flags with a model is an error).
        schedule: for an arch name, ``"torchvision"`` (the à trous rule) or ``"semseg"`` (every
            3x3 conv of a dilated stage dilated), see :func:`visual.dilated_resnet`.

    Returns:
        A :class:`StrideTable` with six rows.

    Raises:
        ValueError: unknown arch or schedule, a size outside ``[1, MAX_SIDE]`` or too small for
            the network, a model without ResNet stages, or flags passed along with a model.
        TypeError: flags that are not three bools, an ``input_size`` that is not an int or a pair.

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
        rows = tuple(dataclasses.replace(row, size=size) for (row, _), size in zip(stages, sizes))
        return StrideTable(arch, hw, flags, schedule, rows)
    _check_resnet_like(arch_or_model)
    if replace_stride_with_dilation is not None:
        raise ValueError("replace_stride_with_dilation goes with an arch name; a model already has its "
                         "dilations (build it with visual.dilated_resnet(arch, flags))")
    rows = tuple(row for row, _ in _stages(arch_or_model, trace(arch_or_model, hw)))
    flags = tuple(rows[i].output_stride == rows[i - 1].output_stride for i in (3, 4, 5))  # layer2..4 kept it
    return StrideTable(resnet_arch(arch_or_model) or type(arch_or_model).__name__, hw, flags, "model", rows)


def _stage_geometry(table: StrideTable, stage: str) -> tuple[int, int, int, float]:
    if not isinstance(table, StrideTable):
        raise TypeError(f"table must be a StrideTable (from visual.stride_table), got {type(table).__name__}")
    row = table[check_choice(stage, "stage", RESNET_STAGES)]
    return table.input_size[0], row.size[0], row.output_stride, row.start


def upsampling_drift(table: StrideTable, *, align_corners: bool, stage: str = "layer4") -> torch.Tensor:
    """How far bilinear upsampling puts each feature from where the network computed it.

    Feature ``i`` of the stage is centred on input pixel ``start + output_stride * i`` (from the
    trace; ``start`` is 0 for a ResNet). Upsampling the ``h`` features to the ``H`` input pixels
    with the real ``F.interpolate(..., mode="bilinear", align_corners=...)`` gives each output
    pixel ``X`` a (fractional) feature coordinate ``x(X)``; the drift is
    ``start + output_stride * x(X) - X``: zero means pixel ``X`` receives exactly the feature
    computed around it. Measured along the height axis.

    Args:
        table: a :class:`StrideTable`.
        align_corners: the ``F.interpolate`` flag.
        stage: which stage's features are upsampled (default: the backbone output).

    Returns:
        Tensor ``(H,)``, float64, drift in input pixels per output row ``X = 0 .. H-1``.

    Raises:
        TypeError: ``table`` is not a StrideTable or ``align_corners`` not a bool; ValueError: unknown stage.

    Example:
        >>> drift = upsampling_drift(stride_table("resnet50", 473), align_corners=True)
        >>> float(drift.abs().max())
        0.0
    """
    check_bool(align_corners, "align_corners")
    H, h, s, start = _stage_geometry(table, stage)
    coordinate = torch.arange(h, dtype=torch.float64).view(1, 1, h, 1)  # (1, 1, h, 1): x = i at feature i
    x = F.interpolate(coordinate, size=(H, 1), mode="bilinear", align_corners=align_corners)  # (1, 1, H, 1)
    return start + s * x[0, 0, :, 0] - torch.arange(H, dtype=torch.float64)  # (H,)


def upsampled_positions(table: StrideTable, *, align_corners: bool, stage: str = "layer4") -> torch.Tensor:
    """Output pixel on which ``F.interpolate`` places feature ``i`` (where it samples it exactly).

    PyTorch's coordinate transform (``aten/src/ATen/native/UpSample.h``,
    ``area_pixel_compute_source_index``) maps output pixel ``X`` to source
    ``x = X (h-1)/(H-1)`` with ``align_corners=True`` and ``x = (X + 1/2) h/H - 1/2`` without;
    inverting it at ``x = i`` gives ``X = i (H-1)/(h-1)`` and ``X = (i + 1/2) H/h - 1/2``.
    Compare with the network's centres ``start + output_stride * i``.

    Args:
        table: a :class:`StrideTable`.
        align_corners: the ``F.interpolate`` flag.
        stage: which stage's features (default: the backbone output).

    Returns:
        Tensor ``(h,)``, float64, positions in input pixels (they may fall between pixels).

    Example:
        >>> upsampled_positions(stride_table("resnet50", 473), align_corners=True)[-1].item()
        472.0
    """
    check_bool(align_corners, "align_corners")
    H, h, _, _ = _stage_geometry(table, stage)
    i = torch.arange(h, dtype=torch.float64)
    if align_corners:
        return i * (H - 1) / max(h - 1, 1)  # (h,): a single feature sits on pixel 0
    return (i + 0.5) * H / h - 0.5  # (h,)
