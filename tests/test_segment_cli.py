"""visual.segment.cli: subcommands, --set, errors as messages, the console script."""

import tomllib

import pytest

from segment_support import ROOT, TINY_CONFIG
from visual.segment.cli import build_parser, main

pytestmark = pytest.mark.timeout(120)  # every test here is small; the slow ones set their own


def test_set_takes_several_values_and_repeats():
    args = build_parser().parse_args(["train", "--config", "c.yaml", "--set", "TRAIN.epochs=1", "TRAIN.layers=34",
                                      "--set", "DATA.classes=4"])
    assert (args.command, args.config) == ("train", "c.yaml")
    assert args.overrides == ["TRAIN.epochs=1", "TRAIN.layers=34", "DATA.classes=4"]


@pytest.mark.parametrize("argv, message", [
    (["train", "--config", "absent.yaml"], "config: no file"),
    (["train", "--config", TINY_CONFIG, "--set", "TRAIN.layers=20"], "TRAIN.layers must be one of"),
    (["test", "--config", TINY_CONFIG, "--set", "TRAIN.epochs"], "SECTION.KEY=VALUE"),
    (["train", "--config", TINY_CONFIG, "--set", "DATA.train_list=absent.txt"], "list file 'absent.txt' does not exist"),
])
def test_errors_end_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_console_script():
    with open(f"{ROOT}/pyproject.toml", "rb") as handle:
        scripts = tomllib.load(handle)["project"]["scripts"]
    assert scripts["visual-segment"] == "visual.segment.cli:main"
