"""Argument checks shared by every public function, at its boundary: one helper per kind of check.

A bad value gets a ``ValueError`` (``TypeError`` for the wrong type) naming the argument; sizes are
bounded (``MAX_SIDE``, ``MAX_ELEMENTS``), so a typo such as ``size=10**6`` is refused early.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["MAX_SIDE", "MAX_ELEMENTS", "check_int", "check_float", "check_bool", "check_choice", "check_ints",
           "as_size", "check_elements", "check_tensor", "check_module", "check_device"]

MAX_SIDE = 8192  # pixels per side: 8K, beyond any image or feature map the course needs
MAX_ELEMENTS = 2**28  # values in one tensor a function may allocate: 1 GiB of float32


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _bounds(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" in [{minimum}, {maximum}]"
    return f" >= {minimum}" if minimum is not None else f" <= {maximum}" if maximum is not None else ""


def check_int(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` (an int, numpy or 0-d torch integer; not a bool) as an int in ``[minimum, maximum]``.

    A bound of ``None`` is open. Raises TypeError for a non-integer, ValueError out of bounds.

    Example:
        >>> check_int(3, "kernel_size", minimum=1)
        3
    """
    if isinstance(value, torch.Tensor) and value.dim() == 0 and not value.is_floating_point() \
            and not value.is_complex() and value.dtype != torch.bool:
        value = int(value)
    if isinstance(value, (bool, torch.Tensor)) or not hasattr(value, "__index__"):
        raise TypeError(f"{name} must be an int{_bounds(minimum, maximum)}, got {_describe(value)} "
                        f"({type(value).__name__})")
    value = int(value.__index__())
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an int{_bounds(minimum, maximum)}, got {value}")
    return value


def check_float(value: Any, name: str, *, minimum: float | None = None, maximum: float | None = None,
                open_minimum: bool = False) -> float:
    """Return ``value`` as a finite float in ``[minimum, maximum]`` (ints are accepted, bools are not).

    ``open_minimum`` excludes ``minimum`` itself (e.g. a learning rate ``> 0``). Raises TypeError
    for a value that is not a real number, ValueError for NaN, inf or a value out of bounds.

    Example:
        >>> check_float(0.4, "aux_weight", minimum=0.0)
        0.4
    """
    if isinstance(value, torch.Tensor) and value.dim() == 0 and value.dtype != torch.bool \
            and not value.is_complex():
        value = value.item()
    if isinstance(value, bool) or isinstance(value, complex) or not hasattr(value, "__float__"):
        raise TypeError(f"{name} must be a real number, got {_describe(value)} ({type(value).__name__})")
    number = float(value)
    low = "" if minimum is None else (f" > {minimum}" if open_minimum else f" >= {minimum}")
    high = "" if maximum is None else f" <= {maximum}"
    too_low = minimum is not None and (number <= minimum if open_minimum else number < minimum)
    if not math.isfinite(number) or too_low or (maximum is not None and number > maximum):
        raise ValueError(f"{name} must be a finite number{low}{' and' if low and high else ''}{high}, got {number}")
    return number


def check_bool(value: Any, name: str) -> bool:
    """Return ``value`` if it is ``True`` or ``False`` (numpy bools too; not 0/1 or strings), else TypeError."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {_describe(value)} ({type(value).__name__})")


def check_choice(value: Any, name: str, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else a ValueError naming them.

    Example:
        >>> check_choice("bilinear", "mode", ("linear", "bilinear"))
        'bilinear'
    """
    choices = tuple(choices)
    try:
        hit = any(value == c and type(value) is type(c) for c in choices)
    except TypeError:  # unhashable or uncomparable
        hit = False
    if not hit:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}; got {_describe(value)}")
    return value


def check_ints(values: Any, name: str, *, minimum: int | None = None, maximum: int | None = None,
               min_length: int = 1, max_length: int = 64) -> tuple[int, ...]:
    """Return a list, tuple, range or 1-D array of ints (not a string or a lone int) as a tuple.

    Each entry is checked by :func:`check_int`, the length against ``[min_length, max_length]``.

    Example:
        >>> check_ints([1, 2, 5], "dilations", minimum=1)
        (1, 2, 5)
    """
    if hasattr(values, "tolist") and not isinstance(values, (list, tuple, range)):
        values = values.tolist()  # a tensor or array: a list, or a number if it is 0-d
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a list or tuple of ints, got {_describe(values)} "
                        f"({type(values).__name__})")
    if not min_length <= len(values) <= max_length:
        raise ValueError(f"{name} must have between {min_length} and {max_length} entries, "
                         f"got {len(values)}")
    return tuple(check_int(v, f"{name}[{i}]", minimum=minimum, maximum=maximum)
                 for i, v in enumerate(values))


def as_size(value: Any, name: str, *, minimum: int = 1, maximum: int = MAX_SIDE) -> tuple[int, int]:
    """Parse an image or feature-map size, an int ``S`` (square) or a pair ``(H, W)``, into ``(H, W)``.

    Raises TypeError for a non-int side; ValueError for not a pair or a side out of bounds.

    Example:
        >>> as_size(473, "input_size")
        (473, 473)
        >>> as_size((97, 131), "input_size")
        (97, 131)
    """
    if isinstance(value, (tuple, list)):  # torch.Size too
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (H, W), got {len(value)} values: "
                             f"{_describe(value)}")
        return (check_int(value[0], f"{name}[0] (height)", minimum=minimum, maximum=maximum),
                check_int(value[1], f"{name}[1] (width)", minimum=minimum, maximum=maximum))
    side = check_int(value, name, minimum=minimum, maximum=maximum)
    return side, side


def check_elements(count: int, name: str, maximum: int = MAX_ELEMENTS) -> int:
    """Refuse (ValueError) a request ``name`` needing ``count > maximum`` values (e.g. ``N*C*H*W``)."""
    if count > maximum:
        raise ValueError(f"{name} would need {count:,} values (> {maximum:,}, "
                         f"{maximum * 4 // 2**20} MiB of float32): ask for something smaller")
    return count


def check_tensor(value: Any, name: str, *, ndim: int | Sequence[int] | None = None,
                 layout: str | None = None, dtype: str | None = None, finite: bool = False) -> torch.Tensor:
    """Return ``value`` if it is a tensor of the expected rank and kind of dtype.

    Args:
        ndim: allowed number(s) of dimensions; ``layout`` describes them, e.g. ``"(N, C, H, W)"``.
        dtype: ``"float"``, ``"integer"`` (not bool), ``"real"`` (either) or ``None`` (any).
        finite: refuse NaN and infinite values (not checked on the meta device).
    """
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor{' ' + layout if layout else ''}, "
                        f"got {type(value).__name__}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if value.dim() not in allowed:
            shape = layout or " or ".join(f"{n}-D" for n in allowed)
            raise ValueError(f"{name} must have shape {shape}, got shape {tuple(value.shape)}")
    is_float = value.is_floating_point()
    is_int = not is_float and not value.is_complex() and value.dtype != torch.bool
    kinds = {"float": is_float, "integer": is_int, "real": is_float or is_int, None: True}
    if not kinds[dtype]:
        wanted = {"float": "a floating-point", "integer": "an integer", "real": "a real"}[dtype]
        raise TypeError(f"{name} must have {wanted} dtype, got {value.dtype}")
    if finite and is_float and value.device.type != "meta" and not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} must contain only finite values (it has NaN or inf)")
    return value


def check_module(value: Any, name: str = "model") -> nn.Module:
    """Return ``value`` if it is an ``nn.Module``, else TypeError."""
    if not isinstance(value, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {_describe(value)} ({type(value).__name__})")
    return value


def check_device(value: Any, name: str = "device") -> torch.device:
    """Parse a device that exists here (``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a ``torch.device``).

    Raises TypeError for a value not a string or device, ValueError for one that does not exist.
    """
    if not isinstance(value, (str, torch.device)):
        raise TypeError(f"{name} must be a string such as 'cpu' or 'cuda', or a torch.device, "
                        f"got {type(value).__name__}")
    try:
        device = torch.device(value)
    except RuntimeError as err:
        raise ValueError(f"{name} must be 'cpu', 'cuda' or 'cuda:N', got {value!r}") from err
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{name}={value!r} but CUDA is not available here; use 'cpu'")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"{name}={value!r} but only {torch.cuda.device_count()} CUDA device(s) exist")
    elif device.type not in ("cpu", "meta"):
        raise ValueError(f"{name} must be 'cpu' or 'cuda' (or 'meta' for shapes only), got {value!r}")
    return device
