"""Item 1: wall time of executing every notebook the way ``make test-notebooks`` (nbval) does.

nbval with ``--nbval-current-env`` starts, per notebook, a fresh kernel of the interpreter
that runs pytest (its ``:nbval-parent-env`` kernel spec: ``sys.executable -m ipykernel_launcher``),
in the notebook's directory, and runs the cells in order. This benchmark does exactly that
with ``nbclient`` (the library nbval's kernel handling mirrors), reusing nbval's kernel spec
manager, and times each notebook from kernel start to kernel shutdown. The notebooks on disk
are not modified. An empty notebook (one ``pass`` cell) is timed in the same rounds: it is
the fixed cost of a kernel, the reference every notebook pays once.

    python -m benchmarks --only notebooks
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from benchmarks.report import REPO, table
from benchmarks.suite import Context, Row, Section, Target, benchmark, fmt_stats, fmt_value
from benchmarks.timing import rounds, summarize

NOTEBOOK_DIR = REPO / "notebooks"
SUITE_TARGET = Target("<=", 300.0, "s")  # issue 15: the whole suite on 2 cores, with the context ablation and 05
NOTEBOOK_GUIDELINE_S = 30.0  # project conventions: "target <= 30 s on 2 free cores" unless a lesson says otherwise
CELL_TIMEOUT_S = 600  # as the Makefile's --nbval-cell-timeout
SLOWEST_CELLS = 3  # cells listed per notebook in the details
CELL_TEXT = 60  # characters of a cell's first line shown in the report
EMPTY = "(empty notebook: kernel start + shutdown)"


def notebooks() -> list[Path]:
    return sorted(NOTEBOOK_DIR.glob("[0-9]*.ipynb"))


def execute(path: Path | None) -> tuple[float, list[tuple[float, str]]]:
    """Execute one notebook (``None``: an empty one) in a fresh current-env kernel.

    Returns:
        Seconds from kernel start to shutdown, and ``(seconds, source)`` per executed code cell.
    """
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

    if path is None:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])
        cwd = NOTEBOOK_DIR
    else:
        nb = nbformat.read(path, as_version=4)
        cwd = path.parent
    km = KernelManager(kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager())
    client = NotebookClient(nb, km=km, timeout=CELL_TIMEOUT_S, record_timing=True,
                            resources={"metadata": {"path": str(cwd)}})
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError on an unexpected error, like nbval fails the cell
    seconds = time.perf_counter() - start
    cells = []
    for cell in nb.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        if cell.cell_type != "code" or "shell.execute_reply" not in timing:
            continue
        begin = dt.datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
        cells.append(((end - begin).total_seconds(), cell.source))
    return seconds, cells


def describe_cell(source: str) -> str:
    """A cell in a few words: the ``visual`` names it calls, else its first line of code."""
    import re

    import visual

    called = [name for name in dir(visual) if not name.startswith("_") and re.search(rf"\b{re.escape(name)}\(", source)]
    if called:
        return "calls " + ", ".join(f"`{name}`" for name in called[:4]) + (" ..." if len(called) > 4 else "")
    first = next((line.strip() for line in source.splitlines()
                  if line.strip() and not line.lstrip().startswith(("#", "%"))), "")
    return f"`{first[:CELL_TEXT]}`"


@benchmark(item=1, key="notebooks", title="Notebook suite wall time (as nbval runs it)",
           source="benchmarks issue, item 1")
def notebook_suite(ctx: Context) -> Section:
    paths = notebooks()
    if ctx.quick:  # one small notebook is enough to check the machinery
        paths = paths[:1]
    n = ctx.pick(2, 1)  # a full round executes every notebook: minutes
    workloads = {EMPTY: lambda: execute(None)}
    cell_times: dict[str, list[list[tuple[float, str]]]] = {}
    failed: dict[str, str] = {}
    for path in paths:
        cell_times[path.name] = []

        def run(path: Path = path) -> None:
            if path.name in failed:  # failed once: not run again
                return
            try:
                seconds, cells = execute(path)
            except Exception as err:  # noqa: BLE001 - a failing notebook is reported, the others still run
                failed[path.name] = f"{type(err).__name__}: " + (str(err).strip().splitlines() or [""])[-1][:200]
                ctx.log(f"notebooks: {path.name} FAILED: {failed[path.name]}")
                return
            cell_times[path.name].append(cells)
            ctx.log(f"notebooks: {path.name} {seconds:.1f} s")

        workloads[path.name] = run
    ctx.log(f"notebooks: {len(paths)} notebooks + an empty one, {n} round(s)")
    r = rounds(workloads, rounds=n, warmup=0)
    totals = summarize([sum(r.times[p.name][i] for p in paths) for i in range(n)])
    kernel = r.stats(EMPTY)
    rows = [Row(f"all {len(paths)} notebooks, total" + (" (quick: first notebook only)" if ctx.quick else ""),
                totals, "s", None if ctx.quick else SUITE_TARGET,
                f"kernel start + shutdown {fmt_stats(kernel, 's')} per notebook",
                note="sum of the per-notebook times of each round; nbval runs them one after another",
                error=f"{len(failed)} notebook(s) failed: {', '.join(sorted(failed))}" if failed else "")]
    for path in paths:
        if path.name in failed:
            rows.append(Row(f"`{path.name}`", None, "s", error=failed[path.name]))
            continue
        rows.append(Row(f"`{path.name}`", r.stats(path.name), "s",
                        note=f"{r.stats(path.name).median / kernel.median:.1f}× an empty notebook; course "
                             f"guideline ≤ {NOTEBOOK_GUIDELINE_S:.0f} s per notebook unless its lesson says otherwise"))
    details, notes, slow = [], [], []
    first_cells, largest = [], (0.0, "")
    for path in paths:
        per_cell: dict[int, list[float]] = {}
        sources: dict[int, str] = {}
        for run_cells in cell_times[path.name]:
            for i, (seconds, source) in enumerate(run_cells):
                per_cell.setdefault(i, []).append(seconds)
                sources[i] = source
        if not per_cell:
            continue
        medians = {i: summarize(times).median for i, times in per_cell.items()}
        setup = next((i for i in sorted(sources) if sources[i].lstrip().startswith("%matplotlib")), 0)
        first_cells.append(medians[setup])
        for i in sorted(medians, key=lambda i: -medians[i])[:SLOWEST_CELLS]:
            slow.append((path.name, str(i + 1), describe_cell(sources[i]), fmt_value(medians[i], "s")))
            if medians[i] > largest[0]:
                largest = (medians[i], f"`{path.name}` code cell {i + 1} ({describe_cell(sources[i])})")
    if slow:
        details.append("Slowest code cells (median over the rounds; code cells numbered from 1):\n\n"
                       + table(["Notebook", "Cell", "What it does", "Time"], slow, "lrlr"))
    if first_cells:
        notes.append(f"The setup cells (`%matplotlib widget` and the imports of torch, matplotlib, ipywidgets "
                     f"and `visual` in a fresh kernel; the first code cell where there is none) take {fmt_value(sum(first_cells), 's')} of the total, "
                     f"{fmt_value(summarize(first_cells).median, 's')} per notebook; kernel start and shutdown "
                     f"another {fmt_value(kernel.median, 's')} per notebook. Most of a setup cell is `import torch` "
                     "and `import torchvision` (which imports `torch._dynamo` through `torchvision.ops`); "
                     "item 7 times `import torchvision` alone in a fresh interpreter.")
    if largest[1]:
        notes.append(f"The slowest cell is {largest[1]}: {fmt_value(largest[0], 's')}.")
    return Section(rows, details, notes)
