"""Serve one notebook as a classroom app with Voilà: code hidden, explorers live (``make app NB=...``).

    python tools/app.py notebooks/02_output_stride.ipynb [--port 8866] [--token TOKEN]

Voilà 0.5 starts without a token on ``localhost`` by default and its "lab" template links Font
Awesome from a CDN. Here it listens on 127.0.0.1 only, with a token (a fresh random one unless
``--token`` is given; the URL printed contains it), opens no browser, and renders with the course's
template ``course`` (``share/jupyter/voila/templates/course/``: the lab template without its CDN
links), found through ``JUPYTER_PATH``. The kernel is the notebook's own kernelspec
("visual-course"). Cells tagged ``remove-cell`` (the CI sweeps, which the student edition drops
too) are left out through Voilà's public ``prelaunch_hook``; an error output a lesson shows on
purpose (a ``raises-exception`` cell) is shown as the error, not as "run Voilà with
--show_tracebacks". tests/browser/test_voila_app.py runs this same file.
"""

from __future__ import annotations

import argparse
import os
import secrets
from pathlib import Path
from typing import Any

from traitlets.config import Config

from student_edition import REMOVE_TAG  # tools/: the tag of the CI sweep cells

__all__ = ["TEMPLATE", "TEMPLATE_ROOT", "arguments", "config", "environment", "main", "url", "without_ci_cells"]

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = "course"
TEMPLATE_ROOT = ROOT / "share" / "jupyter"  # holds voila/templates/course/
DEFAULT_PORT = 8866                          # Voilà's own default


def arguments(notebook: Path, *, port: int, token: str) -> list[str]:
    """Voilà's command line (after ``voila``) that serves ``notebook`` on 127.0.0.1:``port`` with ``token``."""
    return [
        str(notebook),
        "--Voila.ip=127.0.0.1", f"--Voila.port={port}", "--Voila.port_retries=0",
        f"--token={token}", "--no-browser",
        f"--template={TEMPLATE}", "--theme=light",
        "--strip_sources=True",        # the page carries outputs only, never the code
        "--show_tracebacks=True",      # a lesson's deliberate error reads as that error
    ]


def without_ci_cells(request_handler: Any, notebook: Any, cwd: str) -> Any:
    """Voilà's ``prelaunch_hook``: the notebook without its ``remove-cell`` cells (they never run)."""
    notebook.cells = [cell for cell in notebook.cells if REMOVE_TAG not in cell.get("metadata", {}).get("tags", [])]
    return notebook


def config() -> Config:
    """The settings a command line cannot carry (a Python callable)."""
    settings = Config()
    settings.VoilaConfiguration.prelaunch_hook = without_ci_cells
    return settings


def environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with the course's templates first on ``JUPYTER_PATH``."""
    env = dict(os.environ if base is None else base)
    paths = [str(TEMPLATE_ROOT)] + [p for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    env["JUPYTER_PATH"] = os.pathsep.join(paths)
    return env


def url(port: int, token: str) -> str:
    """The address a browser opens (the token in the query, as ``jupyter lab`` prints it)."""
    return f"http://127.0.0.1:{port}/?token={token}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tools/app.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", type=Path, help="the notebook to serve, e.g. notebooks/02_output_stride.ipynb")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    parser.add_argument("--token", help="the access token (default: a new random one)")
    args = parser.parse_args(argv)
    if args.notebook.suffix != ".ipynb" or not args.notebook.is_file():
        parser.error(f"notebook must be an existing .ipynb file, got {str(args.notebook)!r}")
    if not 0 < args.port < 65536:
        parser.error(f"--port must be in 1..65535, got {args.port}")
    if args.token is not None and not args.token.strip():
        parser.error("--token must not be empty (the app always needs one)")
    token = args.token or secrets.token_hex(24)
    print(f"Classroom app for {args.notebook} (Ctrl+C stops it). Open:\n    {url(args.port, token)}",
          flush=True)
    os.environ["JUPYTER_PATH"] = environment()["JUPYTER_PATH"]  # before Voilà looks templates up
    from voila.app import Voila

    Voila.launch_instance(arguments(args.notebook.resolve(), port=args.port, token=token), config=config())


if __name__ == "__main__":
    main()
