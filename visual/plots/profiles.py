"""Middle-row profiles for the lesson-01 explorers: a gridding count map's row (its holes marked) and an
ERF heatmap's row beside the Gaussian of the same spread and the theoretical receptive field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from visual.checks import check_float
from visual.conv_arithmetic import gridding_count_map
from visual.plots.core import get_axes
from visual.plots.receptive_field import BOX_COLOUR, SPAN_COLOUR, heatmap_values

__all__ = ["ProfileArtists", "draw_gridding_profile", "update_gridding_profile", "draw_erf_profile",
           "update_erf_profile"]


@dataclass
class ProfileArtists:
    """A middle-row profile: its line, the holes (gridding) or Gaussian fit (ERF), the RF span (ERF only)."""
    ax: Axes
    line: Any
    marks: Any
    span: Any = None


def draw_gridding_profile(ax: Axes) -> ProfileArtists:
    """Empty axes for the middle row of a gridding count map (paths per input column, holes marked)."""
    ax = get_axes(ax)
    (line,) = ax.plot([], [], drawstyle="steps-mid", color="#08519c", label="paths")
    (marks,) = ax.plot([], [], "x", color="#d7301f", markersize=8, mew=2, label="hole")
    ax.set(xlabel="input column offset (pixels)", ylabel="paths to the output (middle row)",
           title="middle row of the count map")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize="small")
    return ProfileArtists(ax, line, marks)


def update_gridding_profile(artists: ProfileArtists, kernel_size: int, dilations: Sequence[int]) -> None:
    """Show the middle row of ``gridding_count_map(kernel_size, dilations)``; zeros are the holes."""
    counts = gridding_count_map(kernel_size, dilations)
    middle = np.asarray(counts[len(counts) // 2], dtype=float)  # (RF,)
    half = (len(middle) - 1) // 2
    offsets = np.arange(len(middle)) - half
    artists.line.set_data(offsets, middle)
    artists.marks.set_data(offsets[middle == 0], np.zeros(int((middle == 0).sum())))
    artists.ax.set(xlim=(-half - 1, half + 1), ylim=(-0.05 * middle.max() - 0.5, 1.1 * middle.max() + 0.5))


def draw_erf_profile(ax: Axes, view: tuple[float, float]) -> ProfileArtists:
    """Empty axes for the middle row of an ERF heatmap, its Gaussian fit and the theoretical RF span."""
    ax = get_axes(ax)
    if len(view) != 2:
        raise ValueError(f"view must be a pair (left, right) of input columns, got {view!r}")
    (line,) = ax.plot([], [], "o-", color="#08519c", markersize=3, label="ERF, middle row")
    (marks,) = ax.plot([], [], "--", color=SPAN_COLOUR, label="Gaussian with the ERF's std")
    span = ax.axvspan(0, 1, color=BOX_COLOUR, alpha=0.15, label="theoretical RF")
    ax.set(xlabel="input column (pixels)", ylabel="ERF (max = 1)", ylim=(-0.05, 1.1),
           xlim=[check_float(v, f"view[{i}]") for i, v in enumerate(view)])
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize="small")
    return ProfileArtists(ax, line, marks, span)


def update_erf_profile(artists: ProfileArtists, heatmap: Any, std: float, box: Sequence[float]) -> None:
    """Show the heatmap's middle row ``(W,)``, a Gaussian of width ``std`` at its centre, and ``box``'s columns."""
    std = check_float(std, "std", minimum=0.0)
    if len(box) != 4:
        raise ValueError(f"box must be (top, left, height, width), got {box!r}")
    _, left, _, width = (check_float(v, f"box[{i}]") for i, v in enumerate(box))
    row = heatmap_values(heatmap)[len(heatmap) // 2]  # (W,)
    columns = np.arange(row.shape[0])
    artists.line.set_data(columns, row)
    centre = float((row * columns).sum() / row.sum())
    artists.marks.set_data(columns, np.exp(-0.5 * ((columns - centre) / max(std, 1e-6)) ** 2))
    artists.span.set_x(left - 0.5)
    artists.span.set_width(width)
    artists.ax.title.set_text(f"middle row: 4 std = {4 * std:.1f} px vs RF {width:g} px")
