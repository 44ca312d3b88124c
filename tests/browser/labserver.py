"""A throwaway JupyterLab server for the browser suite: loopback only, random token, isolated dirs.

Everything the server writes (config, runtime files, user settings, workspaces, the notebooks it
runs) lives under one temporary directory; the course notebooks are *copied* there so JupyterLab
can never save outputs into the repository. The virtualenv's own data directory stays on
Jupyter's path (``sys.prefix/share/jupyter``), so the ``visual-course`` kernel and the ipywidgets
/ ipympl lab extensions are found as in ``make lab``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

STARTUP_TIMEOUT_S = 180.0  # a cold JupyterLab start on 2 busy cores takes ~20-60 s
SHUTDOWN_TIMEOUT_S = 30.0

# JupyterLab user settings: no news/update toasts over the widgets, no autosave (the copies are
# throwaway anyway), every cell kept in the DOM (no windowing) so off-screen outputs can be found.
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """``jupyter lab`` on 127.0.0.1:<free port> with a random token, in ``workdir``.

    Args:
        workdir: an empty directory for the server's files; ``workdir/root`` is its root.
        content: directories to copy under the root, as ``{name: source}``.
    """

    def __init__(self, workdir: Path, content: dict[str, Path]) -> None:
        self.workdir = workdir
        self.root = workdir / "root"
        self.token = secrets.token_hex(24)
        self.port = free_port()
        self.log_path = workdir / "jupyterlab.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.root.mkdir(parents=True)
        for name, source in content.items():
            shutil.copytree(source, self.root / name,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """URL that opens ``path`` (relative to the root) in a freshly reset JupyterLab."""
        return f"{self.base_url}/lab/tree/{path}?reset&token={self.token}"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("JUPYTER", "JPY_")) and k not in {"VISUAL_DOCS", "MPLBACKEND"}}
        dirs = {
            "JUPYTER_CONFIG_DIR": "config",
            "JUPYTER_DATA_DIR": "data",            # user data only: sys.prefix/share/jupyter stays
            "JUPYTER_RUNTIME_DIR": "runtime",
            "JUPYTERLAB_SETTINGS_DIR": "settings",
            "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
            "IPYTHONDIR": "ipython",
        }
        for var, name in dirs.items():
            path = self.workdir / name
            path.mkdir(exist_ok=True)
            env[var] = str(path)
        env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
        return env

    def _write_settings(self) -> None:
        # news_url=None turns the news feed off server-side (`make lab` passes --LabApp.news_url=None).
        config = {"LabApp": {"news_url": None}}
        (self.workdir / "config" / "jupyter_server_config.json").write_text(json.dumps(config))
        for relative, values in USER_SETTINGS.items():
            path = self.workdir / "settings" / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))

    def start(self) -> None:
        env = self.environment()
        self._write_settings()
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.expose_app_in_browser=True",       # window.jupyterapp: run cells, read kernel state
            "--ServerApp.terminals_enabled=False",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, cwd=self.root, env=env, stdout=log,
                                        stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        status_url = f"{self.base_url}/api/status?token={self.token}"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(status_url, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not answer within {STARTUP_TIMEOUT_S:.0f} s:\n{self.log()}")

    def api(self, method: str, path: str) -> object:
        """Call the server's REST API (``/api/...``) with the token; returns the decoded JSON."""
        request = urllib.request.Request(f"{self.base_url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Shut down every running kernel (frees the CPU before the next notebook)."""
        for session in self.api("GET", "/api/sessions"):  # type: ignore[union-attr]
            self.api("DELETE", f"/api/sessions/{session['id']}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # SIGTERM: the server shuts its kernels down first
        try:
            self.process.wait(timeout=SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
