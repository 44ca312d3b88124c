"""Measure the 90-minute lesson plan: each notebook's core, run and timed, plus reading and exercises.

    python tools/lesson_plan.py                          # print the table (markdown)
    python tools/lesson_plan.py --write docs/teaching.md # replace the table between its markers
    make lesson-plan                                     # the same as --write docs/teaching.md

The core of a notebook is every cell before the first markdown heading ``## Going further``
(cells tagged ``remove-cell``, the CI sweeps, are left out). The core cells are executed with
nbclient, which records each cell's start and end (``metadata.execution``); a part's time is

    run time (sum over the core's code cells) + words of core prose / WORDS_PER_MINUTE
    + MINUTES_PER_ANSWER per predicted answer + MINUTES_PER_CODE_EXERCISE per code exercise

A solution region whose stub is ``NAME = ...`` lines (``tools/student_edition.py``'s rule) counts
one predicted answer per name (the recap quiz has ten); any other region is one code exercise.

Run it on a quiet machine: the run time is this machine's; trained models come from
``visual.model_cache`` (run the notebooks once first, or the first run includes training).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from student_edition import is_solution, solution_regions, stub  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PARTS = ["00_start_here", "01_dilation_receptive_field", "02_output_stride", "03_interpolation", "04_pspnet", "06_recap_quiz"]
WORDS_PER_MINUTE = 150          # careful reading of technical prose with formulas (not skimming)
MINUTES_PER_ANSWER = 1.5        # read a question, work out one number, run the check
MINUTES_PER_CODE_EXERCISE = 5   # write ~10-25 lines, run the check, fix once
GOING_FURTHER = re.compile(r"^##\s+Going further", re.MULTILINE)
BEGIN, END = "<!-- lesson-plan:begin -->", "<!-- lesson-plan:end -->"


def core(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook cut before its first ``## Going further`` heading, sweep cells dropped."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and GOING_FURTHER.search(cell.source):
            head = cell.source[:GOING_FURTHER.search(cell.source).start()]
            if head.strip():
                cells.append(nbformat.v4.new_markdown_cell(head))
            break
        if "remove-cell" not in cell.get("metadata", {}).get("tags", []):
            cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)


def _seconds(cell: nbformat.NotebookNode) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda text: dt.datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def exercises(cell: nbformat.NotebookNode) -> tuple[int, int]:
    """(predicted answers, code exercises) in one solution cell."""
    lines, answers, code = cell.source.splitlines(), 0, 0
    for begin, end in solution_regions(cell.source, "cell"):
        stubbed = stub(lines[begin + 1:end], "")
        if stubbed[0].endswith("# your answer"):
            answers += len(stubbed)
        else:
            code += 1
    return answers, code


def measure(path: Path, timeout: int = 900) -> dict[str, float]:
    """Run one notebook's core; returns its run seconds, prose words, exercises and minutes."""
    nb = core(nbformat.read(path, as_version=4))
    NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    run = sum(_seconds(c) for c in nb.cells if c.cell_type == "code")
    words = sum(len(c.source.split()) for c in nb.cells if c.cell_type == "markdown")
    counts = [exercises(c) for c in nb.cells if is_solution(c)]
    answers, code = sum(a for a, _ in counts), sum(c for _, c in counts)
    minutes = run / 60 + words / WORDS_PER_MINUTE + answers * MINUTES_PER_ANSWER + code * MINUTES_PER_CODE_EXERCISE
    return {"run_s": run, "words": words, "answers": answers, "code": code, "minutes": minutes}


def table(rows: dict[str, dict[str, float]]) -> str:
    lines = ["| part | core cells run (s) | core prose (words) | answers to predict | code exercises | minutes |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in rows.items():
        lines.append(f"| `{name}.ipynb` (core) | {r['run_s']:.0f} | {r['words']:.0f} | {r['answers']:.0f} "
                     f"| {r['code']:.0f} | {r['minutes']:.0f} |")
    total = {key: sum(r[key] for r in rows.values()) for key in ("run_s", "words", "answers", "code", "minutes")}
    lines.append(f"| **total** | {total['run_s']:.0f} | {total['words']:.0f} | {total['answers']:.0f} "
                 f"| {total['code']:.0f} | **{total['minutes']:.0f}** |")
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    lines.append(f"\nMeasured by `make lesson-plan` on {stamp}: run time of the core cells on this machine + "
                 f"reading at {WORDS_PER_MINUTE} words/min + {MINUTES_PER_ANSWER} min per predicted answer + "
                 f"{MINUTES_PER_CODE_EXERCISE} min per code exercise.")
    return "\n".join(lines)


def write(doc: Path, text: str) -> None:
    """Replace the text between the lesson-plan markers of ``doc``."""
    source = doc.read_text(encoding="utf-8")
    if BEGIN not in source or END not in source:
        raise SystemExit(f"{doc}: no {BEGIN} ... {END} block to replace")
    head, rest = source.split(BEGIN, 1)
    doc.write_text(f"{head}{BEGIN}\n{text}\n{END}{rest.split(END, 1)[1]}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: the lesson's parts")
    parser.add_argument("--write", type=Path, help="markdown file whose lesson-plan block is replaced")
    args = parser.parse_args(argv)
    paths = args.notebooks or [ROOT / "notebooks" / f"{name}.ipynb" for name in PARTS]
    rows = {}
    for path in paths:
        rows[path.stem] = measure(path)
        print(f"  {path.name}: {rows[path.stem]}", file=sys.stderr)
    text = table(rows)
    print(text)
    if args.write:
        write(args.write, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
