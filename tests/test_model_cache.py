"""visual/model_cache.py: train once, load after; the cache folder and the atomic write."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from visual.model_cache import CACHE_ENV, cache_dir, cache_path, cached_state_dict, config_key


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def build():
    torch.manual_seed(0)
    return nn.Linear(3, 2)


def make_train(calls):
    def train(model):
        calls.append(1)
        with torch.no_grad():
            model.weight.fill_(7.0)
    return train


def test_trains_once_then_loads(cache):
    calls = []
    config = {"model": "linear", "seed": 0}
    first = cached_state_dict(config, build, make_train(calls))
    second = cached_state_dict(config, build, make_train(calls))
    assert calls == [1]
    assert torch.equal(second.weight, torch.full((2, 3), 7.0)) and torch.equal(second.bias, first.bias)
    assert not second.training
    assert [p.name for p in cache.iterdir()] == [f"{config_key(config)}.pt"]  # no temporary file left


def test_another_config_trains_again(cache):
    calls = []
    cached_state_dict({"steps": 1}, build, make_train(calls))
    cached_state_dict({"steps": 2}, build, make_train(calls))
    assert calls == [1, 1]


def test_key_ignores_order_and_sees_values():
    assert config_key({"a": 1, "b": [1, 2]}) == config_key({"b": [1, 2], "a": 1})
    assert config_key({"a": 1}) != config_key({"a": 2})
    assert len(config_key({})) == 64


def test_cache_folder_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "visual-course"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "visual-course"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    assert cache_path({"a": 1}) == tmp_path / "mine" / f"{config_key({'a': 1})}.pt"


def test_a_cached_file_of_another_architecture_is_named(cache):
    cached_state_dict({"k": 1}, build, make_train([]))
    with pytest.raises(RuntimeError, match="delete the file"):
        cached_state_dict({"k": 1}, lambda: nn.Linear(4, 2), make_train([]))


def test_the_file_holds_only_tensors(cache):
    cached_state_dict({"k": 2}, build, make_train([]))
    state = torch.load(cache_path({"k": 2}), weights_only=True)
    assert set(state) == {"weight", "bias"}


@pytest.mark.parametrize("config, error", [([1], TypeError), ({"f": object()}, TypeError), ({"x": float("nan")}, ValueError)])
def test_bad_configs(config, error, cache):
    with pytest.raises(error, match="config"):
        cached_state_dict(config, build, make_train([]))


def test_build_must_return_a_module(cache):
    with pytest.raises(TypeError, match="build"):
        cached_state_dict({"k": 3}, lambda: 3, make_train([]))
