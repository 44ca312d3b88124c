"""tools/tag_sweep_cells.py tags exactly the sweep cells and changes nothing else."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))  # tools/ is not a package
import tag_sweep_cells  # noqa: E402


def _notebook():
    return new_notebook(cells=[
        new_markdown_cell("Call `sweep(explorer)` to test"),               # markdown: not a sweep cell
        new_code_cell("explorer = explore_rf()\nexplorer"),
        new_code_cell("changes = sum(sweep(e) for e in explorers)\nchanges", metadata={"tags": ["keep"]}),
        new_code_cell("sweep(explorer, steps=3)", metadata={"tags": ["remove-cell"]}),
        new_code_cell("no_sweep(x)"),                                       # a different name
    ])


def test_tags_only_the_sweep_cells_once():
    nb = _notebook()
    ids = [cell.id for cell in nb.cells]
    sources = [cell.source for cell in nb.cells]
    assert tag_sweep_cells.tag_sweep_cells(nb) == 1
    assert [cell.metadata.get("tags") for cell in nb.cells] == [
        None, None, ["keep", "remove-cell"], ["remove-cell"], None]
    assert [cell.id for cell in nb.cells] == ids and [cell.source for cell in nb.cells] == sources
    assert tag_sweep_cells.tag_sweep_cells(nb) == 0                       # idempotent


def test_main_writes_in_place_and_check_mode_reports(tmp_path, capsys):
    path = tmp_path / "01_x.ipynb"
    nbformat.write(_notebook(), path)
    assert tag_sweep_cells.main(["--check", str(path)]) == 1
    assert "remove-cell" not in nbformat.read(path, as_version=4).cells[2].metadata["tags"]  # untouched
    assert tag_sweep_cells.main([str(path)]) == 0
    assert nbformat.read(path, as_version=4).cells[2].metadata["tags"] == ["keep", "remove-cell"]
    assert tag_sweep_cells.main(["--check", str(path)]) == 0
    assert "0 sweep cell(s) untagged" in capsys.readouterr().out
