"""environment.yml (conda) and pyproject.toml (pip) list the same packages and pins."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"torch": "pytorch"}  # PyPI name -> conda-forge name where they differ


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower()


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _conda_specs() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            specs[_name(dep)] = dep
        elif isinstance(dep, dict):  # PyPI-only packages in the pip section (not the editable install)
            specs.update({_name(d): d for d in dep.get("pip", []) if not d.startswith("-")})
    return specs


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def test_same_top_level_dependencies():
    project = _pyproject()["project"]
    pip_names = {_name(r) for r in project["dependencies"]}
    pip_names |= {_name(r) for r in project["optional-dependencies"]["test"]}
    conda_names = set(_conda_specs()) - {"python", "pip"}
    expected = {CONDA_NAMES.get(n, n) for n in pip_names}
    assert conda_names == expected, (
        f"only in environment.yml: {sorted(conda_names - expected)}; "
        f"only in pyproject.toml: {sorted(expected - conda_names)}"
    )


def test_conda_pins_match_constraints():
    specs = _conda_specs()
    pins = _pins()
    assert set(pins) == {"torch", "torchvision", "matplotlib"}
    assert (pins["torch"], pins["torchvision"]) == ("2.14.1", "0.29.1")
    for name, version in pins.items():
        assert specs[CONDA_NAMES.get(name, name)].endswith(f"={version}"), specs[CONDA_NAMES.get(name, name)]


def test_conda_env_installs_the_package_editable():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1 and pip_sections[0][-1] == "-e ."


def test_python_version_agrees():
    requires = _pyproject()["project"]["requires-python"]
    assert requires == ">=3.11"
    assert "python=3.11" in _conda_specs().values()
