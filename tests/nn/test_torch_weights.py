"""PyTorch weights run in chainrule: a model trained (here: initialised) in PyTorch, saved with
``safetensors.torch.save_file``, loads with ``chainrule.load`` + ``load_state_dict`` into the
same architecture written with ``chainrule.nn`` and gives the same outputs.

Each model is written once, as a function of ``nn`` (``torch.nn`` or ``chainrule.nn``): the two
frameworks share the API, so the definitions cannot drift apart.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import chainrule as cr
import chainrule.nn  # noqa: F401

torch.set_num_threads(1)


def lenet5(nn):
    """LeNet-5 for 1x28x28 inputs (the first convolution pads by 2 to the original 32x32)."""

    class LeNet5(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
                nn.Conv2d(6, 16, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2))
            self.classifier = nn.Sequential(
                nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(),
                nn.Linear(84, 10))

        def forward(self, x):
            return self.classifier(self.features(x))

    return LeNet5()


def small_convnet(nn):
    """Conv-BN-ReLU blocks, max pooling, dropout and global average pooling (BN buffers too)."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Dropout(0.25), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 5))


def _n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def _roundtrip(build, tmp_path, input_shape, seed):
    torch.manual_seed(seed)
    theirs = build(torch.nn)
    # perturb the BatchNorm running statistics away from their defaults so loading them matters
    for name, buf in theirs.named_buffers():
        if name.endswith("running_mean"):
            buf.copy_(torch.randn_like(buf) * 0.1)
        elif name.endswith("running_var"):
            buf.copy_(torch.rand_like(buf) + 0.5)
    theirs.eval()
    path = tmp_path / "weights.safetensors"
    save_file(theirs.state_dict(), str(path))

    ours = build(cr.nn)
    state = cr.load(str(path))
    assert sorted(state) == sorted(theirs.state_dict())
    result = ours.load_state_dict(state)
    assert not result.missing_keys and not result.unexpected_keys
    ours.eval()

    x = np.random.default_rng(seed).standard_normal(input_shape).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    with cr.no_grad():
        got = ours(cr.from_numpy(x))
    assert got.dtype == cr.float32
    return theirs, ours, got.numpy(), expected


def test_lenet5_weights_from_torch(tmp_path):
    theirs, ours, got, expected = _roundtrip(lenet5, tmp_path, (4, 1, 28, 28), seed=0)
    assert _n_params(theirs) == 61_706
    assert _n_params(ours) == 61_706
    assert got.shape == (4, 10)
    # float32 through 5 layers of up to 400-term sums: a few ulps of the logits' scale
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


def test_small_convnet_weights_from_torch(tmp_path):
    theirs, ours, got, expected = _roundtrip(small_convnet, tmp_path, (3, 3, 16, 16), seed=1)
    assert _n_params(ours) == _n_params(theirs)
    bn = dict(ours.named_buffers())
    np.testing.assert_array_equal(bn["1.running_var"].numpy(), theirs[1].running_var.numpy())
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("build", [lenet5, small_convnet], ids=["lenet5", "small_convnet"])
def test_state_dict_names_match_torch(build):
    assert list(build(cr.nn).state_dict()) == list(build(torch.nn).state_dict())


def test_torch_training_step_matches_after_loading(tmp_path):
    """Gradients of the loaded LeNet-5 on a cross-entropy loss equal PyTorch's."""
    theirs, ours, _, _ = _roundtrip(lenet5, tmp_path, (2, 1, 28, 28), seed=2)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 1, 28, 28)).astype(np.float32)
    y = np.array([3, 7])
    theirs.train()
    ours.train()
    torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y)).backward()
    cr.nn.functional.cross_entropy(ours(cr.from_numpy(x)), cr.from_numpy(y)).backward()
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        scale = np.abs(q.grad.numpy()).max()
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-5 * scale, err_msg=name)
