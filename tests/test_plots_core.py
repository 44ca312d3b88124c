"""`get_axes`: the given Axes, or a new one of the asked size."""

import matplotlib.pyplot as plt
import pytest

from visual.plots.core import get_axes


def test_get_axes_returns_the_given_axes_or_a_new_one():
    with plt.ioff():
        fig, ax = plt.subplots()
    assert get_axes(ax) is ax
    new = get_axes(figsize=(3.0, 2.0))
    assert new is not ax and tuple(new.figure.get_size_inches()) == (3.0, 2.0)
    with pytest.raises(TypeError, match="ax"):
        get_axes(fig)  # a Figure is not an Axes
