"""Tag the notebooks' CI sweep cells ``remove-cell`` so the docs site and a student edition hide them.

    python tools/tag_sweep_cells.py                 # every notebooks/0*.ipynb, in place
    python tools/tag_sweep_cells.py --check         # only report untagged sweep cells (exit 1)

A sweep cell is a code cell that calls ``sweep(...)`` (it drives every slider so a callback error
fails nbval). Only ``metadata.tags`` changes; sources, outputs and cell ids stay as they are.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
REMOVE_TAG = "remove-cell"
SWEEP_CALL = re.compile(r"\bsweep\(")


def is_sweep_cell(cell: nbformat.NotebookNode) -> bool:
    """A code cell that calls ``sweep(``."""
    return cell.cell_type == "code" and bool(SWEEP_CALL.search(cell.source))


def tag_sweep_cells(nb: nbformat.NotebookNode) -> int:
    """Add ``remove-cell`` to every sweep cell's tags; return how many cells were changed."""
    changed = 0
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if is_sweep_cell(cell) and REMOVE_TAG not in tags:
            cell.metadata["tags"] = [*tags, REMOVE_TAG]
            changed += 1
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/0*.ipynb")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a sweep cell is untagged")
    args = parser.parse_args(argv)
    untagged = 0
    for path in args.notebooks or sorted(NOTEBOOK_DIR.glob("0*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        changed = tag_sweep_cells(nb)
        untagged += changed
        if changed and not args.check:
            nbformat.write(nb, path)
        print(f"{path.name}: {changed} sweep cell(s) {'untagged' if args.check else 'tagged'}")
    return 1 if args.check and untagged else 0


if __name__ == "__main__":
    sys.exit(main())
