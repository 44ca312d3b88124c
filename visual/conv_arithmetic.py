"""Convolution arithmetic along one axis (plain Python): output sizes, dilated kernels, receptive fields.

Sources: ``nn.Conv2d`` docs ("Shape"); Dumoulin & Visin (2016) Sec. 5.1; Araujo et al. (2019) Eq. 1-2;
Wang et al. (2018) "Hybrid Dilated Convolution (HDC)".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from visual.checks import MAX_SIDE, check_bool, check_int, check_ints

__all__ = ["conv_output_size", "effective_kernel_size", "StackStep", "stack_receptive_field", "receptive_field_cone",
           "dilated_footprint", "gridding_count_map", "has_holes", "hdc_max_distance", "satisfies_hdc", "MAX_MAP_SIDE"]

MAX_MAP_SIDE = 2049  # side of a 2-D count map: 4.2 M entries (rates up to 1024 for 3x3 kernels)


def effective_kernel_size(kernel_size: int, dilation: int) -> int:
    """Input pixels spanned by ``kernel_size`` taps ``dilation`` pixels apart: ``dilation * (kernel_size - 1) + 1``.

    Example:
        >>> effective_kernel_size(3, 1), effective_kernel_size(3, 2), effective_kernel_size(3, 3)
        (3, 5, 7)
    """
    return check_int(dilation, "dilation", minimum=1) * (check_int(kernel_size, "kernel_size", minimum=1) - 1) + 1


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                     ceil_mode: bool = False) -> int:
    """Output length of ``nn.Conv2d`` / ``nn.MaxPool2d`` / ``nn.AvgPool2d`` along one axis.

    ``out = floor((size + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1``; ``ceil_mode`` (pooling)
    rounds up, but drops a last window that would start in the right padding, as PyTorch does.
    Raises ValueError for a padded input shorter than the effective kernel.

    Example:
        >>> conv_output_size(473, kernel_size=7, stride=2, padding=3)
        237
        >>> conv_output_size(6, kernel_size=3, stride=2, ceil_mode=True)
        3
    """
    check_int(size, "size", minimum=1)
    k_eff = effective_kernel_size(kernel_size, dilation)
    check_int(stride, "stride", minimum=1)
    check_int(padding, "padding", minimum=0)
    check_bool(ceil_mode, "ceil_mode")
    span = size + 2 * padding - k_eff  # room left for the window to slide
    if span < 0:
        raise ValueError(f"input too small: size={size} with padding={padding} is shorter than the effective "
                         f"kernel size {k_eff} (kernel_size={kernel_size}, dilation={dilation})")
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1  # ceiling division
    if (out - 1) * stride >= size + padding:  # the last window would start in the right padding
        out -= 1
    return out


class StackStep(NamedTuple):
    """One layer of a stack and the geometry after it: ``jump`` (product of the strides so far) and ``rf``."""

    kernel_size: int
    stride: int
    dilation: int
    effective_kernel_size: int
    jump: int
    rf: int


def _per_layer(name: str, values: Any, n: int, default: int) -> tuple[int, ...]:
    """One value per layer from ``None`` (``default``), one int for all, or a sequence of ``n``."""
    if values is None:
        return (default,) * n
    if hasattr(values, "__index__") and not isinstance(values, bool):
        return (check_int(values, name, minimum=1),) * n
    values = check_ints(values, name, minimum=1)
    if len(values) != n:
        raise ValueError(f"{name} must have one entry per layer ({n}), got {len(values)}")
    return values


def stack_receptive_field(kernel_sizes: Sequence[int], strides: Sequence[int] | int | None = None,
                          dilations: Sequence[int] | int | None = None) -> list[StackStep]:
    """The receptive-field recurrence through a stack of layers, one axis (Araujo et al. 2019, Eq. 1-2).

    From ``rf_0 = jump_0 = 1``: ``rf_l = rf_{l-1} + (k_eff_l - 1) jump_{l-1}``, ``jump_l = jump_{l-1} s_l``.
    ``strides`` and ``dilations``: one per layer, or one int for all (default 1).

    Returns:
        One ``StackStep`` per layer, in order.

    Example:
        >>> [step.rf for step in stack_receptive_field([3, 3, 3], dilations=[1, 2, 4])]
        [3, 7, 15]
        >>> [(step.jump, step.rf) for step in stack_receptive_field([3, 3], strides=2)]
        [(2, 3), (4, 7)]
    """
    kernel_sizes = check_ints(kernel_sizes, "kernel_sizes", minimum=1)
    strides = _per_layer("strides", strides, len(kernel_sizes), 1)
    dilations = _per_layer("dilations", dilations, len(kernel_sizes), 1)
    steps = []
    jump, rf = 1, 1
    for k, s, d in zip(kernel_sizes, strides, dilations):
        k_eff = effective_kernel_size(k, d)
        rf = rf + (k_eff - 1) * jump
        jump = jump * s
        steps.append(StackStep(k, s, d, k_eff, jump, rf))
    return steps


def dilated_footprint(kernel_size: int, dilations: Sequence[int]) -> list[int]:
    """How many paths lead from each input pixel to one output of a stack of dilated convs.

    Stride 1. A stack's footprint is the convolution of its layers' (``kernel_size`` ones spaced
    ``dilation`` apart). A zero inside the span is a *hole*: that pixel never reaches the output.

    Returns:
        Path counts (first layer first), length ``1 + sum(d * (kernel_size - 1))`` (at most ``MAX_SIDE``).

    Example:
        >>> dilated_footprint(3, [2, 2])
        [1, 0, 2, 0, 3, 0, 2, 0, 1]
    """
    kernel_size = check_int(kernel_size, "kernel_size", minimum=1, maximum=MAX_SIDE)
    dilations = check_ints(dilations, "dilations", minimum=1, maximum=MAX_SIDE)
    rf = 1 + sum(d * (kernel_size - 1) for d in dilations)
    if rf > MAX_SIDE:
        raise ValueError(f"kernel_size={kernel_size} and dilations={dilations} give a footprint of {rf} pixels, "
                         f"more than MAX_SIDE={MAX_SIDE}: use smaller rates")
    counts = [1]
    for d in dilations:
        out = [0] * (len(counts) + d * (kernel_size - 1))
        for a, count in enumerate(counts):
            for t in range(kernel_size):  # the layer's taps sit d pixels apart
                out[a + t * d] += count
        counts = out
    return counts


def gridding_count_map(kernel_size: int, dilations: Sequence[int]) -> list[list[int]]:
    """2-D path counts to one output of dilated k x k convs: the outer product of the 1-D footprints.

    Returns:
        ``counts[row][col]``, a square of side equal to the receptive field (at most ``MAX_MAP_SIDE``).

    Example:
        >>> gridding_count_map(3, [2])
        [[1, 0, 1, 0, 1], [0, 0, 0, 0, 0], [1, 0, 1, 0, 1], [0, 0, 0, 0, 0], [1, 0, 1, 0, 1]]
    """
    line = dilated_footprint(kernel_size, dilations)
    if len(line) > MAX_MAP_SIDE:
        raise ValueError(f"kernel_size={kernel_size} and dilations={tuple(dilations)} give a {len(line)}x{len(line)} "
                         f"count map, more than MAX_MAP_SIDE={MAX_MAP_SIDE} per side: use smaller rates")
    return [[a * b for b in line] for a in line]


def has_holes(kernel_size: int, dilations: Sequence[int]) -> bool:
    """Whether some input pixel inside the receptive field never reaches the output.

    Example:
        >>> has_holes(3, [2, 2, 2]), has_holes(3, [1, 2, 5])
        (True, False)
    """
    return 0 in dilated_footprint(kernel_size, dilations)


def hdc_max_distance(dilations: Sequence[int]) -> int:
    """``M_2`` of the Hybrid Dilated Convolution rule (Wang et al. 2018) for rates ``r_1..r_n`` (n >= 2).

    ``M_n = r_n``, ``M_i = max(M_{i+1} - 2 r_i, M_{i+1} - 2 (M_{i+1} - r_i), r_i)``: the largest gap
    layers ``2..n`` leave, which the first layer (rate 1) must bridge.

    Example:
        >>> hdc_max_distance([1, 2, 5]), hdc_max_distance([1, 2, 9])
        (2, 5)
    """
    rates = check_ints(dilations, "dilations", minimum=1, min_length=2)
    m = rates[-1]
    for r in reversed(rates[1:-1]):
        m = max(m - 2 * r, m - 2 * (m - r), r)
    return m


def satisfies_hdc(dilations: Sequence[int], kernel_size: int = 3) -> bool:
    """The HDC design rule: first rate 1 and ``M_2 <= kernel_size`` (Wang et al. 2018).

    Sufficient for no holes (checked for all triples of rates 1..9, K = 3 and 5); for ``kernel_size=3``
    and non-decreasing rates also necessary.

    Example:
        >>> satisfies_hdc([1, 2, 5]), satisfies_hdc([1, 2, 9]), satisfies_hdc([2, 4, 8])
        (True, False, False)
    """
    kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
    rates = check_ints(dilations, "dilations", minimum=1, min_length=2)
    return rates[0] == 1 and hdc_max_distance(rates) <= kernel_size


def receptive_field_cone(kernel_sizes: Sequence[int], strides: Sequence[int] | int | None = None,
                         dilations: Sequence[int] | int | None = None) -> list[list[int]]:
    """Which units of every layer feed one output unit of a stack, and along how many paths.

    One axis; arguments as for ``stack_receptive_field``. Unit ``i`` of layer ``l`` sits at
    ``i * jump_l + (rf_l - 1) // 2`` and reads units ``i * s_l + t * d_l`` (``t < k_l``) below it.

    Returns:
        ``len(kernel_sizes) + 1`` rows (input first) of length ``rf``: paths from the unit at that
        position to the output unit (0 where none feeds it).

    Example:
        >>> receptive_field_cone([3, 3], dilations=[1, 2])
        [[1, 1, 2, 1, 2, 1, 1], [0, 1, 0, 1, 0, 1, 0], [0, 0, 0, 1, 0, 0, 0]]
    """
    steps = stack_receptive_field(kernel_sizes, strides, dilations)
    jumps = [1] + [step.jump for step in steps]
    rfs = [1] + [step.rf for step in steps]
    width = rfs[-1]
    if width > MAX_SIDE:
        raise ValueError(f"kernel_sizes, strides and dilations give a receptive field of {width} pixels, "
                         f"more than MAX_SIDE={MAX_SIDE}: the cone would not fit")
    counts: dict[int, int] = {0: 1}  # unit index at the current layer -> paths to the top
    rows = []
    for layer in range(len(steps), -1, -1):
        row = [0] * width
        for index, count in counts.items():
            row[index * jumps[layer] + (rfs[layer] - 1) // 2] += count
        rows.append(row)
        if layer == 0:
            break
        step = steps[layer - 1]
        below: dict[int, int] = {}
        for index, count in counts.items():
            for t in range(step.kernel_size):
                j = index * step.stride + t * step.dilation
                below[j] = below.get(j, 0) + count
        counts = below
    return rows[::-1]
