"""``trace``: sizes, cumulative strides and receptive fields of a real ``nn.Module``, from its layers.

The model's ``forward`` runs on the meta device; a ``TorchFunctionMode`` carries each tensor's pixel
geometry (:mod:`visual.trace_rules`); module forward hooks name the tensors each module returns.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import torch
from torch import nn
from torch.nn.modules import module as module_hooks
from torch.overrides import TorchFunctionMode

from visual.checks import as_size, check_int, check_module
from visual.trace_rules import (CONV, ELEMENTWISE_INPLACE, INPUT_GEOMETRY, METADATA, SAME_SHAPE, Geometry,
                                conv_output_shape, keep_grid, max_dilation, resize, tensors_in)

__all__ = ["Trace", "TraceRow", "trace", "meta_device", "infer_in_channels"]

Number = int | float
Pair = tuple[Number, Number]

META_BATCH = 2  # batch of the meta input: BatchNorm in training mode refuses 1 value per channel
DEFAULT_IN_CHANNELS = 3  # RGB, when the model has no Conv2d to read ``in_channels`` from
COLUMNS = ("name", "type", "size", "channels", "stride", "rf", "start", "dilation", "kernel", "padding")


@dataclass(frozen=True)
class TraceRow:
    """The output of one module of a traced model.

    Per-axis values are ``(height, width)`` pairs in *input* pixels: ints when exact, floats
    after a fractional resampling (adaptive pooling, interpolation to a size that does not divide).

    Attributes:
        name: qualified name from ``model.named_modules()``; ``""`` for the model itself.
        size: ``(H, W)`` of the output, or ``None`` for a non-spatial output such as logits.
        channels: ``C`` of an ``(N, C, H, W)`` output; ``F`` of ``(N, F)``.
        stride: cumulative stride ("jump"): distance between neighbouring output pixels.
        rf: theoretical receptive field of one output pixel.
        start: input coordinate of the centre of output pixel 0's receptive field.
        dilation: a leaf's conv/max-pool dilation; a container's largest; ``None`` if none ran.
        kernel_size, padding: of a conv/pool leaf layer, else ``None``.
        calls: how many times the module ran (the row describes its last call).
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

    def box(self, index: tuple[int, int] | None = None) -> tuple[float, float, float, float]:
        """The receptive field of output pixel ``index`` (default the centre) as ``(top, left, height, width)``."""
        if self.size is None:
            raise ValueError(f"row {self.name!r} has no spatial output; box() needs (H, W)")
        if index is None:
            index = (self.size[0] // 2, self.size[1] // 2)
        top, left = (self.start[a] + index[a] * self.stride[a] - (self.rf[a] - 1) / 2 for a in range(2))
        return top, left, self.rf[0], self.rf[1]


def text_table(title: str, columns: Sequence[str], body: Sequence[Sequence[str]], left: int = 0) -> str:
    """An aligned plain-text table; the first ``left`` columns are left-aligned."""
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


def _fmt_pair(pair: Sequence[Number] | None) -> str:
    if pair is None:
        return "-"
    a, b = (f"{v:.1f}" if isinstance(v, float) and not v.is_integer() else str(int(v)) for v in pair)
    return a if a == b else f"{a}x{b}"


def _row_cells(row: TraceRow) -> tuple[str, ...]:
    return (row.name or "(model)", row.type, "-" if row.size is None else f"{row.size[0]}x{row.size[1]}",
            "-" if row.channels is None else str(row.channels), _fmt_pair(row.stride), _fmt_pair(row.rf),
            _fmt_pair(row.start), _fmt_pair(row.dilation), _fmt_pair(row.kernel_size), _fmt_pair(row.padding))


class Trace(Mapping[str, TraceRow]):
    """Read-only mapping ``qualified module name -> TraceRow``, in the order the modules started.

    ``str(trace)`` is a text table, HTML in a notebook. ``output`` is the model's row (key ``""``), else
    the last; ``size``, ``stride`` and ``rf`` are its.
    """

    def __init__(self, rows: Iterable[TraceRow], input_size: tuple[int, int]) -> None:
        self._rows: dict[str, TraceRow] = {row.name: row for row in rows}
        self.input_size = input_size

    def __getitem__(self, name: str) -> TraceRow:
        if name not in self._rows:
            close = [n for n in self._rows if name and name in n][:5]
            raise KeyError(f"no module named {name!r} in this trace" + (f"; similar names: {close}" if close else ""))
        return self._rows[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def output(self) -> TraceRow:
        return self._rows[""] if "" in self._rows else next(reversed(self._rows.values()))

    @property
    def size(self) -> tuple[int, int] | None:
        return self.output.size

    @property
    def stride(self) -> Pair:
        return self.output.stride

    @property
    def rf(self) -> Pair:
        return self.output.rf

    def select(self, names: Iterable[str]) -> Trace:
        """A smaller ``Trace`` for display: the rows ``names``, in that order."""
        if isinstance(names, str):
            raise TypeError(f"names must be a list of module names, got the string {names!r}")
        missing = [n for n in names if n not in self._rows]
        if missing:
            raise ValueError(f"names not in this trace: {missing}; available (first 12): {list(self._rows)[:12]}")
        return Trace((self._rows[n] for n in names), self.input_size)

    def __str__(self) -> str:
        return text_table(f"input {self.input_size[0]}x{self.input_size[1]}", COLUMNS,
                          [_row_cells(row) for row in self._rows.values()], left=2)

    def __repr__(self) -> str:
        return f"<Trace of {len(self)} modules, input {self.input_size[0]}x{self.input_size[1]}>"

    def _repr_html_(self) -> str:
        h, w = self.input_size
        return html_table(f"trace, input {h}x{w} (stride, rf, start in input pixels)", COLUMNS,
                          [_row_cells(row) for row in self._rows.values()], left=2)


@dataclass
class _Frame:
    """A module call in progress: its name and the window ops that ran directly inside it."""
    name: str
    module: nn.Module
    dilation: tuple[int, int] | None = None
    ops: list = field(default_factory=list)


class _Tracer(TorchFunctionMode):
    """Runs every op, then gives its outputs the geometry the rules say (``trace_rules``)."""

    def __init__(self, names: dict[int, str]) -> None:
        super().__init__()
        self.names = names
        self.geometry: dict[int, tuple[torch.Tensor, Geometry]] = {}  # id -> (tensor kept alive, geo)
        self.stack: list[_Frame] = []
        self.rows: dict[str, TraceRow | None] = {}
        self.calls: dict[str, int] = {}

    def where(self) -> str:
        frame = self.stack[-1] if self.stack else None
        return ("the model's forward (outside any submodule)" if frame is None else
                f"module {frame.name or '(the model itself)'!r} ({type(frame.module).__name__})")

    def get(self, t: Any) -> Geometry | None:
        entry = self.geometry.get(id(t))
        return entry[1] if entry is not None and entry[0] is t else None

    def set(self, t: torch.Tensor, geo: Geometry) -> None:
        self.geometry[id(t)] = (t, geo)

    def pre_hook(self, module: nn.Module, args: Any) -> None:
        name = self.names.get(id(module))
        if name is not None:
            self.stack.append(_Frame(name, module))
            self.rows.setdefault(name, None)  # reserve the row's place in execution order

    def post_hook(self, module: nn.Module, args: Any, output: Any) -> None:
        name = self.names.get(id(module))
        if name is None:
            return
        frame = self.stack.pop()
        if self.stack:
            self.stack[-1].dilation = max_dilation(self.stack[-1].dilation, frame.dilation)
        self.calls[name] = self.calls.get(name, 0) + 1
        if isinstance(output, dict) and isinstance(output.get("out"), torch.Tensor):
            output = output["out"]  # torchvision's segmentation contract: {"out": ..., "aux": ...}
        geo = self.get(output) if isinstance(output, torch.Tensor) else None
        if geo is None:
            return
        kernel = padding = None
        dilation = frame.dilation
        if next(iter(module.children()), None) is None and len(frame.ops) == 1:  # a conv/pool leaf
            kernel, padding, dilation = frame.ops[0]
        channels = int(output.shape[-3]) if output.dim() >= 3 else int(output.shape[-1]) if output.dim() == 2 else None
        self.rows[name] = TraceRow(
            name=name, type=type(module).__name__,
            size=(int(output.shape[-2]), int(output.shape[-1])) if output.dim() >= 3 else None,
            channels=channels, stride=_numbers(geo.jump), rf=_numbers(geo.rf), start=_numbers(geo.start),
            dilation=dilation, kernel_size=kernel, padding=padding, calls=self.calls[name])

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if func in METADATA:  # .dim(), .shape, ...: nothing to trace
            return func(*args, **kwargs)
        x = args[0] if args else None
        on_meta = isinstance(x, torch.Tensor) and x.device.type == "meta"
        if on_meta and getattr(func, "__name__", None) in ELEMENTWISE_INPLACE:
            result = x  # an in-place elementwise op returns its input, same shape; no data to change
        elif on_meta and func in SAME_SHAPE:  # a norm's output has its input's shape: skip the meta kernel
            result = torch.empty(x.shape, dtype=x.dtype, device="meta")  # (N, C, H, W)
        elif on_meta and func in CONV:  # the shape from conv_output_size, errors naming the module
            result = torch.empty(conv_output_shape(args, kwargs, self.where()), dtype=x.dtype, device="meta")
        else:
            result = func(*args, **kwargs)
        self.handle(func, args, kwargs, result)
        return result

    def handle(self, func: Any, args: tuple, kwargs: dict, result: Any) -> None:
        outputs = tensors_in(result)
        inputs = [t for t in tensors_in(args) + tensors_in(kwargs) if self.get(t) is not None]
        if not outputs or not inputs:  # a metadata query, or parameter / constant arithmetic
            return
        x = args[0] if args and isinstance(args[0], torch.Tensor) else inputs[0]
        geo, out = self.get(x), outputs[0]
        new, op = resize(func, args, kwargs, x, geo, out, self.where()) if geo is not None else (None, None)
        if op is not None and self.stack:  # a window op: the row of the module it ran in reports it
            self.stack[-1].ops.append(op)
            self.stack[-1].dilation = max_dilation(self.stack[-1].dilation, op[2])
        for t in outputs:
            self.set(t, new if new is not None else keep_grid(
                func, args, kwargs, inputs, [self.get(i) for i in inputs], t, self.where()))


def _numbers(values: Sequence[Fraction]) -> Pair:
    return tuple(int(v) if v.denominator == 1 else float(v) for v in values)  # type: ignore[return-value]


def infer_in_channels(model: nn.Module) -> int:
    """``in_channels`` of the model's first ``Conv2d``; 3 (RGB) if it has none."""
    check_module(model)
    return next((int(m.in_channels) for m in model.modules() if isinstance(m, nn.Conv2d)), DEFAULT_IN_CHANNELS)


# nn.init's in-place fills (by name): on the meta device there is no data for them to fill.
INIT_FILLS = frozenset("""normal_ uniform_ fill_ zero_ kaiming_normal_ kaiming_uniform_ xavier_normal_ xavier_uniform_
    trunc_normal_ constant_ ones_ zeros_ orthogonal_ eye_ dirac_ sparse_""".split())


class _SkipFills(TorchFunctionMode):
    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        first = args[0] if args else None
        if (getattr(func, "__name__", None) in INIT_FILLS and isinstance(first, torch.Tensor)
                and first.device.type == "meta"):
            return first  # an in-place fill on a tensor without data
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def meta_device() -> Iterator[None]:
    """Build models on the meta device (shapes only), skipping ``nn.init``'s fills: to :func:`trace` them.

    Example:
        >>> import torchvision
        >>> with meta_device():
        ...     model = torchvision.models.resnet50()
        >>> next(model.parameters()).device.type
        'meta'
    """
    with torch.device("meta"), _SkipFills():
        yield


def trace(model: nn.Module, input_size: int | tuple[int, int], *, in_channels: int | None = None) -> Trace:
    """Trace sizes, cumulative strides and receptive fields through a real model.

    The model's ``forward`` runs on a meta tensor ``(2, in_channels, H, W)`` with meta copies of its
    parameters (``torch.func.functional_call``): the model is not changed.

    Args:
        model: built from Conv2d, max/avg/adaptive pooling, F.interpolate and ops that keep every
            pixel in place (BatchNorm, ReLU, additions, ``torch.cat`` on channels, ...).
        in_channels: default: ``in_channels`` of the first Conv2d (else 3).

    Returns:
        A ``Trace``: one ``TraceRow`` per module whose output is a tensor (or a dict with ``"out"``).

    Raises:
        ValueError: an input too small for a layer, or an op trace does not model (``torch.roll``, ...).

    Example:
        >>> import torchvision
        >>> t = trace(torchvision.models.resnet50(), 473)
        >>> t["layer4"].size, t["layer4"].stride
        ((15, 15), (32, 32))
    """
    check_module(model)
    hw = as_size(input_size, "input_size")
    in_channels = infer_in_channels(model) if in_channels is None else check_int(in_channels, "in_channels", minimum=1)
    tracer = _Tracer({id(module): name for name, module in model.named_modules()})
    meta: dict[int, torch.Tensor] = {}  # meta stand-ins; tied tensors share one
    tensors: dict[str, torch.Tensor] = {}
    for name, value in [*model.named_parameters(remove_duplicate=False), *model.named_buffers(remove_duplicate=False)]:
        if id(value) not in meta:
            meta[id(value)] = (value.detach() if value.device.type == "meta"
                               else torch.empty(value.shape, dtype=value.dtype, device="meta"))
        tensors[name] = meta[id(value)]
    dtype = next((t.dtype for t in tensors.values() if t.is_floating_point()), torch.float32)
    x = torch.empty((META_BATCH, in_channels, *hw), device="meta", dtype=dtype)  # (N, C, H, W)
    tracer.set(x, INPUT_GEOMETRY)
    pre = module_hooks.register_module_forward_pre_hook(tracer.pre_hook)
    post = module_hooks.register_module_forward_hook(tracer.post_hook)
    try:
        with tracer:
            torch.func.functional_call(model, tensors, (x,), strict=False, tie_weights=False)
    except (ValueError, RuntimeError) as err:
        if isinstance(err, ValueError) and str(err).startswith("trace"):
            raise  # already names the op and the module
        raise ValueError(f"trace failed in {tracer.where()} for input_size={input_size!r} "
                         f"(input of shape (N, {in_channels}, {hw[0]}, {hw[1]})): {err}") from err
    finally:
        pre.remove()
        post.remove()
    return Trace([row for row in tracer.rows.values() if row is not None], hw)
