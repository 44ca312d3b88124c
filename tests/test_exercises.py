"""The exercise checks report what is wrong and never print the expected value."""

import pytest
import torch

from visual.exercises import number_problems, report, tensor_problems, unfinished


@pytest.mark.parametrize("value", [..., None])
def test_stub_values_are_unfinished(value):
    assert unfinished(value)
    assert "replace the `...`" in number_problems(value, 3, "x")[0]


@pytest.mark.parametrize("value", [0, 0.0, "", (), False])
def test_real_answers_are_not_unfinished(value):
    assert not unfinished(value)


def test_report_prints_correct_only_without_problems(capsys):
    assert report([]) is True
    assert capsys.readouterr().out == "✓ correct\n"
    assert report(["a", "b"]) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ not yet: a") and "b" in out and "✓" not in out


def test_number_problems_never_reveal_the_expected_value():
    expected = 4321
    for answer in (4320, 1.5, -7, 10**6):
        problems = number_problems(answer, expected, "the size", hint="use the formula")
        assert problems and all(str(expected) not in p for p in problems)
    assert number_problems(4321, expected, "the size") == []
    assert number_problems(4321.4, expected, "the size", tolerance=0.5) == []
    assert number_problems(4322, expected, "the size", mistakes={4322: "off by one"}) == [
        "4322 is not the size: off by one"]
    assert "number" in number_problems("4321", expected, "the size")[0]
    assert "number" in number_problems(True, 1, "the size")[0]


def test_tensor_problems_name_type_shape_and_values():
    expected = torch.arange(6.0).reshape(2, 3)
    assert tensor_problems(expected.clone(), expected, "f") == []
    assert "write the body" in tensor_problems(None, expected, "f")[0]
    assert "torch.Tensor" in tensor_problems([1, 2], expected, "f")[0]
    assert "shape (3, 2)" in tensor_problems(expected.T, expected, "f")[0]
    wrong = expected.clone()
    wrong[0, 1] += 0.25
    (message,) = tensor_problems(wrong, expected, "f")
    assert "1 of 6 entries differ" in message and "0.25" in message
