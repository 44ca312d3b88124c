"""Checks for the notebooks' exercises: say what is wrong, never what the answer is.

Each check cell builds a list of problems in plain words and hands it to :func:`report`, which prints
``✓ correct`` when the list is empty and ``✗ not yet: ...`` otherwise. An answer left as ``...`` (the
student edition's stub) or a function that still returns ``None`` is reported as unfinished.

Example:
    >>> report(number_problems(7, 7, "the output size"))
    ✓ correct
    True
    >>> report(number_problems(..., 7, "the output size"))
    ✗ not yet: replace the `...` with your answer for the output size
    False
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import torch

__all__ = ["unfinished", "report", "number_problems", "tensor_problems"]


def unfinished(value: Any) -> bool:
    """Whether ``value`` is the student edition's stub: ``...`` or ``None`` (an empty function body)."""
    return value is Ellipsis or value is None


def report(problems: Iterable[str]) -> bool:
    """Print ``✓ correct`` if there are no problems, else ``✗ not yet:`` and each problem; return ok."""
    problems = list(problems)
    if not problems:
        print("✓ correct")
        return True
    print("✗ not yet: " + "\n  ".join(problems))
    return False


def number_problems(answer: Any, expected: float, what: str, *, tolerance: float = 0.0,
                    mistakes: Mapping[float, str] | None = None, hint: str = "") -> list[str]:
    """What is wrong with a numeric ``answer`` (never the ``expected`` value).

    Args:
        what: the quantity in words, e.g. ``"the RF after three layers"``.
        tolerance: the largest accepted ``|answer - expected|``.
        mistakes: known wrong values mapped to the misconception each reveals.
        hint: where to look when the answer is wrong for an unknown reason.

    Returns:
        A list of problems in words; empty when the answer is right.
    """
    if unfinished(answer):
        return [f"replace the `...` with your answer for {what}"]
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        return [f"{what} should be a number, got {type(answer).__name__}"]
    if abs(answer - expected) <= tolerance:
        return []
    for value, why in (mistakes or {}).items():
        if abs(answer - value) <= tolerance:
            return [f"{answer} is not {what}: {why}"]
    return [f"{answer} is not {what}" + (f": {hint}" if hint else "")]


def tensor_problems(actual: Any, expected: torch.Tensor, what: str, *, atol: float = 1e-5,
                    rtol: float = 1e-5) -> list[str]:
    """What is wrong with a tensor ``actual`` compared with ``expected``: type, shape, then values.

    The value message gives how many entries differ and the largest difference, not the values;
    the list is empty when ``actual`` is close to ``expected``.
    """
    if unfinished(actual):
        return [f"{what} returned {actual!r}: write the body of the function"]
    if not isinstance(actual, torch.Tensor):
        return [f"{what} should be a torch.Tensor, got {type(actual).__name__}"]
    if tuple(actual.shape) != tuple(expected.shape):
        return [f"{what} has shape {tuple(actual.shape)} but should have {tuple(expected.shape)}"]
    close = torch.isclose(actual.double(), expected.double(), atol=atol, rtol=rtol)
    if bool(close.all()):
        return []
    worst = float((actual.double() - expected.double()).abs().max())
    return [f"{what}: {int((~close).sum())} of {close.numel()} entries differ (largest difference "
            f"{worst:.3g})"]
