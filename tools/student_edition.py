"""Write the student edition of the course: solutions replaced by stubs, outputs cleared.

    python tools/student_edition.py                 # notebooks/*.ipynb -> build/student/ (same names)
    python tools/student_edition.py --out DIR a.ipynb b.ipynb

Each ``### BEGIN SOLUTION`` / ``### END SOLUTION`` region (nbgrader's markers, in a code cell whose
metadata says ``nbgrader.solution: true``) becomes a stub that runs: when every line of the region
at the region's indentation is an assignment ``NAME = ...``, each becomes ``NAME = ...  # your
answer``; otherwise the region becomes ``...  # your code here`` (a function then returns None,
which the check reports as unfinished). Outputs of exercise (solution) and check cells are cleared
and their ``# NBVAL_CHECK_OUTPUT`` marker removed (other checked cells keep theirs: they show
the package's numbers, not a solution); cells tagged ``remove-cell`` (the CI sweeps) are dropped;
nbgrader metadata is kept, so the edition can still be imported into nbgrader.

Why not nbgrader's ``ClearSolutions``: its single ``code_stub`` replaces every region by the same
text, so it cannot keep the ``answer = ...`` names a check reads, and installing nbgrader enables
its Jupyter server and lab extensions in the environment students use for ``make lab``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
REMOVE_TAG = "remove-cell"
ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*)\s*=(?!=)")


def solution_regions(source: str, where: str) -> list[tuple[int, int]]:
    """``(begin, end)`` line indices of each region's marker lines; ValueError naming ``where``."""
    regions, begin = [], None
    for number, line in enumerate(source.splitlines()):
        marker = line.strip()
        if marker == BEGIN:
            if begin is not None:
                raise ValueError(f"{where}: nested {BEGIN!r} at line {number + 1} (region open since line {begin + 1})")
            begin = number
        elif marker == END:
            if begin is None:
                raise ValueError(f"{where}: {END!r} at line {number + 1} without {BEGIN!r}")
            regions.append((begin, number))
            begin = None
    if begin is not None:
        raise ValueError(f"{where}: {BEGIN!r} at line {begin + 1} has no {END!r}")
    return regions


def stub(region: list[str], indent: str) -> list[str]:
    """The stub rule: ``NAME = ...  # your answer`` per assignment, else ``...  # your code here``."""
    top = [line for line in region if line.strip() and len(line) - len(line.lstrip()) <= len(indent)]
    names = [ASSIGNMENT.match(line.strip()) for line in top]
    if top and all(names):
        return [f"{indent}{match.group(1)} = ...  # your answer" for match in names]
    return [f"{indent}...  # your code here"]


def strip_solutions(source: str, where: str) -> str:
    """``source`` with every solution region replaced by its stub (markers dropped)."""
    lines = source.splitlines()
    for begin, end in reversed(solution_regions(source, where)):
        indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        lines[begin:end + 1] = stub(lines[begin + 1:end], indent)
    return "\n".join(lines)


def is_solution(cell) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def is_check(cell) -> bool:
    grader = cell.get("metadata", {}).get("nbgrader", {})
    return bool(grader.get("locked")) and not grader.get("solution") or str(grader.get("grade_id", "")).endswith("-check")


def student_notebook(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The student edition of one notebook (a new object; ``nb`` is not changed)."""
    nb = nbformat.from_dict(nb)
    cells = []
    for index, cell in enumerate(nb.cells):
        if REMOVE_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.cell_type == "code":
            where = f"{name} cell {index}"
            if solution_regions(cell.source, where) and not is_solution(cell):
                raise ValueError(f"{where}: solution markers in a cell without nbgrader metadata "
                                 "(\"nbgrader\": {\"solution\": true, ...})")
            if is_solution(cell) or is_check(cell):
                cell.source = strip_solutions(cell.source, where)
                cell.source = "\n".join(l for l in cell.source.splitlines() if l.strip() != CHECK_MARK)
                cell.outputs, cell.execution_count = [], None
            elif CHECK_MARK not in cell.source:
                cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "student")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for path in sorted(args.notebooks or (ROOT / "notebooks").glob("*.ipynb")):
        try:
            student = student_notebook(nbformat.read(path, as_version=4), path.name)
        except ValueError as error:
            print(f"student edition: {error}", file=sys.stderr)
            return 1
        nbformat.write(student, args.out / path.name)
        print(f"student edition: {args.out / path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
