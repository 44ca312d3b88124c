"""Output stride of ResNet backbones: the per-stage table, alignment of upsampling, and cost.

* :func:`stride_table` lists, per stage (``conv1, maxpool, layer1..layer4``), the output size,
  the output stride, the dilations of the stage's 3x3 convs and the theoretical receptive field,
  all read from :func:`visual.trace` on the real torchvision model.
* :func:`semseg_resnet` builds the other dilation schedule found in the wild, the one of the
  official PSPNet code (hszhao/semseg, ``model/pspnet.py``): *every* 3x3 conv of a dilated stage
  gets the stage's dilation, including the conv that carried the stride.
* :func:`upsampling_drift` measures, with the real ``F.interpolate``, how far bilinear upsampling
  puts each feature from the input pixel the network centred it on (why 473 = 8 * 59 + 1).
* :func:`measure_cost` / :func:`cost_table` count FLOPs (``torch.utils.flop_counter``) and the
  activation memory a training step keeps for backward, at output stride 32, 16 or 8.

Sizes for other input sizes are pure conv arithmetic (:func:`visual.conv_output_size`) along
each stage's main path, read from the model's modules once; the receptive field, stride and
centre offset of each stage do not depend on the input size and come from one cached trace.
That keeps a slider-driven table at well under a millisecond per change.
"""

from __future__ import annotations

import copy
import functools
import html
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from visual.conv_arithmetic import conv_output_size
from visual.models.resnet import RESNET_ARCHS, _validate_flags, dilated_resnet
from visual.trace import Trace, meta_device, trace

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch
    from torch import nn
    from torchvision.models import ResNet

__all__ = [
    "RESNET_STAGES",
    "DILATION_SCHEDULES",
    "StrideRow",
    "StrideTable",
    "stride_table",
    "semseg_resnet",
    "dilation_flags",
    "upsampling_drift",
    "upsampled_positions",
    "StrideCost",
    "CostTable",
    "measure_cost",
    "cost_table",
]

RESNET_STAGES = ("conv1", "maxpool", "layer1", "layer2", "layer3", "layer4")
"""torchvision's names of a ResNet's stages, in order."""

# He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, Table 1: the 3x3 max
# pool opens the conv2_x row, then come the conv2_x blocks (torchvision's layer1).
PAPER_NAMES = {
    "conv1": "conv1",
    "maxpool": "conv2_x (pool)",
    "layer1": "conv2_x",
    "layer2": "conv3_x",
    "layer3": "conv4_x",
    "layer4": "conv5_x",
}
DILATABLE_STAGES = ("layer2", "layer3", "layer4")  # the three replace_stride_with_dilation flags
DILATION_SCHEDULES = ("torchvision", "semseg")
"""Dilation schedules: torchvision's à trous rule, or hszhao/semseg's "dilate every block"."""

REFERENCE_SIZE = 473  # the input at which cached traces are taken (PSPNet's, Zhao et al. 2017, Sec. 4.1)
STAGE_STRIDE = 2  # each of conv1, maxpool, layer2..layer4 halves the grid in an undilated ResNet
UNDILATED_OUTPUT_STRIDE = 32  # 2 ** 5: conv1, maxpool, layer2, layer3, layer4
SEMSEG_STEM_CHANNELS = (64, 64, 128)  # hszhao/semseg model/resnet.py, deep_base=True
BYTES_PER_MIB = 2**20
FLOPS_PER_GFLOP = 1e9


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------
def _parse_input_size(input_size: Any) -> tuple[int, int]:
    if isinstance(input_size, bool) or not isinstance(input_size, (int, tuple, list)):
        raise TypeError(f"input_size must be an int or a pair (H, W) of ints, got {input_size!r}")
    hw = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
    if len(hw) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) for s in hw):
        raise TypeError(f"input_size must be an int or a pair (H, W) of ints, got {input_size!r}")
    if min(hw) < 1:
        raise ValueError(
            f"input_size must be at least 1 pixel per side (a ResNet pads every layer, so 1x1 is "
            f"the smallest input it allows), got {input_size!r}"
        )
    return (int(hw[0]), int(hw[1]))


def _check_schedule(schedule: Any) -> str:
    if schedule not in DILATION_SCHEDULES:
        raise ValueError(f"schedule must be one of {DILATION_SCHEDULES}, got {schedule!r}")
    return schedule


def dilation_flags(output_stride: int) -> tuple[bool, bool, bool]:
    """``replace_stride_with_dilation`` that gives a ResNet the requested output stride.

    Stages are dilated from the end (layer4 first), as DeepLab and PSPNet do.

    Args:
        output_stride: 32, 16, 8 or 4.

    Returns:
        Three booleans for (layer2, layer3, layer4).

    Raises:
        ValueError: for any other output stride.

    Example:
        >>> dilation_flags(8)
        (False, True, True)
        >>> dilation_flags(32)
        (False, False, False)
    """
    allowed = {UNDILATED_OUTPUT_STRIDE // STAGE_STRIDE**k: k for k in range(len(DILATABLE_STAGES) + 1)}
    if isinstance(output_stride, bool) or output_stride not in allowed:
        raise ValueError(f"output_stride must be one of {sorted(allowed)}, got {output_stride!r}")
    dilated = allowed[output_stride]
    return tuple(i >= len(DILATABLE_STAGES) - dilated for i in range(len(DILATABLE_STAGES)))  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# The semseg schedule
# --------------------------------------------------------------------------------------------
def semseg_resnet(
    arch: str,
    replace_stride_with_dilation: Sequence[bool] = (False, True, True),
    *,
    deep_stem: bool = False,
) -> "ResNet":
    """A ResNet dilated the way the official PSPNet code does it (hszhao/semseg).

    semseg removes the stride of layer3 and layer4 and sets *every* 3x3 conv of those stages to
    dilation 2 and 4 respectively, including the first block's conv that carried the stride.
    torchvision keeps that conv at the previous dilation (1 and 2), which is what makes the
    dilated network compute exactly the undilated one on a denser grid (the à trous rule);
    semseg's choice enlarges the receptive field a little and breaks that equivalence.

    Generalised to any flags: every 3x3 conv of ``layerK`` gets the dilation
    ``2 ** (number of dilated stages up to and including K)``; stages whose flag is ``False`` keep
    their stride.

    Args:
        arch: ``"resnet18"`` ... ``"resnet152"`` (see :data:`visual.RESNET_ARCHS`).
        replace_stride_with_dilation: three booleans for (layer2, layer3, layer4).
        deep_stem: replace the 7x7 ``conv1`` by semseg's "deep base" stem, three 3x3 convs
            (3 -> 64 stride 2, 64 -> 64, 64 -> 128; ``model/resnet.py``), as in semseg's
            ImageNet-pretrained ResNets. ``model.conv1`` is then an ``nn.Sequential``.

    Returns:
        A ``torchvision.models.ResNet`` (random weights), ``(N, 3, H, W) -> (N, 1000)``.

    Raises:
        ValueError: unknown ``arch``.
        TypeError: flags that are not three booleans, or ``deep_stem`` not a bool.

    Example:
        >>> model = semseg_resnet("resnet50")
        >>> model.layer3[0].conv2.dilation, model.layer4[0].conv2.dilation
        ((2, 2), (4, 4))
    """
    from torch import nn

    flags = _validate_flags(replace_stride_with_dilation)
    if not isinstance(deep_stem, bool):
        raise TypeError(f"deep_stem must be a bool, got {deep_stem!r}")
    model = dilated_resnet(arch, (False, False, False))
    if deep_stem:
        _replace_stem_with_deep_base(model, arch)
    dilation = 1
    for stage, flag in zip(DILATABLE_STAGES, flags):
        if flag:
            dilation *= STAGE_STRIDE
        for name, module in getattr(model, stage).named_modules():
            if not isinstance(module, nn.Conv2d):
                continue
            if flag and (module.kernel_size[0] > 1 or name.endswith("downsample.0")):
                module.stride = (1, 1)
            if module.kernel_size == (3, 3):
                module.dilation = module.padding = (dilation, dilation)
    return model


def _replace_stem_with_deep_base(model: "ResNet", arch: str) -> None:
    """semseg's deep stem: conv1 becomes 3x3 s2 -> 3x3 -> 3x3 (BN + ReLU between), 128 channels."""
    from collections import OrderedDict

    from torch import nn

    c1, c2, c3 = SEMSEG_STEM_CHANNELS
    model.conv1 = nn.Sequential(OrderedDict([
        ("0", nn.Conv2d(3, c1, kernel_size=3, stride=STAGE_STRIDE, padding=1, bias=False)),
        ("1", nn.BatchNorm2d(c1)),
        ("2", nn.ReLU(inplace=True)),
        ("3", nn.Conv2d(c1, c2, kernel_size=3, padding=1, bias=False)),
        ("4", nn.BatchNorm2d(c2)),
        ("5", nn.ReLU(inplace=True)),
        ("6", nn.Conv2d(c2, c3, kernel_size=3, padding=1, bias=False)),
    ]))
    model.bn1 = nn.BatchNorm2d(c3)  # torchvision's forward: conv1 -> bn1 -> relu -> maxpool
    block, layers = RESNET_ARCHS[arch]
    model.inplanes, model.dilation = c3, 1  # _make_layer reads both
    model.layer1 = model._make_layer(block, 64, layers[0])


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------
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


_COLUMNS = (
    "stage", "paper", "output size", "stride", "dilation 1st block", "dilation other blocks",
    "RF (px)", "channels",
)


def _fmt_dilations(dilations: tuple[int, ...]) -> str:
    return ", ".join(str(d) for d in dilations) if dilations else "-"


def _cells(row: StrideRow) -> tuple[str, ...]:
    return (
        row.stage, row.paper_name, f"{row.size[0]}×{row.size[1]}", str(row.output_stride),
        _fmt_dilations(row.first_block_dilations), _fmt_dilations(row.other_blocks_dilations),
        str(row.rf), str(row.channels),
    )


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
        return (
            f"{self.arch} at {h}×{w}, replace_stride_with_dilation=[{flags}]{schedule}: "
            f"output stride {self.output_stride}, {self.output_size[0]}×{self.output_size[1]} features"
        )

    def __str__(self) -> str:
        body = [_cells(row) for row in self.rows]
        widths = [max(len(cell) for cell in column) for column in zip(_COLUMNS, *body)]
        lines = [self.title]
        for cells in (_COLUMNS, *body):
            lines.append("  ".join(
                cell.ljust(width) if i < 2 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(cells, widths))
            ).rstrip())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in _COLUMNS)
        body = "".join(
            "<tr>" + "".join(
                f"<td style='text-align:{'left' if i < 2 else 'right'}'>{html.escape(cell)}</td>"
                for i, cell in enumerate(_cells(row))
            ) + "</tr>"
            for row in self.rows
        )
        return (
            f"<table><caption>{html.escape(self.title)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )


@dataclass(frozen=True)
class _Op:
    """One size-changing layer on a stage's main path: its per-axis conv arithmetic."""

    name: str
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    ceil_mode: bool


@dataclass(frozen=True)
class _Stage:
    """What a stage's row needs that does not depend on the input size, plus its size chain."""

    stage: str
    ops: tuple[_Op, ...]
    output_stride: int
    rf: int
    start: float
    channels: int
    first_block_dilations: tuple[int, ...]
    other_blocks_dilations: tuple[int, ...]


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _square(pair: Sequence[float], what: str, stage: str) -> float:
    if pair[0] != pair[1]:
        raise ValueError(f"stride_table expects square kernels and strides; {stage} has {what} {tuple(pair)}")
    return pair[0]


def _check_resnet_like(model: Any) -> None:
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(
            f"arch_or_model must be an arch name {sorted(RESNET_ARCHS)} or a ResNet nn.Module, "
            f"got {type(model).__name__}"
        )
    missing = [stage for stage in RESNET_STAGES if not hasattr(model, stage)]
    if missing:
        raise ValueError(
            f"stride_table needs a ResNet-like model with submodules {list(RESNET_STAGES)}; "
            f"{type(model).__name__} has no {missing}"
        )


def _in_stage(name: str, stage: str) -> bool:
    return name == stage or name.startswith(stage + ".")


def _stages_from_trace(model: "nn.Module", traced: Trace) -> tuple[_Stage, ...]:
    """Per-stage geometry: rows of the trace + the layers (read from the modules) on the main path."""
    from torch import nn

    stages = []
    for stage in RESNET_STAGES:
        row = traced[stage]
        leaves = [
            (name, model.get_submodule(name)) for name in traced
            if _in_stage(name, stage) and traced[name].kernel_size is not None
        ]
        ops = tuple(
            _Op(name, _pair(m.kernel_size), _pair(m.stride), _pair(m.padding), _pair(m.dilation),
                bool(getattr(m, "ceil_mode", False)))
            for name, m in leaves
            if isinstance(m, (nn.Conv2d, nn.MaxPool2d)) and "downsample" not in name.split(".")
        )
        three_by_three = [
            (name, _pair(m.dilation)[0]) for name, m in leaves
            if isinstance(m, nn.Conv2d) and _pair(m.kernel_size)[0] > 1
        ]
        if stage.startswith("layer"):
            first = tuple(d for name, d in three_by_three if name.startswith(f"{stage}.0."))
            rest = tuple(sorted({d for name, d in three_by_three if not name.startswith(f"{stage}.0.")}))
        else:
            first = tuple(d for _, d in three_by_three) or tuple(_pair(row.dilation or 1)[:1])
            rest = ()
        stages.append(_Stage(
            stage=stage, ops=ops,
            output_stride=int(_square(row.stride, "stride", stage)),
            rf=int(_square(row.rf, "receptive field", stage)),
            start=float(_square(row.start, "start", stage)),
            channels=int(row.channels),
            first_block_dilations=first, other_blocks_dilations=rest,
        ))
    return tuple(stages)


def _sizes(stages: Sequence[_Stage], input_size: tuple[int, int], arch: str) -> list[tuple[int, int]]:
    """Output ``(h, w)`` of every stage, by conv arithmetic along the main path."""
    size = input_size
    sizes = []
    for stage in stages:
        for op in stage.ops:
            try:
                size = tuple(
                    conv_output_size(n, op.kernel_size[a], op.stride[a], op.padding[a], op.dilation[a], op.ceil_mode)
                    for a, n in enumerate(size)
                )
            except ValueError as error:
                raise ValueError(
                    f"input_size={input_size} is too small for {arch}: {op.name} gets {size[0]}×{size[1]} ({error})"
                ) from error
        sizes.append(size)
    return sizes


def _flags_from_stages(stages: Sequence[_Stage]) -> tuple[bool, bool, bool]:
    by_name = {stage.stage: stage for stage in stages}
    previous = dict(zip(DILATABLE_STAGES, ("layer1", "layer2", "layer3")))
    return tuple(  # type: ignore[return-value]
        by_name[stage].output_stride == by_name[previous[stage]].output_stride for stage in DILATABLE_STAGES
    )


def _arch_name(model: "nn.Module") -> str:
    from torchvision.models.resnet import BasicBlock, Bottleneck

    counts = tuple(len(getattr(model, stage)) for stage in ("layer1", "layer2", "layer3", "layer4"))
    block_type = type(getattr(model, "layer1")[0])
    for arch, (block, layers) in RESNET_ARCHS.items():
        family = BasicBlock if block is BasicBlock else Bottleneck
        if counts == layers and issubclass(block_type, family):
            return arch
    return type(model).__name__


def _build(arch: str, flags: tuple[bool, bool, bool], schedule: str) -> "ResNet":
    if schedule == "torchvision":
        return dilated_resnet(arch, flags)
    return semseg_resnet(arch, flags)


@functools.lru_cache(maxsize=None)
def _arch_stages(arch: str, flags: tuple[bool, bool, bool], schedule: str) -> tuple[_Stage, ...]:
    """Trace a meta-device model once per (arch, flags, schedule); keep only its geometry."""
    with meta_device():  # no weights are needed for geometry: shapes only, no initialisation
        model = _build(arch, flags, schedule)
    traced = trace(model, REFERENCE_SIZE)
    stages = _stages_from_trace(model, traced)
    reference = (REFERENCE_SIZE, REFERENCE_SIZE)
    assert _sizes(stages, reference, arch) == [traced[s].size for s in RESNET_STAGES], "size chain disagrees with trace"
    return stages


def stride_table(
    arch_or_model: "str | nn.Module",
    input_size: int | tuple[int, int] = REFERENCE_SIZE,
    replace_stride_with_dilation: Sequence[bool] | None = None,
    *,
    schedule: str = "torchvision",
) -> StrideTable:
    """The output-stride table of a ResNet: per stage, size, stride, dilations, receptive field.

    Rows: ``conv1, maxpool, layer1, layer2, layer3, layer4`` (the paper's ``conv1, conv2_x ...
    conv5_x``). Everything is read from :func:`visual.trace` of the real model; for an arch name
    the model and its trace are cached, and other input sizes are conv arithmetic along each
    stage's layers (fast enough for sliders; tests check it against real forward passes).

    Args:
        arch_or_model: an arch name (``"resnet18"`` ... ``"resnet152"``) or a ResNet-like
            ``nn.Module`` with ``conv1, maxpool, layer1..layer4`` (traced at ``input_size``).
        input_size: ``H`` for a square input or ``(H, W)``; 473 is PSPNet's crop.
        replace_stride_with_dilation: three booleans for (layer2, layer3, layer4). ``None``
            means ``(False, True, True)`` (output stride 8) for an arch name, and whatever the
            model does for a model (passing flags with a model is an error).
        schedule: for an arch name, ``"torchvision"`` (the à trous rule, :func:`dilated_resnet`)
            or ``"semseg"`` (every block dilated, :func:`semseg_resnet`).

    Returns:
        A :class:`StrideTable` with six rows.

    Raises:
        ValueError: unknown arch or schedule, an input too small for the network (< 1 px for a
            ResNet), a model without ResNet stages, or flags passed along with a model.
        TypeError: flags that are not three booleans, or a bad ``input_size`` type.

    Example:
        >>> table = stride_table("resnet50", 473)
        >>> table["maxpool"].size, table.output_size, table.output_stride
        ((119, 119), (60, 60), 8)
    """
    hw = _parse_input_size(input_size)
    if isinstance(arch_or_model, str):
        if arch_or_model not in RESNET_ARCHS:
            raise ValueError(f"arch must be one of {sorted(RESNET_ARCHS)}, got {arch_or_model!r}")
        schedule = _check_schedule(schedule)
        flags = (False, True, True) if replace_stride_with_dilation is None else _validate_flags(
            replace_stride_with_dilation
        )
        arch = arch_or_model
        stages = _arch_stages(arch, flags, schedule)
        sizes = _sizes(stages, hw, arch)
    else:
        _check_resnet_like(arch_or_model)
        if replace_stride_with_dilation is not None:
            raise ValueError(
                "replace_stride_with_dilation goes with an arch name; a model already has its "
                "dilations (build it with visual.dilated_resnet(arch, flags))"
            )
        traced = trace(arch_or_model, hw)
        stages = _stages_from_trace(arch_or_model, traced)
        sizes = [tuple(traced[stage].size) for stage in RESNET_STAGES]
        flags, arch, schedule = _flags_from_stages(stages), _arch_name(arch_or_model), "model"
    rows = tuple(
        StrideRow(
            stage=stage.stage, paper_name=PAPER_NAMES[stage.stage], size=size,
            output_stride=stage.output_stride, rf=stage.rf, start=stage.start, channels=stage.channels,
            first_block_dilations=stage.first_block_dilations,
            other_blocks_dilations=stage.other_blocks_dilations,
        )
        for stage, size in zip(stages, sizes)
    )
    return StrideTable(arch, hw, flags, schedule, rows)


# --------------------------------------------------------------------------------------------
# Alignment of upsampled features (why 8k + 1)
# --------------------------------------------------------------------------------------------
def _stage_geometry(table: StrideTable, stage: str) -> tuple[int, int, int, float]:
    if not isinstance(table, StrideTable):
        raise TypeError(f"table must be a StrideTable (from visual.stride_table), got {type(table).__name__}")
    row = table[stage]
    return table.input_size[0], row.size[0], row.output_stride, row.start


def upsampling_drift(table: StrideTable, *, align_corners: bool, stage: str = "layer4") -> "torch.Tensor":
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
        TypeError: ``table`` is not a StrideTable or ``align_corners`` not a bool.
        KeyError: unknown stage.

    Example:
        >>> drift = upsampling_drift(stride_table("resnet50", 473), align_corners=True)
        >>> float(drift.abs().max())
        0.0
    """
    import torch
    import torch.nn.functional as F

    if not isinstance(align_corners, bool):
        raise TypeError(f"align_corners must be a bool, got {align_corners!r}")
    H, h, s, start = _stage_geometry(table, stage)
    coordinate = torch.arange(h, dtype=torch.float64).view(1, 1, h, 1)  # (1, 1, h, 1): x = i at feature i
    x = F.interpolate(coordinate, size=(H, 1), mode="bilinear", align_corners=align_corners)  # (1, 1, H, 1)
    return start + s * x[0, 0, :, 0] - torch.arange(H, dtype=torch.float64)  # (H,)


def upsampled_positions(table: StrideTable, *, align_corners: bool, stage: str = "layer4") -> "torch.Tensor":
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
    import torch

    if not isinstance(align_corners, bool):
        raise TypeError(f"align_corners must be a bool, got {align_corners!r}")
    H, h, _, _ = _stage_geometry(table, stage)
    i = torch.arange(h, dtype=torch.float64)
    if align_corners:
        return i * (H - 1) / max(h - 1, 1)  # (h,): a single feature sits on pixel 0
    return (i + 0.5) * H / h - 0.5  # (h,)


# --------------------------------------------------------------------------------------------
# Cost
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StrideCost:
    """Measured cost of one forward pass of a backbone (batch 1, float32).

    Attributes:
        arch: model name.
        input_size: ``(H, W)``.
        output_stride: of layer4.
        output_size: ``(h, w)`` of layer4.
        flops: floating-point operations of one forward pass (a multiply-add counts 2), from
            ``torch.utils.flop_counter.FlopCounterMode``.
        activation_bytes: bytes of the activations autograd saves for the backward pass in
            training mode (parameters excluded): the memory that grows with output stride.
        feature_bytes: bytes of the layer4 feature map alone.
    """

    arch: str
    input_size: tuple[int, int]
    output_stride: int
    output_size: tuple[int, int]
    flops: int
    activation_bytes: int
    feature_bytes: int


def measure_cost(
    arch_or_model: "str | nn.Module",
    input_size: int | tuple[int, int] = REFERENCE_SIZE,
    replace_stride_with_dilation: Sequence[bool] | None = None,
) -> StrideCost:
    """Count FLOPs and activation memory of a ResNet backbone's forward pass (batch 1).

    The model runs on the *meta* device (shapes only, no arithmetic), in training mode, under
    ``FlopCounterMode`` (which counts the aten convolution / matmul ops that really run) and a
    ``saved_tensors_hooks`` that records every tensor autograd keeps for backward. Nothing is
    allocated, so OS 8 at 473x473 takes about a second instead of tens.

    Args:
        arch_or_model: an arch name (built with :func:`dilated_resnet`) or a ResNet-like module
            (copied to the meta device; the original is untouched).
        input_size: ``H`` or ``(H, W)``.
        replace_stride_with_dilation: flags for an arch name (``None``: ``(False, True, True)``);
            must be ``None`` for a model.

    Returns:
        A :class:`StrideCost`.

    Raises:
        ValueError, TypeError: as :func:`stride_table`.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    table = stride_table(arch_or_model, input_size, replace_stride_with_dilation)
    if isinstance(arch_or_model, str):
        with meta_device():
            model = dilated_resnet(arch_or_model, table.replace_stride_with_dilation)
    else:
        model = copy.deepcopy(arch_or_model).to("meta")
    model.train()
    parameter_storages = {p.untyped_storage()._cdata for p in model.parameters()}
    saved: dict[int, int] = {}  # storage -> bytes; a tensor saved by several ops counts once

    def pack(tensor: "torch.Tensor") -> "torch.Tensor":
        storage = tensor.untyped_storage()
        if storage._cdata not in parameter_storages:
            saved[storage._cdata] = max(saved.get(storage._cdata, 0), storage.nbytes())
        return tensor

    dtype = next(model.parameters()).dtype
    x = torch.empty(1, 3, *table.input_size, device="meta", dtype=dtype)  # (1, 3, H, W)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        with FlopCounterMode(display=False) as counter:
            features = _backbone(model, x)  # (1, C, h, w)
    return StrideCost(
        arch=table.arch, input_size=table.input_size, output_stride=table.output_stride,
        output_size=table.output_size, flops=int(counter.get_total_flops()),
        activation_bytes=int(sum(saved.values())),
        feature_bytes=int(features.numel() * features.element_size()),
    )


def _backbone(model: "nn.Module", x: "torch.Tensor") -> "torch.Tensor":
    """The ResNet up to layer4 (no pooling or classifier): ``(N, 3, H, W) -> (N, C, h, w)``."""
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    return model.layer4(model.layer3(model.layer2(model.layer1(x))))


_COST_COLUMNS = ("output stride", "layer4 size", "GFLOPs", "× OS 32", "activations (MiB)", "× OS 32",
                 "layer4 map (MiB)")


@dataclass(frozen=True)
class CostTable:
    """Costs of one backbone at several output strides (first row is the reference).

    Attributes:
        rows: one :class:`StrideCost` per output stride, in the order measured.
    """

    rows: tuple[StrideCost, ...]

    def __iter__(self) -> Iterator[StrideCost]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def _cells(self) -> list[tuple[str, ...]]:
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
        body = self._cells()
        widths = [max(len(c) for c in column) for column in zip(_COST_COLUMNS, *body)]
        lines = [self.title]
        for cells in (_COST_COLUMNS, *body):
            lines.append("  ".join(c.rjust(w) for c, w in zip(cells, widths)))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in _COST_COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td style='text-align:right'>{html.escape(c)}</td>" for c in cells) + "</tr>"
            for cells in self._cells()
        )
        return (f"<table><caption>{html.escape(self.title)}</caption><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table>")


def cost_table(
    arch: str = "resnet50",
    input_size: int | tuple[int, int] = REFERENCE_SIZE,
    output_strides: Sequence[int] = (32, 16, 8),
) -> CostTable:
    """:func:`measure_cost` at several output strides (flags from :func:`dilation_flags`).

    Args:
        arch: an arch name.
        input_size: ``H`` or ``(H, W)``.
        output_strides: e.g. ``(32, 16, 8)``; the first is the reference of the ratios.

    Returns:
        A :class:`CostTable`.

    Raises:
        ValueError: an unknown arch or output stride, or no output strides.
    """
    if isinstance(output_strides, (str, bytes)) or not isinstance(output_strides, Sequence) or not output_strides:
        raise ValueError(f"output_strides must be a non-empty sequence such as (32, 16, 8), got {output_strides!r}")
    flags = [dilation_flags(os_) for os_ in output_strides]
    return CostTable(tuple(measure_cost(arch, input_size, f) for f in flags))
