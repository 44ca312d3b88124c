"""Issue 13, evaluation area: every public function of visual.inference, visual.evaluation,
visual.class_info, visual.model_cache, visual.plots.evaluation and visual.widgets.evaluation
refuses bad values with a ValueError/TypeError naming the argument (no deep traceback, no hang,
no huge allocation)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from visual.class_info import class_names, class_palette, class_source
from visual.evaluation import evaluate_dataset, intersection_and_union, metrics_from_sums
from visual.inference import count_map, predict_probabilities, scaled_size, sliding_windows
from visual.model_cache import cached_state_dict, config_key
from visual.plots.evaluation import plot_window_grid, window_grid_title
from visual.widgets.evaluation import explore_sliding_windows, scaled_photo, window_summary

NAN, INF = float("nan"), float("inf")
IMAGE = torch.zeros(3, 8, 8, dtype=torch.uint8)
LABEL = torch.zeros(8, 8, dtype=torch.long)


def model():
    return nn.Conv2d(3, 2, 1)


def predict(**bad):
    kwargs = dict(model=model(), image=IMAGE, num_classes=2, crop_size=8, base_size=8)
    kwargs.update(bad)
    return predict_probabilities(kwargs.pop("model"), kwargs.pop("image"), **kwargs)


def windows(**bad):
    kwargs = dict(height=10, width=10, crop_size=8, stride_rate=0.5)
    kwargs.update(bad)
    return sliding_windows(**kwargs)


def counts(**bad):
    kwargs = dict(height=10, width=10, crop_size=8, stride_rate=0.5)
    kwargs.update(bad)
    return count_map(**kwargs)


def scaled(**bad):
    kwargs = dict(height=10, width=10, long_side=8)
    kwargs.update(bad)
    return scaled_size(**kwargs)


def counts_iu(**bad):
    kwargs = dict(pred=LABEL, target=LABEL, num_classes=2, ignore_index=255)
    kwargs.update(bad)
    return intersection_and_union(**kwargs)


def sums(**bad):
    kwargs = dict(intersection=torch.ones(2, dtype=torch.long), union=torch.ones(2, dtype=torch.long),
                  target_area=torch.ones(2, dtype=torch.long), class_names=None)
    kwargs.update(bad)
    return metrics_from_sums(**kwargs)


def evaluate(**bad):
    kwargs = dict(model=model(), dataset=[(IMAGE, LABEL)], num_classes=2, crop_size=8, base_size=8)
    kwargs.update(bad)
    return evaluate_dataset(kwargs.pop("model"), kwargs.pop("dataset"), **kwargs)


def cache(**bad):
    kwargs = dict(config={"k": 1}, build=model, train=lambda m: None)
    kwargs.update(bad)
    return cached_state_dict(**kwargs)


def grid_plot(**bad):
    kwargs = dict(image=torch.rand(3, 20, 20), crop_size=16, stride_rate=0.5)
    kwargs.update(bad)
    return plot_window_grid(**kwargs)


def summary(**bad):
    kwargs = dict(height=10, width=10, crop_size=8, stride_rate=0.5)
    kwargs.update(bad)
    return window_summary(**kwargs)


def title(**bad):
    kwargs = dict(height=10, width=10, crop_size=8, stride_rate=0.5)
    kwargs.update(bad)
    return window_grid_title(**kwargs)


META = nn.Conv2d(3, 2, 1, device="meta")
SIZE_CASES = [("x", TypeError), (2.5, TypeError), (True, TypeError), (0, ValueError), (-3, ValueError),
              (10**6, ValueError), (None, TypeError)]
RATE_CASES = [("x", TypeError), (True, TypeError), (0.0, ValueError), (-0.5, ValueError), (1.5, ValueError),
              (NAN, ValueError), (INF, ValueError)]

CASES = [
    *[(fn, arg, value, error) for fn in (windows, counts, summary, title) for arg in ("height", "width")
      for value, error in SIZE_CASES],
    *[(fn, "crop_size", value, error) for fn in (windows, counts, summary, title) for value, error in SIZE_CASES],
    *[(fn, "stride_rate", value, error) for fn in (windows, counts, summary, title) for value, error in RATE_CASES],
    *[(scaled, arg, value, error) for arg in ("height", "width", "long_side") for value, error in SIZE_CASES],
    # predict_probabilities
    (predict, "model", "net", TypeError), (predict, "model", None, TypeError), (predict, "model", META, ValueError),
    (predict, "image", IMAGE.numpy(), TypeError), (predict, "image", torch.zeros(8, 8, dtype=torch.uint8), ValueError),
    (predict, "image", torch.zeros(4, 8, 8, dtype=torch.uint8), ValueError),
    (predict, "image", torch.zeros(3, 8, 8, dtype=torch.bool), TypeError),
    (predict, "image", torch.zeros(3, 8, 8, dtype=torch.int64), TypeError),
    (predict, "image", torch.full((3, 8, 8), NAN), ValueError), (predict, "image", torch.full((3, 8, 8), 300.0), ValueError),
    (predict, "image", torch.zeros(3, 8, 8, device="meta"), ValueError),
    (predict, "image", torch.zeros(3, 0, 8, dtype=torch.uint8), ValueError),
    *[(predict, "num_classes", value, error) for value, error in SIZE_CASES],
    (predict, "num_classes", 3, ValueError),  # the model predicts 2
    *[(predict, "crop_size", value, error) for value, error in SIZE_CASES],
    (predict, "crop_size", (8, 8, 8), ValueError),
    *[(predict, "stride_rate", value, error) for value, error in RATE_CASES],
    *[(predict, "base_size", value, error) for value, error in SIZE_CASES],
    (predict, "scales", 1.0, TypeError), (predict, "scales", "1", TypeError), (predict, "scales", (), ValueError),
    (predict, "scales", (0.0,), ValueError), (predict, "scales", (-1.0,), ValueError), (predict, "scales", (NAN,), ValueError),
    (predict, "scales", (True,), TypeError), (predict, "scales", (5000.0,), ValueError),
    (predict, "flip", 1, TypeError), (predict, "flip", "yes", TypeError), (predict, "flip", None, TypeError),
    (predict, "mean", (1.0, 2.0), ValueError), (predict, "mean", (NAN, 0.0, 0.0), ValueError),
    (predict, "mean", 120.0, TypeError), (predict, "std", (0.0, 1.0, 1.0), ValueError),
    (predict, "std", (-1.0, 1.0, 1.0), ValueError), (predict, "std", (INF, 1.0, 1.0), ValueError),
    (predict, "batch_size", 0, ValueError), (predict, "batch_size", 1, ValueError), (predict, "batch_size", 2.0, TypeError),
    (predict, "batch_size", True, TypeError), (predict, "batch_size", 10**6, ValueError),
    # intersection_and_union
    (counts_iu, "pred", LABEL.tolist(), TypeError), (counts_iu, "pred", LABEL.float(), TypeError),
    (counts_iu, "pred", torch.zeros(7, 8, dtype=torch.long), ValueError), (counts_iu, "pred", LABEL + 2, ValueError),
    (counts_iu, "pred", LABEL.to("meta"), ValueError),
    (counts_iu, "target", None, TypeError), (counts_iu, "target", LABEL.bool(), TypeError), (counts_iu, "target", LABEL - 1, ValueError),
    *[(counts_iu, "num_classes", value, error) for value, error in SIZE_CASES],
    (counts_iu, "ignore_index", 2.5, TypeError), (counts_iu, "ignore_index", "255", TypeError), (counts_iu, "ignore_index", True, TypeError),
    # metrics_from_sums
    (sums, "intersection", [1, 2], TypeError), (sums, "intersection", torch.ones(2), TypeError),
    (sums, "union", torch.ones(2, 2, dtype=torch.long), ValueError), (sums, "target_area", torch.ones(3, dtype=torch.long), ValueError),
    (sums, "class_names", "ab", TypeError), (sums, "class_names", ["a"], ValueError), (sums, "class_names", [1, 2], ValueError),
    # evaluate_dataset
    (evaluate, "model", "net", TypeError), (evaluate, "dataset", 3, TypeError), (evaluate, "dataset", [], ValueError),
    (evaluate, "dataset", [IMAGE], ValueError), (evaluate, "dataset", [(torch.full((3, 8, 8), 2.0), LABEL)], ValueError),
    (evaluate, "dataset", [(IMAGE.long(), LABEL)], TypeError), (evaluate, "dataset", [(IMAGE, LABEL.float())], TypeError),
    (evaluate, "dataset", [(IMAGE, LABEL[:4])], ValueError), (evaluate, "dataset", [(IMAGE, LABEL + 5)], ValueError),
    *[(evaluate, "num_classes", value, error) for value, error in SIZE_CASES],
    (evaluate, "class_names", ["a"], ValueError), (evaluate, "class_names", "ab", TypeError),
    (evaluate, "ignore_index", None, TypeError), (evaluate, "progress", 1, TypeError),
    (evaluate, "flip", "no", TypeError), (evaluate, "crop_size", 0, ValueError),
    # class_info
    *[(lambda dataset: fn(dataset), "dataset", value, ValueError) for fn in (class_names, class_palette, class_source)
      for value in ("pascal", 21, None)],
    # model_cache
    (cache, "config", [1], TypeError), (cache, "config", {"f": object()}, TypeError), (cache, "config", {"x": NAN}, ValueError),
    (cache, "build", 3, TypeError), (cache, "build", lambda: 3, TypeError), (cache, "train", None, TypeError),
    (lambda config: config_key(config), "config", "k=1", TypeError),
    # plots and widgets
    (grid_plot, "image", torch.rand(20, 20), ValueError), (grid_plot, "image", torch.zeros(3, 20, 20, dtype=torch.uint8), TypeError),
    (grid_plot, "image", torch.full((3, 20, 20), NAN), ValueError), (grid_plot, "crop_size", 0, ValueError),
    (grid_plot, "stride_rate", 2.0, ValueError),
    (lambda image: scaled_photo(image), "image", torch.rand(3, 4), ValueError),
    (lambda base_size: scaled_photo(torch.rand(3, 8, 8), base_size), "base_size", 0, ValueError),
    *[(lambda crop_size: explore_sliding_windows(crop_size=crop_size), "crop_size", value, error)
      for value, error in [(96, ValueError), (721, ValueError), (474, ValueError), (473.0, TypeError), (True, TypeError)]],
    *[(lambda stride_rate: explore_sliding_windows(stride_rate=stride_rate), "stride_rate", value, error)
      for value, error in [(0.1, ValueError), (1.5, ValueError), (NAN, ValueError), ("1", TypeError)]],
    (lambda base_size: explore_sliding_windows(base_size=base_size), "base_size", 5, ValueError),
]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VISUAL_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize("function, argument, value, error", CASES,
                         ids=[f"{i}-{c[1]}" for i, c in enumerate(CASES)])
def test_bad_value_is_refused_by_name(function, argument, value, error):
    with pytest.raises((ValueError, TypeError), match=argument) as caught:
        function(**{argument: value})
    assert caught.type is error or issubclass(caught.type, error)
    plt.close("all")


def test_case_count():
    assert len(CASES) >= 200
