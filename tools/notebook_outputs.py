"""Keep committed notebooks clean.

    python tools/notebook_outputs.py clear notebooks/*.ipynb     # strip outputs
    python tools/notebook_outputs.py execute notebooks/01_*.ipynb  # run, keep only checked outputs

Saved widget state (``metadata["widgets"]``) is dropped. Only cells whose source contains ``# NBVAL_CHECK_OUTPUT`` keep their outputs (nbval compares
them on every CI run); every other cell is cleared and loses its execution count. The kept
cells are renumbered 1, 2, 3, ... so counts are always in order.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nbformat
from nbclient import NotebookClient

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def strip(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Clear outputs of unchecked cells and renumber the checked ones in order."""
    nb.metadata.pop("widgets", None)  # saved ipywidgets state: large, volatile, useless without a kernel
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        if CHECK_MARK in cell.source and cell.outputs:
            count += 1
            cell.execution_count = count
            for output in cell.outputs:
                if "execution_count" in output:
                    output.execution_count = count
        else:
            cell.outputs = []
            cell.execution_count = None
    return nb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["clear", "execute"])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell when executing")
    args = parser.parse_args()
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        if args.action == "execute":
            NotebookClient(nb, timeout=args.timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
        nbformat.write(strip(nb), path)
        print(f"{args.action}: {path}")


if __name__ == "__main__":
    main()
