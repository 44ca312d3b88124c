"""Receptive fields of real ``nn.Module``s: traced from layer arguments, measured from gradients.

* ``trace(model, input_size)`` runs the model's own ``forward`` on the *meta* device (shapes
  only, no arithmetic, no data) through ``torch.func.functional_call`` so the model is never
  changed. A ``TorchFunctionMode`` carries, for every tensor, the geometry of its pixels along
  each axis (Araujo et al. 2019, Distill, Eq. 1-3):

  - ``jump``: distance in input pixels between neighbouring pixels of the tensor,
  - ``rf``: receptive field of one pixel, in input pixels,
  - ``start``: input coordinate of the centre of the receptive field of pixel 0,

  updated by convolutions and pooling from their arguments; residual additions and
  concatenations keep the path with the larger receptive field. Global module hooks name
  the tensors each module returns.
* ``gradient_receptive_field`` measures the receptive field of the centre output unit from
  the gradient of that unit w.r.t. the input, on a copy made linear and positive so that
  every path counts.
* ``effective_receptive_field`` is the ERF heatmap of Luo et al. (2016): the mean absolute
  gradient of the centre output unit over random inputs, with the model's own weights.
"""

from __future__ import annotations

import contextlib
import html
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from visual.conv_arithmetic import conv_output_size, effective_kernel_size

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch
    from torch import nn

__all__ = [
    "Trace",
    "TraceRow",
    "trace",
    "meta_device",
    "gradient_receptive_field",
    "effective_receptive_field",
    "erf_std",
    "conv_stack",
]

Number = int | float
Pair = tuple[Number, Number]

META_BATCH = 2  # batch of the meta input: BatchNorm in training mode refuses 1 value per channel
DEFAULT_IN_CHANNELS = 3  # RGB, when the model has no Conv2d to read ``in_channels`` from
# Extra input taps that one output of F.interpolate reads, per mode (nearest: 1 tap, linear: 2,
# cubic: 4); "area" is adaptive average pooling and handled as such.
INTERPOLATE_EXTRA_TAPS = {"nearest": 0, "nearest-exact": 0, "linear": 1, "bilinear": 1, "bicubic": 3}


# --------------------------------------------------------------------------------------------
# Rows and the table
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TraceRow:
    """The output of one module of a traced model.

    Per-axis values are ``(height, width)`` pairs in *input* pixels. They are ints when exact,
    floats after a fractional resampling (adaptive pooling or interpolation to a size that does
    not divide).

    Attributes:
        name: qualified name from ``model.named_modules()``; ``""`` for the model itself.
        type: the module's class name, e.g. ``"Conv2d"``.
        size: ``(H, W)`` of the output, or ``None`` for a non-spatial output such as logits.
        channels: channels of the output (``C`` of ``(N, C, H, W)``; features of ``(N, F)``).
        stride: cumulative stride ("jump"): distance between neighbouring output pixels.
        rf: theoretical receptive field of one output pixel.
        start: input coordinate of the centre of output pixel 0's receptive field.
        dilation: the conv/max-pool dilation of a leaf layer; for a container, the largest
            dilation used inside it; ``None`` where no dilated operation ran.
        kernel_size: the kernel of a conv/pool leaf layer, else ``None``.
        padding: the (left/top) padding of a conv/pool leaf layer, else ``None``.
        calls: how many times the module ran (a shared module such as the ``relu`` of a
            torchvision ``Bottleneck`` runs 3 times; the row describes its last call).
    """

    name: str
    type: str
    size: tuple[int, int] | None
    channels: int | None
    stride: Pair
    rf: Pair
    start: Pair
    dilation: tuple[int, int] | None = None
    kernel_size: tuple[int, int] | None = None
    padding: tuple[int, int] | None = None
    calls: int = 1

    @property
    def depth(self) -> int:
        """Nesting depth: 0 for the model, 1 for ``"layer1"``, 2 for ``"layer1.0"``, ..."""
        return 0 if not self.name else self.name.count(".") + 1

    def box(self, index: tuple[int, int] | None = None) -> tuple[float, float, float, float]:
        """The receptive field of one output pixel as ``(top, left, height, width)``.

        Coordinates are input pixel indices (pixel ``i`` covers ``[i - 0.5, i + 0.5]``), so the
        field spans rows ``top .. top + height - 1``; it may reach outside the input.

        Args:
            index: ``(row, col)`` of the output pixel; default the centre
                ``(H // 2, W // 2)``, the unit that ``gradient_receptive_field`` measures.

        Returns:
            ``(top, left, height, width)`` in input pixels.

        Raises:
            ValueError: for a non-spatial row (``size`` is ``None``).
        """
        if self.size is None:
            raise ValueError(f"row {self.name!r} has no spatial output; box() needs (H, W)")
        if index is None:
            index = (self.size[0] // 2, self.size[1] // 2)
        corner = [
            self.start[axis] + index[axis] * self.stride[axis] - (self.rf[axis] - 1) / 2
            for axis in range(2)
        ]
        return corner[0], corner[1], self.rf[0], self.rf[1]


def _fmt_number(value: Number) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return str(int(value))


def _fmt_pair(pair: Sequence[Number] | None, sep: str = "x") -> str:
    if pair is None:
        return "-"
    a, b = (_fmt_number(v) for v in pair)
    return a if a == b else f"{a}{sep}{b}"


_COLUMNS = ("name", "type", "size", "channels", "stride", "rf", "dilation", "kernel", "padding")


def _row_cells(row: TraceRow) -> tuple[str, ...]:
    size = "-" if row.size is None else f"{row.size[0]}x{row.size[1]}"
    return (
        row.name or "(model)",
        row.type,
        size,
        "-" if row.channels is None else str(row.channels),
        _fmt_pair(row.stride),
        _fmt_pair(row.rf),
        _fmt_pair(row.dilation),
        _fmt_pair(row.kernel_size),
        _fmt_pair(row.padding),
    )


class Trace(Mapping[str, TraceRow]):
    """Read-only mapping ``qualified module name -> TraceRow``, in execution order.

    Rows appear in the order the modules *started* running (a container before its
    children). ``str(trace)`` is an aligned text table, ``trace`` in a notebook an HTML table.
    ``trace.select([...])`` or ``trace.select(depth=1)`` keeps a subset for display.

    Attributes:
        input_size: ``(H, W)`` of the traced input.
        output: the row of the model itself (key ``""``) if its output is a tensor, else the
            last row.
    """

    def __init__(self, rows: Iterable[TraceRow], input_size: tuple[int, int]) -> None:
        self._rows: dict[str, TraceRow] = {row.name: row for row in rows}
        self.input_size = input_size

    # Mapping protocol
    def __getitem__(self, name: str) -> TraceRow:
        try:
            return self._rows[name]
        except KeyError:
            close = [n for n in self._rows if name and name in n][:5]
            hint = f"; similar names: {close}" if close else ""
            raise KeyError(f"no module named {name!r} in this trace{hint}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    # Convenience
    @property
    def output(self) -> TraceRow:
        if "" in self._rows:
            return self._rows[""]
        return next(reversed(self._rows.values()))

    @property
    def size(self) -> tuple[int, int] | None:
        """``(H, W)`` of the model's output (see ``output``)."""
        return self.output.size

    @property
    def stride(self) -> Pair:
        """Cumulative stride of the model's output (see ``output``)."""
        return self.output.stride

    @property
    def rf(self) -> Pair:
        """Theoretical receptive field of one output pixel of the model (see ``output``)."""
        return self.output.rf

    def select(self, names: Iterable[str] | None = None, *, depth: int | None = None) -> "Trace":
        """A smaller ``Trace`` for display.

        Args:
            names: qualified names to keep, in the order given (``""`` is the model itself).
            depth: instead of ``names``, keep every row of nesting depth ``<= depth``
                (1: the model's direct children such as ``"layer1"``), in execution order.

        Returns:
            A new ``Trace`` with the chosen rows.

        Raises:
            ValueError: if both or neither argument is given, a name is not in the trace, or
                ``depth`` is negative.
        """
        if (names is None) == (depth is None):
            raise ValueError("select() takes exactly one of names=[...] or depth=<int>")
        if depth is not None:
            if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
                raise ValueError(f"depth must be an int >= 0, got {depth!r}")
            return Trace((r for r in self._rows.values() if r.depth <= depth), self.input_size)
        if isinstance(names, str):
            raise ValueError(f"names must be a list of module names, got the string {names!r}")
        names = list(names)
        missing = [n for n in names if n not in self._rows]
        if missing:
            raise ValueError(
                f"names not in this trace: {missing}; available (first 12): {list(self._rows)[:12]}"
            )
        return Trace((self._rows[n] for n in names), self.input_size)

    # Display
    def _table(self) -> list[tuple[str, ...]]:
        return [_row_cells(row) for row in self._rows.values()]

    def __str__(self) -> str:
        h, w = self.input_size
        body = self._table()
        widths = [max(len(c) for c in col) for col in zip(_COLUMNS, *body)]
        lines = [f"input {h}x{w}"]
        for cells in (_COLUMNS, *body):
            lines.append(
                "  ".join(
                    c.ljust(wd) if i < 2 else c.rjust(wd) for i, (c, wd) in enumerate(zip(cells, widths))
                ).rstrip()
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Trace of {len(self)} modules, input {self.input_size[0]}x{self.input_size[1]}>"

    def _repr_html_(self) -> str:
        h, w = self.input_size
        head = "".join(f"<th>{html.escape(c)}</th>" for c in _COLUMNS)
        rows = "".join(
            "<tr>" + "".join(
                f"<td style='text-align:{'left' if i < 2 else 'right'}'>{html.escape(c)}</td>"
                for i, c in enumerate(cells)
            ) + "</tr>"
            for cells in self._table()
        )
        return (
            f"<table><caption>trace, input {h}x{w} (stride, rf in input pixels)</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        )


# --------------------------------------------------------------------------------------------
# Geometry propagation
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Geo:
    """Per-axis (H, W) geometry of a tensor's pixels, in input pixels (exact fractions)."""

    jump: tuple[Fraction, Fraction]
    rf: tuple[Fraction, Fraction]
    start: tuple[Fraction, Fraction]
    resampled: bool = False  # the grid comes from F.interpolate (e.g. an upsampled pooling branch)


_INPUT_GEO = _Geo((Fraction(1),) * 2, (Fraction(1),) * 2, (Fraction(0),) * 2)


def _pair(value: Any, name: str = "value") -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) == 1:
            return (int(value[0]),) * 2
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _window(geo: _Geo, kernel: tuple[int, int], stride: tuple[int, int],
            padding: tuple[int, int], dilation: tuple[int, int]) -> _Geo:
    """Geometry after a sliding window (conv or pool) with these per-axis arguments."""
    jump, rf, start = [], [], []
    for axis in range(2):
        k_eff = effective_kernel_size(kernel[axis], dilation[axis])
        j = geo.jump[axis]
        rf.append(geo.rf[axis] + (k_eff - 1) * j)
        start.append(geo.start[axis] + (Fraction(k_eff - 1, 2) - padding[axis]) * j)
        jump.append(j * stride[axis])
    return _Geo(tuple(jump), tuple(rf), tuple(start), geo.resampled)


def _adaptive(geo: _Geo, in_size: Sequence[int], out_size: Sequence[int]) -> _Geo:
    """Geometry after adaptive pooling from ``in_size`` to ``out_size`` (per axis).

    Bin ``i`` covers ``[floor(i n / o), ceil((i + 1) n / o))`` (PyTorch's rule); the receptive
    field uses the widest bin, the jump the mean bin step ``n / o``.
    """
    jump, rf, start = [], [], []
    for axis in range(2):
        n, o = int(in_size[axis]), int(out_size[axis])
        widest = max(-(-(i + 1) * n // o) - (i * n // o) for i in range(o))
        first = -(-n // o)  # width of bin 0
        j = geo.jump[axis]
        rf.append(geo.rf[axis] + (widest - 1) * j)
        start.append(geo.start[axis] + Fraction(first - 1, 2) * j)
        jump.append(j * Fraction(n, o))
    return _Geo(tuple(jump), tuple(rf), tuple(start), geo.resampled)


def _resample(geo: _Geo, in_size: Sequence[int], out_size: Sequence[int], mode: str,
              align_corners: bool | None) -> _Geo:
    """Geometry after ``F.interpolate`` from ``in_size`` to ``out_size`` (per axis)."""
    if mode == "area":
        return _adaptive(geo, in_size, out_size)
    if mode not in INTERPOLATE_EXTRA_TAPS:
        raise ValueError(f"F.interpolate mode {mode!r} is not supported by trace")
    extra = INTERPOLATE_EXTRA_TAPS[mode]
    jump, rf, start = [], [], []
    for axis in range(2):
        n, o = int(in_size[axis]), int(out_size[axis])
        j = geo.jump[axis]
        if align_corners and o > 1:
            scale, first = Fraction(n - 1, o - 1), Fraction(0)
        else:  # pixel centres: source = (i + 1/2) n / o - 1/2, clamped at 0 for linear modes
            scale = Fraction(n, o)
            first = max(Fraction(0), scale / 2 - Fraction(1, 2)) if extra else Fraction(0)
        jump.append(j * scale)
        rf.append(geo.rf[axis] + (extra * j if n > 1 else 0))  # a single source pixel: one tap
        start.append(geo.start[axis] + first * j)
    return _Geo(tuple(jump), tuple(rf), tuple(start), resampled=True)


def _global(geo: _Geo, in_size: Sequence[int]) -> _Geo:
    """Geometry of a value that depends on every pixel of a ``in_size`` map (flatten, mean)."""
    return _adaptive(geo, in_size, (1, 1))


def _largest(geos: Sequence[_Geo]) -> _Geo:
    return max(geos, key=lambda g: (g.rf[0] * g.rf[1], g.rf))


def _merge(geos: Sequence[_Geo]) -> _Geo:
    """Merge paths (addition, concatenation): the receptive field of the widest path.

    The grid (jump, start) is that of the widest path that was not resampled by
    ``F.interpolate`` when there is one: in PSPNet's pyramid pooling the concatenation lives
    on the backbone's grid even though the upsampled global branch sees more of the image.
    """
    widest = _largest(geos)
    native = [g for g in geos if not g.resampled]
    grid = _largest(native) if native else widest
    if grid is widest:
        return widest
    return replace(grid, rf=tuple(max(a, b) for a, b in zip(grid.rf, widest.rf)))


def _as_number(value: Fraction) -> Number:
    return int(value) if value.denominator == 1 else float(value)


def _as_pair(values: Sequence[Fraction]) -> Pair:
    return tuple(_as_number(v) for v in values)  # type: ignore[return-value]


def _spatial(t: "torch.Tensor") -> tuple[int, int] | None:
    return (int(t.shape[-2]), int(t.shape[-1])) if t.dim() >= 3 else None


class _Frame:
    """A module call in progress: its name and what ran directly inside it."""

    __slots__ = ("name", "module", "dilation", "ops")

    def __init__(self, name: str, module: "nn.Module") -> None:
        self.name = name
        self.module = module
        self.dilation: tuple[int, int] | None = None
        self.ops: list[tuple[tuple[int, int], tuple[int, int], tuple[int, int] | None]] = []


def _max_dilation(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int] | None:
    if a is None:
        return b
    if b is None:
        return a
    return (max(a[0], b[0]), max(a[1], b[1]))


def _flatten_tensors(obj: Any, out: list) -> list:
    """Append every tensor in ``obj`` (a tensor, or nested lists/tuples/dicts) to ``out``."""
    import torch

    if isinstance(obj, torch.Tensor):
        out.append(obj)
        return out
    items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else ()
    for item in items:
        if isinstance(item, torch.Tensor):
            out.append(item)
        elif isinstance(item, (list, tuple, dict)):
            _flatten_tensors(item, out)
    return out


def _arg(args: tuple, kwargs: dict, index: int, name: str, default: Any) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


class _Tracer:
    """Holds the per-tensor geometry, the module-call stack and the finished rows."""

    def __init__(self, names: dict[int, str]) -> None:
        self.names = names
        self.geo: dict[int, tuple[Any, _Geo]] = {}  # id(tensor) -> (tensor kept alive, geometry)
        self.stack: list[_Frame] = []
        self.rows: dict[str, TraceRow] = {}
        self.calls: dict[str, int] = {}

    # ---- naming -----------------------------------------------------------------------------
    def where(self) -> str:
        if not self.stack:
            return "the model's forward (outside any submodule)"
        frame = self.stack[-1]
        label = frame.name or "(the model itself)"
        return f"module {label!r} ({type(frame.module).__name__})"

    def get(self, t: Any) -> _Geo | None:
        entry = self.geo.get(id(t))
        return entry[1] if entry is not None and entry[0] is t else None

    def set(self, t: Any, geo: _Geo) -> None:
        self.geo[id(t)] = (t, geo)

    # ---- hooks --------------------------------------------------------------------------------
    def pre_hook(self, module: "nn.Module", args: Any) -> None:
        name = self.names.get(id(module))
        if name is not None:
            self.stack.append(_Frame(name, module))
            if name not in self.rows:  # reserve the row's place in execution order
                self.rows[name] = None  # type: ignore[assignment]

    def post_hook(self, module: "nn.Module", args: Any, output: Any) -> None:
        import torch

        name = self.names.get(id(module))
        if name is None:
            return
        frame = self.stack.pop()
        assert frame.module is module, "module call stack out of order"
        if self.stack:
            parent = self.stack[-1]
            parent.dilation = _max_dilation(parent.dilation, frame.dilation)
        self.calls[name] = self.calls.get(name, 0) + 1
        if isinstance(output, dict) and isinstance(output.get("out"), torch.Tensor):
            output = output["out"]  # torchvision's segmentation contract: {"out": ..., "aux": ...}
        geo = self.get(output) if isinstance(output, torch.Tensor) else None
        if geo is None:
            return
        kernel = padding = None
        dilation = frame.dilation
        is_leaf = next(iter(module.children()), None) is None
        if is_leaf and len(frame.ops) == 1:
            kernel, padding, dilation = frame.ops[0]
        size = _spatial(output)
        if output.dim() >= 3:
            channels = int(output.shape[-3])
        elif output.dim() == 2:
            channels = int(output.shape[-1])
        else:
            channels = None
        self.rows[name] = TraceRow(
            name=name, type=type(module).__name__, size=size, channels=channels,
            stride=_as_pair(geo.jump), rf=_as_pair(geo.rf), start=_as_pair(geo.start),
            dilation=dilation, kernel_size=kernel, padding=padding, calls=self.calls[name],
        )

    def record_op(self, kernel: tuple[int, int], padding: tuple[int, int],
                  dilation: tuple[int, int] | None) -> None:
        if self.stack:
            frame = self.stack[-1]
            frame.ops.append((kernel, padding, dilation))
            frame.dilation = _max_dilation(frame.dilation, dilation)

    # ---- ops ----------------------------------------------------------------------------------
    def handle(self, func: Any, args: tuple, kwargs: dict, result: Any) -> None:
        import torch
        import torch.nn.functional as F

        outputs = [result] if isinstance(result, torch.Tensor) else _flatten_tensors(result, [])
        if not outputs:  # .dim(), .size(), ...
            return
        found = _flatten_tensors(args, [])
        if kwargs:
            _flatten_tensors(kwargs, found)
        inputs = [t for t in found if self.get(t) is not None]
        if not inputs:  # parameter or constant arithmetic
            return
        x = args[0] if args and isinstance(args[0], torch.Tensor) else inputs[0]
        geo = self.get(x)
        new = None
        if func in _CONV and geo is not None:
            weight = _arg(args, kwargs, 1, "weight", None)
            kernel = (int(weight.shape[-2]), int(weight.shape[-1]))
            stride = _pair(_arg(args, kwargs, 3, "stride", 1))
            dilation = _pair(_arg(args, kwargs, 5, "dilation", 1))
            padding = _conv_padding(_arg(args, kwargs, 4, "padding", 0), kernel, dilation)
            new = _window(geo, kernel, stride, padding, dilation)
            self.record_op(kernel, padding, dilation)
        elif func in _MAX_POOL and geo is not None:
            kernel = _pair(_arg(args, kwargs, 1, "kernel_size", None))
            stride_arg = _arg(args, kwargs, 2, "stride", None)
            stride = kernel if stride_arg is None or stride_arg == [] or stride_arg == () else _pair(stride_arg)
            padding = _pair(_arg(args, kwargs, 3, "padding", 0))
            dilation = _pair(_arg(args, kwargs, 4, "dilation", 1))
            new = _window(geo, kernel, stride, padding, dilation)
            self.record_op(kernel, padding, dilation)
        elif func in _AVG_POOL and geo is not None:
            kernel = _pair(_arg(args, kwargs, 1, "kernel_size", None))
            stride_arg = _arg(args, kwargs, 2, "stride", None)
            stride = kernel if stride_arg is None or stride_arg == [] or stride_arg == () else _pair(stride_arg)
            padding = _pair(_arg(args, kwargs, 3, "padding", 0))
            new = _window(geo, kernel, stride, padding, (1, 1))
            self.record_op(kernel, padding, None)
        elif func in _ADAPTIVE_POOL and geo is not None:
            new = _adaptive(geo, x.shape[-2:], outputs[0].shape[-2:])
        elif func is F.interpolate and geo is not None:
            mode = _arg(args, kwargs, 3, "mode", "nearest")
            align_corners = _arg(args, kwargs, 4, "align_corners", None)
            new = _resample(geo, x.shape[-2:], outputs[0].shape[-2:], mode, align_corners)
        if new is not None:
            for out in outputs:
                self.set(out, new)
            return
        self.generic(func, inputs, outputs)

    def generic(self, func: Any, inputs: list, outputs: list) -> None:
        """Ops that keep the spatial grid (elementwise, add, cat on channels, norms, ...)."""
        geos = [self.get(t) for t in inputs]
        sizes = [_spatial(t) for t in inputs]
        for out in outputs:
            out_size = _spatial(out)
            same = [g for g, s in zip(geos, sizes) if s is not None and s == out_size]
            if same:
                merged = _merge(same)
                broadcast = [g for g, s in zip(geos, sizes) if s != out_size]
                if broadcast:  # e.g. a (1, 1) gate times a map: the map's grid, the union's rf
                    wider = _merge(broadcast + [merged])
                    merged = replace(merged, rf=tuple(max(a, b) for a, b in zip(merged.rf, wider.rf)))
                self.set(out, merged)
            elif out_size is None or out_size == (1, 1):  # a reduction over the whole grid
                merged = _merge([
                    _global(g, s) if s is not None else g for g, s in zip(geos, sizes)
                ])
                self.set(out, merged)
            else:
                op = getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func))
                raise ValueError(
                    f"trace does not support {op!r} in {self.where()}: it changes the spatial size "
                    f"from {sizes[0]} to {out_size}. Supported geometry changes: Conv2d, MaxPool2d, "
                    "AvgPool2d, AdaptiveAvg/MaxPool2d and F.interpolate."
                )


_CONV: set = set()
_MAX_POOL: set = set()
_AVG_POOL: set = set()
_ADAPTIVE_POOL: set = set()
_SHAPE_PRESERVING: set = set()
_METADATA: set = set()  # tensor metadata queries: answered directly, never traced
# In-place elementwise ops (by name): they return their first argument with its shape unchanged
# (BatchNorm's counter ``num_batches_tracked.add_(1)``, ``out += identity``, ``relu(inplace=True)``).
_ELEMENTWISE_INPLACE = frozenset({
    "add_", "sub_", "mul_", "div_", "__iadd__", "__isub__", "__imul__", "__itruediv__",
    "relu_", "relu6_", "leaky_relu_", "elu_", "selu_", "celu_", "silu_", "gelu_", "mish_",
    "hardtanh_", "hardswish_", "hardsigmoid_", "sigmoid_", "tanh_", "clamp_", "clamp_min_",
    "clamp_max_", "threshold_", "fill_", "zero_", "neg_", "abs_", "exp_", "sqrt_", "pow_",
})


def _init_op_tables() -> None:
    """Fill the op tables once (needs torch, so not at import time)."""
    if _CONV:
        return
    import torch
    import torch.nn.functional as F

    _CONV.update({torch.conv2d, F.conv2d})
    _MAX_POOL.update({F.max_pool2d, F.max_pool2d_with_indices, torch.max_pool2d,
                      torch.nn.functional._max_pool2d})
    _AVG_POOL.update({F.avg_pool2d, torch._C._nn.avg_pool2d})
    _ADAPTIVE_POOL.update({F.adaptive_avg_pool2d, F.adaptive_max_pool2d,
                           F.adaptive_max_pool2d_with_indices, torch._C._nn.adaptive_avg_pool2d})
    _SHAPE_PRESERVING.update({F.batch_norm, F.instance_norm, F.group_norm, torch.batch_norm})
    _METADATA.update({torch.Tensor.dim, torch.Tensor.size, torch.Tensor.numel, torch.Tensor.__len__,
                      torch.Tensor.is_floating_point, torch.Tensor.shape.__get__, torch.Tensor.ndim.__get__,
                      torch.Tensor.dtype.__get__, torch.Tensor.device.__get__})


def _conv_padding(padding: Any, kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int]:
    """Per-axis left padding of a conv; "same" pads ``dilation * (kernel - 1) // 2`` on the left."""
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"conv padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
        return tuple(0 if padding == "valid" else (d * (k - 1)) // 2 for k, d in zip(kernel, dilation))
    return _pair(padding)


def _conv_shape(tracer: "_Tracer", args: tuple, kwargs: dict) -> tuple[int, ...]:
    """Output shape of ``F.conv2d(*args, **kwargs)``, with errors that name the module."""
    x, weight = args[0], _arg(args, kwargs, 1, "weight", None)
    groups = int(_arg(args, kwargs, 6, "groups", 1))
    kernel = (int(weight.shape[-2]), int(weight.shape[-1]))
    stride = _pair(_arg(args, kwargs, 3, "stride", 1))
    dilation = _pair(_arg(args, kwargs, 5, "dilation", 1))
    padding_arg = _arg(args, kwargs, 4, "padding", 0)
    padding = _conv_padding(padding_arg, kernel, dilation)
    if x.dim() not in (3, 4) or int(x.shape[-3]) != int(weight.shape[1]) * groups:
        raise ValueError(
            f"trace: {tracer.where()} expects an input with {int(weight.shape[1]) * groups} channels "
            f"(N, C, H, W), got shape {tuple(x.shape)}"
        )
    out = []
    for axis in range(2):
        size = int(x.shape[-2 + axis])
        if isinstance(padding_arg, str) and padding_arg == "same":
            out.append(size)
            continue
        try:
            out.append(conv_output_size(size, kernel[axis], stride[axis], padding[axis], dilation[axis]))
        except ValueError as err:
            raise ValueError(f"trace: input_size too small for {tracer.where()}: {err}") from None
    return (*x.shape[:-3], int(weight.shape[0]), *out)


def _parse_input_size(input_size: Any) -> tuple[int, int]:
    if isinstance(input_size, bool):
        raise TypeError(f"input_size must be an int or a pair (H, W) of ints, got {input_size!r}")
    if isinstance(input_size, int):
        hw = (input_size, input_size)
    elif isinstance(input_size, (tuple, list)) and len(input_size) == 2 and all(
        isinstance(s, int) and not isinstance(s, bool) for s in input_size
    ):
        hw = (int(input_size[0]), int(input_size[1]))
    else:
        raise TypeError(f"input_size must be an int or a pair (H, W) of ints, got {input_size!r}")
    if min(hw) < 1:
        raise ValueError(f"input_size must be at least 1 pixel per side, got {input_size!r}")
    return hw


def _infer_in_channels(model: "nn.Module") -> int:
    from torch import nn

    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return int(module.in_channels)
    return DEFAULT_IN_CHANNELS


def _check_model(model: Any) -> None:
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")


# nn.init's in-place fills (by name): on the meta device there is no data for them to fill.
_INIT_FILLS = frozenset({"normal_", "uniform_", "fill_", "zero_", "kaiming_normal_", "kaiming_uniform_",
                         "xavier_normal_", "xavier_uniform_", "trunc_normal_", "constant_", "ones_",
                         "zeros_", "orthogonal_", "eye_", "dirac_", "sparse_"})


@contextlib.contextmanager
def meta_device() -> Iterator[None]:
    """Build models on the meta device, shapes only, without running their weight initialisation.

    Inside the block, modules are created as under ``torch.device("meta")`` (parameters have
    shapes and dtypes but no data, so nothing is allocated), and ``nn.init``'s fills
    (``kaiming_normal_``, ``uniform_``, ...) return at once instead of running PyTorch's meta
    kernels, which have nothing to fill: a torchvision ResNet-101 builds about twice as fast.
    Use it to build a model only to :func:`trace` it.

    Example:
        >>> import torchvision
        >>> with meta_device():
        ...     model = torchvision.models.resnet50()
        >>> next(model.parameters()).device.type
        'meta'
    """
    import torch
    from torch.overrides import TorchFunctionMode

    class _SkipFills(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            first = args[0] if args else None
            if (getattr(func, "__name__", None) in _INIT_FILLS and isinstance(first, torch.Tensor)
                    and first.device.type == "meta"):
                return first  # an in-place fill on a tensor without data
            return func(*args, **(kwargs or {}))

    with torch.device("meta"), _SkipFills():
        yield


def trace(model: "nn.Module", input_size: int | tuple[int, int], *,
          in_channels: int | None = None) -> Trace:
    """Trace sizes, cumulative strides and receptive fields through a real model.

    The model's own ``forward`` runs on a meta tensor of shape ``(2, in_channels, H, W)``
    (shapes only: no arithmetic, no data, no memory for activations), with meta copies of
    its parameters passed through ``torch.func.functional_call``: the model is not changed.

    Args:
        model: any ``nn.Module`` built from Conv2d, max/avg/adaptive pooling, F.interpolate
            and shape-preserving layers (BatchNorm, ReLU, Dropout, Identity, Sequential,
            residual additions, ``torch.cat`` on channels, ...).
        input_size: ``H`` for a square input, or ``(H, W)``.
        in_channels: channels of the input; default: ``in_channels`` of the first Conv2d
            (3 if there is none).

    Returns:
        A ``Trace``: one ``TraceRow`` per module whose output is a tensor (or a dict with a
        tensor under ``"out"``, torchvision's segmentation contract), keyed by its qualified
        name (``""`` for the model itself), in execution order.

    Raises:
        TypeError: if ``model`` is not an ``nn.Module`` or ``input_size`` is not an int/pair.
        ValueError: if ``input_size`` < 1, the input is too small for a layer, or a module
            changes the spatial size in a way trace does not know (the message names it).

    Example:
        >>> import torchvision
        >>> t = trace(torchvision.models.resnet50(), 473)
        >>> t["layer4"].size, t["layer4"].stride
        ((15, 15), (32, 32))
    """
    import torch
    from torch.overrides import TorchFunctionMode

    _check_model(model)
    hw = _parse_input_size(input_size)
    if in_channels is None:
        in_channels = _infer_in_channels(model)
    elif isinstance(in_channels, bool) or not isinstance(in_channels, int) or in_channels < 1:
        raise ValueError(f"in_channels must be an int >= 1, got {in_channels!r}")
    _init_op_tables()

    names = {id(module): name for name, module in model.named_modules()}
    tracer = _Tracer(names)
    # meta stand-ins for every parameter and buffer; tied tensors share one stand-in
    meta: dict[int, torch.Tensor] = {}
    tensors: dict[str, torch.Tensor] = {}
    dtype = None
    for name, value in [*model.named_parameters(remove_duplicate=False),
                        *model.named_buffers(remove_duplicate=False)]:
        if id(value) not in meta:
            # shapes only: a meta model's own tensors (detached: no autograd graph), else empties
            meta[id(value)] = (value.detach() if value.device.type == "meta"
                               else torch.empty(value.shape, dtype=value.dtype, device="meta"))
        tensors[name] = meta[id(value)]
        if dtype is None and value.is_floating_point():
            dtype = value.dtype
    x = torch.empty((META_BATCH, in_channels, *hw), device="meta", dtype=dtype or torch.float32)  # (N, C, H, W)
    tracer.set(x, _INPUT_GEO)

    class _GeometryMode(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if func in _METADATA:  # .dim(), .shape, ...: nothing to trace
                return func(*args, **kwargs)
            x = args[0] if args else None
            if func in _SHAPE_PRESERVING and x is not None and x.device.type == "meta":
                # same shape as the input: skip PyTorch's slow Python meta decompositions
                result = torch.empty(x.shape, dtype=x.dtype, device="meta")  # (N, C, H, W)
            elif (isinstance(x, torch.Tensor) and x.device.type == "meta"
                  and getattr(func, "__name__", None) in _ELEMENTWISE_INPLACE):
                result = x  # an in-place elementwise op returns its input, same shape; no data to change
            elif func in _CONV and x is not None and x.device.type == "meta":
                result = torch.empty(_conv_shape(tracer, args, kwargs), dtype=x.dtype, device="meta")
            else:
                result = func(*args, **kwargs)
            tracer.handle(func, args, kwargs, result)
            return result

    from torch.nn.modules import module as module_hooks

    pre = module_hooks.register_module_forward_pre_hook(tracer.pre_hook)
    post = module_hooks.register_module_forward_hook(tracer.post_hook)
    try:
        with _GeometryMode():
            torch.func.functional_call(model, tensors, (x,), strict=False, tie_weights=False)
    except ValueError as err:
        if str(err).startswith("trace"):
            raise
        raise ValueError(f"trace failed in {tracer.where()} for input_size={input_size!r}: {err}") from err
    except RuntimeError as err:
        raise ValueError(
            f"trace failed in {tracer.where()} for input_size={input_size!r} "
            f"(input of shape (N, {in_channels}, {hw[0]}, {hw[1]})): {err}"
        ) from err
    finally:
        pre.remove()
        post.remove()
    rows = [row for row in tracer.rows.values() if row is not None]
    return Trace(rows, hw)


# --------------------------------------------------------------------------------------------
# Receptive fields measured with gradients
# --------------------------------------------------------------------------------------------
def _model_device(model: "nn.Module") -> "torch.device":
    import torch

    for value in (*model.parameters(), *model.buffers()):
        return value.device
    return torch.device("cpu")


def _primary_output(output: Any, where: str) -> "torch.Tensor":
    """The tensor to differentiate: the output itself, ``output["out"]`` or the first tensor."""
    import torch

    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, dict) and isinstance(output.get("out"), torch.Tensor):
        return output["out"]
    tensors = _flatten_tensors(output, [])
    if not tensors:
        raise ValueError(f"{where}: the model returned no tensor ({type(output).__name__})")
    return tensors[0]


def _centre_unit(output: "torch.Tensor") -> "torch.Tensor":
    """Sum over channels of the centre output unit of each sample: ``(N,)``."""
    if output.dim() == 4:
        h, w = output.shape[-2:]
        return output[:, :, h // 2, w // 2].sum(dim=1)  # (N,)
    return output.reshape(output.shape[0], -1).sum(dim=1)  # (N,)


def _linear_positive_mode() -> Any:
    """A TorchFunctionMode that makes a forward pass linear with every path counting.

    Activations, normalisation and dropout become the identity; max pooling becomes average
    pooling over the same window (a depthwise all-ones convolution when dilated).
    """
    import torch
    import torch.nn.functional as F
    from torch.overrides import TorchFunctionMode

    identity = {
        F.relu, torch.relu, torch.relu_, torch.Tensor.relu, torch.Tensor.relu_, F.relu6,
        F.leaky_relu, F.elu, F.gelu, F.silu, F.mish, F.hardtanh, F.hardswish, F.hardsigmoid,
        torch.sigmoid, torch.Tensor.sigmoid, torch.tanh, torch.Tensor.tanh,
        F.batch_norm, F.instance_norm, F.layer_norm, F.group_norm,
        F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout,
    }
    max_pools = {F.max_pool2d, F.max_pool2d_with_indices, torch.max_pool2d}
    adaptive_max = {F.adaptive_max_pool2d, F.adaptive_max_pool2d_with_indices}

    class LinearPositive(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if func in _METADATA:  # .dim(), .shape, ...: nothing to trace
                return func(*args, **kwargs)
            if func in identity:
                return args[0] if args else kwargs["input"]
            if func in max_pools:
                x = args[0]
                kernel = _pair(_arg(args, kwargs, 1, "kernel_size", None))
                stride_arg = _arg(args, kwargs, 2, "stride", None)
                stride = kernel if stride_arg in (None, [], ()) else _pair(stride_arg)
                padding = _pair(_arg(args, kwargs, 3, "padding", 0))
                dilation = _pair(_arg(args, kwargs, 4, "dilation", 1))
                ceil_mode = bool(_arg(args, kwargs, 5, "ceil_mode", False))
                if dilation == (1, 1):
                    out = F.avg_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode)  # (N, C, h, w)
                else:  # a depthwise all-ones conv; extra right/bottom zeros emulate ceil_mode
                    extra = []
                    for axis in range(2):
                        n = int(x.shape[-2 + axis])
                        out_n = conv_output_size(n, kernel[axis], stride[axis], padding[axis],
                                                 dilation[axis], ceil_mode)
                        k_eff = effective_kernel_size(kernel[axis], dilation[axis])
                        extra.append(max(0, (out_n - 1) * stride[axis] + k_eff - (n + 2 * padding[axis])))
                    x = F.pad(x, (padding[1], padding[1] + extra[1], padding[0], padding[0] + extra[0]))
                    channels = x.shape[-3]
                    ones = x.new_full((channels, 1, *kernel), 1.0 / (kernel[0] * kernel[1]))
                    out = F.conv2d(x, ones, None, stride, 0, dilation, groups=channels)  # (N, C, h, w)
                return (out, None) if _arg(args, kwargs, 6, "return_indices", False) else out
            if func in adaptive_max:
                out = F.adaptive_avg_pool2d(args[0], _arg(args, kwargs, 1, "output_size", None))
                return (out, None) if _arg(args, kwargs, 2, "return_indices", False) else out
            return func(*args, **kwargs)

    return LinearPositive()


def gradient_receptive_field(
    model: "nn.Module",
    input_size: int | tuple[int, int],
    *,
    in_channels: int | None = None,
    return_map: bool = False,
) -> tuple[int, int] | tuple[tuple[int, int], "torch.Tensor"]:
    """Measure the receptive field of the centre output unit from input gradients.

    The model's own ``forward`` runs (via ``torch.func.functional_call``, so the model is not
    changed) in float64 with every weight set to ``1 / fan_in`` (> 0), biases to 0, and
    activations, normalisation and dropout replaced by the identity, max pooling by average
    pooling: the network becomes linear with positive weights, so an input pixel gets a
    non-zero gradient exactly when some path joins it to the output unit. The unit is the
    sum over channels of the output at ``(H_out // 2, W_out // 2)`` (for a dict output,
    ``output["out"]``).

    Args:
        model: an ``nn.Module`` taking ``(N, C, H, W)``.
        input_size: ``H`` for a square input, or ``(H, W)``.
        in_channels: input channels; default: ``in_channels`` of the first Conv2d (else 3).
        return_map: also return the gradient map.

    Returns:
        ``(rf_h, rf_w)``: the extent, in input pixels, of the non-zero gradient along each axis
        (clipped by the input borders), and with ``return_map=True`` also the gradient map,
        a float64 tensor of shape ``(H, W)`` (path-weighted counts, > 0 inside the field).

    Raises:
        TypeError, ValueError: for a bad model, input size or channel count.

    Example:
        >>> from torch import nn
        >>> stack = nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3, dilation=2))
        >>> gradient_receptive_field(stack, 21)
        (7, 7)
    """
    import torch

    _check_model(model)
    hw = _parse_input_size(input_size)
    if in_channels is None:
        in_channels = _infer_in_channels(model)
    device = _model_device(model)
    replaced: dict[str, torch.Tensor] = {}
    for name, value in [*model.named_parameters(remove_duplicate=False),
                        *model.named_buffers(remove_duplicate=False)]:
        if not value.is_floating_point():  # e.g. BatchNorm's num_batches_tracked, bumped in train mode
            replaced[name] = value.clone()
        elif value.dim() >= 2:  # conv / linear weight (C_out, C_in / groups, ...)
            fan_in = value[0].numel()
            replaced[name] = torch.full(value.shape, 1.0 / fan_in, dtype=torch.float64, device=device)
        elif name.rsplit(".", 1)[-1] == "bias":
            replaced[name] = torch.zeros(value.shape, dtype=torch.float64, device=device)
        else:  # scales and buffers: ones (norms are the identity here anyway)
            replaced[name] = torch.ones(value.shape, dtype=torch.float64, device=device)
    x = torch.ones((1, in_channels, *hw), dtype=torch.float64, device=device, requires_grad=True)
    try:
        with torch.enable_grad(), _linear_positive_mode():
            output = torch.func.functional_call(model, replaced, (x,), strict=False)
    except RuntimeError as err:
        raise ValueError(
            f"gradient_receptive_field: the model failed on an input of shape "
            f"(1, {in_channels}, {hw[0]}, {hw[1]}): {err}"
        ) from err
    unit = _centre_unit(_primary_output(output, "gradient_receptive_field"))
    (grad,) = torch.autograd.grad(unit.sum(), x)
    grad_map = grad[0].abs().sum(dim=0)  # (H, W)
    reached = grad_map > 0
    extent = []
    for axis in range(2):
        hits = reached.any(dim=1 - axis).nonzero().flatten()
        extent.append(int(hits[-1] - hits[0] + 1) if hits.numel() else 0)
    result = (extent[0], extent[1])
    return (result, grad_map.detach()) if return_map else result


def effective_receptive_field(
    model: "nn.Module",
    input_size: int | tuple[int, int],
    *,
    n_samples: int = 16,
    seed: int = 0,
    in_channels: int | None = None,
) -> "torch.Tensor":
    """The effective receptive field (ERF) of the centre output unit (Luo et al. 2016, Sec. 2).

    Mean over ``n_samples`` standard-normal inputs of ``|d unit / d input|`` summed over
    input channels, where ``unit`` is the sum over channels of the output at
    ``(H_out // 2, W_out // 2)``. The model keeps its own weights and non-linearities and
    runs in evaluation mode, on a copy (the model itself is not changed).

    Args:
        model: an ``nn.Module`` taking ``(N, C, H, W)``.
        input_size: ``H`` for a square input, or ``(H, W)``.
        n_samples: random inputs to average over (>= 1).
        seed: seed of the random inputs (a local generator; global RNG untouched).
        in_channels: input channels; default: ``in_channels`` of the first Conv2d (else 3).

    Returns:
        Float tensor ``(H, W)`` on the model's device, scaled so that its maximum is 1.

    Raises:
        TypeError, ValueError: for a bad model, input size or ``n_samples``.
    """
    import copy

    import torch

    _check_model(model)
    hw = _parse_input_size(input_size)
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples must be an int >= 1, got {n_samples!r}")
    if in_channels is None:
        in_channels = _infer_in_channels(model)
    device = _model_device(model)
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    copied = copy.deepcopy(model).eval()
    generator = torch.Generator(device="cpu").manual_seed(seed)
    x = torch.randn((n_samples, in_channels, *hw), generator=generator, dtype=dtype)  # (N, C, H, W)
    x = x.to(device).requires_grad_(True)
    with torch.enable_grad():
        output = _primary_output(copied(x), "effective_receptive_field")
        (grad,) = torch.autograd.grad(_centre_unit(output).sum(), x)
    heat = grad.abs().sum(dim=1).mean(dim=0)  # (H, W)
    peak = heat.max()
    return (heat / peak if peak > 0 else heat).detach()


def erf_std(heatmap: "torch.Tensor") -> tuple[float, float]:
    """Spread of an ERF heatmap: the standard deviation of each axis's marginal, in pixels.

    The heatmap is read as a distribution over input pixels (Luo et al. 2016, Sec. 2.1, show it
    tends to a Gaussian); for a Gaussian, ``±2 std`` holds about 95 % of the mass.

    Args:
        heatmap: non-negative tensor ``(H, W)``, e.g. from ``effective_receptive_field``.

    Returns:
        ``(std_rows, std_cols)`` in input pixels.

    Raises:
        ValueError: if ``heatmap`` is not 2-D, has negative values or sums to 0.

    Example:
        >>> import torch
        >>> erf_std(torch.tensor([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]))
        (0.5, 0.0)
    """
    import torch

    if heatmap.dim() != 2:
        raise ValueError(f"heatmap must have shape (H, W), got {tuple(heatmap.shape)}")
    heat = heatmap.detach().double()
    total = heat.sum()
    if (heat < 0).any() or total <= 0:
        raise ValueError("heatmap must be non-negative with a positive sum")
    spread = []
    for axis in range(2):
        marginal = heat.sum(dim=1 - axis) / total  # (H,) or (W,)
        positions = torch.arange(marginal.numel(), dtype=heat.dtype, device=heat.device)
        mean = (marginal * positions).sum()
        spread.append(float(((marginal * (positions - mean) ** 2).sum()).sqrt()))
    return spread[0], spread[1]


ACTIVATIONS = ("relu", "linear")
WEIGHT_SCHEMES = ("random", "uniform")


def conv_stack(
    dilations: Sequence[int],
    *,
    kernel_size: int = 3,
    strides: Sequence[int] | int = 1,
    channels: int = 1,
    in_channels: int | None = None,
    activation: str = "linear",
    weights: str = "random",
    seed: int = 0,
) -> "nn.Sequential":
    """A toy stack of ``k x k`` convolutions, one per dilation rate, for receptive-field experiments.

    Padding is ``dilation * (kernel_size - 1) // 2`` ("same" for odd kernels at stride 1), so the
    centre output unit sits over the centre of the input. Layers are named ``conv1, act1, conv2,
    ...`` (``act`` only with ``activation="relu"``); there is no bias.

    Args:
        dilations: dilation rate of each layer (>= 1 each); its length is the depth.
        kernel_size: side of every kernel (>= 1).
        strides: one stride per layer, or one int for all.
        channels: channels of every layer's output (>= 1).
        in_channels: channels of the input (default ``channels``).
        activation: ``"relu"`` or ``"linear"`` (no activation).
        weights: ``"random"`` (PyTorch's default Kaiming-uniform init, seeded) or ``"uniform"``
            (every weight ``1 / fan_in``).
        seed: seed for ``"random"`` weights (a local generator; the global RNG is untouched).

    Returns:
        An ``nn.Sequential`` on the CPU, float32.

    Raises:
        ValueError: for an unknown ``activation`` / ``weights`` or a bad size.

    Example:
        >>> [name for name, _ in conv_stack([1, 2], activation="relu").named_children()]
        ['conv1', 'act1', 'conv2', 'act2']
    """
    from collections import OrderedDict

    import torch
    from torch import nn

    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    if weights not in WEIGHT_SCHEMES:
        raise ValueError(f"weights must be one of {WEIGHT_SCHEMES}, got {weights!r}")
    dilations = list(dilations)
    if not dilations:
        raise ValueError("dilations must name at least one layer")
    stride_list = [strides] * len(dilations) if isinstance(strides, int) else list(strides)
    if len(stride_list) != len(dilations):
        raise ValueError(f"strides must have one entry per layer ({len(dilations)}), got {len(stride_list)}")
    for name, value in (("kernel_size", kernel_size), ("channels", channels)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    generator = torch.Generator().manual_seed(seed)
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    previous = channels if in_channels is None else in_channels
    for i, (d, s) in enumerate(zip(dilations, stride_list), start=1):
        effective_kernel_size(kernel_size, d)  # validates the rate
        conv = nn.Conv2d(previous, channels, kernel_size, stride=s, dilation=d,
                         padding=d * (kernel_size - 1) // 2, bias=False)
        with torch.no_grad():
            fan_in = conv.weight[0].numel()
            if weights == "uniform":
                conv.weight.fill_(1.0 / fan_in)
            else:  # the bound of PyTorch's default init: kaiming_uniform_(a=sqrt(5)) -> 1/sqrt(fan_in)
                bound = 1.0 / math.sqrt(fan_in)
                conv.weight.copy_(torch.rand(conv.weight.shape, generator=generator) * 2 * bound - bound)
        layers[f"conv{i}"] = conv
        if activation == "relu":
            layers[f"act{i}"] = nn.ReLU()
        previous = channels
    return nn.Sequential(layers)
