"""A small ResNet with batch normalisation for 32x32 images (He et al., 2016, the CIFAR variant).

Three stages of basic blocks with 16, 32 and 64 channels (times ``width / 16``); stages two and
three halve the resolution. ``depth = 6n + 2`` counts the weighted layers (n blocks per stage):
``depth=8`` (the default, ~78k parameters) trains in minutes on a CPU, ``depth=20`` is the paper's
smallest network. Global average pooling before the classifier makes any input size work.
"""

from __future__ import annotations

from .. import nn
from ..nn import functional as F
from ..tensor import Tensor


class BasicBlock(nn.Module):
    """``y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``.

    The shortcut is the identity when shapes agree, else a strided 1x1 convolution with batch
    norm (the paper's option B), so every block starts as close to the identity as it can.
    """

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut: nn.Module
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(planes))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """conv3x3 - bn - relu - [BasicBlock x n] x 3 stages - global average pool - fc."""

    def __init__(self, in_channels: int = 3, num_classes: int = 10, depth: int = 8, width: int = 16) -> None:
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"ResNet depth must be 6n + 2 with n >= 1 (8, 14, 20, 32 ...), got {depth}")
        if width < 1:
            raise ValueError(f"ResNet width must be positive, got {width}")
        n = (depth - 2) // 6
        widths = (width, 2 * width, 4 * width)
        self.conv1 = nn.Conv2d(in_channels, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        stages = []
        in_planes = width
        for i, planes in enumerate(widths):
            blocks = []
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                blocks.append(BasicBlock(in_planes, planes, stride))
                in_planes = planes
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_planes, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        return self.fc(self.pool(out).flatten(1))


def resnet(in_channels: int = 3, num_classes: int = 10, input_size: int = 32, depth: int = 8,
           width: int = 16) -> ResNet:
    """The small batch-norm ResNet; ``input_size`` is not needed (global pooling) and only checked."""
    if input_size < 4:
        raise ValueError(f"ResNet needs inputs of at least 4x4 (two stride-2 stages), got {input_size}x{input_size}")
    return ResNet(in_channels, num_classes, depth, width)
