"""A tiny dataset in the official layout, for ``configs/tiny_cpu.yaml``, the tests and the benchmark.

``python -m visual.segment.tiny DIR`` writes ``DIR/images/*.png``, ``DIR/labels/*.png`` and
``DIR/list/train.txt`` / ``DIR/list/val.txt`` (``image_path label_path`` per line, relative
to ``DIR``): each image a noisy background (class 0) with a bright square (class 1) and a dark
disc (class 2) at random places. Half the labels are palette PNGs and half grey PNGs, the two
single-channel kinds real datasets use (VOC's are palette PNGs).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

import numpy as np
from PIL import Image

from visual.checks import check_int

__all__ = ["TINY_CLASSES", "make_tiny_dataset"]  # main: the command line only

TINY_CLASSES = 3  # background, square, disc
COLORS = ((90, 120, 90), (230, 200, 40), (40, 40, 160))  # RGB mean colour of each class
NOISE = 20  # std of the per-pixel noise, in uint8 levels


def make_tiny_dataset(root: str, count: int = 8, size: int = 33, seed: int = 0, val_count: int = 2) -> str:
    """Write ``count`` training and ``val_count`` validation samples of ``size x size`` under ``root``.

    Returns:
        The path of the training list file.

    Raises:
        ValueError, TypeError: ``count``/``size``/``val_count`` out of range (size 8..512, count 1..1000).
    """
    check_int(count, "count", minimum=1, maximum=1000)
    check_int(val_count, "val_count", minimum=0, maximum=1000)
    check_int(size, "size", minimum=8, maximum=512)
    rng = np.random.default_rng(seed)
    for folder in ("images", "labels", "list"):
        os.makedirs(os.path.join(root, folder), exist_ok=True)
    rows, cols = np.mgrid[0:size, 0:size]  # (S, S) pixel coordinates
    lines = []
    for index in range(count + val_count):
        label = np.zeros((size, size), dtype=np.uint8)  # (S, S) class ids
        side = int(rng.integers(size // 4, size // 2))
        top, left = rng.integers(0, size - side, size=2)
        label[top:top + side, left:left + side] = 1
        radius = rng.uniform(size / 8, size / 4)
        cy, cx = rng.uniform(radius, size - radius, size=2)
        label[(rows - cy) ** 2 + (cols - cx) ** 2 <= radius**2] = 2
        image = np.asarray(COLORS, dtype=np.float64)[label] + rng.normal(0, NOISE, (size, size, 3))  # (S, S, 3)
        name = f"tiny_{index:04d}"
        Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(os.path.join(root, "images", name + ".png"))
        picture = Image.fromarray(label, mode="L")
        if index % 2:
            picture = picture.convert("P")  # palette PNG: np.asarray gives the indices back
            picture.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * (3 * 253))
        picture.save(os.path.join(root, "labels", name + ".png"))
        lines.append(f"images/{name}.png labels/{name}.png\n")
    for split, chosen in (("train", lines[:count]), ("val", lines[count:])):
        with open(os.path.join(root, "list", f"{split}.txt"), "w", encoding="utf-8") as handle:
            handle.writelines(chosen)
    return os.path.join(root, "list", "train.txt")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m visual.segment.tiny DIR [--count N] [--size S]``."""
    parser = argparse.ArgumentParser(prog="python -m visual.segment.tiny", description=__doc__.splitlines()[0])
    parser.add_argument("root", help="folder to write (e.g. build/tiny_dataset)")
    parser.add_argument("--count", type=int, default=8, help="training images (default 8)")
    parser.add_argument("--size", type=int, default=33, help="side in pixels (default 33)")
    args = parser.parse_args(argv)
    print(make_tiny_dataset(args.root, args.count, args.size))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
