"""Lesson notebooks 01-04 have the issue-14 shape: enough exercises, code to write, a short core.

Rules (checked on fixtures below, so each can fail):
* an exercise is a code cell whose nbgrader metadata says ``solution: true``;
* it *writes code* when one of its solution regions sits inside a ``def``/``class`` of the same
  cell (the region is a function or method body), or spans more than 2 code lines (non-blank,
  not comments) — a one-line ``answer = ...`` is a prediction, not code;
* the core is every markdown cell before the first heading that starts with ``## Going further``;
  its prose is counted as ``len(text.split())`` words.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))  # tools/ is not a package
import student_edition as se  # noqa: E402

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
LESSONS = sorted(p for p in NOTEBOOK_DIR.glob("0[1-4]_*.ipynb"))
MIN_EXERCISES, MIN_CODE_EXERCISES, MAX_CORE_WORDS = 4, 2, 1200
GOING_FURTHER = re.compile(r"^##\s+Going further", re.MULTILINE)


def writes_code(cell: nbformat.NotebookNode) -> bool:
    lines = cell.source.splitlines()
    for begin, end in se.solution_regions(cell.source, "cell"):
        indent = len(lines[begin]) - len(lines[begin].lstrip())
        enclosing = [l for l in lines[:begin] if l.strip() and len(l) - len(l.lstrip()) < indent]
        if any(re.match(r"\s*(async\s+def|def|class)\b", line) for line in enclosing):
            return True
        code = [l for l in lines[begin + 1:end] if l.strip() and not l.strip().startswith("#")]
        if len(code) > 2:
            return True
    return False


def exercises(nb: nbformat.NotebookNode) -> tuple[int, int]:
    """(exercises, of which write code)."""
    cells = [c for c in nb.cells if se.is_solution(c)]
    return len(cells), sum(writes_code(c) for c in cells)


def core_words(nb: nbformat.NotebookNode) -> int:
    words = 0
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        match = GOING_FURTHER.search(cell.source)
        words += len((cell.source[:match.start()] if match else cell.source).split())
        if match:
            break
    return words


def _solution(source: str) -> nbformat.NotebookNode:
    return new_code_cell(source, metadata={"nbgrader": {"solution": True, "grade_id": "x"}})


def test_rules_on_fixtures():
    predict = _solution(f"{se.BEGIN}\nanswer = 31\n{se.END}")
    two_lines = _solution(f"{se.BEGIN}\na = 1\nb = 2\n# comment\n{se.END}")
    function = _solution(f'def f(x):\n    """Doc."""\n    {se.BEGIN}\n    return x\n    {se.END}')
    long = _solution(f"{se.BEGIN}\na = 1\nb = 2\nc = a + b\n{se.END}")
    assert [writes_code(c) for c in (predict, two_lines, function, long)] == [False, False, True, True]
    passing = new_notebook(cells=[predict, two_lines, function, long])
    assert exercises(passing) == (4, 2)
    assert exercises(new_notebook(cells=[predict, two_lines, function])) == (3, 1)
    prose = " ".join(["word"] * 1200)
    nb = new_notebook(cells=[new_markdown_cell(prose[:-5]), new_code_cell("x = 1"),
                             new_markdown_cell("# one\n## Going further · 5. More\n" + prose)])
    assert core_words(nb) == 1199 + 2                                   # "# one" counted, the rest not
    assert core_words(new_notebook(cells=[new_markdown_cell(prose + " extra")])) == 1201


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_has_enough_exercises_and_code_to_write(path: Path):
    total, code = exercises(nbformat.read(path, as_version=4))
    assert total >= MIN_EXERCISES and code >= MIN_CODE_EXERCISES, (
        f"{path.name}: {total} exercises ({code} write code); want >= {MIN_EXERCISES} "
        f"(>= {MIN_CODE_EXERCISES} writing code)")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_core_prose_is_short(path: Path):
    nb = nbformat.read(path, as_version=4)
    assert any(c.cell_type == "markdown" and GOING_FURTHER.search(c.source) for c in nb.cells), (
        f"{path.name}: no '## Going further' heading marks the end of the core")
    assert core_words(nb) <= MAX_CORE_WORDS, f"{path.name}: core prose {core_words(nb)} words > {MAX_CORE_WORDS}"
