"""Pictures of PASCAL VOC label maps (notebook 03, section 5): one colour per class id, kept across maps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from visual.checks import check_tensor
from visual.class_info import class_palette
from visual.label_upsampling import VOC_CLASSES
from visual.plots.core import get_axes
from visual.plots.interpolation import ANNOTATE_MAX_CELLS, plot_data

__all__ = ["label_colours", "ClassMapArtists", "draw_class_map", "update_class_map", "plot_class_map"]


def label_colours(class_ids: Sequence[int]) -> dict[int, tuple[float, float, float, float]]:
    """One colour per class id: PASCAL VOC's own qualitative palette (``class_palette("voc2012")``),
    as a matplotlib ``ListedColormap``; ids beyond it (bilinear on labels can make them) are grey."""
    cmap = ListedColormap(class_palette("voc2012").numpy() / 255.0, name="voc2012")  # (21, 3) RGB in [0, 1]
    return {cid: cmap(cid) if 0 <= cid < cmap.N else (0.5, 0.5, 0.5, 1.0)
            for cid in sorted(set(int(i) for i in class_ids))}


@dataclass
class ClassMapArtists:
    ax: Axes
    image: Any  # AxesImage
    colours: dict[int, tuple[float, float, float, float]]
    texts: list[Any] = field(default_factory=list)  # the ids written in small maps


def draw_class_map(ax: Axes) -> ClassMapArtists:
    """An empty label-map image, with :func:`label_colours` over all PASCAL VOC classes."""
    image = ax.imshow(np.zeros((1, 1, 4)), interpolation="nearest")
    ax.set(xlabel="x (pixels)", ylabel="y (pixels)")
    return ClassMapArtists(ax, image, label_colours(range(len(VOC_CLASSES))))


def update_class_map(artists: ClassMapArtists, labels: torch.Tensor, *, title: str | None = None,
                     invented: Sequence[int] = ()) -> None:
    """Show the integer label map ``(H, W)``: ids written in small maps, a legend of the classes
    present (those in ``invented`` marked), default title its size."""
    check_tensor(labels, "labels", ndim=2, layout="(H, W)", dtype="integer")
    lab = plot_data(labels, "labels", 2, "(H, W)").long()
    present = sorted(set(lab.flatten().tolist()))
    missing = [c for c in present if c not in artists.colours]
    artists.colours.update(label_colours(missing) if missing else {})
    h, w = lab.shape
    artists.image.set_data(np.array([artists.colours[c] for c in lab.flatten().tolist()]).reshape(h, w, 4))
    artists.image.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
    for text in artists.texts:
        text.remove()
    luma = {c: float(np.dot(artists.colours[c][:3], (0.2126, 0.7152, 0.0722))) for c in present}  # Rec. 709
    artists.texts = [artists.ax.text(c, r, str(v), ha="center", va="center", fontsize="x-small",
                                     color="white" if luma[v] < 0.5 else "black")
                     for (r, c), v in np.ndenumerate(lab.numpy())] if h * w <= ANNOTATE_MAX_CELLS else []
    names = VOC_CLASSES
    handles = [Patch(color=artists.colours[c], label=f"{c} {names[c] if c < len(names) else ''}".strip()
                     + (" (invented)" if c in invented else "")) for c in present]
    artists.ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="x-small",
                      title=f"{len(present)} classes", title_fontsize="small")
    artists.ax.set_title(title or f"{h}\u00d7{w} label map")


def plot_class_map(labels: torch.Tensor, *, ax: Axes | None = None, title: str | None = None) -> Axes:
    """A segmentation label map: one colour per class, ids written in small maps, named legend."""
    ax = get_axes(ax, (4.0, 4.0))
    update_class_map(draw_class_map(ax), labels, title=title)
    return ax
