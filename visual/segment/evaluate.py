"""The ``test`` command: the evaluation protocol over a list file (hszhao/semseg ``tool/test.py``).

For each listed image: class probabilities by :func:`visual.inference.predict_probabilities`
(resize to ``base_size``, each of ``scales``, sliding ``test_h x test_w`` windows, horizontal
flip), the arg-max written as a grey PNG (class ids) under ``save_folder/gray/`` and as a
palette PNG under ``save_folder/color/`` (colours from ``colors_path``, semseg's "R G B" per
line, or a generated palette when that file is absent); then per-class IoU and accuracy and
mIoU/mAcc/allAcc over the whole list (:func:`visual.evaluation.intersection_and_union`), as
semseg prints them. ``has_prediction: True`` scores the grey PNGs already there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from PIL import Image

from visual.checks import check_int
from visual.evaluation import intersection_and_union, metrics_from_sums
from visual.inference import predict_probabilities
from visual.segment.data import read_list, read_sample
from visual.segment.model import build_model, load_weights

__all__ = ["palette_from_file", "names_from_file", "generated_palette", "run_test"]

STRIDE_RATE = 2 / 3  # semseg tool/test.py: stride_rate = 2/3 of the crop between windows


def generated_palette(num_classes: int) -> list[tuple[int, int, int]]:
    """Distinct colours by spreading the bits of the class id over R, G, B (PASCAL VOC's scheme).

    Example:
        >>> generated_palette(3)
        [(0, 0, 0), (128, 0, 0), (0, 128, 0)]
    """
    check_int(num_classes, "num_classes", minimum=1, maximum=2**24)
    colors = []
    for index in range(num_classes):
        rgb, value = [0, 0, 0], index
        for bit in range(8):
            for channel in range(3):
                rgb[channel] |= ((value >> channel) & 1) << (7 - bit)
            value >>= 3
        colors.append(tuple(rgb))
    return colors


def palette_from_file(path: str | None, num_classes: int) -> list[tuple[int, int, int]]:
    """The palette of ``path`` ("R G B" per class, semseg's ``*_colors.txt``), or a generated one if absent."""
    if not path or not os.path.isfile(path):
        return generated_palette(num_classes)
    with open(path, encoding="utf-8") as handle:
        rows = [line.split() for line in handle if line.strip()]
    try:
        colors = [tuple(int(v) for v in row) for row in rows]
    except ValueError:
        raise ValueError(f"TEST.colors_path {path!r} must hold 'R G B' integers per line") from None
    if len(colors) < num_classes or any(len(c) != 3 or not all(0 <= v <= 255 for v in c) for c in colors):
        raise ValueError(f"TEST.colors_path {path!r} must hold {num_classes} lines of 'R G B' in 0..255")
    return colors


def names_from_file(path: str | None, num_classes: int) -> list[str]:
    """Class names from ``path`` (one per line, semseg's ``*_names.txt``), or ``"class i"`` if absent."""
    if path and os.path.isfile(path):
        with open(path, encoding="utf-8") as handle:
            names = [line.strip() for line in handle if line.strip()]
        if len(names) >= num_classes:
            return names[:num_classes]
    return [f"class {i}" for i in range(num_classes)]


def _save_png(array: np.ndarray, path: str, palette: list[tuple[int, int, int]] | None = None) -> None:
    picture = Image.fromarray(array, mode="L" if palette is None else "P")  # (H, W) uint8
    if palette is not None:
        picture.putpalette([v for color in palette for v in color])
    picture.save(path)


def run_test(config: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Predict every image of ``TEST.test_list``, write gray/ and color/ PNGs, print and return the scores.

    Returns:
        ``{"iou": [K], "accuracy": [K], "mIoU", "mAcc", "allAcc", "count"}`` (scores only with labels).
    """
    data, train, test = config["DATA"], config["TRAIN"], config["TEST"]
    classes = data["classes"]
    entries = read_list(test["test_list"], data["data_root"], labels=test["split"] != "test")
    end = len(entries) if test["index_step"] == 0 else min(test["index_start"] + test["index_step"], len(entries))
    entries = entries[test["index_start"]:end]
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = build_model(config)
    if not test["has_prediction"]:
        load_weights(model, test["model_path"], train, "TEST.model_path")
    model = model.to(device).eval()
    colors, names = palette_from_file(test["colors_path"], classes), names_from_file(test["names_path"], classes)
    folders = {kind: os.path.join(test["save_folder"], kind) for kind in ("gray", "color")}
    for folder in folders.values():
        os.makedirs(folder, exist_ok=True)
    crop = test["test_h"] if test["test_h"] == test["test_w"] else (test["test_h"], test["test_w"])
    totals = torch.zeros(3, classes, dtype=torch.int64)  # intersection, union, target area
    for entry in entries:
        image, mask = read_sample(entry)
        stem = os.path.splitext(os.path.basename(entry.image))[0]
        gray_path = os.path.join(folders["gray"], stem + ".png")
        if test["has_prediction"]:
            pred = np.asarray(Image.open(gray_path))  # (H, W) uint8
        else:
            with torch.inference_mode():
                probs = predict_probabilities(model, image.to(device), num_classes=classes, crop_size=crop,
                                              stride_rate=STRIDE_RATE, base_size=test["base_size"],
                                              scales=tuple(test["scales"]), flip=True)  # ImageNet mean/std
            pred = torch.as_tensor(probs).argmax(0).to(torch.uint8).cpu().numpy()  # (H, W)
            _save_png(pred, gray_path)
            _save_png(pred, os.path.join(folders["color"], stem + ".png"), colors)
        if mask is not None:
            areas = intersection_and_union(torch.as_tensor(pred).long(), mask.as_subclass(torch.Tensor),
                                           classes, train["ignore_label"])
            totals += torch.stack([a.cpu() for a in areas])
    scores = metrics_from_sums(*totals)  # the official whole-set sums and 1e-10 guard
    iou, accuracy = scores.iou, scores.acc
    result = {"iou": iou.tolist(), "accuracy": accuracy.tolist(), "mIoU": scores.miou, "mAcc": scores.macc,
              "allAcc": scores.allacc, "count": len(entries)}
    for index, name in enumerate(names):
        print(f"Class_{index} result: iou/accuracy {iou[index]:.4f}/{accuracy[index]:.4f}, name: {name}.")
    print(f"Eval result: mIoU/mAcc/allAcc {result['mIoU']:.4f}/{result['mAcc']:.4f}/{result['allAcc']:.4f} "
          f"over {len(entries)} image(s).")
    return result
