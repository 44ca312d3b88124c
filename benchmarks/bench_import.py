"""Item 7: how long ``import visual`` takes, against importing what it is built on, in the same rounds.

Each sample is a fresh interpreter (``sys.executable -c ...``) that times the import inside
itself, so the interpreter's own start-up is excluded and nothing is cached in
``sys.modules``; the files are in the OS cache after the warm-up round, as on a student's
second start. ``visual`` is a plain package (issue 12): ``import visual`` imports torch,
torchvision, matplotlib and ipywidgets by design, so the reference is
``import torchvision`` + ``import matplotlib.pyplot`` in one interpreter, and the target is
that the package adds at most half of that on top (<= 1.5x).

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

IMPORT_RATIO_TARGET = Target("<=", 1.5, "x")  # issue 12: <= 1.5x `import torchvision` + `matplotlib.pyplot`

REFERENCE = "import torchvision + matplotlib.pyplot"
SNIPPETS = {
    "import visual": "import visual",
    REFERENCE: "import torchvision\nimport matplotlib.pyplot",
    "import torchvision": "import torchvision",
    "import matplotlib.pyplot": "import matplotlib.pyplot",
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
           source="benchmarks issue, item 7; plain package (`visual/__init__.py`, issue 12)")
def import_time(ctx: Context) -> Section:
    bare = timed_import(SNIPPETS["import visual"])
    workloads = {name: (lambda body=body: timed_import(body)["seconds"]) for name, body in SNIPPETS.items()}
    n = ctx.pick(7, 2)
    ctx.log(f"import: {n} rounds of {len(workloads)} fresh interpreters")
    r = rounds(workloads, rounds=n, warmup=1, self_timed=True)
    reference = f"{REFERENCE} {fmt_stats(r.stats(REFERENCE).scaled(1e3), 'ms')}"
    rows = [
        Row("`import visual` / (`import torchvision` + `import matplotlib.pyplot`)",
            r.ratio("import visual", REFERENCE), "x", IMPORT_RATIO_TARGET, reference,
            note=f"`import visual` alone: {fmt_stats(r.stats('import visual').scaled(1e3), 'ms')}; "
                 f"imports torch: {'yes' if bare['torch'] else 'no'}, matplotlib: "
                 f"{'yes' if bare['matplotlib'] else 'no'} (plain package, by design)"),
        Row("`import torchvision` (context)", r.stats("import torchvision").scaled(1e3), "ms",
            note="most of the reference is `import torch`"),
        Row("`import matplotlib.pyplot` (context)", r.stats("import matplotlib.pyplot").scaled(1e3), "ms"),
    ]
    return Section(rows)
