"""tools/lesson_plan.py: the core is cut at '## Going further', timed by a real run, written between markers."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))  # tools/ is not a package
import lesson_plan  # noqa: E402


def _notebook() -> nbformat.NotebookNode:
    return new_notebook(cells=[
        new_markdown_cell("# Title\n\none two three"),
        new_code_cell("import time\ntime.sleep(0.3)"),
        new_code_cell("### BEGIN SOLUTION\nx = 1\ny = 2\n### END SOLUTION",
                      metadata={"nbgrader": {"solution": True, "grade_id": "09-x"}}),
        new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
                      metadata={"nbgrader": {"solution": True, "grade_id": "09-f"}}),
        new_code_cell("sweep(explorer)", metadata={"tags": ["remove-cell"]}),
        new_markdown_cell("four five\n## Going further · 9. More\nnot counted at all"),
        new_code_cell("raise RuntimeError('not in the core')"),
    ])


def test_core_stops_at_going_further_and_drops_sweeps():
    cells = lesson_plan.core(_notebook()).cells
    assert [c.source[:12] for c in cells] == ["# Title\n\none", "import time\n", "### BEGIN SO",
                                              "def f():\n   ", "four five\n"]


def test_measure_runs_the_core_and_counts(tmp_path):
    path = tmp_path / "09_fixture.ipynb"
    nbformat.write(_notebook(), path)
    row = lesson_plan.measure(path, timeout=60)
    assert 0.3 <= row["run_s"] < 10                      # the sleep was timed; the error cell never ran
    assert row["words"] == 7 and row["answers"] == 2 and row["code"] == 1
    assert row["minutes"] == pytest.approx(row["run_s"] / 60 + 7 / lesson_plan.WORDS_PER_MINUTE
                                           + 2 * lesson_plan.MINUTES_PER_ANSWER + lesson_plan.MINUTES_PER_CODE_EXERCISE)
    table = lesson_plan.table({"09_fixture": row})
    assert "| `09_fixture.ipynb` (core) |" in table and "**total**" in table


def test_write_replaces_only_the_marked_block(tmp_path):
    doc = tmp_path / "guide.md"
    doc.write_text(f"before\n{lesson_plan.BEGIN}\nold\n{lesson_plan.END}\nafter\n")
    lesson_plan.write(doc, "new table")
    assert doc.read_text() == f"before\n{lesson_plan.BEGIN}\nnew table\n{lesson_plan.END}\nafter\n"
    (tmp_path / "none.md").write_text("no markers")
    with pytest.raises(SystemExit, match="no <!-- lesson-plan:begin -->"):
        lesson_plan.write(tmp_path / "none.md", "x")
