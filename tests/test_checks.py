"""visual.checks: each shared argument check accepts what it should and names the argument otherwise."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from visual.checks import (MAX_ELEMENTS, MAX_SIDE, as_size, check_bool, check_choice, check_device,
                           check_elements, check_float, check_int, check_ints, check_module, check_tensor)


@pytest.mark.parametrize("value", [3, np.int64(3), torch.tensor(3)])
def test_check_int_accepts_integers(value):
    result = check_int(value, "k", minimum=1, maximum=3)
    assert result == 3 and type(result) is int


@pytest.mark.parametrize("value, error", [(True, TypeError), (3.0, TypeError), ("3", TypeError), (None, TypeError),
                                          (torch.tensor(3.0), TypeError), (0, ValueError), (4, ValueError)])
def test_check_int_refuses(value, error):
    with pytest.raises(error, match=r"^k must be an int in \[1, 3\]"):
        check_int(value, "k", minimum=1, maximum=3)


def test_check_float_bounds_and_non_finite():
    assert check_float(2, "lr", minimum=0.0, open_minimum=True) == 2.0
    assert check_float(torch.tensor(0.5), "p", minimum=0.0, maximum=1.0) == 0.5
    for bad in (0.0, -1.0, math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="lr must be a finite number > 0.0"):
            check_float(bad, "lr", minimum=0.0, open_minimum=True)
    for bad in (True, 1j, "0.1", [0.1]):
        with pytest.raises(TypeError, match="lr must be a real number"):
            check_float(bad, "lr")


def test_check_bool_and_choice():
    assert check_bool(np.bool_(True), "flip") is True and check_bool(False, "flip") is False
    for bad in (0, 1, "True", None):
        with pytest.raises(TypeError, match="flip must be True or False"):
            check_bool(bad, "flip")
    assert check_choice("semseg", "schedule", ("torchvision", "semseg")) == "semseg"
    for bad in ("Semseg", 1, ["semseg"], True):
        with pytest.raises(ValueError, match="schedule must be one of 'torchvision', 'semseg'"):
            check_choice(bad, "schedule", ("torchvision", "semseg"))
    with pytest.raises(ValueError):  # 1 == True in Python, but a bool is not the int choice
        check_choice(True, "bins", (1, 2))


def test_check_ints_sequences():
    assert check_ints([1, 2, 5], "rates", minimum=1) == (1, 2, 5)
    assert check_ints(range(3), "rates") == (0, 1, 2) and check_ints(np.array([4, 8]), "rates") == (4, 8)
    assert check_ints((), "bins", min_length=0) == ()
    with pytest.raises(TypeError, match="rates must be a list or tuple of ints"):
        check_ints("12", "rates")
    with pytest.raises(TypeError, match="rates must be a list or tuple of ints"):
        check_ints(2, "rates")
    with pytest.raises(TypeError, match=r"rates\[1\] must be an int"):
        check_ints([1, 2.5], "rates")
    with pytest.raises(ValueError, match=r"rates\[0\] must be an int >= 1"):
        check_ints([0], "rates", minimum=1)
    with pytest.raises(ValueError, match="between 1 and 2 entries, got 3"):
        check_ints([1, 2, 3], "rates", max_length=2)


def test_as_size():
    assert as_size(473, "input_size") == (473, 473)
    assert as_size((97, 131), "input_size") == (97, 131) and as_size(torch.Size([5, 6]), "s") == (5, 6)
    with pytest.raises(ValueError, match="input_size must be an int or a pair"):
        as_size((1, 2, 3), "input_size")
    with pytest.raises(TypeError, match=r"input_size\[1\] \(width\)"):
        as_size((4, 4.5), "input_size")
    with pytest.raises(TypeError, match="input_size must be an int"):
        as_size(True, "input_size")
    with pytest.raises(ValueError, match=f"in \\[1, {MAX_SIDE}\\]"):
        as_size(MAX_SIDE + 1, "input_size")
    with pytest.raises(ValueError, match=r"in \[1, 8192\], got 0"):
        as_size(0, "input_size")


def test_check_elements_refuses_before_allocating():
    assert check_elements(MAX_ELEMENTS, "output") == MAX_ELEMENTS
    with pytest.raises(ValueError, match="output would need"):
        check_elements(MAX_ELEMENTS + 1, "output")


def test_check_tensor():
    x = torch.zeros(1, 3, 4, 4)
    assert check_tensor(x, "x", ndim=4, dtype="float", finite=True) is x
    with pytest.raises(TypeError, match=r"x must be a torch.Tensor \(N, C, H, W\), got ndarray"):
        check_tensor(np.zeros(3), "x", layout="(N, C, H, W)")
    with pytest.raises(ValueError, match=r"x must have shape \(N, C, H, W\), got shape \(3, 4, 4\)"):
        check_tensor(x[0], "x", ndim=4, layout="(N, C, H, W)")
    with pytest.raises(TypeError, match="x must have a floating-point dtype, got torch.int64"):
        check_tensor(x.long(), "x", dtype="float")
    with pytest.raises(TypeError, match="an integer dtype"):
        check_tensor(x.bool(), "x", dtype="integer")
    with pytest.raises(TypeError, match="a real dtype"):
        check_tensor(x.to(torch.complex64), "x", dtype="real")
    bad = x.clone()
    bad[0, 0, 0, 0] = math.nan
    with pytest.raises(ValueError, match="x must contain only finite values"):
        check_tensor(bad, "x", finite=True)
    assert check_tensor(torch.empty(2, device="meta"), "x", finite=True).device.type == "meta"


def test_check_module_and_device():
    layer = nn.Linear(1, 1)
    assert check_module(layer) is layer
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got 'model'"):
        check_module("model")
    assert check_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="device must be 'cpu', 'cuda'"):
        check_device("gpu")
    with pytest.raises(TypeError, match="device must be a string"):
        check_device(0)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            check_device("cuda")
