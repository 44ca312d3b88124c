"""The student edition (tools/student_edition.py): the stub rule, clear errors, and no leaked solution.

The no-leak and metadata tests run on the real notebooks; ``make test`` also executes the student
edition with nbval (it must run top to bottom, each check printing its "not yet" message).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))  # tools/ is not a package
import student_edition as se  # noqa: E402

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
MIN_SOLUTION_LINE = 20


def _grader(grade_id: str, solution: bool) -> dict:
    return {"nbgrader": {"grade": False, "grade_id": grade_id, "locked": not solution,
                         "schema_version": 3, "solution": solution, "task": False}}


def _exercise(solution_source: str, grade_id: str = "01-x") -> list:
    out = new_output("stream", name="stdout", text="✓ correct\n")
    return [new_markdown_cell("**Exercise 1.1 — predict**: ..."),
            new_code_cell(solution_source, metadata=_grader(grade_id, True), outputs=[out]),
            new_code_cell("# NBVAL_CHECK_OUTPUT\nreport(problems)", metadata=_grader(f"{grade_id}-check", False),
                          outputs=[out])]


def _student(cells: list) -> nbformat.NotebookNode:
    return se.student_notebook(new_notebook(cells=cells), "fixture.ipynb")


@pytest.mark.parametrize("region, stub", [
    ("answer = 31", "answer = ...  # your answer"),
    ("answer = (90,\n          23)\nsecond = 'b'", "answer = ...  # your answer\nsecond = ...  # your answer"),
    ("x = 1\nprint(x)", "...  # your code here"),
    ("answer == 3", "...  # your code here"),
    ("for i in range(3):\n    total = i", "...  # your code here"),
    ("", "...  # your code here"),
])
def test_stub_rule_top_level(region, stub):
    cell = _student(_exercise(f"import math\n{se.BEGIN}\n{region}\n{se.END}\nprint('after')")).cells[1]
    assert cell.source == f"import math\n{stub}\nprint('after')"


def test_function_body_becomes_an_ellipsis_that_returns_none():
    source = ('def receptive_fields(layers):\n    """Docstring stays."""\n    ' + se.BEGIN +
              "\n    rf = 1\n    for k in layers:\n        rf += k - 1\n    return rf\n    " + se.END + "\n")
    cell = _student(_exercise(source)).cells[1]
    assert cell.source == 'def receptive_fields(layers):\n    """Docstring stays."""\n    ...  # your code here'
    namespace: dict = {}
    exec(cell.source, namespace)
    assert namespace["receptive_fields"]([3, 3]) is None
    body = ("def f():\n    " + se.BEGIN + "\n    a = 1\n    b = 2\n    " + se.END + "\n    return a")
    assert _student(_exercise(body)).cells[1].source == (
        "def f():\n    a = ...  # your answer\n    b = ...  # your answer\n    return a")


def test_outputs_markers_sweeps_and_metadata():
    checked = new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(visual.conv_output_size(9, 3))",
                            outputs=[new_output("stream", name="stdout", text="7\n")])
    plain = new_code_cell("print(1)", outputs=[new_output("stream", name="stdout", text="1\n")])
    sweep = new_code_cell("sweep(explorer)", metadata={"tags": ["remove-cell"]})
    nb = _student([*_exercise(f"{se.BEGIN}\nanswer = 3\n{se.END}"), checked, plain, sweep])
    markdown, solution, check, kept, cleared = nb.cells                      # the sweep is dropped
    assert markdown.cell_type == "markdown"
    assert solution.outputs == [] and check.outputs == [] and cleared.outputs == []
    assert se.CHECK_MARK not in check.source and check.source == "report(problems)"
    assert kept.source.startswith(se.CHECK_MARK) and kept.outputs[0].text == "7\n"   # the package's number
    assert solution.metadata.nbgrader.grade_id == "01-x" and check.metadata.nbgrader.locked


@pytest.mark.parametrize("source, message", [
    (f"{se.BEGIN}\nanswer = 1\n", "has no '### END SOLUTION'"),
    (f"answer = 1\n{se.END}\n", "without '### BEGIN SOLUTION'"),
    (f"{se.BEGIN}\n{se.BEGIN}\nanswer = 1\n{se.END}\n{se.END}\n", "nested"),
])
def test_broken_regions_name_notebook_and_cell(source, message):
    with pytest.raises(ValueError, match=rf"fixture\.ipynb cell 1: .*{message}"):
        _student(_exercise(source))


def test_markers_without_nbgrader_metadata_are_refused():
    cells = [new_markdown_cell("text"), new_code_cell(f"{se.BEGIN}\nanswer = 1\n{se.END}")]
    with pytest.raises(ValueError, match=r"fixture\.ipynb cell 1: solution markers in a cell without nbgrader"):
        _student(cells)


def test_main_writes_same_names_and_reports_errors(tmp_path, capsys):
    good, bad = tmp_path / "01_good.ipynb", tmp_path / "02_bad.ipynb"
    nbformat.write(new_notebook(cells=_exercise(f"{se.BEGIN}\nanswer = 1\n{se.END}")), good)
    nbformat.write(new_notebook(cells=_exercise(f"{se.BEGIN}\nanswer = 1\n")), bad)
    assert se.main(["--out", str(tmp_path / "out"), str(good)]) == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["01_good.ipynb"]
    assert se.main(["--out", str(tmp_path / "out"), str(bad)]) == 1
    assert "02_bad.ipynb cell 1" in capsys.readouterr().err


# --- the real notebooks --------------------------------------------------------------------------

def _split(nb: nbformat.NotebookNode, name: str) -> tuple[list[str], str]:
    """(lines inside solution regions, all text outside them) of a teacher notebook."""
    inside, outside = [], []
    for index, cell in enumerate(nb.cells):
        lines = cell.source.splitlines()
        regions = se.solution_regions(cell.source, f"{name} cell {index}") if cell.cell_type == "code" else []
        covered = {n for begin, end in regions for n in range(begin, end + 1)}
        inside += [lines[n] for begin, end in regions for n in range(begin + 1, end)]
        outside += [line for n, line in enumerate(lines) if n not in covered]
    return inside, "\n".join(outside)


def solution_lines(nb: nbformat.NotebookNode, name: str) -> set[str]:
    """Non-blank lines of >= 20 characters inside a region that appear nowhere outside regions."""
    inside, outside = _split(nb, name)
    return {line.strip() for line in inside if len(line.strip()) >= MIN_SOLUTION_LINE and line.strip() not in outside}


def _student_text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        parts.append(cell.source)
        for output in cell.get("outputs", []):
            parts.append(str(output.get("text", "")))
            parts += [str(value) for value in output.get("data", {}).values()]
    return "\n".join(parts)


def test_solution_lines_are_found_on_a_fixture():
    nb = new_notebook(cells=[*_exercise(f"{se.BEGIN}\nanswer = visual.conv_output_size(9, 3)\n"
                                        f"short = 1\nshared_line = 'also outside'\n{se.END}"),
                             new_code_cell("shared_line = 'also outside'")])
    assert solution_lines(nb, "fixture") == {"answer = visual.conv_output_size(9, 3)"}
    leaky = nbformat.from_dict(nb)
    leaky.cells.append(new_code_cell(f"{se.CHECK_MARK}\nprint(code)", outputs=[
        new_output("stream", name="stdout", text="answer = visual.conv_output_size(9, 3)")]))
    assert "answer = visual.conv_output_size(9, 3)" in _student_text(se.student_notebook(leaky, "fixture"))
    assert "answer = visual.conv_output_size(9, 3)" not in _student_text(se.student_notebook(nb, "fixture"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_solution_reaches_the_student_edition(path: Path):
    teacher = nbformat.read(path, as_version=4)
    student = _student_text(se.student_notebook(teacher, path.name))
    leaked = sorted(line for line in solution_lines(teacher, path.name) if line in student)
    assert not leaked, f"{path.name}: solution lines in the student edition: {leaked}"
    assert "✓ correct" not in "".join(str(o) for c in se.student_notebook(teacher, path.name).cells
                                      for o in c.get("outputs", [])), f"{path.name}: a stored '✓ correct'"


def _solution_cells(path: Path) -> list[tuple[int, nbformat.NotebookNode]]:
    nb = nbformat.read(path, as_version=4)
    return [(i, c) for i, c in enumerate(nb.cells) if se.is_solution(c)]


def test_grade_ids_are_unique_across_the_course():
    ids = [c.metadata.nbgrader.grade_id for path in NOTEBOOKS
           for c in nbformat.read(path, as_version=4).cells if "grade_id" in c.get("metadata", {}).get("nbgrader", {})]
    assert len(ids) == len(set(ids)), f"duplicate grade_ids: {sorted({i for i in ids if ids.count(i) > 1})}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nbgrader_metadata_follows_the_convention(path: Path):
    nb = nbformat.read(path, as_version=4)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    prefix = path.name[:2]
    problems = []
    for index, cell in _solution_cells(path):
        grader = cell.metadata.nbgrader
        expected = {"grade": False, "locked": False, "schema_version": 3, "solution": True, "task": False}
        if {k: grader.get(k) for k in expected} != expected or not str(grader.get("grade_id", "")).startswith(f"{prefix}-"):
            problems.append(f"cell {index}: solution metadata {dict(grader)} (want {expected}, grade_id '{prefix}-...')")
        if not se.solution_regions(cell.source, f"{path.name} cell {index}"):
            problems.append(f"cell {index}: a solution cell without a solution region")
        following = [i for i in code if i > index][:1]
        check = nb.cells[following[0]].metadata.get("nbgrader", {}) if following else {}
        want = {"grade": False, "grade_id": f"{grader.get('grade_id')}-check", "locked": True,
                "schema_version": 3, "solution": False, "task": False}
        if {k: check.get(k) for k in want} != want:
            problems.append(f"cell {index}: the next code cell is not its check cell (metadata {dict(check)})")
        elif not nb.cells[following[0]].source.startswith(se.CHECK_MARK):
            problems.append(f"cell {following[0]}: a check cell must start with {se.CHECK_MARK}")
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_relative_path_that_breaks_in_build_student(path: Path):
    """The student edition runs from build/student/: a path relative to notebooks/ would break there."""
    nb = nbformat.read(path, as_version=4)
    relative = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                and any(quote + "../" in c.source or quote + "notebooks/" in c.source for quote in "'\"")]
    assert not relative, f"{path.name}: code cells {relative} use a relative path; use the package's data helpers"
