"""summary on every model of chainrule.models, against equivalent PyTorch definitions written here.

For each model: the parameter names and shapes equal those of the PyTorch network, the summary's
parameter total equals PyTorch's count, and the MACs of every convolution and linear layer equal
the formula evaluated on the output shapes PyTorch's forward pass produces.
"""

import math

import numpy as np
import pytest
import torch
from torch import nn as tnn

import chainrule as cr
from chainrule import models, nn
from chainrule.tools import receptive_field, summary

# ---- PyTorch twins of the zoo's default models --------------------------------------------------


def t_mlp(c, side, classes=10, hidden=(128, 64)):
    layers, width = [tnn.Flatten()], c * side * side
    for h in hidden:
        layers += [tnn.Linear(width, h), tnn.ReLU()]
        width = h
    net = tnn.Module()
    net.layers = tnn.Sequential(*layers)
    net.classifier = tnn.Linear(width, classes)
    net.forward = lambda x: net.classifier(net.layers(x))
    return net


def _features_classifier(features, classifier):
    net = tnn.Module()
    net.features, net.classifier = features, classifier
    net.forward = lambda x: net.classifier(net.features(x))
    return net


def t_lenet5(c, side, classes=10):
    pad = 2 if side < 32 else 0
    s = ((side + 2 * pad - 4) // 2 - 4) // 2
    return _features_classifier(
        tnn.Sequential(tnn.Conv2d(c, 6, 5, padding=pad), tnn.ReLU(), tnn.MaxPool2d(2),
                       tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2)),
        tnn.Sequential(tnn.Flatten(), tnn.Linear(16 * s * s, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(),
                       tnn.Linear(84, classes)))


def t_digits_cnn(c, side, classes=10):
    return _features_classifier(
        tnn.Sequential(tnn.Conv2d(c, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                       tnn.Conv2d(32, 64, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2)),
        tnn.Sequential(tnn.Flatten(), tnn.Dropout(0.25), tnn.Linear(64 * (side // 4) ** 2, 128), tnn.ReLU(),
                       tnn.Linear(128, classes)))


class TBasicBlock(tnn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = tnn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(cout)
        self.conv2 = tnn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(cout)
        if stride != 1 or cin != cout:
            self.shortcut = tnn.Sequential(tnn.Conv2d(cin, cout, 1, stride, bias=False), tnn.BatchNorm2d(cout))
        else:
            self.shortcut = tnn.Identity()

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class TWSConv2d(tnn.Conv2d):
    """Weight-standardised conv with a per-filter gain (timm's ScaledStdConv2d layout)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.gain = tnn.Parameter(torch.ones(self.out_channels, 1, 1, 1))

    def forward(self, x):
        w = self.weight
        mean = w.mean((1, 2, 3), keepdim=True)
        var = w.var((1, 2, 3), keepdim=True, unbiased=False)
        fan_in = w[0].numel()
        w = (w - mean) / torch.sqrt(torch.clamp(var * fan_in, min=1e-4)) * self.gain
        return self._conv_forward(x, w, self.bias)


class TNFBlock(tnn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = TWSConv2d(cin, cout, 3, stride, 1)
        self.conv2 = TWSConv2d(cout, cout, 3, 1, 1)
        self.shortcut = TWSConv2d(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        out = torch.relu(x)
        sc = x if self.shortcut is None else self.shortcut(out)
        return self.conv2(torch.relu(self.conv1(out))) * 0.2 + sc


def _resnet(block, c, width=16, classes=10, n=1, stem_bn=True):
    net = tnn.Module()
    stem = TWSConv2d(c, width, 3, 1, 1) if not stem_bn else tnn.Conv2d(c, width, 3, 1, 1, bias=False)
    if stem_bn:
        net.conv1, net.bn1 = stem, tnn.BatchNorm2d(width)
    else:
        net.stem = stem
    cin = width
    for i, planes in enumerate((width, 2 * width, 4 * width)):
        blocks = []
        for j in range(n):
            blocks.append(block(cin, planes, 2 if i > 0 and j == 0 else 1))
            cin = planes
        setattr(net, f"layer{i + 1}", tnn.Sequential(*blocks))
    net.pool = tnn.AdaptiveAvgPool2d(1)
    net.fc = tnn.Linear(cin, classes)

    def forward(x):
        x = torch.relu(net.bn1(net.conv1(x))) if stem_bn else net.stem(x)
        x = net.layer3(net.layer2(net.layer1(x)))
        return net.fc(net.pool(x).flatten(1))

    net.forward = forward
    return net


def t_allconv(c, side, classes=10, widths=(32, 64)):
    layers, cin = [], c
    for w in widths:
        layers += [tnn.Conv2d(cin, w, 3, padding=1), tnn.ReLU(), tnn.Conv2d(w, w, 3, stride=2, padding=1), tnn.ReLU()]
        cin = w
    layers += [tnn.Conv2d(cin, cin, 1), tnn.ReLU(), tnn.Conv2d(cin, classes, 1)]
    net = tnn.Module()
    net.features, net.pool = tnn.Sequential(*layers), tnn.AdaptiveAvgPool2d(1)
    net.forward = lambda x: net.pool(net.features(x)).flatten(1)
    return net


TWINS = {
    "mlp": t_mlp,
    "lenet5": t_lenet5,
    "digits_cnn": t_digits_cnn,
    "resnet": lambda c, side: _resnet(TBasicBlock, c),
    "nf_resnet": lambda c, side: _resnet(TNFBlock, c, stem_bn=False),
    "allconv": t_allconv,
}
SIZES = {"mlp": (2, 1, 8, 8), "lenet5": (2, 1, 28, 28), "digits_cnn": (2, 1, 8, 8), "resnet": (2, 3, 32, 32),
         "nf_resnet": (2, 3, 32, 32), "allconv": (2, 1, 28, 28)}


def test_every_zoo_model_has_a_twin():
    assert set(models.list_models()) == set(TWINS)


def _torch_macs(net, size):
    """MACs of torch's convs and linears, by the formula on the shapes its forward pass produces."""
    total = []

    def hook(m, args, out):
        if isinstance(m, tnn.Conv2d):
            total.append(out.numel() * m.in_channels // m.groups * math.prod(m.kernel_size))
        elif isinstance(m, tnn.Linear):
            total.append(out.numel() * m.in_features)

    handles = [m.register_forward_hook(hook) for m in net.modules()]
    with torch.no_grad():
        net.eval()(torch.zeros(size))
    for h in handles:
        h.remove()
    return sum(total)


@pytest.mark.parametrize("name", sorted(TWINS))
def test_zoo_parameters_and_macs_match_pytorch(name):
    size = SIZES[name]
    ours = models.get_model(name, in_channels=size[1], input_size=size[2])
    twin = TWINS[name](size[1], size[2])
    assert [(k, tuple(p.shape)) for k, p in ours.named_parameters()] == \
        [(k, tuple(p.shape)) for k, p in twin.named_parameters()]
    s = summary(ours, size)
    assert s.totals.total_params == sum(p.numel() for p in twin.parameters())
    assert s.totals.trainable_params == s.totals.total_params
    assert s.totals.macs == _torch_macs(twin, size)
    leaf_params = sum(r.params for r in s.rows if r.is_leaf)
    assert leaf_params == s.totals.total_params  # no parameter sits outside a leaf layer here


def test_lenet5_has_61706_parameters():
    s = summary(models.lenet5(), (1, 1, 28, 28))
    assert s.totals.total_params == 61706
    assert "Total params: 61,706" in str(s)


def _positive(model):
    with cr.no_grad():
        for p in model.parameters():
            p.copy_(p.abs() + 0.05)
    return model.double().eval()


def test_resnet_receptive_field_by_hand_and_by_gradient():
    # stem 3x3: r 3; layer1 block (two 3x3): r 7; layer2 (3x3/2 then 3x3): r 9 (j 2), 13;
    # layer3: r 17 (j 4), 25; every 3x3 pads 1 and the 1x1 shortcuts are contained: start stays 0
    for name in ("resnet", "nf_resnet"):
        fields = {f.name: f for f in receptive_field(models.get_model(name), (1, 3, 48, 48))}
        last = fields["layer3.0.conv2"]
        assert (last.size, last.jump, last.start) == ((25, 25), (4, 4), (0.0, 0.0))
    net = _positive(models.resnet(in_channels=1))
    body = nn.Sequential(net.conv1, net.bn1, nn.ReLU(), net.layer1, net.layer2, net.layer3)
    (row,) = [r for r in summary(body, (1, 1, 48, 48), dtype=cr.float64).rows if r.name == "5"]
    f = row.receptive_field  # layer3's output: the union of conv branch (25) and shortcut (13)
    assert (f.size, f.jump, f.start) == ((25, 25), (4, 4), (0.0, 0.0))
    x = cr.tensor(np.random.default_rng(0).random((1, 1, 48, 48)) + 0.1, requires_grad=True)
    body(x)[0, 0, 6, 6].backward()
    rows = np.flatnonzero(np.abs(x.grad.numpy()[0, 0]).sum(1) > 0)
    cols = np.flatnonzero(np.abs(x.grad.numpy()[0, 0]).sum(0) > 0)
    # unit 6 is centred on 0 + 6 * 4 = 24 and spans 24 +- 12
    assert (rows[0], rows[-1], cols[0], cols[-1]) == (12, 36, 12, 36)
