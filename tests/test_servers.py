"""The two servers a person starts: ``make lab`` (JupyterLab) and ``make app`` (Voilà, tools/app.py).

Both listen on 127.0.0.1 with a token and ask nothing off the machine. The commands are read from
``make -n`` (what the Makefile really runs) and parsed by the servers' own option parsers, so a
misspelt option or value fails here. tests/browser/test_voila_app.py runs the app in a browser.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

import app  # noqa: E402  (tools/app.py)

NOTEBOOK = "notebooks/02_output_stride.ipynb"


def _make_dry_run(*args: str) -> list[str]:
    """The command lines ``make -n`` prints (backslash-continued lines joined)."""
    out = subprocess.run(["make", "-n", "--no-print-directory", *args], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=60).stdout
    return out.replace("\\\n", " ").splitlines()


def test_make_lab_is_loopback_and_offline():
    from jupyterlab.handlers.announcements import NeverCheckForUpdate
    from jupyterlab.labapp import LabApp

    line = next(line for line in _make_dry_run("lab") if "jupyter lab" in line)
    argv = shlex.split(line)
    options = [a for a in argv[argv.index("lab") + 1:] if a.startswith("--")]
    lab = LabApp()
    lab.parse_command_line(options)
    assert lab.config.ServerApp.ip == "127.0.0.1"
    assert lab.news_url is None                                  # no news feed (and no prompt for it)
    assert lab.check_for_updates_class is NeverCheckForUpdate    # no PyPI check for a newer JupyterLab
    # token auth stays on: nothing on the command line sets an empty token or disables auth
    assert not [a for a in options if "token" in a.lower() or "password" in a.lower()], options


def test_make_app_runs_tools_app_on_the_given_notebook():
    line = next(line for line in _make_dry_run("app", f"NB={NOTEBOOK}", "APP_ARGS=--port=8899")
                if "tools/app.py" in line)
    assert shlex.split(line)[1:] == ["tools/app.py", NOTEBOOK, "--port=8899"]


def test_app_command_is_loopback_with_token_and_course_template():
    from voila.app import Voila

    argv = app.arguments(ROOT / NOTEBOOK, port=8899, token="t0ken")
    assert argv[0] == str(ROOT / NOTEBOOK)
    voila = Voila(config=app.config())
    voila.parse_command_line(argv[1:])
    assert (voila.ip, voila.port, voila.port_retries) == ("127.0.0.1", 8899, 0)
    assert voila.token == "t0ken" and voila.open_browser is False
    settings = voila.config.VoilaConfiguration
    assert settings.template == app.TEMPLATE == "course"
    assert settings.strip_sources is True and settings.show_tracebacks is True
    assert settings.prelaunch_hook is app.without_ci_cells


def test_app_leaves_out_the_ci_sweep_cells_only():
    import nbformat

    nb = nbformat.read(ROOT / NOTEBOOK, as_version=4)
    tags = [cell.metadata.get("tags", []) for cell in nb.cells]
    removed = sum("remove-cell" in t for t in tags)
    assert removed >= 1                                            # 02 has its CI sweep cell
    shown = app.without_ci_cells(None, nbformat.from_dict(nb), str(ROOT / "notebooks"))
    assert len(shown.cells) == len(nb.cells) - removed
    assert not [c for c in shown.cells if "remove-cell" in c.metadata.get("tags", [])]
    assert [c.source for c in shown.cells] == [c.source for c, t in zip(nb.cells, tags) if "remove-cell" not in t]


def test_course_template_is_found_first_and_has_no_cdn_link():
    from voila.paths import collect_template_paths

    env = app.environment({"JUPYTER_PATH": "/elsewhere"})
    assert env["JUPYTER_PATH"].split(":") == [str(app.TEMPLATE_ROOT), "/elsewhere"]
    template = app.TEMPLATE_ROOT / "voila" / "templates" / app.TEMPLATE
    assert json.loads((template / "conf.json").read_text())["base_template"] == "lab"
    from jupyter_core.paths import jupyter_path

    paths = collect_template_paths(["voila", "nbconvert"], app.TEMPLATE, prune=True,
                                   root_dirs=[str(app.TEMPLATE_ROOT), *jupyter_path()])
    assert paths[0] == str(template)
    assert any(p.endswith("voila/templates/lab") for p in paths)    # inherits Voilà's lab template
    pages = sorted(template.glob("*.j2")) + sorted(template.glob("*.html"))
    assert [p.name for p in pages] == ["index.html.j2", "page.html"]
    for page in pages:
        code = "".join(part.split("#}", 1)[-1] for part in page.read_text().split("{#"))  # comments out
        assert "https://" not in code and "http://" not in code, page


@pytest.mark.parametrize("argv, message", [
    (["notebooks/no_such.ipynb"], "existing .ipynb"),
    (["README.md"], "existing .ipynb"),
    ([NOTEBOOK, "--token", " "], "must not be empty"),
    ([NOTEBOOK, "--port", "0"], "--port must be in"),
])
def test_app_refuses_bad_arguments(argv, message, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    from voila.app import Voila

    monkeypatch.setattr(Voila, "launch_instance", lambda *a, **k: pytest.fail("started a server"))
    with pytest.raises(SystemExit):
        app.main(argv)
    assert message in capsys.readouterr().err


def test_app_prints_a_url_with_a_fresh_token(capsys, monkeypatch):
    from voila.app import Voila

    started = []
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("JUPYTER_PATH", "/elsewhere")
    monkeypatch.setattr(Voila, "launch_instance",
                        lambda argv, config: started.append((argv, config, app.os.environ["JUPYTER_PATH"])))
    app.main([NOTEBOOK, "--port", "8899"])
    app.main([NOTEBOOK, "--port", "8899"])
    tokens = [next(a for a in argv if a.startswith("--token=")).split("=", 1)[1] for argv, _, _ in started]
    assert len(tokens[0]) == 48 and tokens[0] != tokens[1]            # random each time
    assert f"http://127.0.0.1:8899/?token={tokens[0]}" in capsys.readouterr().out
    assert started[0][1].VoilaConfiguration.prelaunch_hook is app.without_ci_cells
    assert started[0][2].split(":")[:2] == [str(app.TEMPLATE_ROOT), "/elsewhere"]
