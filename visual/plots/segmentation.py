"""Plot helpers for segmentation results (notebook 04): label maps in ``viridis`` (one colour per
class, lightness growing: survives greyscale), input / truth / prediction panels, training curves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Patch

from visual.checks import check_int
from visual.models.pspnet import MAX_CLASSES
from visual.plots.core import get_axes
from visual.train import History

__all__ = ["label_colormap", "as_array", "image_hwc", "plot_training_history", "draw_label_map", "plot_label_map",
           "SegmentationArtists", "draw_segmentation", "update_segmentation", "plot_segmentation_panels",
           "draw_class_legend"]

LOSS_COLOUR = "tab:blue"
MIOU_COLOUR = "tab:orange"


def label_colormap(num_classes: int) -> ListedColormap:
    """A discrete colour map of ``num_classes`` (1 to ``MAX_CLASSES``) ``viridis`` colours, lightness growing."""
    num_classes = check_int(num_classes, "num_classes", minimum=1, maximum=MAX_CLASSES)
    return ListedColormap(colormaps["viridis"](np.linspace(0.0, 1.0, num_classes)), name=f"labels{num_classes}")


def as_array(x: Any, name: str, ndim: int, layout: str) -> np.ndarray:
    """A tensor or array of rank ``ndim`` as a numpy array; a clear error otherwise."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a tensor or numpy array {layout}, got {type(x).__name__}")
    if x.ndim != ndim:
        raise ValueError(f"{name} must have shape {layout}, got shape {x.shape}")
    return x


def image_hwc(image: Any, name: str = "image") -> np.ndarray:
    """``(3, H, W)`` tensor or ``(H, W, 3)`` array in ``[0, 1]`` -> ``(H, W, 3)`` array."""
    array = as_array(image, name, 3, "(3, H, W) or (H, W, 3)")
    if array.shape[0] == 3 and array.shape[-1] != 3:
        array = array.transpose(1, 2, 0)  # (H, W, 3)
    if array.shape[-1] != 3:
        raise ValueError(f"{name} must have shape (3, H, W) or (H, W, 3), got {array.shape}")
    return np.clip(array, 0.0, 1.0)


def plot_training_history(history: History, *, ax: Axes | None = None, target_miou: float | None = None) -> Axes:
    """Training loss per step (left axis) and held-out mIoU (right axis, ``ax.right_ax``) of a
    :class:`History`, with ``target_miou`` as a dashed line; returns the loss Axes."""
    if not isinstance(history, History):
        raise TypeError(f"history must be the History returned by train_model, got {type(history).__name__}")
    ax = get_axes(ax, (7.0, 4.0))
    lines = ax.plot(history.step, history.loss, color=LOSS_COLOUR, lw=1.2, label="training loss (main + 0.4 aux)")
    ax.set(xlabel="SGD step", ylabel="cross-entropy loss (nats per pixel)", ylim=(0.0, None),
           title="Training PSPNet: loss falls, held-out mIoU rises")
    right = ax.twinx()
    lines += right.plot(history.eval_step, history.miou, "o-", color=MIOU_COLOUR, ms=6, label="held-out mIoU")
    if target_miou is not None:
        lines.append(right.axhline(target_miou, color=MIOU_COLOUR, ls="--", lw=1,
                                   label=f"target mIoU = {target_miou:g}"))
    right.set(ylim=(0.0, 1.0), ylabel="mean IoU on held-out images")
    ax.legend(lines, [line.get_label() for line in lines], loc="upper center", fontsize="small")
    ax.right_ax = right
    return ax


def draw_label_map(ax: Axes, labels: Any, num_classes: int, alpha: float = 1.0) -> AxesImage:
    """Draw ``(H, W)`` class indices in the discrete class colours; return the image artist."""
    labels = as_array(labels, "labels", 2, "(H, W) of class indices")
    return ax.imshow(labels, cmap=label_colormap(num_classes), vmin=-0.5, vmax=num_classes - 0.5,
                     interpolation="nearest", alpha=alpha)


def plot_label_map(labels: Any, *, num_classes: int, ax: Axes | None = None, image: Any = None,
                   alpha: float = 1.0, title: str | None = None) -> Axes:
    """A label map ``(H, W)`` in the discrete class colours, optionally over a ``(3, H, W)`` image."""
    ax = get_axes(ax, (4.0, 4.0))
    if image is not None:
        ax.imshow(image_hwc(image), interpolation="nearest")
    draw_label_map(ax, labels, num_classes, alpha)
    ax.set(xlabel="x (pixels)", ylabel="y (pixels)")
    if title is not None:
        ax.set_title(title)
    return ax


@dataclass
class SegmentationArtists:
    """The three images of one input / ground truth / prediction row."""
    image: AxesImage
    target: AxesImage
    prediction: AxesImage


def draw_segmentation(axes: Sequence[Axes], image: Any, target: Any, prediction: Any,
                      num_classes: int) -> SegmentationArtists:
    """Draw one row: the input, the true labels and the predicted labels on three Axes."""
    artists = SegmentationArtists(axes[0].imshow(image_hwc(image)), draw_label_map(axes[1], target, num_classes),
                                  draw_label_map(axes[2], prediction, num_classes))
    for ax in axes:
        ax.set(xlabel="x (pixels)", ylabel="y (pixels)")
    return artists


def update_segmentation(artists: SegmentationArtists, image: Any, target: Any, prediction: Any,
                        *, title: str = "", note: str = "") -> None:
    """Show another row; ``title`` over the input, ``note`` after "prediction" (e.g. its mIoU)."""
    artists.image.set_data(image_hwc(image))
    artists.target.set_data(as_array(target, "target", 2, "(H, W)"))
    artists.prediction.set_data(as_array(prediction, "prediction", 2, "(H, W)"))
    artists.image.axes.set_title(title or "input")
    artists.target.axes.set_title("ground truth")
    artists.prediction.axes.set_title("prediction" + (f" ({note})" if note else ""))


def plot_segmentation_panels(images: Any, targets: Any, predictions: Any, *, class_names: Sequence[str],
                             fig: Figure | None = None, titles: Sequence[str] | None = None) -> np.ndarray:
    """Rows of input ``(N, 3, H, W)`` / ground truth / prediction ``(N, H, W)``, one class legend;
    ``titles``: per-row text for the prediction's title (e.g. its mIoU). Returns the ``(N, 3)`` Axes."""
    n = len(images)
    if not len(targets) == len(predictions) == n:
        raise ValueError(f"images, targets and predictions must have the same length, got "
                         f"{n}, {len(targets)}, {len(predictions)}")
    if fig is None:
        fig = plt.figure(figsize=(8.0, 2.6 * n + 0.6), layout="constrained")
    axes = np.asarray(fig.subplots(n, 3, squeeze=False))
    k = len(class_names)
    for row in range(n):
        artists = draw_segmentation(axes[row], images[row], targets[row], predictions[row], k)
        update_segmentation(artists, images[row], targets[row], predictions[row],
                            note=titles[row] if titles is not None else "")
    draw_class_legend(fig, class_names)
    return axes


def draw_class_legend(fig: Figure, class_names: Sequence[str]) -> None:
    """One legend under the figure: the colour of each class, ``"k: name"``."""
    cmap = label_colormap(len(class_names))
    handles = [Patch(facecolor=cmap(i), edgecolor="black", label=f"{i}: {name}") for i, name in enumerate(class_names)]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(class_names), 5), fontsize="small")
