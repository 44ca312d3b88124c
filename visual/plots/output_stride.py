"""Plots for the output-stride lesson (notebook 02) as ``draw_x``/``update_x``/``plot_x`` trios.

Series differ in lightness (cividis) *and* hatch or marker, so the figures survive greyscale."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.container import BarContainer
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.text import Text

from visual.checks import check_choice, check_tensor
from visual.cost import CostTable
from visual.output_stride import RESNET_STAGES, StrideRow, StrideTable, upsampled_positions, upsampling_drift
from visual.plots.core import get_axes

__all__ = ["StageSizesArtists", "draw_stage_sizes", "update_stage_sizes", "plot_stage_sizes",
    "FeatureGridArtists", "draw_feature_grid", "update_feature_grid", "plot_feature_grid",
    "FeatureCentresArtists", "draw_feature_centres", "update_feature_centres", "plot_feature_centres",
    "DriftArtists", "draw_upsampling_drift", "update_upsampling_drift", "plot_upsampling_drift",
    "plot_stride_cost"]

SERIES_COLOURS = ("#00224e", "#d4c240", "#7c7b78", "#fee838")  # cividis: dark, light, mid, lightest
SERIES_HATCHES = ("", "//", "..", "xx")
GRID_COLOUR = "#ffd700"  # gold cell borders over the photo: visible on dark and light pixels
CENTRE_COLOUR = "#e6550d"  # orange dots: the input pixel each feature is centred on
MAX_CENTRE_DOTS = 10_000  # above this many features the dots become a grey carpet; keep only the grid
CENTRES_SHOWN = 5  # plot_feature_centres shows the last 5 features, at the far edge
ROWS, ROW_LIMITS = {"network": 2.0, "true": 1.0, "false": 0.0}, (-0.7, 2.7)  # y of plot_feature_centres' rows
QUANTITIES = {
    "size": ("feature-map height h (pixels)", lambda row: row.size[0]),
    "rf": ("theoretical receptive field (input pixels)", lambda row: row.rf),
    "positions": ("output positions h·w", lambda row: row.size[0] * row.size[1]),
}
COST_METRICS = {
    "flops": ("GFLOPs per forward pass", lambda c: c.flops / 1e9),
    "activations": ("activation memory for backward (MiB)", lambda c: c.activation_bytes / 2**20),
}


def _as_tables(tables: StrideTable | Sequence[StrideTable]) -> list[StrideTable]:
    tables = [tables] if isinstance(tables, StrideTable) else list(tables) if isinstance(tables, (list, tuple)) else []
    if not tables or not all(isinstance(t, StrideTable) for t in tables):
        raise TypeError("tables must be a StrideTable or a non-empty list of them (visual.stride_table)")
    return tables


def _layer4(table: Any) -> StrideRow:
    if not isinstance(table, StrideTable):
        raise TypeError(f"table must be a StrideTable (visual.stride_table), got {type(table).__name__}")
    return table["layer4"]


@dataclass
class StageSizesArtists:
    """What :func:`draw_stage_sizes` made: one bar container and its value labels per table."""
    ax: Axes
    quantity: str
    bars: list[BarContainer]
    values: list[list[Text]]


def draw_stage_sizes(ax: Axes, tables: StrideTable | Sequence[StrideTable], *, quantity: str = "size",
                     labels: Sequence[str] | None = None) -> StageSizesArtists:
    """Grouped bars, one group per stage, one bar per table (``quantity``: ``"size"``, ``"rf"``, ``"positions"``).

    ``labels``: legend entries, one per table; default: arch, output stride and flags (``FTT``)."""
    tables = _as_tables(tables)
    check_choice(quantity, "quantity", QUANTITIES)
    if labels is None:
        labels = [f"{t.arch}, OS {t.output_stride} ({''.join('FT'[f] for f in t.replace_stride_with_dilation)}"
                  f"{', semseg' if t.schedule == 'semseg' else ''})" for t in tables]
    if len(labels) != len(tables):
        raise ValueError(f"labels must have one entry per table ({len(tables)}), got {len(labels)}")
    x, width = np.arange(len(RESNET_STAGES)), 0.8 / len(tables)
    artists = StageSizesArtists(ax, quantity, [], [])
    for k, label in enumerate(labels):
        bars = ax.bar(x + (k - (len(tables) - 1) / 2) * width, np.ones(len(x)), width, label=label,
                      color=SERIES_COLOURS[k % 4], edgecolor="black", linewidth=0.6, hatch=SERIES_HATCHES[k % 4])
        artists.bars.append(bars)
        artists.values.append(ax.bar_label(bars, fontsize="x-small", padding=1))
    ax.set_xticks(x, [f"{row.stage}\n{row.paper_name}" for row in tables[0]], fontsize="small")
    ax.set(ylabel=QUANTITIES[quantity][0], xlabel="stage (torchvision name / ResNet paper name)")
    ax.legend(fontsize="small")
    update_stage_sizes(artists, tables)
    return artists


def update_stage_sizes(artists: StageSizesArtists, tables: StrideTable | Sequence[StrideTable]) -> None:
    """Set the bars of :func:`draw_stage_sizes` to ``tables`` (as many as were drawn)."""
    tables = _as_tables(tables)
    if len(tables) != len(artists.bars):
        raise ValueError(f"tables must be {len(artists.bars)} tables, as drawn, got {len(tables)}")
    name, value = QUANTITIES[artists.quantity]
    heights = [[value(row) for row in table] for table in tables]
    for bars, texts, values in zip(artists.bars, artists.values, heights):
        for rect, text, v in zip(bars, texts, values):
            rect.set_height(v)
            text.set_text(f"{v:g}")
            text.xy = (rect.get_x() + rect.get_width() / 2, v)  # bar_label's anchor: the bar top
    artists.ax.set_ylim(0, 1.15 * max(max(v) for v in heights))
    h, w = tables[0].input_size
    quantity = name.split(" (")[0].capitalize()
    artists.ax.set_title(f"{quantity} per stage,\n{tables[0].arch} at {h}×{w}", fontsize="medium")


def plot_stage_sizes(tables: StrideTable | Sequence[StrideTable], *, ax: Axes | None = None,
                     quantity: str = "size", labels: Sequence[str] | None = None) -> Axes:
    """Static :func:`draw_stage_sizes`; returns the Axes (bar containers in ``ax.containers``)."""
    ax = get_axes(ax, (7.5, 4.0))
    draw_stage_sizes(ax, tables, quantity=quantity, labels=labels)
    return ax


@dataclass
class FeatureGridArtists:
    """What :func:`draw_feature_grid` made: the photo, the cell borders, the centre dots."""
    ax: Axes
    image: AxesImage
    grid: LineCollection
    centres: Line2D


def _pixels(image: Any) -> np.ndarray:
    if isinstance(image, torch.Tensor):
        check_tensor(image, "image", ndim=(2, 3), layout="(3, H, W) or (H, W)", dtype="real", finite=True)
        if image.device.type == "meta":
            raise ValueError("image is on the meta device (shapes only): there are no pixels to show")
        image = image.detach().cpu().numpy()
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or not np.isrealobj(image):
        raise TypeError(f"image must be a (3, H, W) tensor or an (H, W, 3) / (H, W) real array, got {image!r:.60}")
    if image.ndim == 3 and image.shape[0] in (1, 3) and image.shape[-1] not in (1, 3):
        image = image.transpose(1, 2, 0)  # (H, W, C) for matplotlib
    if image.ndim == 3 and image.shape[-1] not in (1, 3) or not np.isfinite(image).all():
        raise ValueError(f"image must have 1 or 3 channels and finite values, got shape {image.shape}")
    return (image.astype(np.float64).clip(0, 1) * 255).round().astype(np.uint8)  # (H, W[, C]), 8-bit


def draw_feature_grid(ax: Axes, image: Any, table: StrideTable) -> FeatureGridArtists:
    """layer4's feature grid over ``image`` (``(3, H, W)`` tensor or ``(H, W[, 3])`` array in ``[0, 1]``): one
    ``s x s`` cell per feature, a dot on its centre (none beyond ``MAX_CENTRE_DOTS`` features)."""
    _layer4(table)
    artists = FeatureGridArtists(
        ax, ax.imshow(_pixels(image), cmap="gray", interpolation="antialiased"),
        ax.add_collection(LineCollection([], colors=GRID_COLOUR, linewidths=0.6, alpha=0.9)),
        ax.plot([], [], ".", color=CENTRE_COLOUR, label="feature centre")[0])
    ax.set(xlabel="x (input pixels)", ylabel="y (input pixels)")
    update_feature_grid(artists, table)
    return artists


def update_feature_grid(artists: FeatureGridArtists, table: StrideTable) -> None:
    """Redraw the grid of :func:`draw_feature_grid` for ``table`` (borders clipped to the input)."""
    row = _layer4(table)
    (H, W), (h, w), s, c = table.input_size, row.size, row.output_stride, row.start
    top, bottom, left, right = -0.5, H - 0.5, -0.5, W - 0.5
    ys = np.clip(c + s * (np.arange(h + 1) - 0.5), top, bottom)  # (h + 1,) borders between rows
    xs = np.clip(c + s * (np.arange(w + 1) - 0.5), left, right)  # (w + 1,)
    artists.grid.set_segments([[(left, y), (right, y)] for y in ys] + [[(x, top), (x, bottom)] for x in xs])
    cy, cx = np.meshgrid(c + s * np.arange(h), c + s * np.arange(w), indexing="ij")  # (h, w) each
    shown = h * w <= MAX_CENTRE_DOTS
    artists.centres.set_data(cx.ravel() if shown else [], cy.ravel() if shown else [])
    artists.centres.set_markersize(min(3.0, max(1.0, s / 8 * 1.5)))  # dots shrink with the cells
    artists.image.set_extent((left, right, bottom, top))
    artists.ax.set(xlim=(left, right), ylim=(bottom, top))
    artists.ax.set_title(f"layer4: {h}×{w} features, stride {s},\non the {H}×{W} input", fontsize="medium")


def plot_feature_grid(image: Any, table: StrideTable, *, ax: Axes | None = None) -> Axes:
    """Static :func:`draw_feature_grid`; returns the Axes."""
    ax = get_axes(ax, (5.0, 5.0))
    draw_feature_grid(ax, image, table)
    return ax


@dataclass
class FeatureCentresArtists:
    """What :func:`draw_feature_centres` made: pixel borders, links, one marker line per row."""
    ax: Axes
    borders: LineCollection
    links: LineCollection
    markers: dict[str, Line2D]


def draw_feature_centres(ax: Axes, table: StrideTable) -> FeatureCentresArtists:
    """Where the last ``CENTRES_SHOWN`` layer4 features sit (``start + s i``) and where ``F.interpolate``
    puts them (``align_corners`` True / False); with ``H = s k + 1`` and True they coincide."""
    styles = {"network": ("o", SERIES_COLOURS[0], "network: feature i on pixel start + s·i"),
              "true": ("^", CENTRE_COLOUR, "F.interpolate, align_corners=True"),
              "false": ("s", SERIES_COLOURS[2], "F.interpolate, align_corners=False")}
    artists = FeatureCentresArtists(
        ax, ax.add_collection(LineCollection([], colors="0.85", linewidths=0.6, zorder=0)),
        ax.add_collection(LineCollection([], colors="0.45", linewidths=0.8, linestyles=":", zorder=1)),
        {key: ax.plot([], [], marker, color=colour, markersize=8, linestyle="none", label=label,
                      markeredgecolor="black")[0] for key, (marker, colour, label) in styles.items()})
    ax.set_yticks([ROWS["false"], ROWS["true"], ROWS["network"]],
                  ["align_corners=False", "align_corners=True", "network"])
    ax.set(ylim=ROW_LIMITS, xlabel="x (input pixels)")
    update_feature_centres(artists, table)
    return artists


def update_feature_centres(artists: FeatureCentresArtists, table: StrideTable) -> None:
    """Redraw :func:`draw_feature_centres` for ``table``."""
    row = _layer4(table)
    s, h, H = row.output_stride, row.size[0], table.input_size[0]
    x = {"network": row.start + s * np.arange(h, dtype=np.float64),
         "true": upsampled_positions(table, align_corners=True).numpy(),
         "false": upsampled_positions(table, align_corners=False).numpy()}
    x0 = min(v[max(h - CENTRES_SHOWN, 0)] for v in x.values()) - s / 2
    x1 = H - 0.5 + s / 2
    for key, line in artists.markers.items():
        line.set_data(x[key], np.full(h, ROWS[key]))
    artists.links.set_segments([[(n, ROWS["network"]), (t, ROWS["true"]), (f, ROWS["false"])]
                                for n, t, f in zip(x["network"], x["true"], x["false"])])
    artists.borders.set_segments([[(b - 0.5, ROW_LIMITS[0]), (b - 0.5, ROW_LIMITS[1])]
                                  for b in range(math.ceil(x0 + 0.5), math.floor(x1 + 0.5) + 1)])
    artists.ax.set_xlim(x0, x1)
    last = {key: v[-1] for key, v in x.items()}
    artists.ax.set_title(
        f"H = {H}, h = {h}: the last feature is computed on pixel {last['network']:g}\n"
        f"upsampling puts it on {last['true']:.2f} with align_corners=True "
        f"(drift {last['true'] - last['network']:+.2f} px),\non {last['false']:.2f} with False "
        f"(drift {last['false'] - last['network']:+.2f} px)", fontsize="medium")


def plot_feature_centres(table: StrideTable, *, ax: Axes | None = None) -> Axes:
    """Static :func:`draw_feature_centres`; returns the Axes."""
    ax = get_axes(ax, (8.0, 2.8))
    draw_feature_centres(ax, table)
    return ax


@dataclass
class DriftArtists:
    """What :func:`draw_upsampling_drift` made: per table, a line per ``align_corners`` value."""
    ax: Axes
    lines: list[dict[bool, Line2D]]


def draw_upsampling_drift(ax: Axes, tables: StrideTable | Sequence[StrideTable]) -> DriftArtists:
    """The ``upsampling_drift`` of every upsampled layer4 pixel, solid True, dashed False; one colour per table."""
    tables = _as_tables(tables)
    lines = []
    for k, table in enumerate(tables):
        colour = CENTRE_COLOUR if k == 1 else SERIES_COLOURS[k % 4]
        size = "" if len(tables) == 1 else f"H = {table.input_size[0]}, "
        lines.append({align: ax.plot([], [], style, linewidth=1.6, label=f"{size}align_corners={align}",
                                     color=CENTRE_COLOUR if align and len(tables) == 1 else colour)[0]
                      for align, style in ((True, "-"), (False, "--"))})
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set(xlabel="output pixel X (input pixels)", ylabel="drift (input px)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", ncol=2)
    artists = DriftArtists(ax, lines)
    update_upsampling_drift(artists, tables)
    return artists


def update_upsampling_drift(artists: DriftArtists, tables: StrideTable | Sequence[StrideTable]) -> None:
    """Set the lines of :func:`draw_upsampling_drift` to ``tables`` (as many as were drawn)."""
    tables = _as_tables(tables)
    if len(tables) != len(artists.lines):
        raise ValueError(f"tables must be {len(artists.lines)} tables, as drawn, got {len(tables)}")
    limit, width = 1.0, 1
    for table, lines in zip(tables, artists.lines):
        H = table.input_size[0]
        for align, line in lines.items():
            drift = upsampling_drift(table, align_corners=align).numpy()  # (H,)
            line.set_data(np.arange(H), drift)
            limit, width = max(limit, float(np.abs(drift).max())), max(width, H)
    artists.ax.set(xlim=(-0.5, width - 0.5), ylim=(-1.15 * limit, 1.15 * limit))
    row = tables[0]["layer4"]
    artists.ax.set_title(f"Drift of every upsampled pixel, H = {tables[0].input_size[0]}, output stride "
                         f"{row.output_stride}, h = {row.size[0]} features" if len(tables) == 1 else
                         "Drift of every upsampled pixel: where it is minus where its feature was computed")


def plot_upsampling_drift(tables: StrideTable | Sequence[StrideTable], *, ax: Axes | None = None) -> Axes:
    """Static :func:`draw_upsampling_drift` (e.g. for 473 and 512 inputs); returns the Axes."""
    ax = get_axes(ax, (7.5, 3.6))
    draw_upsampling_drift(ax, tables)
    return ax


def plot_stride_cost(costs: CostTable, *, ax: Axes | None = None, metric: str = "flops") -> Axes:
    """Bars of a :class:`~visual.cost.CostTable` per output stride (``metric``: ``"flops"`` or ``"activations"``),
    labelled with the ratio to the first."""
    if not isinstance(costs, CostTable):
        raise TypeError(f"costs must be a CostTable (visual.cost_table), got {type(costs).__name__}")
    label, value = COST_METRICS[check_choice(metric, "metric", COST_METRICS)]
    ax = get_axes(ax, (4.5, 3.6))
    values = [value(c) for c in costs]
    names = [f"OS {c.output_stride}\n{c.output_size[0]}×{c.output_size[1]}" for c in costs]
    bars = ax.bar(names, values, color=[SERIES_COLOURS[k % 3] for k in range(len(values))],
                  hatch=SERIES_HATCHES[1], edgecolor="black", linewidth=0.6)
    ax.bar_label(bars, labels=[f"{v:.0f} (×{v / values[0]:.1f})" for v in values], fontsize="small", padding=2)
    first = costs.rows[0]
    ax.set(ylabel=label, xlabel="output stride (layer4 size)")
    ax.set_title(f"{first.arch} at {first.input_size[0]}×{first.input_size[1]}", fontsize="medium")
    ax.margins(y=0.15)
    return ax
