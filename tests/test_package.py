"""The package re-exports its notebook names plainly and uses public APIs of its dependencies only."""

from __future__ import annotations

import ast
import importlib
import pathlib
import pkgutil
import subprocess
import sys

import pytest

import visual

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Python's own protocol names that start with one underscore (namedtuple methods, IPython's display
# hooks): public by convention although they look private.
PROTOCOL_NAMES = {"_replace", "_asdict", "_fields", "_field_defaults", "_make", "_repr_html_",
                  "_repr_png_", "_repr_svg_", "_repr_latex_", "_repr_mimebundle_", "_ipython_display_"}
ATTRIBUTE_CALLS = {"getattr", "setattr", "hasattr", "delattr"}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name not in PROTOCOL_NAMES


def private_uses(source: str) -> list[tuple[int, str]]:
    """``(line, text)`` of every private name reached on something other than ``self`` / ``cls``.

    Covers ``obj._x`` attribute access, ``getattr(obj, "_x")`` and friends, and
    ``from module import _x`` where the module is not this module's own.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                found.append((node.lineno, f"{ast.unparse(owner)}.{node.attr}"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ATTRIBUTE_CALLS \
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                and isinstance(node.args[1].value, str) and _is_private(node.args[1].value):
            found.append((node.lineno, f"{node.func.id}(..., {node.args[1].value!r})"))
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            parts = module.split(".")
            if any(_is_private(p) for p in parts):
                found.append((node.lineno, f"from {module} import ..."))
            for alias in node.names:
                if _is_private(alias.name):
                    found.append((node.lineno, f"from {module} import {alias.name}"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if any(_is_private(p) for p in alias.name.split(".")):
                    found.append((node.lineno, f"import {alias.name}"))
    return found


def _project_sources() -> list[pathlib.Path]:
    return sorted([*(ROOT / "visual").rglob("*.py"), *(ROOT / "tools").rglob("*.py")])


def test_private_name_scan_catches_each_form():
    # Negative control: each form of private access the scan must see.
    source = (
        "import torch._dynamo\n"
        "from torch.nn.functional import _max_pool2d\n"
        "from matplotlib import _api\n"
        "x = torch._C._nn.avg_pool2d\n"
        "ax._autotitlepos = False\n"
        "getattr(legend, '_loc')\n"
        "self._rows = {}\n"  # own attribute: allowed
        "point._replace(x=1)\n"  # namedtuple protocol: allowed
    )
    texts = sorted(text for _, text in private_uses(source))
    assert texts == sorted(["import torch._dynamo", "from torch.nn.functional import _max_pool2d",
                            "from matplotlib import _api", "torch._C._nn", "torch._C", "ax._autotitlepos",
                            "getattr(..., '_loc')"])


@pytest.mark.parametrize("path", _project_sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_names_of_dependencies_or_other_modules(path):
    uses = private_uses(path.read_text())
    assert not uses, "\n".join(f"{path.relative_to(ROOT)}:{line}: {text}" for line, text in uses)


def _submodules() -> list[str]:
    return sorted(info.name for info in pkgutil.walk_packages(visual.__path__, "visual."))


@pytest.mark.parametrize("module_name", _submodules())
def test_every_module_has_an_all_that_resolves(module_name):
    module = importlib.import_module(module_name)
    if module_name.count(".") >= 1 and not hasattr(module, "__all__") and module.__file__.endswith("__init__.py"):
        return  # a plain subpackage
    assert hasattr(module, "__all__"), f"{module_name} has no __all__"
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.__all__ names {name!r}, which it does not define"


def test_package_init_is_plain_imports():
    # No registry and no PEP 562 machinery: only a docstring, __version__ and `from visual.x import (...)`.
    tree = ast.parse((ROOT / "visual" / "__init__.py").read_text())
    for node in tree.body[1:]:
        if isinstance(node, ast.ImportFrom):
            assert node.module and node.module.startswith("visual."), ast.unparse(node)
        else:
            assert isinstance(node, ast.Assign) and [t.id for t in node.targets] == ["__version__"], \
                ast.unparse(node)


def test_top_level_names_come_from_the_defining_submodule():
    # A re-export is the submodule's own object, listed in that submodule's __all__.
    tree = ast.parse((ROOT / "visual" / "__init__.py").read_text())
    seen: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert alias.name in module.__all__, f"{node.module} does not export {alias.name}"
                assert getattr(visual, alias.name) is getattr(module, alias.name)
                assert alias.name not in seen, f"{alias.name} re-exported from {seen[alias.name]} and {node.module}"
                seen[alias.name] = node.module


CONTRACT_NAMES = ("conv_output_size", "effective_kernel_size", "trace", "gradient_receptive_field",
                  "effective_receptive_field", "dilated_resnet", "stride_table", "source_coordinates",
                  "linear_interpolate", "bilinear_interpolate", "PSPNet", "pspnet_loss")


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_contract_names_stay_at_the_top_level(name):
    assert callable(getattr(visual, name))


def test_no_name_is_exported_by_two_submodules():
    owners: dict[str, str] = {}
    clashes = []
    for module_name in _submodules():
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            if name in owners and getattr(module, name) is not getattr(importlib.import_module(owners[name]), name):
                clashes.append(f"{name}: {owners[name]} and {module_name}")
            owners.setdefault(name, module_name)
    assert not clashes, clashes


def test_import_changes_no_global_state():
    # Importing the package seeds nothing and edits no rcParams.
    code = (
        "import torch, matplotlib; state = torch.random.get_rng_state(); rc = dict(matplotlib.rcParams); "
        "import visual; "
        "print(torch.equal(state, torch.random.get_rng_state()), rc == dict(matplotlib.rcParams))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True"]
