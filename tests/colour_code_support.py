"""Shared by tests/test_metrics.py and tests/test_train.py: a dataset a 1x1 conv can learn and its oracle."""

import torch
from torch import nn
from torch.utils.data import Dataset


class ColourCode(Dataset):
    """Images whose red channel encodes the label (label / 2); a 1x1 conv can learn it."""

    def __init__(self, length: int, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        self.targets = torch.randint(0, 3, (length, 9, 9), generator=g)
        noise = 0.02 * torch.randn(length, 3, 9, 9, generator=g)
        self.images = torch.cat([self.targets[:, None] / 2.0, torch.full((length, 2, 9, 9), 0.5)], 1) + noise

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i: int):
        return self.images[i], self.targets[i]


class Oracle(nn.Module):
    """Reads the label back from the red channel: a perfect segmenter for ColourCode."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(1.0))

    def forward(self, x):
        labels = (x[:, 0] * 2).round().long().clamp(0, 2)  # (N, H, W)
        return {"out": nn.functional.one_hot(labels, 3).permute(0, 3, 1, 2).float() * self.scale}
