"""`sweep` drives every control and lets callback errors through."""

import ipywidgets as widgets
import pytest

from visual import Explorer, sweep


def _explorer(callback):
    slider = widgets.IntSlider(value=3, min=1, max=9, step=2)
    check = widgets.Checkbox(value=False)
    drop = widgets.Dropdown(options=[("one", 1), ("two", 2), ("three", 3)], value=1)
    controls = {"k": slider, "flag": check, "choice": drop}
    for control in controls.values():
        control.observe(callback, names="value")
    return Explorer(widget=widgets.VBox(list(controls.values())), controls=controls, fig=None,
                    update=callback)


def test_sweep_visits_every_value_and_restores():
    seen = []
    explorer = _explorer(lambda change: seen.append((change["owner"].description, change["new"])))
    changes = sweep(explorer, steps=5)
    values = [v for _, v in seen]
    assert {1, 3, 5, 7, 9} <= set(values)           # every slider stop
    assert True in values and 2 in values and 3 in values
    assert changes == len(seen)
    assert [c.value for c in explorer.controls.values()] == [3, False, 1]


def test_sweep_propagates_callback_errors():
    def broken(change):
        if change["new"] == 9:
            raise RuntimeError("callback failed at 9")

    with pytest.raises(RuntimeError, match="at 9"):
        sweep(_explorer(broken))


def test_sweep_rejects_bad_arguments():
    with pytest.raises(ValueError, match="steps"):
        sweep({}, steps=1)
    with pytest.raises(ValueError, match="no controls"):
        sweep({})
