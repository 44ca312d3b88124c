"""Shared by tests/test_trace.py and tests/test_gradient_rf.py: random conv/pool stacks (hypothesis)."""

from hypothesis import strategies as st
from torch import nn


@st.composite
def stacks(draw):
    layers = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "conv", "max", "avg"]))
        k = draw(st.integers(1, 4))
        s = draw(st.integers(1, 3))
        d = draw(st.integers(1, 3)) if kind != "avg" else 1
        p = draw(st.integers(0, k // 2)) if kind != "conv" else draw(st.integers(0, 3))
        if kind == "conv":
            layers.append(nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d))
        elif kind == "max":
            layers.append(nn.MaxPool2d(k, stride=s, padding=p, dilation=d, ceil_mode=draw(st.booleans())))
        else:
            layers.append(nn.AvgPool2d(k, stride=s, padding=min(p, k // 2), ceil_mode=draw(st.booleans())))
        if draw(st.booleans()):
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)
