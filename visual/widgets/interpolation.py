"""Slider explorers for the interpolation lesson (notebook 03).

Each ``explore_*`` builds its figure once, then its callback recomputes a few numbers with
the pure functions of :mod:`visual.interpolation` and moves existing artists. Every
callback is also reachable as ``explorer.update()`` for tests and the CI sweep; the values
it computed are kept in ``explorer.state``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from visual.widgets.core import Explorer, finish_explorer

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch

__all__ = [
    "explore_linear_interpolation",
    "explore_align_corners",
    "explore_bilinear_point",
    "explore_resampling",
    "explore_interpolation_matrix",
    "explore_segmentation_upsampling",
    "explore_feature_alignment",
]

DEFAULT_SIGNAL = (10.0, 20.0, 15.0, 5.0)  # a small 1-D signal with a peak and a slope
PHOTO_SIDE = 256  # the sample photo is resized once to this square before exploring
LAYOUT = {"width": "auto"}  # let ipywidgets size the controls


def _figure(figsize: tuple[float, float], ncols: int = 1) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    with plt.ioff():
        fig, ax = plt.subplots(1, ncols, figsize=figsize, layout="constrained")
    return fig, ax


def explore_linear_interpolation(
    values: "Sequence[float] | torch.Tensor" = DEFAULT_SIGNAL,
    size: int = 7,
    *,
    align_corners: bool = False,
    max_size: int = 24,
) -> Explorer:
    """Slide the number of output samples and toggle ``align_corners`` on a 1-D signal.

    The title shows the largest difference between ``linear_interpolate`` and
    ``F.interpolate(mode="linear")`` for the current setting.

    Args:
        values: the input signal, shape ``(L,)``.
        size: initial number of output samples.
        align_corners: initial flag.
        max_size: largest output size on the slider.

    Returns:
        An ``Explorer``; ``state`` holds ``out_pos``, ``out_val`` and ``max_error``.
    """
    import ipywidgets as widgets
    import torch
    import torch.nn.functional as F
    from matplotlib.collections import LineCollection

    from visual.plots.interpolation import INPUT_COLOUR, OUTPUT_COLOUR, linear_layout

    signal = torch.as_tensor(values, dtype=torch.float64)
    fig, ax = _figure((7.0, 3.6))
    n = len(signal)
    for edge in range(n + 1):
        ax.axvline(edge - 0.5, color="0.85", lw=0.8, zorder=0)
    ax.plot(range(n), signal, "--", color=INPUT_COLOUR, alpha=0.7, label="line through the inputs")
    ax.plot(range(n), signal, "o", color=INPUT_COLOUR, ms=10, label=f"input samples ({n})")
    stems = LineCollection([], colors=OUTPUT_COLOUR, linewidths=0.8, alpha=0.6)
    ax.add_collection(stems)
    (outputs,) = ax.plot([], [], "s", color=OUTPUT_COLOUR, ms=6, label="output samples")
    (raw,) = ax.plot([], [], "s", mfc="none", mec=OUTPUT_COLOUR, ms=6, alpha=0.6,
                     label="unclamped position")
    low = min(0.0, float(signal.min()))
    ax.set(xlim=(-1.0, n), ylim=(low, float(signal.max()) * 1.1 + 1e-9),
           xlabel="position (input pixels)", ylabel="value")
    ax.legend(loc="upper right", fontsize="small")
    controls = {
        "size": widgets.IntSlider(value=size, min=1, max=max_size, description="output size",
                                  continuous_update=True, layout=LAYOUT),
        "align_corners": widgets.Checkbox(value=align_corners, description="align_corners"),
    }
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        out_size, flag = controls["size"].value, controls["align_corners"].value
        layout = linear_layout(signal, out_size, flag)
        reference = F.interpolate(signal[None, None], size=out_size, mode="linear",
                                  align_corners=flag)[0, 0]  # (out_size,)
        state.update(out_pos=layout["out_pos"], out_val=layout["out_val"],
                     max_error=float((layout["out_val"] - reference).abs().max()))
        outputs.set_data(layout["out_pos"].tolist(), layout["out_val"].tolist())
        raw.set_data(layout["raw_pos"].tolist(), layout["out_val"].tolist())
        stems.set_segments([[(p, low), (p, v)] for p, v in zip(layout["out_pos"].tolist(),
                                                                 layout["out_val"].tolist())])
        ax.set_title(f"{n} \u2192 {out_size} samples, align_corners={flag}; "
                     f"max |ours \u2212 F.interpolate| = {state['max_error']:.1e}")
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))


def explore_align_corners(in_size: int = 4, scale_factor: float = 2.0, *, align_corners: bool = False) -> Explorer:
    """Slide the scale factor and toggle ``align_corners`` on the pixel-grid picture.

    Args:
        in_size: input pixels per side.
        scale_factor: initial scale factor (output side = ``floor(in_size * scale_factor)``).
        align_corners: initial flag.

    Returns:
        An ``Explorer``; ``state`` holds ``out_size`` and ``out_centres`` (input pixels).
    """
    import ipywidgets as widgets
    from matplotlib.collections import LineCollection

    from visual.plots.interpolation import INPUT_COLOUR, OUTPUT_COLOUR, grid_layout

    fig, ax = _figure((5.2, 5.6))
    base = grid_layout(in_size, in_size, False)
    lo, hi = float(base["in_edges"][0]), float(base["in_edges"][-1])
    segments = [[(e, lo), (e, hi)] for e in base["in_edges"].tolist()]
    segments += [[(lo, e), (hi, e)] for e in base["in_edges"].tolist()]
    ax.add_collection(LineCollection(segments, colors=INPUT_COLOUR, linewidths=1.6))
    centres = base["in_centres"].tolist()
    ax.plot([c for _ in centres for c in centres], [r for r in centres for _ in centres], "o",
            color=INPUT_COLOUR, ms=9, label=f"input pixel centres ({in_size}\u00d7{in_size})")
    out_grid = LineCollection([], colors=OUTPUT_COLOUR, linewidths=0.9, linestyles="--")
    ax.add_collection(out_grid)
    (out_centres,) = ax.plot([], [], "x", color=OUTPUT_COLOUR, ms=6, mew=1.6, label="output pixel centres")
    coords_text = ax.text(0.5, -0.2, "", transform=ax.transAxes, ha="center", va="top", fontsize="small")
    ax.set(aspect="equal", xlabel="x (input pixels)", ylabel="y (input pixels)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.08), fontsize="small", ncol=2)
    controls = {
        "scale_factor": widgets.FloatSlider(value=scale_factor, min=0.5, max=4.0, step=0.25,
                                            description="scale factor", continuous_update=True,
                                            layout=LAYOUT),
        "align_corners": widgets.Checkbox(value=align_corners, description="align_corners"),
    }
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        flag = controls["align_corners"].value
        out_size = max(1, int(in_size * controls["scale_factor"].value))
        grid = grid_layout(in_size, out_size, flag)
        c, e = grid["out_centres"].tolist(), grid["out_edges"].tolist()
        state.update(out_size=out_size, out_centres=grid["out_centres"])
        out_grid.set_segments([[(x, e[0]), (x, e[-1])] for x in e] + [[(e[0], y), (e[-1], y)] for y in e])
        out_centres.set_data([x for _ in c for x in c], [y for y in c for _ in c])
        pad = 0.2 + max(0.0, lo - e[0], e[-1] - hi)
        ax.set(xlim=(lo - pad, hi + pad), ylim=(hi + pad, lo - pad),
               title=f"{in_size}\u00d7{in_size} \u2192 {out_size}\u00d7{out_size}, align_corners={flag}")
        shown = ", ".join(f"{v:.2f}" for v in c[:8]) + (", \u2026" if len(c) > 8 else "")
        coords_text.set_text(f"output centres read input x = [{shown}]")
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))


def default_point_image() -> "torch.Tensor":
    """A 4 x 4 image with ``value[r, c] = (r + 1) * (c + 1)``: bilinear in (x, y), so
    bilinear interpolation reproduces it exactly, ``value(P) = (x + 1) * (y + 1)``."""
    import torch

    steps = torch.arange(1.0, 5.0, dtype=torch.float64)
    return steps[:, None] * steps[None, :]  # (4, 4)


def explore_bilinear_point(image: "torch.Tensor | None" = None, x: float = 1.3, y: float = 0.6) -> Explorer:
    """Move a point ``P`` with two sliders and watch its four neighbours' weights.

    Args:
        image: tensor ``(H, W)`` (default :func:`default_point_image`).
        x, y: initial position of ``P`` in pixels.

    Returns:
        An ``Explorer``; ``state`` holds ``neighbours`` and ``value`` (the weighted sum).
    """
    import ipywidgets as widgets
    import torch
    from matplotlib.patches import Rectangle

    from visual.interpolation import bilinear_neighbours
    from visual.plots.interpolation import POINT_COLOUR, SEQUENTIAL_CMAP

    img = (default_point_image() if image is None else torch.as_tensor(image)).double().cpu()
    h, w = img.shape
    fig, ax = _figure((5.0, 4.8))
    ax.imshow(img.numpy(), cmap=SEQUENTIAL_CMAP, interpolation="nearest")
    for r in range(h):
        for c in range(w):
            ax.text(c, r + 0.3, f"{float(img[r, c]):g}", ha="center", va="center", fontsize="small",
                    color="white", bbox={"boxstyle": "round,pad=0.1", "fc": "black", "alpha": 0.35, "lw": 0})
    cell = Rectangle((0, 0), 1, 1, fill=False, ec="white", lw=1.5, ls="--")
    ax.add_patch(cell)
    rings = [ax.plot([], [], "o", mfc="none", mec="white", mew=2)[0] for _ in range(4)]
    labels = [ax.text(0, 0, "", color="white", fontsize="small", fontweight="bold") for _ in range(4)]
    (point,) = ax.plot([], [], "*", color=POINT_COLOUR, ms=16, mec="white", label="P")
    ax.set(xlabel="x (pixels)", ylabel="y (pixels)")
    ax.legend(loc="upper right", fontsize="small")
    controls = {
        "x": widgets.FloatSlider(value=x, min=0.0, max=w - 1.0, step=0.05, description="x",
                                 continuous_update=True, layout=LAYOUT),
        "y": widgets.FloatSlider(value=y, min=0.0, max=h - 1.0, step=0.05, description="y",
                                 continuous_update=True, layout=LAYOUT),
    }
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        px, py = controls["x"].value, controls["y"].value
        neighbours = bilinear_neighbours(px, py, h, w)
        value = sum(n.weight * float(img[n.row, n.col]) for n in neighbours)
        state.update(neighbours=neighbours, value=value, x=px, y=py)
        for ring, label, n in zip(rings, labels, neighbours):
            ring.set_data([n.col], [n.row])
            ring.set_markersize(8 + 28 * n.weight)
            label.set_position((n.col + 0.08, n.row - 0.12))
            label.set_text(f"w={n.weight:.2f}")
        top_left, bottom_right = neighbours[0], neighbours[3]
        cell.set_bounds(top_left.col, top_left.row, bottom_right.col - top_left.col,
                        bottom_right.row - top_left.row)
        point.set_data([px], [py])
        ax.set_title(f"P = ({px:.2f}, {py:.2f}):  \u03a3 w\u00b7v = {value:.3f}")
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))


def explore_resampling(image: "torch.Tensor | None" = None, size: int = 48, method: str = "bilinear") -> Explorer:
    """Shrink the sample photo with each resampling method and compare the artefacts.

    Args:
        image: tensor ``(3, H, W)`` in ``[0, 1]`` (default: the sample photo at 256 x 256).
        size: initial output side in pixels.
        method: initial key of ``RESAMPLING_METHODS``.

    Returns:
        An ``Explorer``; ``state`` holds the resampled ``image`` ``(3, size, size)``.
    """
    import ipywidgets as widgets

    from visual.data import load_sample_image
    from visual.interpolation import RESAMPLING_METHODS, resample_image

    photo = load_sample_image(PHOTO_SIDE) if image is None else image.detach().float().cpu()
    fig, axes = _figure((7.5, 4.0), ncols=2)
    axes[0].imshow(photo.permute(1, 2, 0).numpy())
    axes[0].set_title(f"original {photo.shape[1]}\u00d7{photo.shape[2]} px", fontsize="medium")
    shown = axes[1].imshow(photo.permute(1, 2, 0).numpy(), interpolation="nearest")
    for ax in axes:
        ax.set(xticks=[], yticks=[])
    controls = {
        "size": widgets.IntSlider(value=size, min=8, max=128, step=8, description="output side",
                                  continuous_update=True, layout=LAYOUT),
        "method": widgets.Dropdown(options=list(RESAMPLING_METHODS), value=method, description="method"),
    }
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        side, name = controls["size"].value, controls["method"].value
        out = resample_image(photo, side, name)  # (3, side, side)
        state.update(image=out)
        shown.set_data(out.permute(1, 2, 0).numpy())
        shown.set_extent((-0.5, side - 0.5, side - 0.5, -0.5))
        axes[1].set_title(f"{name}: {side}\u00d7{side} px (shown pixel for pixel)", fontsize="medium")
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))


def explore_interpolation_matrix(out_size: int = 8, in_size: int = 4, *, align_corners: bool = False) -> Explorer:
    """Slide the sizes and watch the band of the interpolation matrix ``A`` (``out x in``).

    Args:
        out_size: initial output size.
        in_size: initial input size.
        align_corners: initial flag.

    Returns:
        An ``Explorer``; ``state`` holds the ``matrix``.
    """
    import ipywidgets as widgets

    from visual.interpolation import interpolation_matrix
    from visual.plots.interpolation import SEQUENTIAL_CMAP

    fig, ax = _figure((4.6, 5.0))
    image = ax.imshow([[0.0]], cmap=SEQUENTIAL_CMAP, vmin=0.0, vmax=1.0, interpolation="nearest", aspect="auto")
    fig.colorbar(image, ax=ax, label="weight")
    ax.set(xlabel="input index", ylabel="output index")
    controls = {
        "out_size": widgets.IntSlider(value=out_size, min=1, max=24, description="output size",
                                      continuous_update=True, layout=LAYOUT),
        "in_size": widgets.IntSlider(value=in_size, min=1, max=12, description="input size",
                                     continuous_update=True, layout=LAYOUT),
        "align_corners": widgets.Checkbox(value=align_corners, description="align_corners"),
    }
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        rows, cols = controls["out_size"].value, controls["in_size"].value
        matrix = interpolation_matrix(rows, cols, controls["align_corners"].value)
        state.update(matrix=matrix)
        image.set_data(matrix.numpy())
        image.set_extent((-0.5, cols - 0.5, rows - 0.5, -0.5))
        ax.set(xlim=(-0.5, cols - 0.5), ylim=(rows - 0.5, -0.5),
               title=f"A: {rows}\u00d7{cols}, {int((matrix != 0).sum())} non-zeros")
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))


def explore_segmentation_upsampling(labels: "torch.Tensor | None" = None, factor: int = 4,
                                    method: str = "labels bilinear") -> Explorer:
    """Upsample a label map three ways and count the classes that appear from nowhere.

    Args:
        labels: int tensor ``(H, W)`` (default ``toy_label_map()``).
        factor: initial upsampling factor.
        method: initial entry of ``SEGMENTATION_UPSAMPLING``.

    Returns:
        An ``Explorer``; ``state`` holds ``labels`` (the upsampled map) and ``invented``
        (sorted class ids absent from the input map).
    """
    import ipywidgets as widgets
    import numpy as np
    from matplotlib.patches import Patch

    from visual.interpolation import SEGMENTATION_UPSAMPLING, VOC_CLASSES, toy_label_map, upsample_segmentation
    from visual.plots.interpolation import label_colours

    source = toy_label_map() if labels is None else labels.detach().long().cpu()
    original = set(source.flatten().tolist())
    colours = label_colours(range(len(VOC_CLASSES)))  # fixed colour per class id
    fig, ax = _figure((6.2, 4.4))
    shown = ax.imshow(np.zeros((1, 1, 4)), interpolation="nearest")
    ax.set(xlabel="x (pixels)", ylabel="y (pixels)")
    controls = {
        "factor": widgets.IntSlider(value=factor, min=1, max=8, description="factor",
                                    continuous_update=True, layout=LAYOUT),
        "method": widgets.Dropdown(options=list(SEGMENTATION_UPSAMPLING), value=method, description="method"),
    }
    state: dict[str, Any] = {}
    palette = np.array([colours[c] for c in range(len(VOC_CLASSES))])  # (21, 4)

    def update(change: Any = None) -> None:
        k, name = controls["factor"].value, controls["method"].value
        h, w = source.shape
        out = upsample_segmentation(source, (h * k, w * k), name)  # (H*k, W*k)
        present = sorted(set(out.flatten().tolist()))
        invented = sorted(set(present) - original)
        state.update(labels=out, invented=invented)
        shown.set_data(palette[out.numpy()])
        shown.set_extent((-0.5, w * k - 0.5, h * k - 0.5, -0.5))
        handles = [Patch(color=colours[c],
                         label=f"{c} {VOC_CLASSES[c]}" + (" (invented)" if c in invented else ""))
                   for c in present]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="x-small")
        ax.set_title(f"{name}, \u00d7{k}: {len(invented)} invented classes")
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))


def explore_feature_alignment(
    in_size: int = 473, output_stride: int = 8, *, align_corners: bool = True
) -> Explorer:
    """Slide the input size and see whether the upsampled features land where they were computed.

    Args:
        in_size: initial input side (pixels).
        output_stride: initial output stride (8 or 16).
        align_corners: initial flag.

    Returns:
        An ``Explorer``; ``state`` holds ``feature_size`` and ``max_drift`` (pixels).
    """
    import ipywidgets as widgets
    from matplotlib.collections import LineCollection

    from visual.plots.interpolation import OUTPUT_COLOUR, feature_drift

    fig, ax = _figure((7.0, 3.2))
    stems = LineCollection([], colors=OUTPUT_COLOUR, linewidths=1.0)
    ax.add_collection(stems)
    (heads,) = ax.plot([], [], "o", color=OUTPUT_COLOUR, ms=4)
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set(xlabel="feature index i", ylabel="landed − stride·i (px)")
    controls = {
        "in_size": widgets.IntSlider(value=in_size, min=225, max=545, description="input side",
                                     continuous_update=True, layout=LAYOUT),
        "output_stride": widgets.Dropdown(options=[8, 16], value=output_stride, description="output stride"),
        "align_corners": widgets.Checkbox(value=align_corners, description="align_corners"),
    }
    state: dict[str, Any] = {}

    def update(change: Any = None) -> None:
        side, stride, flag = (controls[k].value for k in ("in_size", "output_stride", "align_corners"))
        drift = feature_drift(side, stride, flag).tolist()
        worst = max(abs(d) for d in drift)
        state.update(feature_size=len(drift), max_drift=worst)
        stems.set_segments([[(i, 0.0), (i, d)] for i, d in enumerate(drift)])
        heads.set_data(list(range(len(drift))), drift)
        limit = max(1.0, 1.15 * worst)
        ax.set(xlim=(-1, len(drift)), ylim=(-limit, limit))
        ax.set_title(f"H = {side} \u2192 {len(drift)}\u00d7{len(drift)} features (stride {stride}), "
                     f"align_corners={flag}: up to {worst:.2f} px off")
        fig.canvas.draw_idle()

    return finish_explorer(Explorer(None, controls, fig, update, state))
