"""The command line: ``visual-segment train|test --config FILE [--set SECTION.KEY=VALUE ...]``.

Run directly for one process, or under torchrun for several::

    python -m visual.segment train --config configs/tiny_cpu.yaml --set TRAIN.epochs=2
    torchrun --standalone --nproc_per_node=8 -m visual.segment train --config configs/ade20k_pspnet50.yaml
    python -m visual.segment test --config configs/ade20k_pspnet50.yaml
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import torch.distributed as dist

from visual.segment.config import load_config

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the two subcommands."""
    parser = argparse.ArgumentParser(prog="visual-segment", description="Train or test PSPNet from a semseg-style "
                                     "YAML config; launch with torchrun for several processes or machines.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("train", "train (resume with --set TRAIN.resume=PATH)"),
                       ("test", "predict TEST.test_list, write gray/ and color/ PNGs, print mIoU")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--config", required=True, help="YAML file with DATA, TRAIN, Distributed, TEST")
        command.add_argument("--set", dest="overrides", action="extend", nargs="+", default=[],
                             metavar="SECTION.KEY=VALUE", help="override a config value (parsed as YAML)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; errors in the config or the data end the run with their message (exit 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config, args.overrides)
        if args.command == "train":
            from visual.segment.engine import train

            train(config)
        else:
            from visual.segment.evaluate import run_test

            run_test(config)
    except (ValueError, TypeError, FileNotFoundError, ImportError) as err:  # ImportError: test before the evaluation issue
        parser.exit(2, f"visual-segment {args.command}: error: {err}\n")
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    return 0
