"""Test configuration: headless matplotlib, and no figure left open between tests."""

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
