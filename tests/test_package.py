"""The package imports lazily and re-exports exactly each submodule's public API."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import visual


@pytest.mark.parametrize("module_name", sorted(visual._SUBMODULE_EXPORTS))
def test_submodule_all_matches_registry(module_name):
    module = importlib.import_module(f"visual.{module_name}")
    assert sorted(module.__all__) == sorted(visual._SUBMODULE_EXPORTS[module_name])


def test_every_exported_name_resolves():
    for name in visual.__all__:
        assert getattr(visual, name) is not None, name


def test_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        visual.no_such_thing  # noqa: B018


def test_import_is_lazy_and_side_effect_free():
    # Importing the package must not import torch, matplotlib (so no rcParams are touched)
    # or ipywidgets: each submodule loads on first use of one of its names.
    code = (
        "import sys; import visual; "
        "print([m for m in ('torch', 'torchvision', 'matplotlib', 'ipywidgets') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_first_use_imports_the_defining_submodule():
    code = (
        "import sys, visual; assert 'visual.data' not in sys.modules; "
        "f = visual.load_sample_image; print(f.__module__, 'visual.data' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "visual.data True"


def test_no_name_is_exported_by_two_submodules():
    seen: dict[str, str] = {}
    clashes = []
    for module_name, names in visual._SUBMODULE_EXPORTS.items():
        for name in names:
            if name in seen:
                clashes.append(f"{name}: {seen[name]} and {module_name}")
            seen[name] = module_name
    assert not clashes, clashes
