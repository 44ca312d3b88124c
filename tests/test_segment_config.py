"""visual.segment.config: the official YAML files, defaults, --set overrides, checks."""

import os

import pytest
import yaml

from segment_support import ROOT, TINY_CONFIG
from visual.segment.config import DEFAULTS, EXTRA_KEYS, IGNORED_KEYS, load_config, parse_override

pytestmark = pytest.mark.timeout(120)  # every test here is small; the slow ones set their own

CONFIGS = os.path.join(ROOT, "configs")
RECIPES = [f"{d}_pspnet{n}.yaml" for d in ("voc2012", "ade20k", "cityscapes") for n in (50, 101)]
# hszhao/semseg config/*/*_pspnet*.yaml (README "Performance" lists the same values)
OFFICIAL = {"voc2012": (21, 473, 50, 512), "ade20k": (150, 473, 100, 512), "cityscapes": (19, 713, 200, 2048)}


@pytest.mark.parametrize("name", RECIPES)
def test_recipes_load_with_the_official_values(name):
    config = load_config(os.path.join(CONFIGS, name))
    classes, crop, epochs, base_size = OFFICIAL[name.split("_")[0]]
    train = config["TRAIN"]
    assert config["DATA"]["classes"] == classes and train["layers"] == int(name.split("pspnet")[1][:-5])
    assert (train["train_h"], train["train_w"], train["epochs"]) == (crop, crop, epochs)
    assert config["TEST"]["base_size"] == base_size and config["TEST"]["test_h"] == crop
    assert (train["base_lr"], train["power"], train["momentum"], train["weight_decay"]) == (0.01, 0.9, 0.9, 0.0001)
    assert (train["batch_size"], train["aux_weight"], train["sync_bn"], train["arch"]) == (16, 0.4, True, "psp")
    assert (train["scale_min"], train["scale_max"], train["rotate_min"], train["rotate_max"]) == (0.5, 2.0, -10, 10)


@pytest.mark.parametrize("name", RECIPES)
def test_recipes_comment_every_value(name):
    lines = open(os.path.join(CONFIGS, name), encoding="utf-8").read().splitlines()
    values = [line for line in lines if ":" in line and not line.strip().startswith("#")
              and not line.rstrip().endswith(":") and not line.split("#")[0].rstrip().endswith(":")]
    assert values and all("#" in line for line in values), [line for line in values if "#" not in line]


def test_recipes_use_only_official_keys_plus_documented_extras():
    for name in RECIPES:
        data = yaml.safe_load(open(os.path.join(CONFIGS, name), encoding="utf-8"))
        for section, values in data.items():
            for key in values:
                assert key in DEFAULTS[section]
                assert f"{section}.{key}" not in EXTRA_KEYS or key == "backbone_weights"  # the ImageNet start


def test_official_file_unchanged_loads(tmp_path):
    # semseg's config/voc2012/voc2012_pspnet50.yaml as shipped: the defaults are its values
    official = {s: {k: v for k, v in values.items() if f"{s}.{k}" not in EXTRA_KEYS} for s, values in DEFAULTS.items()}
    path = tmp_path / "official.yaml"
    path.write_text(yaml.safe_dump(official))
    config = load_config(path)
    assert config["TRAIN"]["backbone"] == "semseg" and config["TRAIN"]["manual_seed"] is None
    assert "TRAIN.train_gpu" in IGNORED_KEYS and "Distributed.dist_url" in IGNORED_KEYS


@pytest.mark.parametrize("text, expected", [
    ("TRAIN.base_lr=0.02", ("TRAIN", "base_lr", 0.02)),
    ("TRAIN.sync_bn=False", ("TRAIN", "sync_bn", False)),
    ("TEST.scales=[0.5, 1.0]", ("TEST", "scales", [0.5, 1.0])),
    ("TRAIN.weight=", ("TRAIN", "weight", None)),
    ("TRAIN.resume=null", ("TRAIN", "resume", None)),
    ("TRAIN.save_path=exp/a=b", ("TRAIN", "save_path", "exp/a=b")),
])
def test_set_values_are_yaml_scalars(text, expected):
    assert parse_override(text) == expected


def test_overrides_apply_and_are_checked():
    config = load_config(TINY_CONFIG, ["TRAIN.epochs=7", "TRAIN.layers=34"])
    assert (config["TRAIN"]["epochs"], config["TRAIN"]["layers"]) == (7, 34)
    with pytest.raises(ValueError, match="TRAIN.epochs"):
        load_config(TINY_CONFIG, ["TRAIN.epochs=0"])
    with pytest.raises(ValueError, match="TRAIN.epoch"):
        load_config(TINY_CONFIG, ["TRAIN.epoch=3"])  # a typo is an error, not ignored
