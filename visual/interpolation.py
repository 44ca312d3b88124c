"""Linear and bilinear interpolation from the formulas (equal to ``F.interpolate``), and as matrices
``A_h @ X @ A_w.T``. Only :func:`resample_image` calls PyTorch's resamplers, to compare them on a photo.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F

from visual.checks import (MAX_SIDE, as_size, check_bool, check_choice, check_device, check_elements,
                           check_float, check_int, check_tensor)

__all__ = ["source_coordinates", "LinearWeights", "linear_weights", "linear_interpolate", "bilinear_interpolate",
           "bilinear_interpolate_gather", "interpolation_matrix", "bilinear_interpolate_matmul", "Neighbour",
           "bilinear_neighbours", "RESAMPLING_METHODS", "resample_image"]

# Methods of ``resample_image`` -> (F.interpolate mode, antialias): PyTorch's own resamplers.
RESAMPLING_METHODS: dict[str, tuple[str, bool]] = {
    "nearest": ("nearest", False), "bilinear": ("bilinear", False), "bicubic": ("bicubic", False),
    "area": ("area", False), "bilinear + antialias": ("bilinear", True),
}


def _check_scale(value: Any) -> float:
    # A factor above MAX_SIDE gives an output side above MAX_SIDE for any input.
    return check_float(value, "scale_factor", minimum=0.0, open_minimum=True, maximum=MAX_SIDE)


def _arguments(x: Any, layout: str, size: Any, scale_factor: Any, align_corners: Any,
               finite: bool = False) -> tuple[bool, list[int], list[float | None]]:
    """Checked ``align_corners``, output sizes and per-axis scale factors, as ``F.interpolate``."""
    check_tensor(x, "x", ndim=layout.count(",") + 1, layout=layout, dtype="float", finite=finite)
    if 0 in x.shape[1:]:
        raise ValueError(f"x must have non-empty channel and spatial sizes {layout}, got shape {tuple(x.shape)}")
    align_corners = check_bool(align_corners, "align_corners")
    in_sizes = list(x.shape[2:])
    dims = len(in_sizes)
    if (size is None) == (scale_factor is None):
        given = "both" if size is not None else "neither"
        raise ValueError(f"give exactly one of size and scale_factor, got {given}")
    if size is not None:
        name, factors = "size", [None] * dims
        if dims == 1 and isinstance(size, (list, tuple)) and len(size) == 1:
            size = size[0]  # (L_out,)
        sizes = list(as_size(size, "size")) if dims == 2 else [check_int(size, "size", minimum=1, maximum=MAX_SIDE)]
    else:
        name = "scale_factor"
        factors = list(scale_factor) if isinstance(scale_factor, (list, tuple)) else [scale_factor] * dims
        if len(factors) != dims:
            raise ValueError(f"scale_factor must be a number or a sequence of {dims} numbers, got {scale_factor!r}")
        factors = [_check_scale(f) for f in factors]
        sizes = [math.floor(n * f) for n, f in zip(in_sizes, factors)]
        if not all(1 <= s <= MAX_SIDE for s in sizes):
            raise ValueError(f"scale_factor={scale_factor!r} turns input size {in_sizes} into {sizes}; "
                             f"every output side must be in [1, {MAX_SIDE}]")
    check_elements(x.shape[0] * x.shape[1] * math.prod(sizes), name)
    return align_corners, sizes, factors


def _work_dtype(x: torch.Tensor) -> torch.dtype:
    """float64 stays float64; every other float type is computed in float32, like PyTorch."""
    return torch.float64 if x.dtype == torch.float64 else torch.float32


# ----------------------------------------------------------------------- one axis
def source_coordinates(out_size: int, in_size: int, align_corners: bool, scale_factor: float | None = None,
                       *, dtype: torch.dtype | None = None, raw: bool = False) -> torch.Tensor:
    """Where each output sample reads the input: a fractional input index per output index.

    Args:
        align_corners: ``True``: ``src = i * (in_size - 1) / (out_size - 1)`` (corner centres meet);
            ``False``: ``src = (i + 0.5) * scale - 0.5`` (edges meet), ``scale = in_size / out_size``.
        scale_factor: ``F.interpolate``'s factor; if given, ``scale = 1 / scale_factor``.
        dtype: ``torch.float64`` (default) or ``torch.float32``.
        raw: the bare formula; else the position whose value PyTorch returns: ``i`` if sizes agree, and
            clamped to ``[0, in_size - 1]`` (PyTorch guards the upper neighbour, so a read past the end is the last).

    Returns:
        Tensor of shape ``(out_size,)`` on the CPU.

    Example:
        >>> source_coordinates(4, 2, align_corners=False).tolist()
        [0.0, 0.25, 0.75, 1.0]
        >>> source_coordinates(4, 2, align_corners=False, raw=True).tolist()
        [-0.25, 0.25, 0.75, 1.25]
    """
    out_size = check_int(out_size, "out_size", minimum=1, maximum=MAX_SIDE)
    in_size = check_int(in_size, "in_size", minimum=1, maximum=MAX_SIDE)
    align_corners = check_bool(align_corners, "align_corners")
    scale_factor = None if scale_factor is None else _check_scale(scale_factor)
    dtype = torch.float64 if dtype is None else check_choice(dtype, "dtype", (torch.float64, torch.float32))
    index = torch.arange(out_size, dtype=dtype)  # (out_size,)
    if align_corners:
        src = index * ((in_size - 1) / (out_size - 1) if out_size > 1 else 0.0)
    else:
        scale = in_size / out_size if scale_factor is None else 1.0 / scale_factor
        src = (index + 0.5) * scale - 0.5
    if raw:
        return src
    if out_size == in_size:
        return index
    return src.clamp(0, in_size - 1)


class LinearWeights(NamedTuple):
    """``output[i] = weight0[i] * input[index0[i]] + weight1[i] * input[index1[i]]``, each ``(out_size,)``."""
    index0: torch.Tensor
    index1: torch.Tensor
    weight0: torch.Tensor
    weight1: torch.Tensor


def linear_weights(out_size: int, in_size: int, align_corners: bool, scale_factor: float | None = None,
                   *, dtype: torch.dtype | None = None, device: torch.device | str | None = None) -> LinearWeights:
    """The two neighbours of every output sample of 1-D linear interpolation, and their weights.

    ``src = max(src, 0)`` (clamped below only), ``index0 = min(floor(src), in_size - 1)``,
    ``index1 = min(index0 + 1, in_size - 1)`` (the upper guard),
    ``weight1 = clamp(src - index0, 0, 1)``, ``weight0 = 1 - weight1``.

    Arguments as in :func:`source_coordinates`; ``device`` (default: the CPU) holds the result.

    Returns:
        ``LinearWeights(index0, index1, weight0, weight1)``, each ``(out_size,)``; indices int64.

    Example:
        >>> w = linear_weights(4, 2, align_corners=False)
        >>> w.index0.tolist(), w.index1.tolist(), w.weight1.tolist()
        ([0, 0, 0, 1], [1, 1, 1, 1], [0.0, 0.25, 0.75, 0.25])
    """
    device = None if device is None else check_device(device)
    src = source_coordinates(out_size, in_size, align_corners, scale_factor, dtype=dtype, raw=True)
    if out_size == in_size:  # PyTorch copies when the sizes agree, whatever the scale factor
        src = torch.arange(in_size, dtype=src.dtype)
    src = src.clamp(min=0).to(device)
    index0 = src.floor().long().clamp(max=in_size - 1)
    index1 = (index0 + 1).clamp(max=in_size - 1)
    weight1 = (src - index0).clamp(0, 1)
    return LinearWeights(index0, index1, 1 - weight1, weight1)


def _blend(x: torch.Tensor, dim: int, w: LinearWeights) -> torch.Tensor:
    """Linear interpolation of ``x`` along axis ``dim`` (-1 or -2) with the weights ``w``."""
    view = (-1,) + (1,) * (-dim - 1)  # weights along `dim`: (L_out,) or (H_out, 1)
    x0, x1 = x.index_select(dim, w.index0), x.index_select(dim, w.index1)  # (..., L_out, ...)
    return x0 * w.weight0.view(view) + x1 * w.weight1.view(view)


def linear_interpolate(x: torch.Tensor, size: int | Sequence[int] | None = None,
                       scale_factor: float | Sequence[float] | None = None,
                       align_corners: bool = False) -> torch.Tensor:
    """1-D linear interpolation, equal to ``F.interpolate(x, size, scale_factor, "linear", align_corners)``.

    Args:
        x: input ``(N, C, L)``, floating point, any device.
        size: output length ``L_out`` (an int or a 1-tuple); or (exactly one of them)
        scale_factor: ``L_out = floor(L * scale_factor)``; also used in the coordinate formula.

    Returns:
        Tensor ``(N, C, L_out)``, same dtype and device as ``x``.

    Example:
        >>> linear_interpolate(torch.tensor([[[10.0, 20.0]]]), size=4).tolist()
        [[[10.0, 12.5, 17.5, 20.0]]]
    """
    align_corners, (out_len,), (factor,) = _arguments(x, "(N, C, L)", size, scale_factor, align_corners)
    work = _work_dtype(x)
    w = linear_weights(out_len, x.shape[-1], align_corners, factor, dtype=work, device=x.device)
    return _blend(x.to(work), -1, w).to(x.dtype)  # (N, C, L_out)


def _per_axis(build: Any, x: Any, size: Any, scale_factor: Any, align_corners: Any, finite: bool = False) -> tuple:
    """``build`` (:func:`linear_weights` or :func:`interpolation_matrix`) along the height, then the width."""
    align_corners, sizes, factors = _arguments(x, "(N, C, H, W)", size, scale_factor, align_corners, finite)
    return tuple(build(out, n, align_corners, factor, dtype=_work_dtype(x), device=x.device)
                 for out, n, factor in zip(sizes, x.shape[2:], factors))


def bilinear_interpolate(x: torch.Tensor, size: int | Sequence[int] | None = None,
                         scale_factor: float | Sequence[float] | None = None, align_corners: bool = False,
                         *, order: str = "xy") -> torch.Tensor:
    """Bilinear interpolation as two linear passes, equal to ``F.interpolate(..., mode="bilinear")``.

    Args:
        x: input ``(N, C, H, W)``, floating point, any device.
        size: output ``(H_out, W_out)`` or one int; or ``scale_factor``: one number or ``(s_h, s_w)``.
        order: ``"xy"`` (rows along the width first) or ``"yx"`` (equal up to float rounding).

    Returns:
        Tensor ``(N, C, H_out, W_out)``, same dtype and device as ``x``.

    Example:
        >>> x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> bilinear_interpolate(x, size=3, align_corners=True)[0, 0].tolist()
        [[1.0, 1.5, 2.0], [2.0, 2.5, 3.0], [3.0, 3.5, 4.0]]
    """
    order = check_choice(order, "order", ("xy", "yx"))
    wy, wx = _per_axis(linear_weights, x, size, scale_factor, align_corners)
    planes = x.to(_work_dtype(x))
    if order == "xy":
        out = _blend(_blend(planes, -1, wx), -2, wy)  # (N, C, H, W_out) -> (N, C, H_out, W_out)
    else:
        out = _blend(_blend(planes, -2, wy), -1, wx)  # (N, C, H_out, W) -> (N, C, H_out, W_out)
    return out.to(x.dtype)


def bilinear_interpolate_gather(x: torch.Tensor, size: int | Sequence[int] | None = None,
                                scale_factor: float | Sequence[float] | None = None,
                                align_corners: bool = False) -> torch.Tensor:
    """Bilinear interpolation as a weighted average of the four neighbours of every output pixel.

    ``out = wy0 wx0 x[y0, x0] + wy0 wx1 x[y0, x1] + wy1 wx0 x[y1, x0] + wy1 wx1 x[y1, x1]``; arguments
    as :func:`bilinear_interpolate` (without ``order``).

    Example:
        >>> x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> bilinear_interpolate_gather(x, size=3, align_corners=True)[0, 0, 1].tolist()
        [2.0, 2.5, 3.0]
    """
    wy, wx = _per_axis(linear_weights, x, size, scale_factor, align_corners)
    planes = x.to(_work_dtype(x))
    y0, y1 = wy.index0[:, None], wy.index1[:, None]  # (H_out, 1)
    wy0, wy1 = wy.weight0[:, None], wy.weight1[:, None]  # (H_out, 1)
    out = (planes[..., y0, wx.index0] * (wy0 * wx.weight0) + planes[..., y0, wx.index1] * (wy0 * wx.weight1)
           + planes[..., y1, wx.index0] * (wy1 * wx.weight0) + planes[..., y1, wx.index1] * (wy1 * wx.weight1))
    return out.to(x.dtype)  # (N, C, H_out, W_out)


# ----------------------------------------------------------------------- matrix form
def interpolation_matrix(out_size: int, in_size: int, align_corners: bool, scale_factor: float | None = None,
                         *, dtype: torch.dtype | None = None,
                         device: torch.device | str | None = None) -> torch.Tensor:
    """The ``(out_size, in_size)`` matrix ``A`` with ``linear_interpolate(x) = A @ x`` along one axis.

    Row ``i`` holds ``weight0[i]`` at column ``index0[i]`` and ``weight1[i]`` at ``index1[i]`` (summed where
    they coincide). Arguments as in :func:`linear_weights`.

    Returns:
        Tensor ``(out_size, in_size)``.

    Example:
        >>> interpolation_matrix(4, 2, align_corners=False).tolist()
        [[1.0, 0.0], [0.75, 0.25], [0.25, 0.75], [0.0, 1.0]]
    """
    w = linear_weights(out_size, in_size, align_corners, scale_factor, dtype=dtype, device=device)
    check_elements(out_size * in_size, "interpolation_matrix(out_size, in_size)")
    rows = torch.arange(out_size, device=w.index0.device)
    matrix = torch.zeros(out_size, in_size, dtype=w.weight0.dtype, device=w.index0.device)
    matrix.index_put_((rows, w.index0), w.weight0, accumulate=True)
    matrix.index_put_((rows, w.index1), w.weight1, accumulate=True)
    return matrix


def bilinear_interpolate_matmul(x: torch.Tensor, size: int | Sequence[int] | None = None,
                                scale_factor: float | Sequence[float] | None = None,
                                align_corners: bool = False) -> torch.Tensor:
    """Bilinear interpolation as matrix products ``A_h @ X @ A_w.T`` (:func:`interpolation_matrix` per axis).

    Arguments as :func:`bilinear_interpolate` (without ``order``). ``0 * NaN`` is NaN, so one NaN would
    spread over whole rows and columns: ValueError for NaN or inf. (On CUDA, float32 may use TF32.)

    Example:
        >>> x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> bilinear_interpolate_matmul(x, size=3, align_corners=True)[0, 0, 2].tolist()
        [3.0, 3.5, 4.0]
    """
    a_h, a_w = _per_axis(interpolation_matrix, x, size, scale_factor, align_corners, True)  # (H_out, H), (W_out, W)
    out = a_h @ x.to(_work_dtype(x)) @ a_w.T  # (N, C, H_out, W) -> (N, C, H_out, W_out)
    return out.to(x.dtype)


# ----------------------------------------------------------------------- one point
class Neighbour(NamedTuple):
    """One of the four pixels a bilinear sample blends: its row, column and weight."""
    row: int
    col: int
    weight: float


def bilinear_neighbours(x: float, y: float, height: int, width: int) -> tuple[Neighbour, ...]:
    """The four pixels around the point ``P = (x, y)`` and their bilinear weights.

    With ``fx = x - floor(x)`` (same for ``y``) the weights are ``(1-fx)(1-fy)``, ``fx(1-fy)``, ``(1-fx)fy``
    and ``fx fy``; neighbours beyond the last row/column are clamped onto it. ``x``, ``y``: column and row
    of ``P`` (pixel centres at integers), inside the image.

    Returns:
        Four ``Neighbour(row, col, weight)``: top-left, top-right, bottom-left, bottom-right.

    Example:
        >>> [round(n.weight, 4) for n in bilinear_neighbours(0.25, 0.5, 2, 2)]
        [0.375, 0.125, 0.375, 0.125]
    """
    height = check_int(height, "height", minimum=1, maximum=MAX_SIDE)
    width = check_int(width, "width", minimum=1, maximum=MAX_SIDE)
    x = check_float(x, "x", minimum=0.0, maximum=width - 1)
    y = check_float(y, "y", minimum=0.0, maximum=height - 1)
    x0, y0 = math.floor(x), math.floor(y)
    x1, y1 = min(x0 + 1, width - 1), min(y0 + 1, height - 1)
    fx, fy = x - x0, y - y0
    return (Neighbour(y0, x0, (1 - fx) * (1 - fy)), Neighbour(y0, x1, fx * (1 - fy)),
            Neighbour(y1, x0, (1 - fx) * fy), Neighbour(y1, x1, fx * fy))


# ----------------------------------------------------------------------- PyTorch's resamplers
def resample_image(image: torch.Tensor, size: int | tuple[int, int], method: str) -> torch.Tensor:
    """Resize a ``(C, H, W)`` image with one of PyTorch's resamplers (to compare them).

    Args:
        image: floating-point tensor ``(C, H, W)``, values in ``[0, 1]``.
        method: a key of ``RESAMPLING_METHODS`` (``"nearest"``, ``"bilinear"``, ...).

    Returns:
        float32 tensor ``(C, H_out, W_out)`` clamped to ``[0, 1]`` (bicubic overshoots).
    """
    method = check_choice(method, "method", RESAMPLING_METHODS)
    check_tensor(image, "image", ndim=3, layout="(C, H, W)", dtype="float")
    if 0 in image.shape:
        raise ValueError(f"image must not be empty, got shape {tuple(image.shape)}")
    out_hw = as_size(size, "size")
    check_elements(image.shape[0] * out_hw[0] * out_hw[1], "size")
    mode, antialias = RESAMPLING_METHODS[method]
    extra = {} if mode in ("nearest", "area") else {"align_corners": False, "antialias": antialias}
    out = F.interpolate(image[None].float(), size=out_hw, mode=mode, **extra)  # (1, C, H_out, W_out)
    return out[0].clamp(0.0, 1.0)
