"""Basic layers against PyTorch (copied weights): Linear, Bilinear, Identity, Flatten, Unflatten,
activations; dropout statistics and gradients; hyper-parameter validation and messages."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.autograd import gradcheck, gradgradcheck

torch.set_num_threads(1)
RNG = np.random.default_rng(0)


def copy_params(ours: nn.Module, ref: torch.nn.Module) -> None:
    """Give ``ours`` the weights of ``ref`` through the state dict (names must match 1:1)."""
    sd = {k: cr.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()}
    ours.load_state_dict(sd)


def assert_close(a, b, tol=1e-5):
    a = a.detach().numpy() if isinstance(a, cr.Tensor) else a
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else b
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


# ---- Linear ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,), (2, 1, 2, 3)])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_linear_matches_torch(shape, bias, mode):
    ref = torch.nn.Linear(3, 4, bias=bias)
    ours = nn.Linear(3, 4, bias=bias)
    copy_params(ours, ref)
    getattr(ours, mode)()
    getattr(ref, mode)()
    x = RNG.standard_normal(shape).astype(np.float32)
    g = RNG.standard_normal(shape[:-1] + (4,)).astype(np.float32)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yc, yt = ours(xc), ref(xt)
    assert yc.dtype is cr.float32
    assert_close(yc, yt)
    yc.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(xc.grad, xt.grad)
    assert_close(ours.weight.grad, ref.weight.grad)
    if bias:
        assert_close(ours.bias.grad, ref.bias.grad)


def test_linear_parameters_and_state_dict_match_torch_layout():
    ours, ref = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in ref.state_dict().items()]
    assert repr(ours) == repr(ref)
    assert repr(nn.Linear(3, 2, bias=False)) == repr(torch.nn.Linear(3, 2, bias=False))
    assert ours.bias is not None and nn.Linear(3, 2, bias=False).bias is None


def test_linear_float64_gradcheck_and_double_backward():
    lin = nn.Linear(3, 2, dtype=cr.float64)
    assert lin.weight.dtype is cr.float64
    x = cr.randn(4, 3, dtype=cr.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.linear(x, w, b), (x, lin.weight, lin.bias))
    assert gradgradcheck(lambda x, w, b: F.linear(x, w, b) ** 2, (x, lin.weight, lin.bias))


def test_linear_errors():
    lin = nn.Linear(3, 2)
    with pytest.raises(RuntimeError) as e:
        lin(cr.zeros(4, 5))
    assert str(e.value) == "Linear(in_features=3, out_features=2, bias=True) expected input with last dimension 3, got [4, 5]"
    with pytest.raises(ValueError, match="in_features must be a non-negative integer, got -1"):
        nn.Linear(-1, 2)
    with pytest.raises(ValueError, match="out_features must be a non-negative integer, got 2.5"):
        nn.Linear(3, 2.5)
    with pytest.raises(TypeError, match="floating-point dtype"):
        nn.Linear(3, 2, dtype=cr.int64)
    with pytest.raises(RuntimeError, match="same dtype"):
        lin(cr.zeros(1, 3, dtype=cr.float64))


def test_linear_reset_parameters_docstring_formula():
    lin = nn.Linear(10, 1000)
    assert "1/sqrt(in_features)" in type(lin).reset_parameters.__doc__
    assert np.abs(lin.weight.detach().numpy()).max() <= 1 / math.sqrt(10)


def test_bilinear_matches_torch():
    ref = torch.nn.Bilinear(3, 2, 4)
    ours = nn.Bilinear(3, 2, 4)
    copy_params(ours, ref)
    assert repr(ours) == repr(ref)
    a, b = RNG.standard_normal((5, 3)).astype(np.float32), RNG.standard_normal((5, 2)).astype(np.float32)
    ac, bc = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    at, bt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    yc, yt = ours(ac, bc), ref(at, bt)
    assert_close(yc, yt)
    yc.sum().backward()
    yt.sum().backward()
    assert_close(ac.grad, at.grad)
    assert_close(ours.weight.grad, ref.weight.grad)
    with pytest.raises(RuntimeError, match="expected inputs with last dimensions 3 and 2"):
        ours(cr.zeros(1, 2), cr.zeros(1, 2))


# ---- Identity, Flatten, Unflatten --------------------------------------------------------------------
def test_identity_flatten_unflatten_match_torch():
    x = RNG.standard_normal((2, 3, 4, 5)).astype(np.float32)
    ident = nn.Identity(54, unused="x")
    assert ident(cr.tensor(x)).shape == (2, 3, 4, 5)
    for args in [(), (0,), (1, 2), (2, -1), (-3, -2)]:
        ours, ref = nn.Flatten(*args), torch.nn.Flatten(*args)
        assert repr(ours) == repr(ref)
        assert_close(ours(cr.tensor(x)), ref(torch.tensor(x)))
    for dim, size in [(1, (3, 4)), (-1, [5, 1]), (1, (-1, 2))]:
        y = x.reshape(2, 12, 5) if dim == 1 else x
        ours, ref = nn.Unflatten(dim, size), torch.nn.Unflatten(dim, size)
        assert repr(ours) == repr(ref)
        assert_close(ours(cr.tensor(y)), ref(torch.tensor(y)))
    with pytest.raises(TypeError, match="tuple of ints"):
        nn.Unflatten(1, (2, 2.5))
    with pytest.raises(TypeError, match="must be an int"):
        nn.Flatten(start_dim="1")
    with pytest.raises(IndexError, match="Flatten\\(start_dim=1, end_dim=-1\\): dimensions out of range"):
        nn.Flatten()(cr.zeros(3))


def test_flatten_gradient():
    x = cr.randn(2, 3, 4, requires_grad=True)
    nn.Flatten()(x).sum().backward()
    assert x.grad.shape == (2, 3, 4) and np.all(x.grad.numpy() == 1.0)


# ---- activations -------------------------------------------------------------------------------------
ACTIVATIONS = [
    ("ReLU", (), {}), ("LeakyReLU", (0.2,), {}), ("ELU", (0.7,), {}), ("CELU", (1.3,), {}), ("SELU", (), {}),
    ("GELU", (), {}), ("GELU", (), {"approximate": "tanh"}), ("SiLU", (), {}), ("Mish", (), {}),
    ("Sigmoid", (), {}), ("Tanh", (), {}), ("Softplus", (2.0, 5.0), {}), ("Hardtanh", (-0.5, 1.5), {}),
    ("ReLU6", (), {}), ("Hardsigmoid", (), {}), ("Hardswish", (), {}), ("Softsign", (), {}),
    ("Tanhshrink", (), {}), ("LogSigmoid", (), {}), ("Threshold", (0.1, 20.0), {}), ("PReLU", (), {}),
    ("PReLU", (3,), {"init": 0.1}), ("Softmax", (1,), {}), ("LogSoftmax", (-1,), {}), ("Softmin", (0,), {}),
]


@pytest.mark.parametrize("name,args,kwargs", ACTIVATIONS, ids=lambda v: str(v))
def test_activation_matches_torch(name, args, kwargs):
    ours, ref = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(ref)
    x = RNG.uniform(-4, 4, size=(4, 3, 5))
    # keep away from the kinks (0, +-3, clamp bounds, threshold) where one-sided derivatives differ
    for kink in (0.0, -3.0, 3.0, -0.5, 1.5, 0.1, 6.0, -1.0, 1.0):
        x = np.where(np.abs(x - kink) < 0.05, kink + 0.1, x)
    x = x.astype(np.float32)
    g = RNG.standard_normal(x.shape).astype(np.float32)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    if list(ours.parameters()):
        copy_params(ours, ref)
    yc, yt = ours(xc), ref(xt)
    assert_close(yc, yt)
    yc.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(xc.grad, xt.grad)
    for p, tp in zip(ours.parameters(), ref.parameters()):
        assert_close(p.grad, tp.grad)


def test_inplace_activation_reprs_and_behaviour():
    for name, args in [("ReLU", ()), ("LeakyReLU", (0.1,)), ("ELU", ()), ("SiLU", ()), ("ReLU6", ()),
                       ("Hardtanh", ()), ("Threshold", (0.0, 1.0))]:
        assert repr(getattr(nn, name)(*args, inplace=True)) == repr(getattr(torch.nn, name)(*args, inplace=True))
    x = cr.tensor([-1.0, 2.0])
    out = nn.ReLU(inplace=True)(x)
    assert out is x and x.tolist() == [0.0, 2.0]


def test_activation_validation():
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        nn.GELU("fast")
    with pytest.raises(TypeError, match="negative_slope must be a number"):
        nn.LeakyReLU("0.1")
    with pytest.raises(ValueError, match="max_val"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.raises(ValueError, match="num_parameters"):
        nn.PReLU(0)
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel size"):
        nn.PReLU(3)(cr.zeros(2, 4))
    with pytest.raises(TypeError, match="dim must be an int"):
        nn.Softmax("1")


def test_softmax_without_dim_warns_like_torch():
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        nn.Softmax()(cr.randn(2, 3))


# ---- dropout -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    cr.manual_seed(0)
    n = 200_000
    x = cr.ones(n)
    y = nn.Dropout(p)(x).numpy()
    kept = y != 0
    # the kept fraction is a Binomial(n, 1 - p) proportion: standard error sqrt(p (1 - p) / n)
    assert abs(kept.mean() - (1 - p)) < 5 * math.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6)  # inverted dropout scaling
    assert y.dtype == np.float32
    # E[y] = x: the mean of n values with variance p/(1-p) has standard error sqrt(p / ((1 - p) n))
    assert abs(y.mean() - 1.0) < 5 * math.sqrt(p / ((1 - p) * n))


def test_dropout_eval_p0_p1_and_validation():
    x = cr.randn(10, 10)
    drop = nn.Dropout(0.5).eval()
    assert drop(x) is x
    assert nn.Dropout(0.0)(x) is x
    y = nn.Dropout(1.0)(x)
    assert y.shape == x.shape and not y.numpy().any()
    assert F.dropout(x, 0.3, training=False) is x
    for bad in (-0.1, 1.5, "0.5", True):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            nn.Dropout(bad)
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            F.dropout(x, bad)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(2.0)
    assert repr(nn.Dropout(0.2)) == repr(torch.nn.Dropout(0.2))
    assert repr(nn.Dropout2d(0.1, inplace=True)) == repr(torch.nn.Dropout2d(0.1, inplace=True))


def test_dropout_gradient_is_the_mask():
    cr.manual_seed(3)
    x = cr.randn(50, 40, dtype=cr.float64, requires_grad=True)
    y = F.dropout(x, 0.4)
    y.sum().backward()
    mask = (y.detach().numpy() != 0) / 0.6
    np.testing.assert_allclose(x.grad.numpy(), mask)
    # reseeding before every call makes each evaluation draw the same mask, so finite differences
    # see one fixed linear map: gradcheck, and gradgradcheck (the backward is linear in gy)
    def fixed_mask_dropout(t):
        cr.manual_seed(5)
        return F.dropout(t, 0.5) ** 2

    x2 = cr.randn(3, 4, dtype=cr.float64, requires_grad=True)
    assert gradcheck(fixed_mask_dropout, (x2,))
    assert gradgradcheck(fixed_mask_dropout, (x2,))
    for fn in (F.dropout1d, F.alpha_dropout):
        def fixed(t, fn=fn):
            cr.manual_seed(6)
            return fn(t, 0.5, training=True)
        assert gradcheck(fixed, (cr.randn(3, 4, dtype=cr.float64, requires_grad=True),))


def test_dropout_keeps_float64_and_inplace():
    cr.manual_seed(1)
    x = cr.ones(1000, dtype=cr.float64)
    y = F.dropout(x, 0.5)
    assert y.dtype is cr.float64
    z = cr.ones(1000)
    out = F.dropout(z, 0.5, inplace=True)
    assert out is z and set(np.unique(z.numpy())) <= {0.0, 2.0}
    leaf = cr.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.dropout(leaf, 0.5, inplace=True)


@pytest.mark.parametrize("cls,shape,channel_dims", [
    ("Dropout1d", (8, 16, 50), 2), ("Dropout1d", (16, 50), 1), ("Dropout2d", (8, 16, 5, 6), 2),
    ("Dropout3d", (4, 8, 3, 4, 5), 2), ("Dropout3d", (8, 3, 4, 5), 1),
])
def test_channel_dropout_zeroes_whole_channels(cls, shape, channel_dims):
    cr.manual_seed(2)
    y = getattr(nn, cls)(0.5)(cr.ones(*shape)).numpy()
    per_channel = y.reshape(shape[:channel_dims] + (-1,))
    # each channel is all zeros or all 2.0
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0 < (per_channel[..., 0] == 0).mean() < 1


def test_channel_dropout_dimension_errors():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a 4D input"):
        F.dropout1d(cr.ones(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(cr.ones(2, 3, 4))


def test_alpha_dropout_keeps_mean_and_variance():
    cr.manual_seed(4)
    n = 400_000
    x = cr.randn(n)
    y = nn.AlphaDropout(0.2).train()(x).numpy().astype(np.float64)
    # zero-mean unit-variance input gives zero-mean unit-variance output (the point of the affine
    # correction). Standard errors: 1/sqrt(n) for the mean, sqrt((kurtosis - 1)/n) for the
    # variance, with the kurtosis estimated from the sample itself.
    kurtosis = np.mean((y - y.mean()) ** 4) / y.var() ** 2
    assert abs(y.mean()) < 5 * math.sqrt(1.0 / n)
    assert abs(y.var() - 1.0) < 5 * math.sqrt((kurtosis - 1) / n)
    assert nn.AlphaDropout(0.2).eval()(x) is x
    xt = torch.tensor(x.numpy())
    ref = torch.nn.AlphaDropout(0.2).train()(xt).double().numpy()
    # torch's draw estimates the same variance: the difference of two independent estimates
    # has standard error sqrt(2) times that of one
    assert abs(ref.var() - y.var()) < 5 * math.sqrt(2 * (kurtosis - 1) / n)
