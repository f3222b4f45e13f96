"""chainrule.models against independently written PyTorch twins (tests/models/torch_reference.py):
same parameter names and counts, same outputs with the same weights; shapes, errors, one step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import models, nn
from chainrule.nn import functional as F

from . import torch_reference as ref

torch.set_num_threads(1)

# name, builder kwargs, PyTorch twin, input shape
CASES = [
    ("mlp", dict(in_channels=1, num_classes=10, input_size=8), lambda: ref.MLP(64), (3, 1, 8, 8)),
    ("lenet5", dict(in_channels=1, num_classes=10, input_size=28), lambda: ref.LeNet5(1, 10, 2), (2, 1, 28, 28)),
    ("lenet5", dict(in_channels=3, num_classes=10, input_size=32), lambda: ref.LeNet5(3, 10, 0), (2, 3, 32, 32)),
    ("digits_cnn", dict(in_channels=1, num_classes=10, input_size=8), lambda: ref.DigitsCNN(10, 2), (3, 1, 8, 8)),
    ("digits_cnn", dict(in_channels=1, num_classes=10, input_size=28), lambda: ref.DigitsCNN(10, 7), (2, 1, 28, 28)),
    ("resnet", dict(in_channels=3, num_classes=10, input_size=32), lambda: ref.ResNet(3, 10, 1), (2, 3, 32, 32)),
    ("resnet", dict(in_channels=3, num_classes=10, input_size=32, depth=14), lambda: ref.ResNet(3, 10, 2),
     (2, 3, 16, 16)),
    ("nf_resnet", dict(in_channels=3, num_classes=10, input_size=32), lambda: ref.NFResNet(3, 10), (2, 3, 32, 32)),
    ("allconv", dict(in_channels=1, num_classes=10), lambda: ref.AllConvNet(1, 10), (2, 1, 8, 8)),
]
IDS = [f"{c[0]}-{c[3][1]}x{c[3][2]}" + ("-deep" if "depth" in c[1] else "") for c in CASES]


def _count(params) -> int:
    return sum(int(np.prod(tuple(p.shape))) for p in params)


def _copy_into_torch(model: nn.Module, twin: torch.nn.Module) -> None:
    state = {k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()}
    twin.load_state_dict(state, strict=True)  # strict: the names must match one to one


def test_registry_lists_every_model():
    assert models.list_models() == sorted(["mlp", "lenet5", "digits_cnn", "resnet", "nf_resnet", "allconv"])


def test_unknown_model_lists_the_choices():
    with pytest.raises(ValueError, match="unknown model 'vgg'.*allconv, digits_cnn, lenet5, mlp, nf_resnet, resnet"):
        models.get_model("vgg")


def test_lenet5_has_61706_parameters():
    model = models.get_model("lenet5", in_channels=1, num_classes=10, input_size=28)
    assert sum(p.numel() for p in model.parameters()) == 61_706
    assert model.features[0].padding == (2, 2)


@pytest.mark.parametrize("name,kwargs,twin,shape", CASES, ids=IDS)
def test_matches_pytorch_twin(name, kwargs, twin, shape):
    cr.manual_seed(0)
    model = models.get_model(name, **kwargs).eval()
    reference = twin().eval()
    assert _count(model.parameters()) == _count(reference.parameters())
    assert sorted(model.state_dict()) == sorted(reference.state_dict())
    _copy_into_torch(model, reference)
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    out = model(cr.from_numpy(x))
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    assert tuple(out.shape) == (shape[0], kwargs["num_classes"])
    assert out.dtype == cr.float32
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-5, atol=1e-5)
    if not any(isinstance(m, nn.Dropout) for m in model.modules()):
        # training mode too: batch norm then normalises with the batch's own statistics
        out = model.train()(cr.from_numpy(x))
        with torch.no_grad():
            expected = reference.train()(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-5, atol=1e-5)


def test_allconv_takes_any_input_size():
    cr.manual_seed(0)
    model = models.get_model("allconv", in_channels=3, num_classes=7).eval()
    reference = ref.AllConvNet(3, 7).eval()
    _copy_into_torch(model, reference)
    for side in (8, 13, 32):
        x = np.random.default_rng(side).standard_normal((2, 3, side, side)).astype(np.float32)
        out = model(cr.from_numpy(x))
        assert tuple(out.shape) == (2, 7)
        with torch.no_grad():
            np.testing.assert_allclose(out.detach().numpy(), reference(torch.from_numpy(x)).numpy(),
                                       rtol=1e-5, atol=1e-5)


def test_models_reject_inputs_too_small():
    with pytest.raises(ValueError, match="LeNet5 needs inputs of at least 28x28"):
        models.get_model("lenet5", input_size=8)
    with pytest.raises(ValueError, match="at least 4x4"):
        models.get_model("digits_cnn", input_size=2)
    with pytest.raises(ValueError, match="depth must be 6n \\+ 2"):
        models.get_model("resnet", depth=10)


def test_nf_resnet_asks_for_agc_on_all_but_the_classifier():
    model = models.get_model("nf_resnet", in_channels=3, num_classes=10)
    assert model.agc_clipping > 0
    clipped = {id(p) for p in model.agc_parameters()}
    assert {id(p) for p in model.fc.parameters()}.isdisjoint(clipped)
    assert len(clipped) == len(list(model.parameters())) - 2
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert not hasattr(models.get_model("resnet"), "agc_parameters")


def test_nf_resnet_keeps_the_signal_at_unit_scale():
    """The point of the alpha/beta bookkeeping: at initialisation the residual stream neither
    explodes nor vanishes without batch norm (variance about 1 + alpha^2 after each stage)."""
    cr.manual_seed(0)
    model = models.get_model("nf_resnet", in_channels=3, num_classes=10, depth=20)
    x = cr.randn(16, 3, 16, 16)
    h = model.stem(x)
    for stage in (model.layer1, model.layer2, model.layer3):
        h = stage(h)
        assert 0.7 < h.var().item() < 1.8


@pytest.mark.parametrize("name,kwargs,shape", [(c[0], c[1], c[3]) for c in CASES], ids=IDS)
def test_one_training_step_reduces_the_loss(name, kwargs, shape):
    cr.manual_seed(0)
    model = models.get_model(name, **kwargs)
    model.train()
    for m in model.modules():  # dropout would make the two losses incomparable
        if isinstance(m, nn.Dropout):
            m.p = 0.0
    x = cr.randn(*((8,) + shape[1:]))
    y = cr.randint(0, kwargs["num_classes"], (8,))
    opt = cr.optim.SGD(model.parameters(), lr=0.01)
    before = F.cross_entropy(model(x), y)
    opt.zero_grad()
    before.backward()
    assert all(p.grad is not None for p in model.parameters())
    opt.step()
    after = F.cross_entropy(model(x), y)
    assert after.item() < before.item()
