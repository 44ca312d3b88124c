"""Issue 13 for the interpolation area: every public function refuses bad values with a
ValueError/TypeError naming the argument, before allocating, never a deep traceback or a
silently wrong answer."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
import torch

from visual.interpolation import (bilinear_interpolate, bilinear_interpolate_gather, bilinear_interpolate_matmul,
                                  bilinear_neighbours, interpolation_matrix, linear_interpolate, linear_weights,
                                  resample_image, source_coordinates)
from visual.label_upsampling import feature_map_size, upsample_segmentation
from visual.plots.interpolation import (draw_bilinear_neighbours, draw_feature_alignment, draw_interpolation_matrix,
                                        draw_linear_interpolation, draw_resampling, draw_sample_grids, feature_drift,
                                        plot_bilinear_neighbours, plot_data, plot_feature_alignment,
                                        plot_interpolation_matrix, plot_linear_interpolation,
                                        plot_resampling_comparison, plot_sample_grids, plot_timings, plot_values,
                                        update_bilinear_neighbours, update_feature_alignment,
                                        update_interpolation_matrix, update_linear_interpolation, update_resampling,
                                        update_sample_grids)
from visual.plots.label_upsampling import draw_class_map, plot_class_map, update_class_map
from visual.widgets.interpolation import (explore_align_corners, explore_bilinear_point, explore_feature_alignment,
                                          explore_interpolation_matrix, explore_linear_interpolation,
                                          explore_resampling, explore_segmentation_upsampling)

NAN, INF = float("nan"), float("inf")
X4 = torch.rand(1, 2, 4, 4)
X3 = torch.rand(1, 2, 5)
IMAGE = torch.rand(3, 8, 8)
LABELS = torch.tensor([[0, 15], [8, 0]])
META4 = torch.empty(1, 1, 4, 4, device="meta")


def _with_nan(x: torch.Tensor) -> torch.Tensor:
    x = x.clone()
    x.view(-1)[0] = NAN
    return x


BILINEAR = [bilinear_interpolate, bilinear_interpolate_gather, bilinear_interpolate_matmul]

# (call, argument name the message must contain)
CASES: list[tuple[str, object, str]] = []


def case(label: str, call, name: str) -> None:
    CASES.append((label, call, name))


for fn in BILINEAR:
    f = fn.__name__
    case(f"{f}: x list", lambda fn=fn: fn([[1.0]], size=4), "x")
    case(f"{f}: x 3-D", lambda fn=fn: fn(X3, size=4), "x")
    case(f"{f}: x int", lambda fn=fn: fn(X4.long(), size=4), "x")
    case(f"{f}: x complex", lambda fn=fn: fn(X4.to(torch.complex64), size=4), "x")
    case(f"{f}: x no channels", lambda fn=fn: fn(torch.rand(1, 0, 4, 4), size=4), "x")
    case(f"{f}: size huge", lambda fn=fn: fn(X4, size=10**6), "size")
    case(f"{f}: size 0", lambda fn=fn: fn(X4, size=0), "size")
    case(f"{f}: size -3", lambda fn=fn: fn(X4, size=-3), "size")
    case(f"{f}: size bool", lambda fn=fn: fn(X4, size=True), "size")
    case(f"{f}: size float", lambda fn=fn: fn(X4, size=8.0), "size")
    case(f"{f}: size 3-tuple", lambda fn=fn: fn(X4, size=(8, 8, 8)), "size")
    case(f"{f}: size too many values", lambda fn=fn: fn(torch.rand(64, 64, 2, 2), size=8192), "size")
    case(f"{f}: scale nan", lambda fn=fn: fn(X4, scale_factor=NAN), "scale_factor")
    case(f"{f}: scale inf", lambda fn=fn: fn(X4, scale_factor=INF), "scale_factor")
    case(f"{f}: scale -2", lambda fn=fn: fn(X4, scale_factor=-2.0), "scale_factor")
    case(f"{f}: scale bool", lambda fn=fn: fn(X4, scale_factor=True), "scale_factor")
    case(f"{f}: scale huge", lambda fn=fn: fn(X4, scale_factor=1e6), "scale_factor")
    case(f"{f}: scale empty output", lambda fn=fn: fn(X4, scale_factor=0.1), "scale_factor")
    case(f"{f}: both", lambda fn=fn: fn(X4, size=8, scale_factor=2.0), "size and scale_factor")
    case(f"{f}: neither", lambda fn=fn: fn(X4), "size and scale_factor")
    case(f"{f}: align_corners str", lambda fn=fn: fn(X4, size=8, align_corners="yes"), "align_corners")
    case(f"{f}: align_corners 1", lambda fn=fn: fn(X4, size=8, align_corners=1), "align_corners")
case("bilinear_interpolate: order", lambda: bilinear_interpolate(X4, size=8, order="zz"), "order")
case("bilinear_interpolate_matmul: NaN", lambda: bilinear_interpolate_matmul(_with_nan(X4), size=8), "x")
case("bilinear_interpolate_matmul: inf", lambda: bilinear_interpolate_matmul(X4 / 0, size=8), "x")

for label, kwargs, name in [("x 4-D", {"x": X4}, "x"), ("x int", {"x": X3.long()}, "x"),
                            ("size 0", {"size": 0}, "size"), ("size huge", {"size": 10**6}, "size"),
                            ("size bool", {"size": False}, "size"), ("size 2-tuple", {"size": (3, 4)}, "size"),
                            ("scale nan", {"scale_factor": NAN}, "scale_factor"),
                            ("align_corners None", {"size": 4, "align_corners": None}, "align_corners")]:
    kwargs = {"x": X3, **kwargs}
    case(f"linear_interpolate: {label}", lambda kwargs=kwargs: linear_interpolate(**kwargs), name)

for fn in (source_coordinates, linear_weights, interpolation_matrix):
    f = fn.__name__
    case(f"{f}: out_size huge", lambda fn=fn: fn(10**6, 10**6, False), "out_size")
    case(f"{f}: out_size 0", lambda fn=fn: fn(0, 4, False), "out_size")
    case(f"{f}: out_size float", lambda fn=fn: fn(4.0, 2, False), "out_size")
    case(f"{f}: out_size bool", lambda fn=fn: fn(True, 2, False), "out_size")
    case(f"{f}: in_size -1", lambda fn=fn: fn(4, -1, False), "in_size")
    case(f"{f}: in_size huge", lambda fn=fn: fn(4, 10**6, False), "in_size")
    case(f"{f}: align_corners str", lambda fn=fn: fn(4, 2, "False"), "align_corners")
    case(f"{f}: scale nan", lambda fn=fn: fn(4, 2, False, NAN), "scale_factor")
    case(f"{f}: scale 0", lambda fn=fn: fn(4, 2, False, 0.0), "scale_factor")
    case(f"{f}: dtype half", lambda fn=fn: fn(4, 2, False, dtype=torch.float16), "dtype")
case("linear_weights: device gpu", lambda: linear_weights(4, 2, False, device="gpu"), "device")
case("interpolation_matrix: device int", lambda: interpolation_matrix(4, 2, False, device=3), "device")

for label, args, name in [("x nan", (NAN, 0.0, 4, 4), "x"), ("x outside", (3.5, 0.0, 4, 4), "x"),
                          ("y inf", (0.0, INF, 4, 4), "y"), ("y str", (0.0, "1", 4, 4), "y"),
                          ("x bool", (True, 0.0, 4, 4), "x"), ("height 0", (0.0, 0.0, 0, 4), "height"),
                          ("width float", (0.0, 0.0, 4, 4.0), "width"), ("width huge", (0.0, 0.0, 4, 10**9), "width")]:
    case(f"bilinear_neighbours: {label}", lambda args=args: bilinear_neighbours(*args), name)

for label, args, name in [("method", (IMAGE, 4, "lanczos9"), "method"), ("method int", (IMAGE, 4, 3), "method"),
                          ("image list", ([[1.0]], 4, "area"), "image"), ("image 4-D", (IMAGE[None], 4, "area"), "image"),
                          ("image complex", (IMAGE.to(torch.complex64), 4, "bilinear"), "image"),
                          ("image uint8", ((IMAGE * 255).to(torch.uint8), 4, "area"), "image"),
                          ("image empty", (torch.rand(3, 0, 8), 4, "area"), "image"),
                          ("size True", (IMAGE, True, "area"), "size"), ("size 3-tuple", (IMAGE, (4, 4, 4), "area"), "size"),
                          ("size 0", (IMAGE, 0, "area"), "size"), ("size huge", (IMAGE, 10**6, "area"), "size"),
                          ("size str", (IMAGE, "4", "area"), "size")]:
    case(f"resample_image: {label}", lambda args=args: resample_image(*args), name)

for label, args, name in [("size 0", (LABELS, 0, "labels nearest"), "size"),
                          ("size huge", (LABELS, 10**6, "logits bilinear"), "size"),
                          ("size bool", (LABELS, True, "labels nearest"), "size"),
                          ("method", (LABELS, 4, "bicubic"), "method"),
                          ("labels float", (LABELS.float(), 4, "labels nearest"), "labels"),
                          ("labels 3-D", (LABELS[None], 4, "labels nearest"), "labels"),
                          ("labels out of range", (LABELS + 30, 4, "labels nearest"), "labels"),
                          ("labels negative", (LABELS - 1, 4, "labels nearest"), "labels"),
                          ("labels empty", (LABELS[:0], 4, "labels nearest"), "labels"),
                          ("labels meta", (torch.zeros(2, 2, dtype=torch.long, device="meta"), 4, "labels nearest"),
                           "labels"),
                          ("num_classes 0", (LABELS, 4, "logits bilinear", 0), "num_classes"),
                          ("num_classes float", (LABELS, 4, "logits bilinear", 21.0), "num_classes"),
                          ("classes x size", (LABELS, 8192, "logits bilinear", 10**4), "size")]:
    case(f"upsample_segmentation: {label}", lambda args=args: upsample_segmentation(*args), name)
for label, args, name in [("in_size 0", (0,), "in_size"), ("in_size float", (473.0,), "in_size"),
                          ("stride 4", (473, 4), "output_stride"), ("stride bool", (473, True), "output_stride")]:
    case(f"feature_map_size: {label}", lambda args=args: feature_map_size(*args), name)

# plots
case("plot_values: str", lambda: plot_values("image"), "image")
case("plot_values: 3-D", lambda: plot_values(IMAGE), "image")
case("plot_values: meta", lambda: plot_values(torch.empty(2, 2, device="meta")), "image")
case("plot_linear_interpolation: values 2-D", lambda: plot_linear_interpolation([[1.0, 2.0]], 4), "values")
case("plot_linear_interpolation: size 0", lambda: plot_linear_interpolation([1.0, 2.0], 0), "size")
case("plot_linear_interpolation: align_corners", lambda: plot_linear_interpolation([1.0, 2.0], 4, align_corners=2),
     "align_corners")
case("plot_sample_grids: in_size 0", lambda: plot_sample_grids(0, 8), "in_size")
case("plot_sample_grids: in_size huge", lambda: plot_sample_grids(10**4, 8), "in_size")
case("plot_sample_grids: out_size bool", lambda: plot_sample_grids(4, True), "out_size")
case("plot_bilinear_neighbours: image str", lambda: plot_bilinear_neighbours("img", 0.5, 0.5), "image")
case("plot_bilinear_neighbours: x outside", lambda: plot_bilinear_neighbours(torch.rand(4, 4), 9.0, 0.5), "x")
case("plot_bilinear_neighbours: y nan", lambda: plot_bilinear_neighbours(torch.rand(4, 4), 0.5, NAN), "y")
case("plot_interpolation_matrix: 1-D", lambda: plot_interpolation_matrix(torch.rand(4)), "matrix")
case("plot_resampling_comparison: method", lambda: plot_resampling_comparison(IMAGE, 4, methods=["x"]), "method")
case("plot_resampling_comparison: size", lambda: plot_resampling_comparison(IMAGE, 0), "size")
case("plot_class_map: str", lambda: plot_class_map("labels"), "labels")
case("plot_class_map: float", lambda: plot_class_map(LABELS.float()), "labels")
case("plot_feature_alignment: stride", lambda: plot_feature_alignment(473, 4, align_corners=True), "output_stride")
case("plot_feature_alignment: in_size", lambda: plot_feature_alignment(-1, 8, align_corners=True), "in_size")
case("plot_feature_alignment: align_corners", lambda: plot_feature_alignment(473, 8, align_corners="no"),
     "align_corners")
case("plot_timings: empty", lambda: plot_timings({}), "timings")
case("plot_timings: reference", lambda: plot_timings({"a": 1.0}, reference="b"), "reference")

# draw/update pairs (an explorer's callback passes slider values; the data is checked when drawn)
def ax():
    return plt.subplots()[1]


case("plot_data: dict", lambda: plot_data({"a": 1}, "values", 1, "(L,)"), "values")
case("draw_linear_interpolation: values 2-D", lambda: draw_linear_interpolation(ax(), torch.rand(2, 2)), "values")
case("update_linear_interpolation: size 0",
     lambda: update_linear_interpolation(draw_linear_interpolation(ax(), [1.0, 2.0]), 0, False), "size")
case("update_linear_interpolation: align_corners",
     lambda: update_linear_interpolation(draw_linear_interpolation(ax(), [1.0, 2.0]), 4, "no"), "align_corners")
case("draw_sample_grids: in_size bool", lambda: draw_sample_grids(ax(), True), "in_size")
case("update_sample_grids: out_size huge",
     lambda: update_sample_grids(draw_sample_grids(ax(), 4), 10**6, False), "out_size")
case("draw_bilinear_neighbours: image 1-D", lambda: draw_bilinear_neighbours(ax(), torch.rand(4)), "image")
case("update_bilinear_neighbours: x outside",
     lambda: update_bilinear_neighbours(draw_bilinear_neighbours(ax(), torch.rand(3, 3)), 5.0, 0.0), "x")
case("update_interpolation_matrix: str",
     lambda: update_interpolation_matrix(draw_interpolation_matrix(ax()), "A"), "matrix")
case("update_resampling: 2-D", lambda: update_resampling(draw_resampling(ax()), torch.rand(4, 4), "area"),
     "resampled")
case("update_class_map: float labels", lambda: update_class_map(draw_class_map(ax()), LABELS.float()), "labels")
case("update_class_map: meta labels",
     lambda: update_class_map(draw_class_map(ax()), torch.zeros(2, 2, dtype=torch.long, device="meta")), "labels")
case("update_feature_alignment: in_size 0",
     lambda: update_feature_alignment(draw_feature_alignment(ax()), 0, 8, True), "in_size")
case("feature_drift: stride 5", lambda: feature_drift(473, 5, True), "output_stride")

# explorers: out-of-range initial values raise, never clamp
case("explore_linear_interpolation: size 0", lambda: explore_linear_interpolation(size=0), "size")
case("explore_linear_interpolation: size > max", lambda: explore_linear_interpolation(size=30), "size")
case("explore_linear_interpolation: max_size 0", lambda: explore_linear_interpolation(max_size=0), "max_size")
case("explore_linear_interpolation: values", lambda: explore_linear_interpolation(values="abc"), "values")
case("explore_linear_interpolation: align_corners", lambda: explore_linear_interpolation(align_corners=1),
     "align_corners")
case("explore_align_corners: scale 10", lambda: explore_align_corners(scale_factor=10.0), "scale_factor")
case("explore_align_corners: scale nan", lambda: explore_align_corners(scale_factor=NAN), "scale_factor")
case("explore_align_corners: in_size 0", lambda: explore_align_corners(in_size=0), "in_size")
case("explore_bilinear_point: x outside", lambda: explore_bilinear_point(x=7.0), "x")
case("explore_bilinear_point: y negative", lambda: explore_bilinear_point(y=-1.0), "y")
case("explore_bilinear_point: image 3-D", lambda: explore_bilinear_point(image=IMAGE), "image")
case("explore_resampling: size 4", lambda: explore_resampling(IMAGE, size=4), "size")
case("explore_resampling: size 500", lambda: explore_resampling(IMAGE, size=500), "size")
case("explore_resampling: method", lambda: explore_resampling(IMAGE, method="lanczos"), "method")
case("explore_resampling: image int", lambda: explore_resampling(IMAGE.long()), "image")
case("explore_interpolation_matrix: out_size 0", lambda: explore_interpolation_matrix(out_size=0), "out_size")
case("explore_interpolation_matrix: in_size 99", lambda: explore_interpolation_matrix(in_size=99), "in_size")
case("explore_segmentation_upsampling: factor 0", lambda: explore_segmentation_upsampling(factor=0), "factor")
case("explore_segmentation_upsampling: factor 2.5", lambda: explore_segmentation_upsampling(factor=2.5), "factor")
case("explore_segmentation_upsampling: method", lambda: explore_segmentation_upsampling(method="x"), "method")
case("explore_segmentation_upsampling: labels", lambda: explore_segmentation_upsampling(labels=LABELS.float()),
     "labels")
case("explore_feature_alignment: in_size 10", lambda: explore_feature_alignment(in_size=10), "in_size")
case("explore_feature_alignment: stride 32", lambda: explore_feature_alignment(output_stride=32), "output_stride")
case("explore_feature_alignment: align_corners", lambda: explore_feature_alignment(align_corners="yes"),
     "align_corners")


@pytest.mark.parametrize(("label", "call", "name"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_names_the_argument(label, call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()


def test_case_count():
    assert len(CASES) >= 150  # the count in the report
