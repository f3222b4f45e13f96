"""Folding eval-mode batch norms into the preceding convolution / linear layer: the folded
weights against PyTorch's fusion utilities, and whole models (a LeNet with batch norm and a
small ResNet, defined here) giving the same outputs before and after ``fuse_bn``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn.utils import (
    fuse_bn,
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_conv_transpose_bn_eval,
    fuse_linear_bn_eval,
)

torch.set_num_threads(1)


def _randomize_bn(model: nn.Module, rng) -> None:
    """Non-trivial gamma, beta and running statistics in every batch norm."""
    with cr.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)) and m.running_mean is not None:
                c = m.num_features
                dt = m.running_mean.dtype
                m.running_mean.copy_(cr.tensor(rng.standard_normal(c) * 0.5, dtype=dt))
                m.running_var.copy_(cr.tensor(rng.uniform(0.3, 2.0, c), dtype=dt))
                if m.weight is not None:
                    m.weight.copy_(cr.tensor(rng.uniform(0.5, 1.5, c), dtype=dt))
                    m.bias.copy_(cr.tensor(rng.standard_normal(c) * 0.3, dtype=dt))


def _rel_err(a: cr.Tensor, b: cr.Tensor) -> float:
    a, b = a.detach().numpy().astype(np.float64), b.detach().numpy().astype(np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def lenet_bn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.BatchNorm1d(120), nn.ReLU(),
        nn.Linear(120, 84, bias=False), nn.BatchNorm1d(84), nn.ReLU(),
        nn.Linear(84, 10),
    )


class BasicBlock(nn.Module):
    """relu(body(x) + shortcut(x)), the conv/BN pairs inside Sequentials."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        else:
            self.shortcut = nn.Identity()
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.body(x) + self.shortcut(x))


class SmallResNet(nn.Module):
    def __init__(self, num_classes: int = 10, width: int = 8):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.stages = nn.Sequential(
            nn.Sequential(BasicBlock(width, width), BasicBlock(width, width)),
            nn.Sequential(BasicBlock(width, 2 * width, 2), BasicBlock(2 * width, 2 * width)),
            nn.Sequential(BasicBlock(2 * width, 4 * width, 2)))
        self.fc = nn.Linear(4 * width, num_classes)

    def forward(self, x):
        return self.fc(self.stages(self.stem(x)).mean((2, 3)))


def _count_bn(model: nn.Module) -> int:
    return sum(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) for m in model.modules())


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("build, shape", [(lenet_bn, (4, 1, 28, 28)), (SmallResNet, (3, 3, 16, 16))],
                         ids=["lenet_bn", "small_resnet"])
def test_fuse_bn_whole_model(build, shape, dtype):
    rng = np.random.default_rng(0)
    cr.manual_seed(0)
    model = build().to(dtype)
    for _ in range(2):  # a few training-mode passes move the running statistics
        model(cr.tensor(rng.standard_normal(shape), dtype=dtype))
    _randomize_bn(model, rng)
    model.train()
    before = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    n_bn = _count_bn(model)

    fused = fuse_bn(model)

    assert model.training and _count_bn(model) == n_bn, "the original model must be untouched"
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.detach().numpy(), before[k])
    assert not fused.training and _count_bn(fused) == 0
    assert sum(isinstance(m, nn.Identity) for m in fused.modules()) >= n_bn
    model.eval()
    for seed in range(3):
        x = cr.tensor(np.random.default_rng(seed + 10).standard_normal(shape), dtype=dtype)
        with cr.no_grad():
            ref, out = model(x), fused(x)
        assert out.dtype == dtype
        assert _rel_err(out, ref) < (1e-5 if dtype == cr.float32 else 1e-12)


@pytest.mark.parametrize("bias", [True, False])
def test_fuse_conv_bn_eval_matches_torch(bias):
    rng = np.random.default_rng(1)
    conv, bn = nn.Conv2d(3, 4, 3, bias=bias).double().eval(), nn.BatchNorm2d(4).double().eval()
    _randomize_bn(bn, rng)
    tconv, tbn = torch.nn.Conv2d(3, 4, 3, bias=bias).double().eval(), torch.nn.BatchNorm2d(4).double().eval()
    tconv.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in conv.state_dict().items()})
    tbn.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in bn.state_dict().items()})
    fused = fuse_conv_bn_eval(conv, bn)
    tfused = torch.nn.utils.fuse_conv_bn_eval(tconv, tbn)
    np.testing.assert_allclose(fused.weight.detach().numpy(), tfused.weight.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(fused.bias.detach().numpy(), tfused.bias.detach().numpy(), rtol=1e-13, atol=1e-15)
    assert isinstance(fused.weight, nn.Parameter) and fused.weight.requires_grad
    assert fused is not conv
    if not bias:  # the fused copy gains a bias; the original keeps none
        assert conv.bias is None and fused.bias is not None
    x = cr.tensor(rng.standard_normal((2, 3, 6, 6)))
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(conv(x)).detach().numpy(), rtol=1e-11, atol=1e-12)


def test_fuse_linear_bn_eval_matches_torch():
    rng = np.random.default_rng(2)
    lin, bn = nn.Linear(5, 3).double().eval(), nn.BatchNorm1d(3).double().eval()
    _randomize_bn(bn, rng)
    tlin, tbn = torch.nn.Linear(5, 3).double().eval(), torch.nn.BatchNorm1d(3).double().eval()
    tlin.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in lin.state_dict().items()})
    tbn.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in bn.state_dict().items()})
    fused, tfused = fuse_linear_bn_eval(lin, bn), torch.nn.utils.fuse_linear_bn_eval(tlin, tbn)
    np.testing.assert_allclose(fused.weight.detach().numpy(), tfused.weight.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(fused.bias.detach().numpy(), tfused.bias.detach().numpy(), rtol=1e-13)


@pytest.mark.parametrize("groups", [1, 2])
def test_fuse_conv_transpose_bn(groups):
    rng = np.random.default_rng(3)
    conv = nn.ConvTranspose2d(4, 6, 3, stride=2, groups=groups).double().eval()
    bn = nn.BatchNorm2d(6).double().eval()
    _randomize_bn(bn, rng)
    fused = fuse_conv_transpose_bn_eval(conv, bn)
    x = cr.tensor(rng.standard_normal((2, 4, 3, 3)))
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(conv(x)).detach().numpy(), rtol=1e-11, atol=1e-12)
    assert tuple(fused.weight.shape) == (4, 6 // groups, 3, 3)
    if groups == 1:  # PyTorch's transpose=True path handles one group only
        w, b = fuse_conv_bn_weights(conv.weight, conv.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight,
                                    bn.bias, transpose=True)
        tw, tb = torch.nn.utils.fuse_conv_bn_weights(
            *(torch.tensor(t.detach().numpy()) for t in (conv.weight, conv.bias, bn.running_mean, bn.running_var)),
            bn.eps, torch.tensor(bn.weight.detach().numpy()), torch.tensor(bn.bias.detach().numpy()), transpose=True)
        np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-14)
        np.testing.assert_allclose(b.detach().numpy(), tb.detach().numpy(), rtol=1e-13)


def test_fuse_bn_sequential_variants():
    rng = np.random.default_rng(4)
    model = nn.Sequential(
        nn.ConvTranspose2d(2, 4, 2, stride=2), nn.BatchNorm2d(4),
        nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4, affine=False),
        nn.Conv2d(4, 3, 1), nn.BatchNorm2d(3, track_running_stats=False),  # not foldable: kept
        nn.WSConv2d(3, 5, 3, padding=1), nn.BatchNorm2d(5),
    ).double()
    _randomize_bn(model, rng)
    fused = fuse_bn(model)
    kinds = [type(m).__name__ for m in fused]
    assert kinds == ["ConvTranspose2d", "Identity", "Conv2d", "Identity", "Conv2d", "BatchNorm2d", "Conv2d",
                     "Identity"]
    x = cr.tensor(rng.standard_normal((2, 2, 3, 3)))
    with cr.no_grad():
        np.testing.assert_allclose(fused(x).numpy(), model.eval()(x).numpy(), rtol=1e-10, atol=1e-12)


def test_fusion_errors():
    conv, bn = nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3)
    with pytest.raises(RuntimeError, match="Fusion only for eval"):
        fuse_conv_bn_eval(conv, bn)
    with pytest.raises(RuntimeError, match="without running statistics"):
        fuse_conv_bn_eval(conv.eval(), nn.BatchNorm2d(3, track_running_stats=False).eval())
    with pytest.raises(RuntimeError, match="has 3 outputs but the batch norm normalises 4"):
        fuse_conv_bn_eval(conv.eval(), nn.BatchNorm2d(4).eval())


def test_fuse_bn_traced_folds_pairs_wired_in_forward():
    from chainrule import models

    cr.manual_seed(0)
    model = models.get_model("resnet")
    model.train()
    for _ in range(2):  # non-trivial running statistics
        model(cr.randn(8, 3, 32, 32))
    model.eval()
    count = lambda m: sum(isinstance(q, nn.BatchNorm2d) for q in m.modules())  # noqa: E731
    assert count(model) == 9
    assert count(fuse_bn(model)) == 7  # only the pairs inside Sequentials (the shortcuts)
    fused = fuse_bn(model, example_input=(2, 3, 32, 32))
    assert count(fused) == 0 and count(model) == 9
    x = cr.randn(4, 3, 32, 32)
    with cr.no_grad():
        ref, out = model(x).numpy(), fused(x).numpy()
    assert np.abs(out - ref).max() <= 1e-5 * np.abs(ref).max()


def test_fuse_bn_traced_leaves_a_layer_whose_output_is_used_twice():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 3, 3, padding=1)
            self.bn = nn.BatchNorm2d(3)

        def forward(self, x):
            y = self.conv(x)
            return self.bn(y) + y  # folding would change the second use of y

    model = Branchy().eval()
    with cr.no_grad():
        model.bn.running_mean.copy_(cr.tensor([0.5, -1.0, 2.0]))
    fused = fuse_bn(model, example_input=(1, 2, 5, 5))
    assert isinstance(fused.bn, nn.BatchNorm2d)
    x = cr.randn(1, 2, 5, 5)
    with cr.no_grad():
        np.testing.assert_allclose(fused(x).numpy(), model(x).numpy(), rtol=1e-6)
