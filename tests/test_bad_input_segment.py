"""Bad input to visual.segment (issue 13): each public function refuses it naming the argument."""

import pytest
import torch

from segment_support import TINY_CONFIG
from visual.segment.config import apply_overrides, load_config, parse_override
from visual.segment.data import SegmentationList, read_list
from visual.segment.engine import area_metrics, label_areas, split_batch
from visual.segment.evaluate import generated_palette
from visual.segment.tiny import make_tiny_dataset

pytestmark = pytest.mark.timeout(120)  # every test here is small; the slow ones set their own

# (SECTION.KEY, bad value as YAML): wrong type, bool for int, zero/negative, NaN/inf, out of range
CONFIG_CASES = [
    ("DATA.classes", v) for v in ("three", "True", "0", "-1", "2.5", "256", "[3]")
] + [
    ("TRAIN.layers", v) for v in ("20", "0", "True", "resnet50", ".nan")
] + [
    ("TRAIN.arch", "psa"), ("TRAIN.backbone", "timm"), ("TRAIN.zoom_factor", "4"), ("TRAIN.amp", "fp8"),
    ("TRAIN.amp", "True"),
] + [
    (f"TRAIN.{key}", v) for key in ("sync_bn", "augment", "freeze_bn") for v in ("1", "yes please", "null")
] + [
    (f"TRAIN.{key}", v) for key in ("train_h", "train_w") for v in ("0", "-5", "True", "33.5", "100000", "abc")
] + [
    (f"TRAIN.{key}", v) for key in ("base_lr", "momentum", "weight_decay", "aux_weight", "power", "dropout")
    for v in (".nan", ".inf", "-0.1", "fast", "True")
] + [
    ("TRAIN.scale_min", "0"), ("TRAIN.scale_min", ".nan"), ("TRAIN.scale_max", "0.1"), ("TRAIN.scale_max", ".inf"),
    ("TRAIN.rotate_min", "-720"), ("TRAIN.rotate_max", "-20"), ("TRAIN.rotate_max", ".nan"),
    ("TRAIN.ignore_label", "256"), ("TRAIN.ignore_label", "-1"), ("TRAIN.dropout", "1.0"),
] + [
    (f"TRAIN.{key}", v) for key in ("batch_size", "epochs", "print_freq", "save_freq", "accumulate_steps")
    for v in ("0", "-2", "True", "1.5", "many")
] + [
    (f"TRAIN.{key}", v) for key in ("workers", "start_epoch") for v in ("-1", "True", "2.0")
] + [
    ("TRAIN.manual_seed", "-1"), ("TRAIN.manual_seed", "True"), ("TRAIN.max_iter", "0"), ("TRAIN.max_iter", "1.5"),
    ("TRAIN.bins", "[0, 1]"), ("TRAIN.bins", "6"), ("TRAIN.bins", "[1.5]"), ("TRAIN.bins", "[True]"),
] + [
    (f"TEST.{key}", v) for key in ("base_size", "test_h", "test_w") for v in ("0", "True", "99999", "1.5")
] + [
    ("TEST.scales", "[0]"), ("TEST.scales", "[.nan]"), ("TEST.scales", "[1.0, fast]"), ("TEST.scales", ".inf"),
    ("TEST.split", "holdout"), ("TEST.has_prediction", "2"), ("TEST.index_start", "-1"), ("TEST.index_step", "True"),
] + [
    (path, v) for path in ("DATA.data_root", "DATA.train_list", "TRAIN.save_path", "TRAIN.weight", "TEST.model_path")
    for v in ("5", "[a, b]", "True")
]


@pytest.mark.parametrize("name, value", CONFIG_CASES)
def test_config_values(name, value):
    with pytest.raises((ValueError, TypeError), match=name.replace(".", r"\.")):
        load_config(TINY_CONFIG, [f"{name}={value}"])


@pytest.mark.parametrize("text", ["TRAIN.epochs", "epochs=3", 5, None, "TRAIN.epochs=[1,", "=3"])
def test_parse_override(text):
    with pytest.raises((ValueError, TypeError), match="--set"):
        parse_override(text)


@pytest.mark.parametrize("text", ["NOPE.epochs=1", "TRAIN.epoch=1", "DATA.clases=3"])
def test_apply_overrides_unknown_key(text):
    with pytest.raises(ValueError, match=text.split("=")[0].split(".")[0]):
        apply_overrides(load_config(TINY_CONFIG), [text])


def test_load_config_file(tmp_path):
    cases = {"absent.yaml": None, "list.yaml": "- 1\n- 2\n", "bad.yaml": "DATA: [\n", "section.yaml": "DATA: 3\n",
             "key.yaml": "TRAIN:\n  lr: 0.1\n", "unknown.yaml": "MODEL:\n  arch: psp\n"}
    for name, text in cases.items():
        if text is not None:
            (tmp_path / name).write_text(text)
        with pytest.raises((ValueError, TypeError, FileNotFoundError), match="config"):
            load_config(tmp_path / name)


@pytest.mark.parametrize("kwargs, name", [
    ({"count": 0}, "count"), ({"count": True}, "count"), ({"count": 10**6}, "count"), ({"count": 2.5}, "count"),
    ({"size": 4}, "size"), ({"size": 10**5}, "size"), ({"size": "33"}, "size"), ({"val_count": -1}, "val_count"),
])
def test_make_tiny_dataset(tmp_path, kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        make_tiny_dataset(str(tmp_path), **kwargs)
    assert not (tmp_path / "images").exists()  # refused before writing anything


@pytest.mark.parametrize("args, name", [((6, 4, 1), "batch_size"), ((16, 3, 1), "batch_size"), ((4, 1, 3), "batch_size")])
def test_split_batch(args, name):
    with pytest.raises(ValueError, match=name):
        split_batch(*args)


def test_list_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="list file"):
        read_list(str(tmp_path / "absent.txt"), str(tmp_path))
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(ValueError, match="list file"):
        SegmentationList(str(tmp_path / "empty.txt"), str(tmp_path))
    (tmp_path / "three.txt").write_text("a b c\n")
    with pytest.raises(ValueError, match="three.txt line 1"):
        read_list(str(tmp_path / "three.txt"), str(tmp_path))


def test_generated_palette_and_metrics_refuse_nonsense():
    with pytest.raises(ValueError, match="num_classes"):
        generated_palette(0)
    with pytest.raises(TypeError, match="num_classes"):
        generated_palette(True)
    assert area_metrics(torch.zeros(3, 2, dtype=torch.int64)) == {"mIoU": 0.0, "mAcc": 0.0, "allAcc": 0.0}
    with pytest.raises((ValueError, TypeError), match="pred"):
        label_areas(torch.zeros(1, 2, 2), torch.zeros(1, 2, 2, dtype=torch.long), 2, 255)

