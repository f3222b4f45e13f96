"""An all-convolutional network (Springenberg et al., 2015): strided convolutions instead of
pooling layers, a 1x1 convolution to class scores, and global average pooling in place of
fully connected layers, so the same weights classify images of any size."""

from __future__ import annotations

from collections.abc import Sequence

from .. import nn
from ..tensor import Tensor


class AllConvNet(nn.Module):
    """[conv3x3(w) - ReLU - conv3x3(w, stride 2) - ReLU] per width - conv1x1(w) - ReLU
    - conv1x1(num_classes) - global average pool.

    Every 3x3 convolution pads by 1, so a side s becomes ceil(s / 2) per stage and never
    vanishes: any input of at least 1x1 works. The class score is the spatial mean of the last
    map: ``logit_k = mean_{i,j} z_k[i, j]``.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, widths: Sequence[int] = (32, 64),
                 dropout: float = 0.0) -> None:
        super().__init__()
        if not widths:
            raise ValueError("AllConvNet needs at least one width")
        layers: list[nn.Module] = []
        c = in_channels
        for w in widths:
            layers += [nn.Conv2d(c, w, 3, padding=1), nn.ReLU(),
                       nn.Conv2d(w, w, 3, stride=2, padding=1), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            c = w
        layers += [nn.Conv2d(c, c, 1), nn.ReLU(), nn.Conv2d(c, num_classes, 1)]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(self.features(x)).flatten(1)


def allconv(in_channels: int = 1, num_classes: int = 10, input_size: int | None = None,
            widths: Sequence[int] = (32, 64), dropout: float = 0.0) -> AllConvNet:
    """The all-convolutional net; ``input_size`` is accepted for a uniform signature and unused."""
    return AllConvNet(in_channels, num_classes, widths, dropout)
