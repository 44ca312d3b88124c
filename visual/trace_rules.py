"""How each op changes a tensor's pixel geometry (``jump``, ``rf``, ``start`` per axis, in input pixels):
the rules behind :func:`visual.trace` (Araujo et al. 2019, Distill, Eq. 1-3). A window does ``jump_l = jump_{l-1} s_l``,
``rf_l = rf_{l-1} + (k_eff - 1) jump_{l-1}``, ``start_l = start_{l-1} + ((k_eff - 1) / 2 - p_l) jump_{l-1}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import torch
import torch.nn.functional as F

from visual.conv_arithmetic import conv_output_size, effective_kernel_size

__all__ = ["Geometry", "INPUT_GEOMETRY", "window", "adaptive", "resample", "merge", "keep_grid", "resize",
           "tensors_in", "max_dilation", "call_arg", "as_pair", "pool_args", "conv_args", "conv_output_shape",
           "op_name", "CONV", "MAX_POOL", "AVG_POOL", "ADAPTIVE_POOL", "METADATA", "SAME_SHAPE",
           "ELEMENTWISE_INPLACE", "KEEPS_GRID"]

# Extra input taps one output of F.interpolate reads (nearest: 1 tap, linear: 2, cubic: 4).
INTERPOLATE_EXTRA_TAPS = {"nearest": 0, "nearest-exact": 0, "linear": 1, "bilinear": 1, "bicubic": 3}

CONV = {torch.conv2d, F.conv2d}
MAX_POOL = {F.max_pool2d, F.max_pool2d_with_indices, torch.max_pool2d}
AVG_POOL = {F.avg_pool2d}  # the C binding torch exposes for avg_pool2d is this same object
ADAPTIVE_POOL = {F.adaptive_avg_pool2d, F.adaptive_max_pool2d, F.adaptive_max_pool2d_with_indices}
# Tensor metadata queries: answered directly, never traced.
METADATA = {torch.Tensor.dim, torch.Tensor.size, torch.Tensor.numel, torch.Tensor.__len__,
            torch.Tensor.is_floating_point, torch.Tensor.shape.__get__, torch.Tensor.ndim.__get__,
            torch.Tensor.dtype.__get__, torch.Tensor.device.__get__}
# Normalisations: the output has the input's shape (trace answers it without running PyTorch's meta kernel).
SAME_SHAPE = {F.batch_norm, F.instance_norm, F.group_norm, torch.batch_norm}
# In-place elementwise ops (by name): they return their first argument, shape unchanged.
ELEMENTWISE_INPLACE = frozenset("""add_ sub_ mul_ div_ __iadd__ __isub__ __imul__ __itruediv__ relu_ relu6_
    leaky_relu_ elu_ selu_ celu_ silu_ gelu_ mish_ hardtanh_ hardswish_ hardsigmoid_ sigmoid_ tanh_ clamp_
    clamp_min_ clamp_max_ threshold_ fill_ zero_ neg_ abs_ exp_ sqrt_ pow_""".split())
# Ops (by name) known to keep every pixel where it is: output pixel (i, j) depends on input pixels
# (i, j) only (elementwise, per-pixel channel mixing, reshapes that keep (H, W)), or on statistics (norms).
KEEPS_GRID = ELEMENTWISE_INPLACE | set("""add sub mul div true_divide rsub neg abs exp log sqrt rsqrt pow clamp
    clamp_min clamp_max where maximum minimum square reciprocal __add__ __radd__ __sub__ __rsub__ __mul__
    __rmul__ __truediv__ __rtruediv__ __neg__ __pow__ relu relu6 leaky_relu elu selu celu gelu silu mish
    hardtanh hardswish hardsigmoid softplus threshold sigmoid tanh prelu dropout dropout1d dropout2d dropout3d
    alpha_dropout feature_alpha_dropout batch_norm instance_norm group_norm layer_norm cat concat concatenate
    stack clone contiguous detach to float double half type_as requires_grad_ zeros_like ones_like empty_like
    full_like view reshape flatten unflatten squeeze unsqueeze expand expand_as view_as reshape_as""".split())
# Keep the grid only when every reduced ``dim`` (or every index of ``x[...]``) is a batch or channel axis.
CHANNEL_ONLY = {"softmax", "log_softmax", "sum", "mean", "amax", "amin", "argmax", "argmin", "__getitem__"}


@dataclass(frozen=True)
class Geometry:
    """Per-axis ``(H, W)`` pixel geometry (exact fractions); ``resampled``: made by ``F.interpolate``."""
    jump: tuple[Fraction, Fraction]
    rf: tuple[Fraction, Fraction]
    start: tuple[Fraction, Fraction]
    resampled: bool = False


INPUT_GEOMETRY = Geometry((Fraction(1),) * 2, (Fraction(1),) * 2, (Fraction(0),) * 2)


def op_name(func: Any) -> str:
    """A readable name of a torch function or method, e.g. ``'torch.roll'`` or ``'Tensor.flip'``."""
    name = getattr(func, "__name__", None) or repr(func)
    if getattr(func, "__qualname__", "").startswith(("TensorBase.", "Tensor.")):
        return f"Tensor.{name}"
    return f"{getattr(func, '__module__', None) or 'torch'}.{name}"


def tensors_in(obj: Any) -> list[torch.Tensor]:
    """Every tensor in ``obj``: a tensor, or nested lists, tuples and dicts of them."""
    if isinstance(obj, torch.Tensor):
        return [obj]
    items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else ()
    return [t for item in items for t in tensors_in(item)]


def max_dilation(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int] | None:
    """Per-axis maximum of two dilations, either of which may be ``None``."""
    return b if a is None else a if b is None else (max(a[0], b[0]), max(a[1], b[1]))


def call_arg(args: tuple, kwargs: dict, index: int, name: str, default: Any) -> Any:
    """Argument ``name`` of a call, given at position ``index`` or by keyword."""
    return args[index] if len(args) > index else kwargs.get(name, default)


def as_pair(value: Any) -> tuple[int, int]:
    """``(H, W)`` of a conv/pool argument given as an int, ``[n]`` or ``(h, w)``."""
    if isinstance(value, (tuple, list)):
        return (int(value[0]),) * 2 if len(value) == 1 else (int(value[0]), int(value[1]))
    return int(value), int(value)


def pool_args(args: tuple, kwargs: dict, dilated: bool = True) -> tuple[tuple[int, int], ...]:
    """``(kernel, stride, padding, dilation)`` of a max/avg pooling call (stride defaults to the kernel)."""
    kernel = as_pair(call_arg(args, kwargs, 1, "kernel_size", None))
    stride_arg = call_arg(args, kwargs, 2, "stride", None)
    stride = kernel if stride_arg in (None, [], ()) else as_pair(stride_arg)
    dilation = as_pair(call_arg(args, kwargs, 4, "dilation", 1)) if dilated else (1, 1)
    return kernel, stride, as_pair(call_arg(args, kwargs, 3, "padding", 0)), dilation


def window(geo: Geometry, kernel: tuple[int, int], stride: tuple[int, int],
           padding: tuple[int, int], dilation: tuple[int, int]) -> Geometry:
    """Geometry after a sliding window (conv or pool): the recurrence of the module docstring."""
    jump, rf, start = [], [], []
    for axis in range(2):
        k_eff = effective_kernel_size(kernel[axis], dilation[axis])
        j = geo.jump[axis]
        rf.append(geo.rf[axis] + (k_eff - 1) * j)
        start.append(geo.start[axis] + (Fraction(k_eff - 1, 2) - padding[axis]) * j)
        jump.append(j * stride[axis])
    return Geometry(tuple(jump), tuple(rf), tuple(start), geo.resampled)


def adaptive(geo: Geometry, in_size: Sequence[int], out_size: Sequence[int]) -> Geometry:
    """Geometry after adaptive pooling: bin ``i`` covers ``[floor(i n / o), ceil((i + 1) n / o))``."""
    jump, rf, start = [], [], []
    for axis in range(2):
        n, o = int(in_size[axis]), int(out_size[axis])
        widest = max(-(-(i + 1) * n // o) - (i * n // o) for i in range(o))
        j = geo.jump[axis]
        rf.append(geo.rf[axis] + (widest - 1) * j)
        start.append(geo.start[axis] + Fraction(-(-n // o) - 1, 2) * j)  # centre of bin 0
        jump.append(j * Fraction(n, o))
    return Geometry(tuple(jump), tuple(rf), tuple(start), geo.resampled)


def resample(geo: Geometry, in_size: Sequence[int], out_size: Sequence[int], mode: str,
             align_corners: bool | None, antialias: bool = False) -> Geometry:
    """Geometry after ``F.interpolate``; ``ValueError`` for an unmodelled mode or antialiased downsampling."""
    if mode == "area":
        return adaptive(geo, in_size, out_size)
    if mode not in INTERPOLATE_EXTRA_TAPS:
        raise ValueError(f"F.interpolate mode {mode!r} is not modelled by trace")
    if antialias and any(int(o) < int(n) for n, o in zip(in_size, out_size)):
        raise ValueError("F.interpolate(..., antialias=True) downsampling is not modelled by trace "
                         "(its kernel widens with the scale factor)")
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
    return Geometry(tuple(jump), tuple(rf), tuple(start), resampled=True)


def resize(func: Any, args: tuple, kwargs: dict, x: torch.Tensor, geo: Geometry, out: torch.Tensor,
           where: str) -> tuple[Geometry | None, tuple | None]:
    """``(geometry, op)`` after a window op or ``F.interpolate``, else ``(None, None)``; ``op`` is a window's
    ``(kernel, padding, dilation)`` (dilation ``None`` for average pooling)."""
    if func in CONV:
        kernel, stride, padding, dilation = conv_args(args, kwargs)
    elif func in MAX_POOL or func in AVG_POOL:
        kernel, stride, padding, dilation = pool_args(args, kwargs, dilated=func in MAX_POOL)
    elif func in ADAPTIVE_POOL:
        return adaptive(geo, x.shape[-2:], out.shape[-2:]), None
    elif func is F.interpolate:
        try:
            return resample(geo, x.shape[-2:], out.shape[-2:], call_arg(args, kwargs, 3, "mode", "nearest"),
                            call_arg(args, kwargs, 4, "align_corners", None),
                            bool(call_arg(args, kwargs, 6, "antialias", False))), None
        except ValueError as err:
            raise ValueError(f"trace: {err}, in {where}") from None
    else:
        return None, None
    op = (kernel, padding, None if func in AVG_POOL else dilation)
    return window(geo, kernel, stride, padding, dilation), op


def _widest(geos: Sequence[Geometry]) -> Geometry:
    return max(geos, key=lambda g: (g.rf[0] * g.rf[1], g.rf))


def merge(geos: Sequence[Geometry]) -> Geometry:
    """Merge paths (addition, concatenation): the widest path's rf, on the widest grid not made by ``F.interpolate``
    (PSPNet's pyramid concatenation lives on the backbone's grid)."""
    widest = _widest(geos)
    native = [g for g in geos if not g.resampled]
    grid = _widest(native) if native else widest
    return widest if grid is widest else replace(grid, rf=tuple(map(max, grid.rf, widest.rf)))


def _spatial(t: torch.Tensor) -> tuple[int, int] | None:
    return (int(t.shape[-2]), int(t.shape[-1])) if t.dim() >= 3 else None


def _channel_only(name: str, args: tuple, kwargs: dict, ndim: int) -> bool:
    """Whether a reduction/softmax or an indexing ``x[...]`` touches batch and channel axes only."""
    if name == "__getitem__":
        index = args[1] if isinstance(args[1], tuple) else (args[1],)
        if any(i is None for i in index):
            return False
        tail = index[index.index(Ellipsis) + 1:] if Ellipsis in index else index[ndim - 2:]
        return all(isinstance(i, slice) and i == slice(None) for i in tail)
    dim = call_arg(args, kwargs, 1, "dim", None)
    dims = dim if isinstance(dim, (tuple, list)) else [dim]
    return dim is not None and all(isinstance(d, int) and d % ndim < ndim - 2 for d in dims)


def keep_grid(func: Any, args: tuple, kwargs: dict, inputs: list, geos: list, out: torch.Tensor,
              where: str) -> Geometry:
    """Geometry of ``out`` for an op that is not a window or a resampling (inputs on its grid merge; an
    output without a grid, or ``(1, 1)``, is a reduction); ValueError for an op not known to keep pixels in place."""
    sizes = [_spatial(t) for t in inputs]
    out_size = _spatial(out)
    same = [g for g, s in zip(geos, sizes) if s is not None and s == out_size]
    name = getattr(func, "__name__", "")
    if same:
        safe = name in KEEPS_GRID or (name in CHANNEL_ONLY and _channel_only(name, args, kwargs, out.dim()))
        if not safe:
            raise ValueError(
                f"trace does not model {op_name(func)!r} in {where}: it keeps the size {out_size} but "
                "may move or mix pixels. Modelled: Conv2d, max/avg/adaptive pooling, F.interpolate, "
                "and elementwise, normalisation and channel-only ops.")
        merged = merge(same)
        broadcast = [g for g, s in zip(geos, sizes) if s != out_size]
        if broadcast:  # e.g. a (1, 1) gate times a map: the map's grid, the union's rf
            merged = replace(merged, rf=tuple(map(max, merged.rf, merge(broadcast + [merged]).rf)))
        return merged
    if out_size is None or out_size == (1, 1):  # a reduction over the whole grid
        return merge([adaptive(g, s, (1, 1)) if s is not None else g for g, s in zip(geos, sizes)])
    raise ValueError(
        f"trace does not support {op_name(func)!r} in {where}: it changes the spatial size from "
        f"{sizes[0]} to {out_size}. Supported geometry changes: Conv2d, MaxPool2d, AvgPool2d, "
        "AdaptiveAvg/MaxPool2d and F.interpolate.")


def conv_args(args: tuple, kwargs: dict) -> tuple[tuple[int, int], ...]:
    """``(kernel, stride, padding, dilation)`` of a ``F.conv2d`` call (``"same"``: left padding)."""
    weight = call_arg(args, kwargs, 1, "weight", None)
    kernel = (int(weight.shape[-2]), int(weight.shape[-1]))
    dilation = as_pair(call_arg(args, kwargs, 5, "dilation", 1))
    padding = call_arg(args, kwargs, 4, "padding", 0)
    if isinstance(padding, str):
        padding = tuple(0 if padding == "valid" else (d * (k - 1)) // 2 for k, d in zip(kernel, dilation))
    return kernel, as_pair(call_arg(args, kwargs, 3, "stride", 1)), as_pair(padding), dilation


def conv_output_shape(args: tuple, kwargs: dict, where: str) -> tuple[int, ...]:
    """Output shape of ``F.conv2d(*args, **kwargs)`` from ``conv_output_size``, errors naming ``where``."""
    x, weight = args[0], call_arg(args, kwargs, 1, "weight", None)
    channels = int(weight.shape[1]) * int(call_arg(args, kwargs, 6, "groups", 1))
    if x.dim() not in (3, 4) or int(x.shape[-3]) != channels:
        raise ValueError(f"trace: {where} expects an input with {channels} channels (N, C, H, W), "
                         f"got shape {tuple(x.shape)}")
    kernel, stride, padding, dilation = conv_args(args, kwargs)
    if call_arg(args, kwargs, 4, "padding", 0) == "same":
        return (*x.shape[:-3], int(weight.shape[0]), *x.shape[-2:])
    try:
        out = [conv_output_size(int(x.shape[-2 + a]), kernel[a], stride[a], padding[a], dilation[a]) for a in range(2)]
    except ValueError as err:
        raise ValueError(f"trace: input_size too small for {where}: {err}") from None
    return (*x.shape[:-3], int(weight.shape[0]), *out)
