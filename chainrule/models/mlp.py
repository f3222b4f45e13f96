"""A multi-layer perceptron for images: flatten, then Linear-ReLU blocks, then a linear classifier."""

from __future__ import annotations

from collections.abc import Sequence

from .. import nn
from ..tensor import Tensor


class MLP(nn.Module):
    """``x -> flatten -> [Linear -> ReLU (-> Dropout)] * len(hidden_sizes) -> Linear -> logits``.

    Hidden layer k computes ``h_k = relu(W_k h_{k-1} + b_k)`` with ``h_0`` the flattened image.
    """

    def __init__(self, in_features: int, num_classes: int = 10, hidden_sizes: Sequence[int] = (128, 64),
                 dropout: float = 0.0) -> None:
        super().__init__()
        if in_features < 1 or num_classes < 1:
            raise ValueError(f"MLP needs in_features >= 1 and num_classes >= 1, got {in_features} and {num_classes}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLP: dropout must be in [0, 1), got {dropout}")
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for h in hidden_sizes:
            if h < 1:
                raise ValueError(f"MLP: hidden sizes must be positive, got {tuple(hidden_sizes)}")
            layers += [nn.Linear(width, h), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        self.layers = nn.Sequential(*layers)
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.layers(x))


def mlp(in_channels: int = 1, num_classes: int = 10, input_size: int = 8, hidden_sizes: Sequence[int] = (128, 64),
        dropout: float = 0.0) -> MLP:
    """An MLP for ``in_channels x input_size x input_size`` images."""
    return MLP(in_channels * input_size * input_size, num_classes, hidden_sizes, dropout)
