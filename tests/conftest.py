"""Test configuration: headless matplotlib, no figure left open between tests, and a one-thread fixture."""

import sys

import matplotlib
import pytest

matplotlib.use("Agg", force=True)  # no display in tests; must run before pyplot is imported


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every pyplot figure a test left open (plots and explorers build real figures)."""
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")  # nothing to close if no test imported pyplot
    if pyplot is not None:
        pyplot.close("all")


@pytest.fixture(scope="module")
def one_torch_thread():
    """One intra-op thread for a module, then restore: on a shared CPU oversubscribed threads make convs
    ~10x slower. Modules opt in with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
