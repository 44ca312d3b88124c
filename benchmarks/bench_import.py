"""Item 7: how long ``import visual`` takes, against ``import torchvision`` in the same rounds.

Each sample is a fresh interpreter (``sys.executable -c ...``) that times the import inside
itself, so the interpreter's own start-up is excluded and nothing is cached in
``sys.modules``; the files are in the OS cache after the warm-up round, as on a student's
second start. Two workloads are checked against the target:

* ``import visual``: what the lazy package costs by itself (PEP 562: no torch, no matplotlib);
* ``import visual`` + resolving every name of ``visual.__all__``: the worst a notebook's setup
  cell can cost (torch, torchvision, matplotlib, ipywidgets and every ``visual`` submodule).

    python -m benchmarks --only import
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from benchmarks.report import REPO
from benchmarks.suite import Context, Row, Section, Target, benchmark, fmt_stats
from benchmarks.timing import rounds

IMPORT_RATIO_TARGET = Target("<=", 1.5, "x")  # benchmarks issue, item 7: <= 1.5x `import torchvision`

SNIPPETS = {
    "import visual": "import visual",
    "import visual + every public name": "import visual\nfor _n in dir(visual): getattr(visual, _n)",
    "import torchvision": "import torchvision",
    "import torch": "import torch",
}

_TIMER = """
import json, sys, time
_t = time.perf_counter()
{body}
_s = time.perf_counter() - _t
print(json.dumps({{"seconds": _s, "torch": "torch" in sys.modules, "matplotlib": "matplotlib" in sys.modules}}))
"""


def timed_import(body: str) -> dict:
    """Run ``body`` in a fresh interpreter; return its in-process seconds and what it imported."""
    env = dict(os.environ, MPLBACKEND="Agg")  # as in the benchmark process: no GUI backend probing
    proc = subprocess.run([sys.executable, "-c", _TIMER.format(body=body)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{body!r} failed in a fresh interpreter:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


@benchmark(item=7, key="import", title="`import visual` time",
           source="benchmarks issue, item 7; lazy package registry (`visual/__init__.py`, foundation issue)")
def import_time(ctx: Context) -> Section:
    bare = timed_import(SNIPPETS["import visual"])
    workloads = {name: (lambda body=body: timed_import(body)["seconds"]) for name, body in SNIPPETS.items()}
    n = ctx.pick(7, 2)
    ctx.log(f"import: {n} rounds of {len(workloads)} fresh interpreters")
    r = rounds(workloads, rounds=n, warmup=1, self_timed=True)
    reference = f"import torchvision {fmt_stats(r.stats('import torchvision').scaled(1e3), 'ms')}"
    rows = [
        Row("`import visual` / `import torchvision`", r.ratio("import visual", "import torchvision"), "x",
            IMPORT_RATIO_TARGET, reference,
            note=f"`import visual` alone: {fmt_stats(r.stats('import visual').scaled(1e3), 'ms')}; "
                 f"imports torch: {'yes' if bare['torch'] else 'no'}, matplotlib: "
                 f"{'yes' if bare['matplotlib'] else 'no'} (lazy re-exports)"),
        Row("`import visual` + all of `visual.__all__` / `import torchvision`",
            r.ratio("import visual + every public name", "import torchvision"), "x", IMPORT_RATIO_TARGET,
            reference,
            note=f"{fmt_stats(r.stats('import visual + every public name'), 's')}: torch, torchvision, "
                 "matplotlib, ipywidgets and every submodule; a notebook's setup cell imports a subset"),
        Row("`import torch` (context)", r.stats("import torch").scaled(1e3), "ms",
            note="most of `import torchvision` is `import torch`"),
    ]
    return Section(rows)

