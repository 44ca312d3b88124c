"""visual/inference.py: the official test protocol (hszhao/semseg tool/test.py), checked against
plain forwards, hand-worked windows and a per-window reference loop written from test.py's text."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import visual
from visual.inference import IMAGENET_MEAN, IMAGENET_STD, count_map, predict_probabilities, scaled_size, \
    sliding_windows

MEAN = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
STD = torch.tensor(IMAGENET_STD).view(3, 1, 1)
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def conv_model(kernel_size: int, num_classes: int = 3, seed: int = 0, dict_output: bool = True) -> nn.Module:
    """A tiny segmentation net: one conv (same padding), logits as {"out": ...} or a plain tensor."""
    torch.manual_seed(seed)
    conv = nn.Conv2d(3, num_classes, kernel_size, padding=kernel_size // 2)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = conv

        def forward(self, x: torch.Tensor):
            return {"out": self.conv(x)} if dict_output else self.conv(x)

    return Net()


def random_image(height: int, width: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 256, (3, height, width), generator=torch.Generator().manual_seed(seed),
                         dtype=torch.uint8)


def padded(image: torch.Tensor, crop: int) -> tuple[torch.Tensor, int, int]:
    """The mean-colour padding of test.py: int(pad / 2) on top/left, the rest bottom/right."""
    _, h, w = image.shape
    pad_h, pad_w = max(crop - h, 0), max(crop - w, 0)
    canvas = MEAN.expand(3, h + pad_h, w + pad_w).clone()
    canvas[:, int(pad_h / 2):int(pad_h / 2) + h, int(pad_w / 2):int(pad_w / 2) + w] = image.float()
    return canvas, int(pad_h / 2), int(pad_w / 2)


def official_scale_process(model, image: torch.Tensor, classes: int, crop: int, stride_rate: float,
                           flip: bool) -> np.ndarray:
    """scale_process + net_process of tool/test.py, one window at a time, accumulated in numpy."""
    canvas, top, left = padded(image, crop)
    new_h, new_w = canvas.shape[1:]
    stride = int(np.ceil(crop * stride_rate))
    grid_h = int(np.ceil(float(new_h - crop) / stride) + 1)
    grid_w = int(np.ceil(float(new_w - crop) / stride) + 1)
    prediction = np.zeros((new_h, new_w, classes))
    count = np.zeros((new_h, new_w))
    for index_h in range(grid_h):
        for index_w in range(grid_w):
            e_h = min(index_h * stride + crop, new_h)
            e_w = min(index_w * stride + crop, new_w)
            s_h, s_w = e_h - crop, e_w - crop
            x = ((canvas[:, s_h:e_h, s_w:e_w] - MEAN) / STD)[None]
            if flip:
                x = torch.cat([x, x.flip(3)], 0)
            with torch.no_grad():
                out = model(x)["out"]
            out = F.softmax(out, dim=1)
            out = (out[0] + out[1].flip(2)) / 2 if flip else out[0]
            count[s_h:e_h, s_w:e_w] += 1
            prediction[s_h:e_h, s_w:e_w, :] += out.numpy().transpose(1, 2, 0)
    prediction /= count[:, :, None]
    return prediction[top:top + image.shape[1], left:left + image.shape[2]].transpose(2, 0, 1)


# ---------------------------------------------------------------------------------- windows
def test_windows_of_a_512x683_image_by_hand():
    # stride ceil(473 * 2/3) = 316; grid ceil(39/316)+1 = 2 rows, ceil(210/316)+1 = 2 columns
    assert sliding_windows(512, 683, 473, 2 / 3) == [
        (0, 0, 473, 473), (0, 210, 473, 683), (39, 0, 512, 473), (39, 210, 512, 683)]


def test_windows_of_cityscapes_at_713():
    # 1024 x 2048 at crop 713: stride 476; rows ceil(311/476)+1 = 2, columns ceil(1335/476)+1 = 4
    windows = sliding_windows(1024, 2048, 713)
    assert [w[1] for w in windows[:4]] == [0, 476, 952, 2048 - 713]
    assert [w[0] for w in windows[::4]] == [0, 1024 - 713]


def test_small_image_is_one_window_on_the_padded_canvas():
    assert sliding_windows(100, 200, 473) == [(0, 0, 473, 473)]
    assert sliding_windows(5, 9, (4, 6), 1.0) == [(0, 0, 4, 6), (0, 3, 4, 9), (1, 0, 5, 6), (1, 3, 5, 9)]


@pytest.mark.parametrize("height, width, crop, rate", [
    (512, 683, 473, 2 / 3), (97, 131, 33, 0.5), (40, 40, 40, 1.0), (200, 61, 64, 0.3), (13, 300, 17, 0.9)])
def test_windows_cover_the_canvas_row_by_row_last_flush(height, width, crop, rate):
    windows = sliding_windows(height, width, crop, rate)
    canvas_h, canvas_w = max(height, crop), max(width, crop)
    stride = math.ceil(crop * rate)
    grid_h, grid_w = math.ceil((canvas_h - crop) / stride) + 1, math.ceil((canvas_w - crop) / stride) + 1
    assert len(windows) == grid_h * grid_w
    assert windows == sorted(windows)  # row by row, left to right
    assert all(b - t == crop and r - l == crop and t >= 0 and l >= 0 for t, l, b, r in windows)
    assert max(b for _, _, b, _ in windows) == canvas_h and max(r for *_, r in windows) == canvas_w
    counts = torch.zeros(canvas_h, canvas_w, dtype=torch.int64)
    for t, l, b, r in windows:
        counts[t:b, l:r] += 1
    assert counts.min() >= 1
    assert torch.equal(count_map(height, width, crop, rate), counts)


def test_count_map_of_the_paper_setting_by_hand():
    counts = count_map(512, 683, 473)
    # rows 39..472 are in both window rows, columns 210..472 in both window columns
    assert counts[0, 0] == 1 and counts[100, 0] == 2 and counts[100, 300] == 4 and counts[500, 682] == 1
    assert counts.shape == (512, 683)


@pytest.mark.parametrize("height, width, long_side, expected", [
    (512, 683, 512, (384, 512)), (683, 512, 512, (512, 384)), (300, 300, 256, (256, 256)),
    (375, 500, 256, (192, 256)), (500, 375, 896, (896, 672)), (3, 5, 2, (1, 2))])
def test_scaled_size_keeps_the_aspect_with_pythons_round(height, width, long_side, expected):
    assert scaled_size(height, width, long_side) == expected


# ---------------------------------------------------------------------------------- protocol
def test_single_scale_without_flip_is_one_forward_softmax():
    model = conv_model(3)
    image = random_image(20, 30)
    got = predict_probabilities(model, image, num_classes=3, crop_size=32, base_size=30, flip=False)
    canvas, top, left = padded(image, 32)
    with torch.no_grad():
        logits = model(((canvas - MEAN) / STD)[None])["out"]
    expected = logits.softmax(1)[0, :, top:top + 20, left:left + 30]
    torch.testing.assert_close(got, expected)


def test_single_scale_with_a_resize_is_forward_then_resize_back():
    model = conv_model(1)
    image = random_image(20, 30)
    got = predict_probabilities(model, image, num_classes=3, crop_size=48, base_size=45, flip=False)
    resized = F.interpolate(image[None].float(), size=(30, 45), mode="bilinear", align_corners=False)[0]
    with torch.no_grad():
        small = model(((resized - MEAN) / STD)[None])["out"].softmax(1)
    expected = F.interpolate(small, size=(20, 30), mode="bilinear", align_corners=False)[0]
    torch.testing.assert_close(got, expected)


def test_sliding_equals_whole_image_when_one_crop_covers():
    model = conv_model(3)
    image = random_image(21, 26)
    whole = predict_probabilities(model, image, num_classes=3, crop_size=26, base_size=26)
    bigger = predict_probabilities(model, image, num_classes=3, crop_size=(21, 26), base_size=26)
    assert sliding_windows(21, 26, 26) == [(0, 0, 26, 26)] and sliding_windows(21, 26, (21, 26)) == [(0, 0, 21, 26)]
    expected = torch.from_numpy(official_scale_process(model, image, 3, 26, 2 / 3, True)).float()
    torch.testing.assert_close(whole, expected)
    # the mean colour normalises to 0, the conv's own zero padding: the padded canvas changes nothing
    torch.testing.assert_close(bigger, expected)


def test_sliding_equals_whole_image_for_a_pointwise_model():
    model = conv_model(1)  # a 1x1 conv: every window gives the same probabilities for a pixel
    image = random_image(40, 57)
    whole = predict_probabilities(model, image, num_classes=3, crop_size=64, base_size=57)
    sliding = predict_probabilities(model, image, num_classes=3, crop_size=16, base_size=57)
    assert len(sliding_windows(40, 57, 16)) > 1
    torch.testing.assert_close(sliding, whole)


@pytest.mark.parametrize("height, width, crop, rate, flip", [
    (40, 57, 16, 2 / 3, True), (33, 20, 24, 0.5, False), (30, 30, 30, 2 / 3, True), (19, 45, 20, 1.0, True)])
def test_matches_the_official_loop_window_by_window(height, width, crop, rate, flip):
    model = conv_model(3, num_classes=4, seed=height)
    image = random_image(height, width, seed=width)
    base = max(height, width)  # scale 1.0 leaves the image as it is
    got = predict_probabilities(model, image, num_classes=4, crop_size=crop, stride_rate=rate,
                                base_size=base, flip=flip)
    expected = torch.from_numpy(official_scale_process(model, image, 4, crop, rate, flip)).float()
    torch.testing.assert_close(got, expected)


def test_batch_size_does_not_change_the_result():
    model = conv_model(3)
    image = random_image(50, 61)
    results = [predict_probabilities(model, image, num_classes=3, crop_size=20, base_size=61, batch_size=b)
               for b in (2, 6, 64)]
    for other in results[1:]:
        torch.testing.assert_close(other, results[0])


def test_flip_changes_nothing_for_a_flip_equivariant_model():
    model = conv_model(3)
    with torch.no_grad():  # a left-right symmetric kernel makes the conv commute with mirroring
        model.conv.weight.copy_((model.conv.weight + model.conv.weight.flip(3)) / 2)
    image = random_image(24, 30)
    kwargs = dict(num_classes=3, crop_size=32, base_size=30)
    torch.testing.assert_close(predict_probabilities(model, image, flip=True, **kwargs),
                               predict_probabilities(model, image, flip=False, **kwargs))


def test_flip_averaging_is_symmetric():
    model = conv_model(3)  # not symmetric: without flip the mirrored image gives other numbers
    image = random_image(24, 30)
    kwargs = dict(num_classes=3, crop_size=(30, 30), base_size=30)  # width = crop: no horizontal padding
    direct = predict_probabilities(model, image, **kwargs)
    mirrored = predict_probabilities(model, image.flip(2), **kwargs)
    torch.testing.assert_close(mirrored, direct.flip(2))
    plain = predict_probabilities(model, image, flip=False, **kwargs)
    plain_mirrored = predict_probabilities(model, image.flip(2), flip=False, **kwargs)
    assert not torch.allclose(plain_mirrored, plain.flip(2), atol=1e-4)


def test_multi_scale_is_the_mean_of_single_scales():
    model = conv_model(3)
    image = random_image(30, 40)
    kwargs = dict(num_classes=3, crop_size=24, base_size=40)
    multi = predict_probabilities(model, image, scales=(0.5, 1.0, 1.75), **kwargs)
    singles = [predict_probabilities(model, image, scales=(s,), **kwargs) for s in (0.5, 1.0, 1.75)]
    torch.testing.assert_close(multi, sum(singles) / 3)


def test_probabilities_sum_to_one_and_mode_is_restored():
    model = conv_model(3, dict_output=False).train()  # a plain tensor output is accepted too
    probabilities = predict_probabilities(model, random_image(17, 23), num_classes=3, crop_size=16)
    assert probabilities.shape == (3, 17, 23) and probabilities.dtype == torch.float32
    torch.testing.assert_close(probabilities.sum(0), torch.ones(17, 23))
    assert model.training


def test_float_image_in_255_units_equals_uint8():
    model = conv_model(3)
    image = random_image(17, 23)
    torch.testing.assert_close(predict_probabilities(model, image, num_classes=3, crop_size=16),
                               predict_probabilities(model, image.float(), num_classes=3, crop_size=16))


def test_pspnet_runs_under_the_protocol_in_eval_mode():
    torch.manual_seed(0)
    model = visual.PSPNet(4, "resnet18").train()
    image = random_image(70, 90)
    probabilities = predict_probabilities(model, image, num_classes=4, crop_size=65, base_size=90)
    assert probabilities.shape == (4, 70, 90)
    torch.testing.assert_close(probabilities.sum(0), torch.ones(70, 90))
    assert model.training  # restored after running in eval mode


def test_wrong_num_classes_is_named():
    with pytest.raises(ValueError, match="num_classes"):
        predict_probabilities(conv_model(1, num_classes=3), random_image(10, 10), num_classes=5, crop_size=8)


@CUDA
def test_cuda_equals_cpu():
    model = conv_model(3)
    image = random_image(40, 57)
    kwargs = dict(num_classes=3, crop_size=24, base_size=57, scales=(0.75, 1.0))
    cpu = predict_probabilities(model, image, **kwargs)
    gpu = predict_probabilities(model.cuda(), image, **kwargs)
    assert gpu.device.type == "cuda"
    torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-5, rtol=1e-4)


@CUDA
def test_cuda_pspnet_official_loop():
    torch.manual_seed(0)
    model = visual.PSPNet(4, "resnet18").eval()
    image = random_image(80, 100)
    expected = torch.from_numpy(official_scale_process(model, image, 4, 65, 2 / 3, True)).float()
    got = predict_probabilities(model.cuda(), image.cuda(), num_classes=4, crop_size=65, base_size=100)
    torch.testing.assert_close(got.cpu(), expected, atol=1e-4, rtol=1e-3)


def test_windows_per_pass_keeps_batches_under_the_memory_guard():
    from visual.checks import MAX_ELEMENTS
    from visual.inference import windows_per_pass

    # 150 classes x 473 x 473 = 33.6 M values per crop: 8 would be 268.5 M > 2**28, 7 fit, 3 windows + mirrors
    assert windows_per_pass(150, (473, 473), flip=True) == 3
    assert windows_per_pass(150, (473, 473), flip=False) == 7
    assert windows_per_pass(4, (65, 65), flip=True) == 4 and windows_per_pass(4, (65, 65), False, batch_size=5) == 5
    assert windows_per_pass(2, (8192, 8192), flip=True) == 1  # never zero
    assert 7 * 150 * 473 * 473 <= MAX_ELEMENTS < 8 * 150 * 473 * 473
