"""A normalizer-free ResNet (Brock et al., 2021): weight-standardised convolutions, no batch norm.

Without batch norm the variance of the residual stream must be controlled by hand. Each block
computes

    h_{l+1} = h_l + alpha * f_l(h_l / beta_l),     beta_l = sqrt(Var(h_l)),

so its branch sees a unit-variance input, and the expected variance grows as
``Var(h_{l+1}) = Var(h_l) + alpha^2``; a transition block (new width or stride) applies its
shortcut to the scaled input and resets the variance to ``1 + alpha^2``. The convolutions are
``WSConv2d`` (standardised filters keep unit variance) and the ReLU is scaled by
``gamma = sqrt(2 / (1 - 1/pi))`` so that ``gamma * relu(z)`` of a unit normal z has unit variance.

The model asks the trainer for adaptive gradient clipping: ``agc_clipping`` and
``agc_parameters()`` (every parameter except the final classifier, as in the paper).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from .. import nn
from ..nn import functional as F
from ..nn.parameter import Parameter
from ..tensor import Tensor

RELU_GAMMA = math.sqrt(2.0 / (1.0 - 1.0 / math.pi))


def scaled_relu(x: Tensor) -> Tensor:
    """gamma * relu(x), variance preserving for x ~ N(0, 1)."""
    return F.relu(x) * RELU_GAMMA


class NFBlock(nn.Module):
    """``out = alpha * conv2(act(conv1(act(x) / beta))) + shortcut``; shortcut = x, or a 1x1
    WSConv of ``act(x) / beta`` in a transition block."""

    def __init__(self, in_planes: int, planes: int, stride: int, alpha: float, beta: float) -> None:
        super().__init__()
        self.alpha, self.beta = float(alpha), float(beta)
        self.conv1 = nn.WSConv2d(in_planes, planes, 3, stride=stride, padding=1)
        self.conv2 = nn.WSConv2d(planes, planes, 3, padding=1)
        self.shortcut = nn.WSConv2d(in_planes, planes, 1, stride=stride) if stride != 1 or in_planes != planes else None

    def forward(self, x: Tensor) -> Tensor:
        out = scaled_relu(x) * (1.0 / self.beta)
        shortcut = x if self.shortcut is None else self.shortcut(out)
        out = self.conv2(scaled_relu(self.conv1(out)))
        return out * self.alpha + shortcut

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, beta={self.beta:.4f}"


class NFResNet(nn.Module):
    """WSConv3x3 stem - [NFBlock x n] x 3 stages (width, 2 width, 4 width) - act - global pool - fc."""

    def __init__(self, in_channels: int = 3, num_classes: int = 10, depth: int = 8, width: int = 16,
                 alpha: float = 0.2, agc_clipping: float = 0.1) -> None:
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"NFResNet depth must be 6n + 2 with n >= 1 (8, 14, 20 ...), got {depth}")
        if agc_clipping <= 0:
            raise ValueError(f"NFResNet: agc_clipping must be positive, got {agc_clipping}")
        n = (depth - 2) // 6
        # The paper clips at 0.01 for batches of thousands; small batches have noisier gradients
        # and train best with a looser clip (its Figure 3), hence 0.1 here.
        self.agc_clipping = float(agc_clipping)
        self.stem = nn.WSConv2d(in_channels, width, 3, padding=1)
        stages = []
        in_planes, expected_std = width, 1.0
        for i, planes in enumerate((width, 2 * width, 4 * width)):
            blocks = []
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                blocks.append(NFBlock(in_planes, planes, stride, alpha, beta=expected_std))
                if stride != 1 or in_planes != planes:
                    expected_std = 1.0  # the shortcut saw the scaled input: the stream restarts at unit variance
                expected_std = math.sqrt(expected_std ** 2 + alpha ** 2)
                in_planes = planes
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_planes, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        out = self.layer3(self.layer2(self.layer1(self.stem(x))))
        return self.fc(self.pool(scaled_relu(out)).flatten(1))

    def agc_parameters(self) -> Iterator[Parameter]:
        """The parameters adaptive gradient clipping applies to: all but the classifier's."""
        head = {id(p) for p in self.fc.parameters()}
        return (p for p in self.parameters() if id(p) not in head)


def nf_resnet(in_channels: int = 3, num_classes: int = 10, input_size: int = 32, depth: int = 8, width: int = 16,
              alpha: float = 0.2, agc_clipping: float = 0.1) -> NFResNet:
    """The normalizer-free ResNet; like ``resnet`` any input of at least 4x4 works."""
    if input_size < 4:
        raise ValueError(f"NFResNet needs inputs of at least 4x4 (two stride-2 stages), got {input_size}x{input_size}")
    return NFResNet(in_channels, num_classes, depth, width, alpha, agc_clipping)
