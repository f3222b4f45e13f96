"""LeNet-style convolutional networks: LeNet-5 (LeCun et al., 1998) and a small CNN for 8x8 digits."""

from __future__ import annotations

from .. import nn
from ..tensor import Tensor

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}
_POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


def _choice(table: dict, value: str, what: str):
    if value not in table:
        raise ValueError(f"unknown {what} {value!r}; choose one of: {', '.join(table)}")
    return table[value]


class LeNet5(nn.Module):
    """conv(C->6, 5x5, pad p) - act - pool - conv(6->16, 5x5) - act - pool - fc(16*s*s -> 120) - act
    - fc(120 -> 84) - act - fc(84 -> num_classes).

    The classic network takes 32x32 images; a 28x28 MNIST image with ``padding=2`` is the same
    thing (s = 5, 61,706 parameters for one input channel and ten classes). Other sizes work as
    long as the feature map stays non-empty: s = ((input_size + 2p - 4) // 2 - 4) // 2.
    The 1998 paper used scaled tanh and trainable sub-sampling; ``activation="tanh"`` and
    ``pooling="avg"`` come close, ReLU and max pooling (the defaults) train faster.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, input_size: int = 28, padding: int | None = None,
                 activation: str = "relu", pooling: str = "max") -> None:
        super().__init__()
        act = _choice(_ACTIVATIONS, activation, "activation")
        pool = _choice(_POOLS, pooling, "pooling")
        if padding is None:
            padding = 2 if input_size < 32 else 0
        side = ((input_size + 2 * padding - 4) // 2 - 4) // 2
        if side < 1:
            raise ValueError(f"LeNet5 needs inputs of at least {32 - 2 * padding}x{32 - 2 * padding} with padding "
                             f"{padding}, got {input_size}x{input_size}")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=padding), act(), pool(2),
            nn.Conv2d(6, 16, 5), act(), pool(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * side * side, 120), act(),
            nn.Linear(120, 84), act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


class DigitsCNN(nn.Module):
    """A LeNet-style CNN sized for scikit-learn's 8x8 digits (the demo's model).

    conv(C->c1, 3x3, pad 1) - ReLU - maxpool 2 - conv(c1->c2, 3x3, pad 1) - ReLU - maxpool 2
    - dropout - fc(c2 * (s/4)^2 -> hidden) - ReLU - fc(hidden -> num_classes).

    The 3x3 kernels with padding keep the tiny 8x8 images from shrinking before pooling
    (8 -> 4 -> 2); any input side of at least 4 works (28x28 MNIST gives 7x7 maps). Dropout on
    the flattened features (p = 0.25) keeps the ~1,300 training images from being memorised.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, input_size: int = 8,
                 channels: tuple[int, int] = (32, 64), hidden: int = 128, dropout: float = 0.25) -> None:
        super().__init__()
        side = input_size // 4
        if side < 1:
            raise ValueError(f"DigitsCNN needs inputs of at least 4x4, got {input_size}x{input_size}")
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout),
            nn.Linear(c2 * side * side, hidden), nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


def lenet5(in_channels: int = 1, num_classes: int = 10, input_size: int = 28, **kwargs) -> LeNet5:
    """LeNet-5; pads 28x28 inputs by 2 so that they meet the network as 32x32 images."""
    return LeNet5(in_channels, num_classes, input_size, **kwargs)


def digits_cnn(in_channels: int = 1, num_classes: int = 10, input_size: int = 8, **kwargs) -> DigitsCNN:
    """The demo's CNN for 8x8 digits."""
    return DigitsCNN(in_channels, num_classes, input_size, **kwargs)
