"""Linear and bilinear interpolation from scratch, equal to ``F.interpolate``.

Everything here is written from the formulas (source coordinate, clamping at the borders,
two neighbour weights) and never calls ``F.interpolate``, ``grid_sample`` or another
resampler; ``tests/test_interpolation.py`` checks every function against PyTorch.

The heart of it is one formula per axis. Output sample ``i`` (of ``out_size``) reads the
input (of ``in_size``) at the fractional index

* ``align_corners=True``:  ``src = i * (in_size - 1) / (out_size - 1)`` (corner pixel
  *centres* coincide);
* ``align_corners=False``: ``src = (i + 0.5) * scale - 0.5`` with ``scale = in_size /
  out_size`` or ``1 / scale_factor`` when a scale factor is given (pixel *edges*
  coincide; "half-pixel centres"), clamped below at 0.

It then blends the neighbours ``floor(src)`` and ``floor(src) + 1`` (clamped to the last
pixel) with weights ``1 - frac`` and ``frac``. Bilinear is that along the width, then along
the height.

Matching PyTorch to the last bit in float32 needs one more detail, taken from PyTorch's
CPU/CUDA kernels (``area_pixel_compute_source_index`` in ``aten/src/ATen/native/UpSample.h``):
the compiler fuses ``scale * (i + 0.5) - 0.5`` into one fused multiply-add, so the source
index is rounded to float32 *once*. Computing it naively in float32 rounds twice and moves
some output values by ~1e-5 on a 473 x 473 output. We reproduce the single rounding by
evaluating the expression exactly in float64 (a float32 times a small half-integer is exact
in float64) and rounding to float32 at the end.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch

__all__ = [
    "linear_interpolate",
    "bilinear_interpolate",
    "bilinear_interpolate_gather",
    "bilinear_interpolate_matmul",
    "source_coordinates",
    "linear_weights",
    "LinearWeights",
    "interpolation_matrix",
    "bilinear_neighbours",
    "Neighbour",
    "resample_image",
    "RESAMPLING_METHODS",
    "upsample_segmentation",
    "SEGMENTATION_UPSAMPLING",
    "toy_label_map",
    "VOC_CLASSES",
    "feature_map_size",
]

# PASCAL VOC 2012 class names, index = class id (Everingham et al., IJCV 2010, Table 1;
# 255 marks "void" pixels and is not a class).
VOC_CLASSES: tuple[str, ...] = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
)

# Methods of ``resample_image`` -> (F.interpolate mode, antialias). These are PyTorch's own
# resamplers, used only to *compare* methods on a photo, never inside the from-scratch code.
RESAMPLING_METHODS: dict[str, tuple[str, bool]] = {
    "nearest": ("nearest", False),
    "bilinear": ("bilinear", False),
    "bicubic": ("bicubic", False),
    "area": ("area", False),
    "bilinear + antialias": ("bilinear", True),
}

# Ways of bringing a low-resolution segmentation to full size (``upsample_segmentation``).
SEGMENTATION_UPSAMPLING: tuple[str, ...] = ("logits bilinear", "labels nearest", "labels bilinear")

_HALF = 0.5  # pixel centres sit at index + 0.5 in edge coordinates


# --------------------------------------------------------------------------------------
# Argument checking (clear errors instead of tracebacks from deep inside torch)
# --------------------------------------------------------------------------------------
def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_size_arg(value: object, name: str) -> int:
    if not _is_int(value):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 1:  # type: ignore[operator]
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value  # type: ignore[return-value]


def _check_scale(value: object, name: str = "scale_factor") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def _check_align_corners(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"align_corners must be True or False, got {value!r}")
    return value


def _check_input(x: object, ndim: int, layout: str, fn: str) -> None:
    import torch

    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{fn}: x must be a torch.Tensor of shape {layout}, got {type(x).__name__}")
    if x.dim() != ndim:
        raise ValueError(
            f"{fn}: x must have {ndim} dimensions {layout}, got shape {tuple(x.shape)} "
            f"({x.dim()} dimensions)"
        )
    if not x.is_floating_point():
        raise TypeError(f"{fn}: x must be a floating-point tensor, got dtype {x.dtype}")
    if any(s == 0 for s in x.shape[1:]):
        raise ValueError(f"{fn}: x must have non-empty channel and spatial sizes, got {tuple(x.shape)}")


def _resolve_sizes(
    in_sizes: Sequence[int],
    size: int | Sequence[int] | None,
    scale_factor: float | Sequence[float] | None,
) -> tuple[list[int], list[float | None]]:
    """Output sizes and per-axis scale factors, with PyTorch's semantics.

    ``size`` wins over nothing; ``scale_factor`` gives ``floor(in * scale_factor)`` and the
    scale factor itself is then used in the coordinate formula (PyTorch's default
    ``recompute_scale_factor=None``).
    """
    dims = len(in_sizes)
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined, got both")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined, got neither")
    if size is not None:
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * dims
        if len(sizes) != dims:
            raise ValueError(
                f"size must be an int or a sequence of {dims} ints (one per spatial dimension "
                f"of the input {list(in_sizes)}), got {size!r}"
            )
        return [_check_size_arg(s, "size") for s in sizes], [None] * dims
    factors = list(scale_factor) if isinstance(scale_factor, (list, tuple)) else [scale_factor] * dims
    if len(factors) != dims:
        raise ValueError(
            f"scale_factor must be a number or a sequence of {dims} numbers (one per spatial "
            f"dimension of the input {list(in_sizes)}), got {scale_factor!r}"
        )
    factors = [_check_scale(f) for f in factors]
    sizes = [math.floor(n * f) for n, f in zip(in_sizes, factors)]
    if min(sizes) < 1:
        raise ValueError(
            f"scale_factor={scale_factor!r} turns input size {list(in_sizes)} into output size "
            f"{sizes}; every output side must be at least 1"
        )
    return sizes, factors


# --------------------------------------------------------------------------------------
# One axis: source coordinates and neighbour weights
# --------------------------------------------------------------------------------------
def _opmath(dtype: "torch.dtype") -> "torch.dtype":
    """The dtype PyTorch computes coordinates and weights in (float for half types)."""
    import torch

    return torch.float64 if dtype == torch.float64 else torch.float32


def _scale(in_size: int, out_size: int, align_corners: bool, scale_factor: float | None,
           dtype: "torch.dtype") -> "torch.Tensor":
    """The step between output samples, measured in input pixels, rounded like PyTorch."""
    import torch

    if align_corners:
        if out_size == 1:
            return torch.zeros((), dtype=dtype)
        return torch.tensor(in_size - 1, dtype=dtype) / torch.tensor(out_size - 1, dtype=dtype)
    if scale_factor is not None:
        return torch.tensor(1.0 / scale_factor, dtype=torch.float64).to(dtype)  # double, then round
    return torch.tensor(in_size, dtype=dtype) / torch.tensor(out_size, dtype=dtype)


def source_coordinates(
    out_size: int,
    in_size: int,
    align_corners: bool,
    scale_factor: float | None = None,
    *,
    dtype: "torch.dtype | None" = None,
    raw: bool = False,
) -> "torch.Tensor":
    """Where each output sample reads the input: a fractional input index per output index.

    ``align_corners=True`` maps the first and last pixel *centres* onto each other:
    ``src = i * (in_size - 1) / (out_size - 1)``. ``align_corners=False`` maps the image
    *edges* onto each other (pixel ``i`` covers ``[i, i + 1)``, centre ``i + 0.5``):
    ``src + 0.5 = (i + 0.5) * scale`` with ``scale = in_size / out_size``, or
    ``1 / scale_factor`` when a scale factor was given.

    Args:
        out_size: number of output samples along the axis.
        in_size: number of input samples along the axis.
        align_corners: PyTorch's flag (see above).
        scale_factor: the ``scale_factor`` given to ``F.interpolate``, if any; with
            ``align_corners=False`` it replaces ``out_size / in_size`` in the formula.
        dtype: ``torch.float64`` (default) or ``torch.float32``, the precision PyTorch uses
            for inputs of that dtype (float32 reproduces its single-rounding fused
            multiply-add).
        raw: ``True`` returns the bare formula (it can be negative, or beyond the last
            pixel, near the borders); ``False`` returns where PyTorch actually reads:
            clamped to ``[0, in_size - 1]``, and exactly ``i`` when the sizes are equal
            (PyTorch copies then, whatever the scale factor).

    Returns:
        Tensor of shape ``(out_size,)`` on the CPU.

    Raises:
        TypeError, ValueError: for sizes that are not positive ints, a non-bool
            ``align_corners`` or a non-positive ``scale_factor``.

    Example:
        >>> source_coordinates(4, 2, align_corners=False).tolist()
        [0.0, 0.25, 0.75, 1.0]
        >>> source_coordinates(4, 2, align_corners=False, raw=True).tolist()
        [-0.25, 0.25, 0.75, 1.25]
        >>> source_coordinates(4, 2, align_corners=True).tolist()
        [0.0, 0.3333333333333333, 0.6666666666666666, 1.0]
    """
    import torch

    out_size = _check_size_arg(out_size, "out_size")
    in_size = _check_size_arg(in_size, "in_size")
    align_corners = _check_align_corners(align_corners)
    if scale_factor is not None:
        scale_factor = _check_scale(scale_factor)
    dtype = torch.float64 if dtype is None else dtype
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")

    scale = _scale(in_size, out_size, align_corners, scale_factor, dtype)
    index = torch.arange(out_size, dtype=torch.float64)  # exact integers
    if align_corners:
        src = index.to(dtype) * scale  # one product, one rounding: same as PyTorch
    else:
        # (i + 0.5) * scale - 0.5 evaluated exactly in float64, rounded once to `dtype`:
        # the fused multiply-add of PyTorch's kernel (exact while out_size < 2**26).
        src = (scale.to(torch.float64) * (index + _HALF) - _HALF).to(dtype)
    if raw:
        return src
    if out_size == in_size:
        return index.to(dtype)
    return src.clamp(0, in_size - 1)


class LinearWeights(NamedTuple):
    """The two neighbours each output sample blends, and their weights.

    ``output[i] = weight0[i] * input[index0[i]] + weight1[i] * input[index1[i]]``; all four
    tensors have shape ``(out_size,)``.
    """

    index0: "torch.Tensor"
    index1: "torch.Tensor"
    weight0: "torch.Tensor"
    weight1: "torch.Tensor"


def linear_weights(
    out_size: int,
    in_size: int,
    align_corners: bool,
    scale_factor: float | None = None,
    *,
    dtype: "torch.dtype | None" = None,
    device: "torch.device | str | None" = None,
) -> LinearWeights:
    """Neighbour indices and weights of 1-D linear interpolation, exactly as PyTorch computes them.

    ``index0 = min(floor(src), in_size - 1)``, ``index1 = index0 + 1`` unless ``index0``
    is the last pixel, ``weight1 = clamp(src - index0, 0, 1)``, ``weight0 = 1 - weight1``,
    with ``src`` from :func:`source_coordinates` (``raw``, clamped below at 0).

    Args:
        out_size, in_size, align_corners, scale_factor: as in :func:`source_coordinates`.
        dtype: dtype of the weights (and of the arithmetic), float32 or float64 (default).
        device: where to put the four tensors (computed on the CPU, then moved).

    Returns:
        ``LinearWeights(index0, index1, weight0, weight1)``, each of shape ``(out_size,)``;
        indices are int64.

    Example:
        >>> w = linear_weights(4, 2, align_corners=False)
        >>> w.index0.tolist(), w.index1.tolist(), w.weight1.tolist()
        ([0, 0, 0, 1], [1, 1, 1, 1], [0.0, 0.25, 0.75, 0.25])
    """
    import torch

    dtype = torch.float64 if dtype is None else dtype
    src = source_coordinates(out_size, in_size, align_corners, scale_factor, dtype=dtype, raw=True)
    if out_size == in_size:  # PyTorch copies when the sizes agree, whatever the scale factor
        index0 = torch.arange(in_size)
        index1 = index0.clone()
        weight1 = torch.zeros(out_size, dtype=dtype)
    else:
        src = src.clamp(min=0)
        # PyTorch floors with floorf, i.e. after rounding src to float32 (matters in float64
        # only when src lies within float32 rounding of an integer).
        index0 = torch.floor(src.to(torch.float32)).long().clamp(max=in_size - 1)
        index1 = index0 + (index0 < in_size - 1).long()
        weight1 = (src - index0.to(dtype)).clamp(0, 1)
    weight0 = 1 - weight1
    return LinearWeights(*(t.to(device) for t in (index0, index1, weight0, weight1)))


# --------------------------------------------------------------------------------------
# Linear (N, C, L) and bilinear (N, C, H, W): separable passes
# --------------------------------------------------------------------------------------
# Work on about this many output values at a time, so that the temporaries (gathered
# neighbours, float64 products) stay small, get reused by the allocator and stay in cache.
_CHUNK_ELEMENTS = 1 << 20


def _by_planes(x: "torch.Tensor", out_tail: Sequence[int], fn) -> "torch.Tensor":
    """Apply ``fn`` to groups of planes of ``x`` ``(N, C, *spatial)`` and gather the results.

    ``fn`` maps planes ``(k, *spatial)`` to ``(k, *out_tail)``; the output has ``x``'s dtype.
    """
    import torch

    n, c = x.shape[:2]
    planes = x.reshape(n * c, *x.shape[2:])  # (NC, *spatial)
    out = torch.empty(n * c, *out_tail, dtype=x.dtype, device=x.device)  # (NC, *out_tail)
    step = max(1, _CHUNK_ELEMENTS // max(1, math.prod(out_tail)))
    for start in range(0, n * c, step):
        out[start:start + step] = fn(planes[start:start + step])  # copy_ casts to x's dtype
    return out.view(n, c, *out_tail)  # (N, C, *out_tail)


def _axis_blend(x: "torch.Tensor", dim: int, w: LinearWeights) -> "torch.Tensor":
    """Linear interpolation of ``x`` along axis ``dim`` (negative index) with weights ``w``."""
    view = [-1] + [1] * (-dim - 1)  # weights broadcast along `dim`, e.g. (W_out,) or (H_out, 1)
    x0 = x.index_select(dim, w.index0)  # (..., out_size, ...)
    x1 = x.index_select(dim, w.index1)  # (..., out_size, ...)
    return _blend(x0, w.weight0.view(view), x1, w.weight1.view(view))


def _blend(a: "torch.Tensor", wa: "torch.Tensor", b: "torch.Tensor", wb: "torch.Tensor") -> "torch.Tensor":
    """``a * wa + b * wb`` rounded the way PyTorch's CPU kernel rounds it in float32.

    The kernel's ``a * wa + b * wb`` is compiled to ``fma(a, wa, b * wb)``: ``b * wb`` is
    rounded, ``a * wa`` is not. We get the same single rounding by adding in float64 (the
    product of two float32 numbers is exact in float64) and rounding once to float32.
    Other dtypes (and devices without float64, such as Apple's MPS) use plain arithmetic.
    """
    return _fma(a, wa, b * wb)


def linear_interpolate(
    x: "torch.Tensor",
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    align_corners: bool = False,
) -> "torch.Tensor":
    """1-D linear interpolation, equal to ``F.interpolate(x, size, scale_factor, "linear", align_corners)``.

    Args:
        x: input of shape ``(N, C, L)``, floating point, any device.
        size: output length ``L_out`` (an int or a 1-tuple); give exactly one of ``size``
            and ``scale_factor``.
        scale_factor: multiplier for ``L``: ``L_out = floor(L * scale_factor)``; also used
            in the coordinate formula (PyTorch's ``recompute_scale_factor=None``).
        align_corners: map the corner pixel centres onto each other (``True``) or the
            image edges (``False``, PyTorch's default).

    Returns:
        Tensor of shape ``(N, C, L_out)``, same dtype and device as ``x``.

    Raises:
        TypeError: if ``x`` is not a floating-point tensor or an argument has the wrong type.
        ValueError: if ``x`` is not 3-D, both or neither of ``size``/``scale_factor`` are
            given, or a size would be smaller than 1.

    Example:
        >>> import torch
        >>> linear_interpolate(torch.tensor([[[10.0, 20.0]]]), size=4).tolist()
        [[[10.0, 12.5, 17.5, 20.0]]]
    """
    _check_input(x, 3, "(N, C, L)", "linear_interpolate")
    align_corners = _check_align_corners(align_corners)
    (out_len,), (factor,) = _resolve_sizes(x.shape[2:], size, scale_factor)
    opmath = _opmath(x.dtype)  # half types are computed in float32, like PyTorch
    w = linear_weights(out_len, x.shape[2], align_corners, factor, dtype=opmath, device=x.device)
    return _by_planes(x, (out_len,), lambda p: _axis_blend(p.to(opmath), -1, w))  # (N, C, L_out)


def bilinear_interpolate(
    x: "torch.Tensor",
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    align_corners: bool = False,
    *,
    order: str = "xy",
) -> "torch.Tensor":
    """Bilinear interpolation as two linear passes, equal to ``F.interpolate(..., mode="bilinear")``.

    Bilinear interpolation is separable: interpolate every row along the width (x), then
    every column of the result along the height (y). ``order="yx"`` does the height
    first; the result is the same up to float rounding (PyTorch's kernel does x first).

    Args:
        x: input of shape ``(N, C, H, W)``, floating point, any device.
        size: output ``(H_out, W_out)`` or one int for both.
        scale_factor: one number or ``(s_h, s_w)``; ``H_out = floor(H * s_h)`` etc.
        align_corners: as in :func:`linear_interpolate`.
        order: ``"xy"`` (width first, like PyTorch) or ``"yx"``.

    Returns:
        Tensor of shape ``(N, C, H_out, W_out)``, same dtype and device as ``x``.

    Raises:
        TypeError, ValueError: as :func:`linear_interpolate` (with 4-D input), or for an
            unknown ``order``.

    Example:
        >>> import torch
        >>> x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> bilinear_interpolate(x, size=3, align_corners=True)[0, 0].tolist()
        [[1.0, 1.5, 2.0], [2.0, 2.5, 3.0], [3.0, 3.5, 4.0]]
    """
    _check_input(x, 4, "(N, C, H, W)", "bilinear_interpolate")
    align_corners = _check_align_corners(align_corners)
    if order not in ("xy", "yx"):
        raise ValueError(f"order must be 'xy' (width first) or 'yx' (height first), got {order!r}")
    (out_h, out_w), (factor_h, factor_w) = _resolve_sizes(x.shape[2:], size, scale_factor)
    opmath = _opmath(x.dtype)  # half types are computed in float32, like PyTorch
    wy = linear_weights(out_h, x.shape[2], align_corners, factor_h, dtype=opmath, device=x.device)
    wx = linear_weights(out_w, x.shape[3], align_corners, factor_w, dtype=opmath, device=x.device)

    def two_passes(planes: "torch.Tensor") -> "torch.Tensor":  # (k, H, W) -> (k, H_out, W_out)
        planes = planes.to(opmath)
        if order == "xy":
            return _axis_blend(_axis_blend(planes, -1, wx), -2, wy)  # (k, H, W_out) -> (k, H_out, W_out)
        return _axis_blend(_axis_blend(planes, -2, wy), -1, wx)  # (k, H_out, W) -> (k, H_out, W_out)

    return _by_planes(x, (out_h, out_w), two_passes)  # (N, C, H_out, W_out)


def bilinear_interpolate_gather(
    x: "torch.Tensor",
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    align_corners: bool = False,
) -> "torch.Tensor":
    """Bilinear interpolation by gathering the four neighbours of every output pixel.

    ``out = w00 x[y0, x0] + w01 x[y0, x1] + w10 x[y1, x0] + w11 x[y1, x1]`` with
    ``w_ij = wy_i * wx_j``: the textbook four-neighbour weighted average. Simple, but it
    gathers four full-size tensors. In float32 the sum is rounded like PyTorch's vectorised
    CPU kernel (used when ``H_out + W_out <= 128``), which adds the four terms in this form.

    Args, Returns, Raises: as :func:`bilinear_interpolate`.

    Example:
        >>> import torch
        >>> x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> bilinear_interpolate_gather(x, size=3, align_corners=True)[0, 0, 1].tolist()
        [2.0, 2.5, 3.0]
    """
    _check_input(x, 4, "(N, C, H, W)", "bilinear_interpolate_gather")
    align_corners = _check_align_corners(align_corners)
    (out_h, out_w), (factor_h, factor_w) = _resolve_sizes(x.shape[2:], size, scale_factor)
    opmath = _opmath(x.dtype)
    wy = linear_weights(out_h, x.shape[2], align_corners, factor_h, dtype=opmath, device=x.device)
    wx = linear_weights(out_w, x.shape[3], align_corners, factor_w, dtype=opmath, device=x.device)
    y0, y1 = wy.index0[:, None], wy.index1[:, None]  # (H_out, 1)
    x0, x1 = wx.index0[None, :], wx.index1[None, :]  # (1, W_out)
    w0, w1 = wy.weight0[:, None], wy.weight1[:, None]  # (H_out, 1)
    weights = [w0 * wx.weight1, w0 * wx.weight0, w1 * wx.weight0, w1 * wx.weight1]  # each (H_out, W_out)
    corners = [(y0, x1), (y0, x0), (y1, x0), (y1, x1)]  # in the order PyTorch's kernel adds them

    def four_neighbours(planes: "torch.Tensor") -> "torch.Tensor":  # (k, H, W) -> (k, H_out, W_out)
        planes = planes.to(opmath)  # half types are blended in float32, like PyTorch
        out = planes[:, y0, x1] * weights[0]  # (k, H_out, W_out)
        for (rows, cols), weight in zip(corners[1:], weights[1:]):
            out = _fma(planes[:, rows, cols], weight, out)  # out + value * weight, rounded once
        return out

    return _by_planes(x, (out_h, out_w), four_neighbours)  # (N, C, H_out, W_out)


def _fma(a: "torch.Tensor", b: "torch.Tensor", c: "torch.Tensor") -> "torch.Tensor":
    """``a * b + c`` with a single rounding in float32 (a fused multiply-add), else plain."""
    import torch

    if a.dtype != torch.float32 or a.device.type == "mps":  # MPS has no float64
        return a * b + c
    return (a.double() * b.double() + c.double()).float()  # float32 products are exact in float64


# --------------------------------------------------------------------------------------
# Bilinear as matrix products: out = A_h @ X @ A_w.T
# --------------------------------------------------------------------------------------
def interpolation_matrix(
    out_size: int,
    in_size: int,
    align_corners: bool,
    scale_factor: float | None = None,
    *,
    dtype: "torch.dtype | None" = None,
    device: "torch.device | str | None" = None,
) -> "torch.Tensor":
    """The ``(out_size, in_size)`` matrix ``A`` with ``linear_interpolate(x) = A @ x`` along one axis.

    Row ``i`` holds ``weight0[i]`` at column ``index0[i]`` and ``weight1[i]`` at
    ``index1[i]`` (summed when they coincide at the border): at most two non-zeros per row,
    on a band around the diagonal. Every row sums to 1.

    Args:
        out_size, in_size, align_corners, scale_factor: as in :func:`source_coordinates`.
        dtype: float32 or float64 (default).
        device: where to build the matrix.

    Returns:
        Tensor of shape ``(out_size, in_size)``.

    Example:
        >>> interpolation_matrix(4, 2, align_corners=False).tolist()
        [[1.0, 0.0], [0.75, 0.25], [0.25, 0.75], [0.0, 1.0]]
    """
    import torch

    dtype = torch.float64 if dtype is None else dtype
    w = linear_weights(out_size, in_size, align_corners, scale_factor, dtype=dtype, device=device)
    rows = torch.arange(out_size, device=w.index0.device)
    matrix = torch.zeros(out_size, in_size, dtype=dtype, device=w.index0.device)
    matrix.index_put_((rows, w.index0), w.weight0, accumulate=True)
    matrix.index_put_((rows, w.index1), w.weight1, accumulate=True)
    return matrix


@dataclass(frozen=True)
class _Band:
    """Block-banded form of an interpolation matrix: ``blocks`` row blocks of ``rows`` rows,
    each reading ``width`` consecutive input samples starting at ``starts[b]``."""

    rows: int
    blocks: int
    width: int
    columns: "torch.Tensor"  # (blocks * width,) input indices read, block after block
    matrix: "torch.Tensor"  # (blocks, rows, width) the non-zero band of each block


# The width pass multiplies densely while the input is at most this wide: a dense product
# with a narrow matrix is one fast BLAS call and needs no gathered copies (measured with
# benchmarks/bench_interpolation.py: 60 -> 473 is faster dense than banded on a CPU).
_DENSE_WIDTH_MAX = 128

# Relative costs, in units of "write one output value", used to choose the band's block
# size (rough single-thread CPU measurements on benchmarks/bench_interpolation.py):
_COST_GATHERED = 4.0  # one gathered input line: copied, multiplied, transposed, re-read
_COST_MAC = 0.05  # one multiply-add inside a batched matrix product (memory-bound at small K)


def _band(out_size: int, in_size: int, align_corners: bool, scale_factor: float | None,
          dtype: "torch.dtype", device: "torch.device") -> _Band:
    """Split ``interpolation_matrix`` into equal row blocks and keep only each block's band.

    The output rows are cut into ``blocks`` blocks of ``rows`` rows (``rows`` divides
    ``out_size`` so that the result stays one contiguous tensor); block ``b`` only reads the
    ``width`` input samples from ``starts[b]``. The block size minimises a simple cost:
    gathered input lines (``blocks * width``) plus multiply-adds (``out_size * width``).
    """
    import torch

    w = linear_weights(out_size, in_size, align_corners, scale_factor, dtype=dtype)
    best: tuple[float, int, int] | None = None
    for rows in (d for d in range(1, out_size + 1) if out_size % d == 0):
        first = w.index0[::rows]  # indices are non-decreasing: a block's first column
        last = w.index1[rows - 1::rows]  # ... and its last column
        width = int((last - first).max()) + 1
        cost = _COST_GATHERED * (out_size // rows) * width + _COST_MAC * out_size * width
        if best is None or cost < best[0]:
            best = (cost, rows, width)
    _, rows, width = best
    blocks = out_size // rows
    starts = w.index0[::rows].clamp(max=in_size - width)  # (blocks,)
    columns = (starts[:, None] + torch.arange(width)).reshape(-1)  # (blocks * width,)
    block_of_row = torch.arange(out_size) // rows
    local0 = w.index0 - starts[block_of_row]  # column of weight0 inside its block's band
    local1 = w.index1 - starts[block_of_row]
    matrix = torch.zeros(out_size, width, dtype=dtype)
    matrix.index_put_((torch.arange(out_size), local0), w.weight0, accumulate=True)
    matrix.index_put_((torch.arange(out_size), local1), w.weight1, accumulate=True)
    return _Band(rows, blocks, width, columns.to(device),
                 matrix.view(blocks, rows, width).to(device))


class _MatmulPlan(NamedTuple):
    """What the banded matrix form precomputes for one problem size."""

    a_w_t: "torch.Tensor | None"  # (W, W_out) dense A_w.T, for narrow inputs
    band_w: "_Band | None"  # banded A_w, for wide inputs
    band_h: _Band  # banded A_h
    a_h: "torch.Tensor"  # (NC*Bh, rows_h, Kh): band_h.matrix repeated for every plane


@functools.lru_cache(maxsize=16)
def _matmul_plan(out_h: int, in_h: int, out_w: int, in_w: int, align_corners: bool,
                 factor_h: float | None, factor_w: float | None, dtype: "torch.dtype",
                 device: "torch.device", planes: int) -> _MatmulPlan:
    """Interpolation matrices and bands for one problem size, cached like a cuDNN plan:
    a slider or a training loop calls the same size again and again."""
    if in_w <= _DENSE_WIDTH_MAX:
        a_w = interpolation_matrix(out_w, in_w, align_corners, factor_w, dtype=dtype, device=device)
        a_w_t, band_w = a_w.T.contiguous(), None  # (W, W_out)
    else:
        a_w_t, band_w = None, _band(out_w, in_w, align_corners, factor_w, dtype, device)
    band_h = _band(out_h, in_h, align_corners, factor_h, dtype, device)
    a_h = band_h.matrix.expand(planes, -1, -1, -1)  # (NC, Bh, rows_h, Kh)
    a_h = a_h.reshape(planes * band_h.blocks, band_h.rows, band_h.width)  # (NC*Bh, rows_h, Kh)
    return _MatmulPlan(a_w_t, band_w, band_h, a_h)


def bilinear_interpolate_matmul(
    x: "torch.Tensor",
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    align_corners: bool = False,
    *,
    banded: bool = True,
) -> "torch.Tensor":
    """Bilinear interpolation as matrix products: ``out = A_h @ X @ A_w.T`` for every channel.

    ``A_h = interpolation_matrix(H_out, H)`` and ``A_w = interpolation_matrix(W_out, W)``.

    * ``banded=False``: the two dense products, in the cheaper order.
    * ``banded=True`` (fast): first the width pass on the small input (``X @ A_w.T``: one
      dense product while ``W <= 128``, else banded like the height pass); then the height
      pass, which makes the big output. ``A_h`` has two non-zeros per row, so it is cut into
      blocks of consecutive output rows, each keeping only the narrow band of input rows it
      reads: one batched product of small matrices writes the output, contiguous, in one go.

    Assumes finite inputs (``0 * inf`` is NaN in a matrix product, where ``F.interpolate``
    never reads the far pixel). On CUDA, float32 matrix products may use TF32 if
    ``torch.backends.cuda.matmul.allow_tf32`` is on, which rounds the inputs.

    Args, Returns, Raises: as :func:`bilinear_interpolate`, plus ``banded``.

    Example:
        >>> import torch
        >>> x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> bilinear_interpolate_matmul(x, size=3, align_corners=True)[0, 0, 2].tolist()
        [3.0, 3.5, 4.0]
    """
    import torch

    _check_input(x, 4, "(N, C, H, W)", "bilinear_interpolate_matmul")
    align_corners = _check_align_corners(align_corners)
    (out_h, out_w), (factor_h, factor_w) = _resolve_sizes(x.shape[2:], size, scale_factor)
    n, c, in_h, in_w = x.shape
    opmath = _opmath(x.dtype)
    if not banded:
        a_h = interpolation_matrix(out_h, in_h, align_corners, factor_h, dtype=opmath, device=x.device)
        a_w = interpolation_matrix(out_w, in_w, align_corners, factor_w, dtype=opmath, device=x.device)
        a_h, a_w, xm = a_h.to(x.dtype), a_w.to(x.dtype), x
        # Same result either way; pick the order with fewer multiply-adds.
        if out_h * in_w * (in_h + out_w) <= in_h * out_w * (in_w + out_h):
            return torch.matmul(torch.matmul(a_h, xm), a_w.T)  # (N, C, H_out, W) -> (N, C, H_out, W_out)
        return torch.matmul(a_h, torch.matmul(xm, a_w.T))  # (N, C, H, W_out) -> (N, C, H_out, W_out)

    planes = n * c
    plan = _matmul_plan(out_h, in_h, out_w, in_w, align_corners, factor_h, factor_w, opmath, x.device, planes)
    xp = x.reshape(planes, in_h, in_w)  # (NC, H, W)
    # Width pass, on the small input: one dense product while the input is narrow (cheap,
    # and no temporaries), else banded: column block j reads only input columns band_w.columns[j].
    if plan.band_w is None:
        t = torch.matmul(xp, plan.a_w_t.to(x.dtype))  # (NC, H, W_out)
    else:
        band_w = plan.band_w
        xw = xp.reshape(planes * in_h, in_w).index_select(1, band_w.columns)  # (NC*H, Bw*Kw)
        xw = xw.view(planes * in_h, band_w.blocks, band_w.width).transpose(0, 1).contiguous()  # (Bw, NC*H, Kw)
        t = torch.bmm(xw, band_w.matrix.transpose(1, 2).to(x.dtype))  # (Bw, NC*H, rows_w)
        t = t.transpose(0, 1).reshape(planes, in_h, out_w)  # (NC, H, W_out)
    # Height pass, banded: output row block b only reads rows band_h.columns[b] of t, so every
    # (plane, row block) is one small product (rows_h x Kh) @ (Kh x W_out), all in one call.
    band_h = plan.band_h
    t = t.index_select(1, band_h.columns)  # (NC, Bh*Kh, W_out)
    t = t.view(planes * band_h.blocks, band_h.width, out_w)  # (NC*Bh, Kh, W_out)
    out = torch.bmm(plan.a_h.to(x.dtype), t)  # (NC*Bh, rows_h, W_out)
    return out.view(n, c, out_h, out_w)  # (N, C, H_out, W_out)


# --------------------------------------------------------------------------------------
# One point: the four neighbours and their weights
# --------------------------------------------------------------------------------------
class Neighbour(NamedTuple):
    """One of the four pixels a bilinear sample blends: its row, column and weight."""

    row: int
    col: int
    weight: float


def bilinear_neighbours(x: float, y: float, height: int, width: int) -> tuple[Neighbour, ...]:
    """The four pixels around the point ``P = (x, y)`` and their bilinear weights.

    With ``x0 = floor(x)``, ``fx = x - x0`` (same for ``y``) the weights are
    ``(1-fx)(1-fy)``, ``fx(1-fy)``, ``(1-fx)fy`` and ``fx fy``: each neighbour's weight is
    the area of the rectangle *opposite* to it, so the nearest pixel weighs most. The
    value at ``P`` is ``sum(w * image[row, col])``. Neighbours beyond the last row/column
    are clamped onto it (as in :func:`linear_weights`).

    Args:
        x: column coordinate of ``P`` in pixels (pixel centres at integers), ``0 <= x <= width - 1``.
        y: row coordinate of ``P`` in pixels, ``0 <= y <= height - 1``.
        height, width: the image size in pixels.

    Returns:
        Four ``Neighbour(row, col, weight)``: top-left, top-right, bottom-left,
        bottom-right. The weights sum to 1.

    Raises:
        TypeError, ValueError: if the sizes are not positive ints or ``P`` is outside the
            image.

    Example:
        >>> [round(n.weight, 4) for n in bilinear_neighbours(0.25, 0.5, 2, 2)]
        [0.375, 0.125, 0.375, 0.125]
    """
    height = _check_size_arg(height, "height")
    width = _check_size_arg(width, "width")
    for name, value, size in (("x", x, width), ("y", y, height)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{name} must be a number, got {value!r}")
        if not 0 <= value <= size - 1:
            raise ValueError(f"{name} must lie in [0, {size - 1}] (pixel centres), got {value}")
    x0, y0 = min(math.floor(x), width - 1), min(math.floor(y), height - 1)
    x1, y1 = min(x0 + 1, width - 1), min(y0 + 1, height - 1)
    fx, fy = x - x0, y - y0
    return (
        Neighbour(y0, x0, (1 - fx) * (1 - fy)),
        Neighbour(y0, x1, fx * (1 - fy)),
        Neighbour(y1, x0, (1 - fx) * fy),
        Neighbour(y1, x1, fx * fy),
    )


# --------------------------------------------------------------------------------------
# Photos and segmentations (PyTorch's resamplers, for comparison)
# --------------------------------------------------------------------------------------
def resample_image(image: "torch.Tensor", size: int | tuple[int, int], method: str) -> "torch.Tensor":
    """Resize a ``(C, H, W)`` image with one of PyTorch's resamplers (for comparisons).

    Args:
        image: tensor of shape ``(C, H, W)``, values in ``[0, 1]``.
        size: output ``(H_out, W_out)`` or one int for a square.
        method: a key of ``RESAMPLING_METHODS``: ``"nearest"``, ``"bilinear"``,
            ``"bicubic"``, ``"area"`` or ``"bilinear + antialias"``.

    Returns:
        Tensor of shape ``(C, H_out, W_out)`` clamped to ``[0, 1]`` (bicubic overshoots).

    Raises:
        ValueError: for an unknown method or a bad shape.

    Example:
        >>> import torch
        >>> resample_image(torch.rand(3, 8, 8), 4, "area").shape
        torch.Size([3, 4, 4])
    """
    import torch
    import torch.nn.functional as F

    if method not in RESAMPLING_METHODS:
        raise ValueError(f"method must be one of {list(RESAMPLING_METHODS)}, got {method!r}")
    if not isinstance(image, torch.Tensor) or image.dim() != 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"image must be a tensor of shape (C, H, W), got {shape}")
    hw = (size, size) if _is_int(size) else tuple(size)
    for side in hw:
        _check_size_arg(side, "size")
    mode, antialias = RESAMPLING_METHODS[method]
    extra = {} if mode in ("nearest", "area") else {"align_corners": False, "antialias": antialias}
    out = F.interpolate(image[None].float(), size=hw, mode=mode, **extra)  # (1, C, H_out, W_out)
    return out[0].clamp(0.0, 1.0)


def toy_label_map() -> "torch.Tensor":
    """A small 8 x 8 PASCAL VOC label map: a person (15) and a cat (8) on background (0).

    The person touches the background and the cat, so upsampling the *class ids*
    bilinearly produces ids in between (aeroplane, bicycle, ..., horse) along the edges.

    Returns:
        int64 tensor of shape ``(8, 8)`` with values in ``{0, 8, 15}``.
    """
    import torch

    person, cat = VOC_CLASSES.index("person"), VOC_CLASSES.index("cat")
    labels = torch.zeros(8, 8, dtype=torch.long)
    labels[1:7, 1:4] = person
    labels[3:7, 4:7] = cat
    return labels


def upsample_segmentation(
    labels: "torch.Tensor",
    size: int | tuple[int, int],
    method: str,
    num_classes: int = len(VOC_CLASSES),
) -> "torch.Tensor":
    """Bring a low-resolution segmentation to ``size`` pixels, three ways.

    * ``"logits bilinear"`` (what segmentation networks do): one score map per class
      (here one-hot scores standing in for a network's logits), upsampled bilinearly with
      :func:`bilinear_interpolate`, then ``argmax`` over classes. Every pixel gets a class
      that one of its neighbours had.
    * ``"labels nearest"``: copy the nearest label. Valid classes, blocky edges.
    * ``"labels bilinear"``: interpolate the class ids as numbers and round. Wrong: between
      ids 0 and 15 it invents ids 1..14.

    Args:
        labels: int64 tensor ``(H, W)`` of class ids in ``[0, num_classes)``.
        size: output ``(H_out, W_out)`` or one int.
        method: one of ``SEGMENTATION_UPSAMPLING``.
        num_classes: number of classes (21 for PASCAL VOC).

    Returns:
        int64 tensor of shape ``(H_out, W_out)``.

    Raises:
        ValueError: for an unknown method, a bad shape or ids outside ``[0, num_classes)``.

    Example:
        >>> import torch
        >>> labels = torch.tensor([[0, 15]])
        >>> upsample_segmentation(labels, (1, 4), "labels bilinear", 21).tolist()
        [[0, 4, 11, 15]]
    """
    import torch

    if method not in SEGMENTATION_UPSAMPLING:
        raise ValueError(f"method must be one of {list(SEGMENTATION_UPSAMPLING)}, got {method!r}")
    if not isinstance(labels, torch.Tensor) or labels.dim() != 2 or labels.is_floating_point():
        raise ValueError("labels must be an integer tensor of shape (H, W)")
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got ids {labels.unique().tolist()}")
    hw = (size, size) if _is_int(size) else tuple(size)
    if method == "labels nearest":
        rows = _nearest_indices(hw[0], labels.shape[0], labels.device)  # (H_out,)
        cols = _nearest_indices(hw[1], labels.shape[1], labels.device)  # (W_out,)
        return labels[rows[:, None], cols[None, :]]  # (H_out, W_out)
    if method == "labels bilinear":
        ids = labels[None, None].double()  # (1, 1, H, W)
        return bilinear_interpolate(ids, size=hw)[0, 0].round().long()  # (H_out, W_out)
    scores = torch.nn.functional.one_hot(labels, num_classes).permute(2, 0, 1)  # (K, H, W)
    scores = bilinear_interpolate(scores[None].double(), size=hw)  # (1, K, H_out, W_out)
    return scores[0].argmax(dim=0)  # (H_out, W_out)


def _nearest_indices(out_size: int, in_size: int, device: "torch.device") -> "torch.Tensor":
    """Nearest-neighbour source index ``floor(i * in / out)`` (PyTorch's ``"nearest"``)."""
    import torch

    return (torch.arange(out_size, device=device) * in_size // out_size).clamp(max=in_size - 1)


def feature_map_size(in_size: int, output_stride: int = 8) -> int:
    """Side of a ResNet feature map at ``output_stride`` (8, 16 or 32) for an ``in_size`` input.

    Every stride-2 layer of a ResNet (7x7 conv with padding 3, 3x3 max-pool or conv with
    padding 1, 1x1 shortcut conv) maps ``n`` pixels to ``floor((n - 1) / 2) + 1``; the
    dilated layers after ``output_stride`` keep the size. Composing ``log2(output_stride)``
    halvings gives ``floor((n - 1) / output_stride) + 1``.

    Args:
        in_size: input pixels per side.
        output_stride: 8, 16 or 32.

    Returns:
        Feature-map samples per side.

    Example:
        >>> feature_map_size(473, 8), feature_map_size(512, 8)
        (60, 64)
    """
    in_size = _check_size_arg(in_size, "in_size")
    if output_stride not in (8, 16, 32):
        raise ValueError(f"output_stride must be 8, 16 or 32, got {output_stride!r}")
    size = in_size
    for _ in range(int(math.log2(output_stride))):
        size = (size - 1) // 2 + 1
    return size
