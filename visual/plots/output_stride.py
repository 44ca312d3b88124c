"""Plot helpers for the output-stride lesson (notebook 02).

Every helper draws on ``ax`` (a new figure when ``None``) and returns the Axes. Series differ in
lightness (cividis ends) *and* hatch or marker, so the figures survive greyscale printing. Artists
that the explorers update carry a ``gid`` (e.g. ``"feature-grid"``); the data behind each one
comes from a private function of this module that the explorers call too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from visual.output_stride import (
    CostTable,
    StrideTable,
    upsampled_positions,
    upsampling_drift,
)
from visual.plots.core import get_axes

if TYPE_CHECKING:  # pragma: no cover - typing only
    import numpy as np
    import torch
    from matplotlib.axes import Axes

__all__ = [
    "plot_stage_sizes",
    "plot_feature_grid",
    "plot_feature_centres",
    "plot_upsampling_drift",
    "plot_stride_cost",
]

SERIES_COLOURS = ("#00224e", "#d4c240", "#7c7b78", "#fee838")  # cividis: dark, light, mid, lightest
SERIES_HATCHES = ("", "//", "..", "xx")
GRID_COLOUR = "#ffd700"  # gold cell borders over the photo: visible on dark and light pixels
CENTRE_COLOUR = "#e6550d"  # orange dots: the input pixel each feature is centred on
MAX_CENTRE_DOTS = 10_000  # above this many features the dots become a grey carpet; keep only the grid
CENTRES_SHOWN = 5  # plot_feature_centres: features shown at the far edge by default
ROW_NETWORK, ROW_TRUE, ROW_FALSE = 2.0, 1.0, 0.0  # y positions of the three rows of plot_feature_centres
QUANTITIES = {
    "size": ("feature-map height h (pixels)", lambda row: row.size[0]),
    "stride": ("output stride (input pixels)", lambda row: row.output_stride),
    "rf": ("theoretical receptive field (input pixels)", lambda row: row.rf),
    "positions": ("output positions h·w", lambda row: row.size[0] * row.size[1]),
}


def _as_tables(tables: "StrideTable | Sequence[StrideTable]") -> list[StrideTable]:
    tables = [tables] if isinstance(tables, StrideTable) else list(tables)
    if not tables or not all(isinstance(t, StrideTable) for t in tables):
        raise TypeError("tables must be a StrideTable or a non-empty sequence of them (visual.stride_table)")
    return tables


def _table_label(table: StrideTable) -> str:
    flags = "".join("T" if f else "F" for f in table.replace_stride_with_dilation)
    schedule = f", {table.schedule}" if table.schedule == "semseg" else ""
    return f"{table.arch}, OS {table.output_stride} ({flags}{schedule})"


def _stage_values(table: StrideTable, quantity: str = "size") -> list[float]:
    """The per-stage values ``plot_stage_sizes`` draws (``quantity`` as there)."""
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {sorted(QUANTITIES)}, got {quantity!r}")
    return [QUANTITIES[quantity][1](row) for row in table]


def plot_stage_sizes(
    tables: "StrideTable | Sequence[StrideTable]",
    *,
    ax: "Axes | None" = None,
    quantity: str = "size",
    labels: Sequence[str] | None = None,
    log: bool = False,
) -> "Axes":
    """Grouped bars, one group per stage: feature-map size (or stride, RF, positions) per table.

    Args:
        tables: one :class:`~visual.StrideTable` or several (e.g. with and without dilation).
        ax: where to draw; a new figure when ``None``.
        quantity: ``"size"`` (feature-map height), ``"stride"``, ``"rf"`` or ``"positions"``.
        labels: legend entries, one per table; default: arch, output stride and flags.
        log: logarithmic y axis (base 2), useful for strides and positions.

    Returns:
        The Axes; bar containers in ``ax.containers`` (one per table, in order).

    Raises:
        TypeError: ``tables`` are not StrideTables.
        ValueError: unknown ``quantity``, or ``labels`` of the wrong length.
    """
    import numpy as np

    tables = _as_tables(tables)
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {sorted(QUANTITIES)}, got {quantity!r}")
    labels = [_table_label(t) for t in tables] if labels is None else list(labels)
    if len(labels) != len(tables):
        raise ValueError(f"labels must have one entry per table ({len(tables)}), got {len(labels)}")
    ax = get_axes(ax, (7.5, 4.0))
    stages = [row.stage for row in tables[0]]
    x = np.arange(len(stages))
    width = 0.8 / len(tables)
    for k, (table, label) in enumerate(zip(tables, labels)):
        values = _stage_values(table, quantity)
        bars = ax.bar(x + (k - (len(tables) - 1) / 2) * width, values, width, label=label,
                      color=SERIES_COLOURS[k % len(SERIES_COLOURS)], edgecolor="black", linewidth=0.6,
                      hatch=SERIES_HATCHES[k % len(SERIES_HATCHES)])
        ax.bar_label(bars, labels=[f"{v:g}" for v in values], fontsize="x-small", padding=1)
    ax.set_xticks(x, [f"{row.stage}\n{row.paper_name}" for row in tables[0]], fontsize="small")
    if log:
        ax.set_yscale("log", base=2)
    ax.set_ylabel(QUANTITIES[quantity][0])
    ax.set_xlabel("stage (torchvision name / ResNet paper name)")
    h, w = tables[0].input_size
    ax.set_title(f"{QUANTITIES[quantity][0].split(' (')[0].capitalize()} per stage, {h}×{w} input")
    ax.margins(y=0.12)
    ax.legend(fontsize="small")
    return ax


def _feature_grid_data(table: StrideTable, stage: str = "layer4") -> tuple[list, "np.ndarray"]:
    """Cell borders and centres of a stage's feature grid, in input pixel coordinates.

    Feature ``(i, j)`` is centred on ``(start + s i, start + s j)`` and owns the ``s x s`` cell
    around it; borders are clipped to the input ``[-0.5, H - 0.5] x [-0.5, W - 0.5]``.

    Returns:
        ``(segments, centres)``: a list of ``[(x0, y0), (x1, y1)]`` border lines and an array
        ``(h * w, 2)`` of ``(x, y)`` centres.
    """
    import numpy as np

    row = table[stage]
    (H, W), (h, w), s, c = table.input_size, row.size, row.output_stride, row.start
    top, bottom, left, right = -0.5, H - 0.5, -0.5, W - 0.5
    ys = np.clip(c + s * (np.arange(h + 1) - 0.5), top, bottom)  # (h + 1,) borders between rows
    xs = np.clip(c + s * (np.arange(w + 1) - 0.5), left, right)  # (w + 1,)
    segments = [[(left, y), (right, y)] for y in ys] + [[(x, top), (x, bottom)] for x in xs]
    cy, cx = np.meshgrid(c + s * np.arange(h), c + s * np.arange(w), indexing="ij")  # (h, w) each
    return segments, np.stack([cx.ravel(), cy.ravel()], axis=1)  # (h * w, 2)


def _dot_size(table: StrideTable, stage: str) -> float:
    """Centre dots shrink with the cells: 3 pt for coarse grids, 1 pt for the densest."""
    return min(3.0, max(1.0, table[stage].output_stride / 8 * 1.5))


def _grid_title(table: StrideTable, stage: str) -> str:
    row = table[stage]
    (H, W), (h, w) = table.input_size, row.size
    return f"{stage}: {h}×{w} features, stride {row.output_stride}, on the {H}×{W} input"


def plot_feature_grid(
    image: "torch.Tensor | np.ndarray",
    table: StrideTable,
    *,
    ax: "Axes | None" = None,
    stage: str = "layer4",
    show_centres: bool = True,
) -> "Axes":
    """A stage's feature grid drawn to scale over the input image.

    Each cell is the ``s x s`` patch of input pixels whose centre a feature sits on (``s`` the
    output stride); dots mark the centres ``start + s i``.

    Args:
        image: ``(3, H, W)`` tensor or ``(H, W, 3)`` / ``(H, W)`` array in ``[0, 1]``; it is shown
            stretched over the table's input grid (so any resolution works).
        table: a :class:`~visual.StrideTable`.
        ax: where to draw; a new figure when ``None``.
        stage: which stage's grid (default: the backbone output).
        show_centres: draw the centre dots (skipped beyond ``MAX_CENTRE_DOTS`` features).

    Returns:
        The Axes; the grid is the ``LineCollection`` with gid ``"feature-grid"``, the dots the
        ``Line2D`` with gid ``"feature-centres"``.
    """
    import numpy as np
    from matplotlib.collections import LineCollection

    if not isinstance(table, StrideTable):
        raise TypeError(f"table must be a StrideTable, got {type(table).__name__}")
    pixels = image.detach().cpu().numpy() if hasattr(image, "detach") else np.asarray(image)
    if pixels.ndim == 3 and pixels.shape[0] in (1, 3) and pixels.shape[-1] not in (1, 3):
        pixels = pixels.transpose(1, 2, 0)  # (H, W, C) for matplotlib
    ax = get_axes(ax, (5.0, 5.0))
    H, W = table.input_size
    ax.imshow(pixels.clip(0, 1), extent=(-0.5, W - 0.5, H - 0.5, -0.5), cmap="gray", interpolation="antialiased")
    segments, centres = _feature_grid_data(table, stage)
    ax.add_collection(LineCollection(segments, colors=GRID_COLOUR, linewidths=0.6, alpha=0.9, gid="feature-grid"))
    visible = show_centres and len(centres) <= MAX_CENTRE_DOTS
    ax.plot(centres[:, 0] if visible else [], centres[:, 1] if visible else [], ".", color=CENTRE_COLOUR,
            markersize=_dot_size(table, stage), gid="feature-centres", label="feature centre")
    ax.set_xlim(-0.5, W - 0.5)
    ax.set_ylim(H - 0.5, -0.5)
    ax.set_xlabel("x (input pixels)")
    ax.set_ylabel("y (input pixels)")
    ax.set_title(_grid_title(table, stage), fontsize="medium")
    return ax


def _feature_centres_data(
    table: StrideTable, stage: str = "layer4", window: tuple[float, float] | None = None
) -> dict[str, Any]:
    """What ``plot_feature_centres`` draws: centres, upsampled positions and the x window.

    Returns:
        dict with ``network`` (``start + s i``), ``true`` / ``false`` (where ``F.interpolate``
        with ``align_corners`` True / False places feature ``i``), each a float64 numpy array
        ``(h,)``, ``window`` ``(x0, x1)`` and ``offsets`` (last feature: upsampled minus network
        position, per mode).
    """
    import numpy as np

    row = table[stage]
    s, h, H = row.output_stride, row.size[0], table.input_size[0]
    network = row.start + s * np.arange(h, dtype=np.float64)
    true = upsampled_positions(table, align_corners=True, stage=stage).numpy()
    false = upsampled_positions(table, align_corners=False, stage=stage).numpy()
    if window is None:
        first = max(h - CENTRES_SHOWN, 0)
        window = (min(network[first], true[first], false[first]) - s / 2, H - 0.5 + s / 2)
    return {"network": network, "true": true, "false": false, "window": window,
            "offsets": {"true": true[-1] - network[-1], "false": false[-1] - network[-1]}}


def plot_feature_centres(
    table: StrideTable,
    *,
    ax: "Axes | None" = None,
    stage: str = "layer4",
    window: tuple[float, float] | None = None,
) -> "Axes":
    """Where feature centres land on the input grid: network vs bilinear upsampling.

    Three rows along the input's x axis: the pixel each feature is centred on in the network
    (``start + s i``), and where ``F.interpolate(..., align_corners=True)`` and ``=False``
    place feature ``i``. Vertical lines are input pixel borders. With ``H = s k + 1`` and
    ``align_corners=True`` the rows coincide.

    Args:
        table: a :class:`~visual.StrideTable`.
        ax: where to draw; a new figure when ``None``.
        stage: which stage's features.
        window: ``(x0, x1)`` in input pixels; default: the last ``CENTRES_SHOWN`` features.

    Returns:
        The Axes; markers are the ``Line2D`` with gids ``"centres-network"``,
        ``"centres-true"``, ``"centres-false"``; dotted lines joining the three positions of
        each feature the ``LineCollection`` ``"centres-links"``, the pixel borders
        ``"pixel-borders"``.
    """
    from matplotlib.collections import LineCollection

    data = _feature_centres_data(table, stage, window)
    ax = get_axes(ax, (8.0, 2.8))
    ax.add_collection(LineCollection(_pixel_borders(data["window"]), colors="0.85", linewidths=0.6,
                                     gid="pixel-borders", zorder=0))
    styles = (
        ("network", ROW_NETWORK, "o", SERIES_COLOURS[0], "network: feature i on pixel start + s·i"),
        ("true", ROW_TRUE, "^", CENTRE_COLOUR, "F.interpolate, align_corners=True"),
        ("false", ROW_FALSE, "s", SERIES_COLOURS[2], "F.interpolate, align_corners=False"),
    )
    links = [[(n, ROW_NETWORK), (t, ROW_TRUE), (f, ROW_FALSE)]
             for n, t, f in zip(data["network"], data["true"], data["false"])]
    ax.add_collection(LineCollection(links, colors="0.45", linewidths=0.8, linestyles=":",
                                     gid="centres-links", zorder=1))
    for key, y, marker, colour, label in styles:
        ax.plot(data[key], [y] * len(data[key]), marker, color=colour, markersize=8, linestyle="none",
                label=label, gid=f"centres-{key}", markeredgecolor="black")
    ax.set_yticks([ROW_FALSE, ROW_TRUE, ROW_NETWORK], ["align_corners=False", "align_corners=True", "network"])
    ax.set_ylim(-0.7, 2.7)
    ax.set_xlim(*data["window"])
    ax.set_xlabel("x (input pixels)")
    ax.set_title(_centres_title(table, stage, data), fontsize="medium")
    return ax


def _pixel_borders(window: tuple[float, float]) -> list:
    import math

    x0, x1 = window
    return [[(b - 0.5, -0.7), (b - 0.5, 2.7)] for b in range(math.ceil(x0 + 0.5), math.floor(x1 + 0.5) + 1)]


def _centres_title(table: StrideTable, stage: str, data: dict[str, Any]) -> str:
    H, h = table.input_size[0], table[stage].size[0]
    return (f"H = {H}, h = {h}: the last feature is computed on pixel {data['network'][-1]:g}\n"
            f"upsampling puts it on {data['true'][-1]:.2f} with align_corners=True "
            f"({data['offsets']['true']:+.2f} px), on {data['false'][-1]:.2f} with False "
            f"({data['offsets']['false']:+.2f} px)")


def plot_upsampling_drift(
    tables: "StrideTable | Sequence[StrideTable]",
    *,
    ax: "Axes | None" = None,
    stage: str = "layer4",
) -> "Axes":
    """Drift of bilinear upsampling per output pixel (``upsampling_drift``), both ``align_corners``.

    Args:
        tables: one or several :class:`~visual.StrideTable` (e.g. 473 and 512 inputs).
        ax: where to draw; a new figure when ``None``.
        stage: which stage's features are upsampled.

    Returns:
        The Axes; one line per table and mode (solid: True, dashed: False), gids
        ``"drift-<H>-true"`` / ``"drift-<H>-false"``.
    """
    import numpy as np

    tables = _as_tables(tables)
    ax = get_axes(ax, (7.5, 3.6))
    for k, table in enumerate(tables):
        H = table.input_size[0]
        colour = SERIES_COLOURS[k % len(SERIES_COLOURS)] if k != 1 else CENTRE_COLOUR
        for align, style in ((True, "-"), (False, "--")):
            drift = upsampling_drift(table, align_corners=align, stage=stage).numpy()
            ax.plot(np.arange(H), drift, style, color=colour, linewidth=1.6,
                    label=f"H = {H}, align_corners={align}", gid=f"drift-{H}-{str(align).lower()}")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xlabel("output pixel X (input pixels)")
    ax.set_ylabel("feature centre − pixel (input px)")
    ax.set_title("Where the feature each upsampled pixel receives was computed, relative to the pixel")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", ncol=2)
    return ax


COST_METRICS = {
    "flops": ("GFLOPs per forward pass", lambda c: c.flops / 1e9),
    "activations": ("activation memory for backward (MiB)", lambda c: c.activation_bytes / 2**20),
}


def plot_stride_cost(costs: CostTable, *, ax: "Axes | None" = None, metric: str = "flops") -> "Axes":
    """Bars of a backbone's cost per output stride, labelled with the ratio to the first.

    Args:
        costs: a :class:`~visual.CostTable` (from ``cost_table``).
        ax: where to draw; a new figure when ``None``.
        metric: ``"flops"`` or ``"activations"``.

    Returns:
        The Axes; the bars in ``ax.containers[0]``.
    """
    if not isinstance(costs, CostTable):
        raise TypeError(f"costs must be a CostTable (visual.cost_table), got {type(costs).__name__}")
    if metric not in COST_METRICS:
        raise ValueError(f"metric must be one of {sorted(COST_METRICS)}, got {metric!r}")
    label, value = COST_METRICS[metric]
    ax = get_axes(ax, (4.5, 3.6))
    values = [value(c) for c in costs]
    names = [f"OS {c.output_stride}\n{c.output_size[0]}×{c.output_size[1]}" for c in costs]
    bars = ax.bar(names, values, color=[SERIES_COLOURS[k % 3] for k in range(len(values))],
                  hatch=SERIES_HATCHES[1], edgecolor="black", linewidth=0.6)
    ax.bar_label(bars, labels=[f"{v:.0f} (×{v / values[0]:.1f})" for v in values], fontsize="small", padding=2)
    first = costs.rows[0]
    ax.set_ylabel(label)
    ax.set_xlabel("output stride (layer4 size)")
    ax.set_title(f"{first.arch} at {first.input_size[0]}×{first.input_size[1]}", fontsize="medium")
    ax.margins(y=0.15)
    return ax
