"""The models of ``chainrule.models`` written independently in PyTorch, with the same parameter names.

The tests copy a chainrule model's weights into its twin here and compare parameter counts and
outputs, so each architecture is checked against a second, separately written definition.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


class MLP(nn.Module):
    def __init__(self, in_features, num_classes=10, hidden_sizes=(128, 64)):
        super().__init__()
        layers, width = [nn.Flatten()], in_features
        for h in hidden_sizes:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.layers = nn.Sequential(*layers)
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.classifier(self.layers(x))


class LeNet5(nn.Module):
    def __init__(self, in_channels=1, num_classes=10, padding=2):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(in_channels, 6, 5, padding=padding), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                                        nn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class DigitsCNN(nn.Module):
    def __init__(self, num_classes=10, side=2):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * side * side, 128), nn.ReLU(),
                                        nn.Linear(128, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, in_channels=3, num_classes=10, n=1, w=16):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, w, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.layer1 = nn.Sequential(*[BasicBlock(w, w, 1) for _ in range(n)])
        self.layer2 = nn.Sequential(BasicBlock(w, 2 * w, 2), *[BasicBlock(2 * w, 2 * w, 1) for _ in range(n - 1)])
        self.layer3 = nn.Sequential(BasicBlock(2 * w, 4 * w, 2), *[BasicBlock(4 * w, 4 * w, 1) for _ in range(n - 1)])
        self.fc = nn.Linear(4 * w, num_classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(F.relu(self.bn1(self.conv1(x))))))
        return self.fc(x.mean(dim=(2, 3)))


class WSConv2d(nn.Conv2d):
    """Scaled weight standardisation: gain * (W - mean) / sqrt(max(var * fan_in, eps))."""

    def __init__(self, *args, eps=1e-4, **kwargs):
        super().__init__(*args, **kwargs)
        self.gain = nn.Parameter(torch.ones(self.out_channels, 1, 1, 1))
        self.eps = eps

    def forward(self, x):
        fan_in = self.weight[0].numel()
        mean = self.weight.mean(dim=(1, 2, 3), keepdim=True)
        var = self.weight.var(dim=(1, 2, 3), keepdim=True, unbiased=False)
        w = self.gain * (self.weight - mean) / torch.sqrt(torch.clamp(var * fan_in, min=self.eps))
        return F.conv2d(x, w, self.bias, self.stride, self.padding)


GAMMA = math.sqrt(2 / (1 - 1 / math.pi))


class NFBlock(nn.Module):
    def __init__(self, cin, cout, stride, alpha, beta):
        super().__init__()
        self.alpha, self.beta = alpha, beta
        self.conv1 = WSConv2d(cin, cout, 3, stride, 1)
        self.conv2 = WSConv2d(cout, cout, 3, 1, 1)
        self.shortcut = WSConv2d(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        out = F.relu(x) * GAMMA / self.beta
        skip = x if self.shortcut is None else self.shortcut(out)
        return self.conv2(F.relu(self.conv1(out)) * GAMMA) * self.alpha + skip


class NFResNet(nn.Module):
    """One block per stage. The stem leaves unit variance, so the first (identity) block has beta 1 and
    leaves 1 + alpha^2; each transition block sees that variance and leaves 1 + alpha^2 again."""

    def __init__(self, in_channels=3, num_classes=10, w=16, alpha=0.2):
        super().__init__()
        self.stem = WSConv2d(in_channels, w, 3, 1, 1)
        b = math.sqrt(1 + alpha ** 2)
        self.layer1 = nn.Sequential(NFBlock(w, w, 1, alpha, 1.0))
        self.layer2 = nn.Sequential(NFBlock(w, 2 * w, 2, alpha, b))
        self.layer3 = nn.Sequential(NFBlock(2 * w, 4 * w, 2, alpha, b))
        self.fc = nn.Linear(4 * w, num_classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.stem(x))))
        return self.fc((F.relu(x) * GAMMA).mean(dim=(2, 3)))


class AllConvNet(nn.Module):
    def __init__(self, in_channels=1, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(64, 64, 1), nn.ReLU(), nn.Conv2d(64, num_classes, 1))

    def forward(self, x):
        return self.features(x).mean(dim=(2, 3))
