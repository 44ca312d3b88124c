"""Serve one notebook as a classroom app with Voilà: code hidden, explorers live (``make app NB=...``).

    python tools/app.py notebooks/02_output_stride.ipynb [--port 8866] [--token TOKEN]

Voilà 0.5 starts without a token on ``localhost`` by default and its "lab" template links Font
Awesome from a CDN. Here it listens on 127.0.0.1 only, with a token (a fresh random one unless
``--token`` is given; the URL printed contains it), opens no browser, and renders with the course's
template ``course`` (``share/jupyter/voila/templates/course/``: the lab template without its CDN
links), found through ``JUPYTER_PATH``. The kernel is the notebook's own kernelspec
("visual-course"). tests/browser/test_voila_app.py runs this same file.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

__all__ = ["TEMPLATE", "TEMPLATE_ROOT", "command", "environment", "main", "url"]

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = "course"
TEMPLATE_ROOT = ROOT / "share" / "jupyter"  # holds voila/templates/course/
DEFAULT_PORT = 8866                          # Voilà's own default


def command(notebook: Path, *, port: int, token: str, python: str = sys.executable) -> list[str]:
    """The ``voila`` command line that serves ``notebook`` on 127.0.0.1:``port`` with ``token``."""
    return [
        python, "-m", "voila", str(notebook),
        "--Voila.ip=127.0.0.1", f"--Voila.port={port}", "--Voila.port_retries=0",
        f"--token={token}", "--no-browser",
        f"--template={TEMPLATE}", "--theme=light",
        "--strip_sources=True",        # the page carries outputs only, never the code
        "--show_tracebacks=False",     # a failing cell shows an error line, not the source
    ]


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
    cmd = command(args.notebook.resolve(), port=args.port, token=token)
    os.execve(cmd[0], cmd, environment())  # Voilà replaces this process: signals reach it directly


if __name__ == "__main__":
    main()
