"""Regenerate the README's picture from the course's own plot helpers.

    .venv/bin/python tools/make_readme_figure.py   # writes docs/images/dilated_kernel.png
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from visual import plot_dilated_kernel, plot_gridding  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "images" / "dilated_kernel.png"

fig, axes = plt.subplots(1, 4, figsize=(17, 4.6), layout="constrained")
for ax, dilation in zip(axes[:3], (1, 2, 3)):
    plot_dilated_kernel(3, dilation, grid=9, ax=ax)
plot_gridding(3, (2, 2, 2), ax=axes[3])
fig.suptitle("Notebook 01: a 3x3 kernel at dilation 1, 2, 3, and the gridding holes of three stacked d=2 convs")
OUT.parent.mkdir(parents=True, exist_ok=True)
fig.savefig(OUT, dpi=80)
print(f"wrote {OUT}")
