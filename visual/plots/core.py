"""Shared plumbing for the plot helpers."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes

__all__: list[str] = []


def get_axes(ax: "Axes | None" = None, figsize: tuple[float, float] = (5.0, 4.0)) -> "Axes":
    """Return ``ax`` or, when it is ``None``, the Axes of a new figure of ``figsize`` inches."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax
