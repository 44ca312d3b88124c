"""Committed notebooks carry no stale outputs and were saved in execution order."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def _code_cells(path: Path) -> list[dict]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [cell for cell in nb["cells"] if cell["cell_type"] == "code"]


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_course_has_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"
    assert (NOTEBOOK_DIR / "00_start_here.ipynb") in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_only_checked_cells_keep_outputs(path: Path):
    stale = [
        i for i, cell in enumerate(_code_cells(path))
        if cell.get("outputs") and CHECK_MARK not in _source(cell)
    ]
    assert not stale, (
        f"{path.name}: code cells {stale} keep outputs but are not '{CHECK_MARK}' cells; "
        "run `make clean-notebooks`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_checked_cells_have_stored_outputs(path: Path):
    empty = [
        i for i, cell in enumerate(_code_cells(path))
        if CHECK_MARK in _source(cell) and not cell.get("outputs")
    ]
    assert not empty, f"{path.name}: '{CHECK_MARK}' cells {empty} have no stored output to compare"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_execution_counts_in_order(path: Path):
    counts = [cell["execution_count"] for cell in _code_cells(path) if cell.get("execution_count")]
    assert counts == sorted(counts) and len(set(counts)) == len(counts), (
        f"{path.name}: execution counts {counts} are out of order; re-run top to bottom "
        "with tools/notebook_outputs.py execute"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_interactive_notebooks_have_a_sweep_cell(path: Path):
    sources = [_source(cell) for cell in _code_cells(path)]
    builds_explorer = any("explore_" in s or "Explorer" in s for s in sources)
    if builds_explorer:
        assert any("sweep(" in s for s in sources), (
            f"{path.name} builds slider explorers but has no sweep cell driving them"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_sweep_cells_are_tagged_remove_cell(path: Path):
    # The CI sweep cells are hidden from the docs site and a student edition (nbconvert's
    # TagRemovePreprocessor drops cells tagged "remove-cell").
    untagged = [
        i for i, cell in enumerate(_code_cells(path))
        if re.search(r"\bsweep\(", _source(cell)) and "remove-cell" not in cell.get("metadata", {}).get("tags", [])
    ]
    assert not untagged, (
        f"{path.name}: sweep cells {untagged} lack the 'remove-cell' tag; run tools/tag_sweep_cells.py"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_saved_widget_state(path: Path):
    metadata = json.loads(path.read_text(encoding="utf-8"))["metadata"]
    assert "widgets" not in metadata, (
        f"{path.name} stores ipywidgets state in its metadata; run `make clean-notebooks`"
    )
