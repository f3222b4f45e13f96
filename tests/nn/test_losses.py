"""Losses beyond the operator table (tests/opinfo/cases_loss.py): numerical stability at extreme
logits, second derivatives against PyTorch's, error messages, edge cases and the loss modules.

Tolerances: float64 values and gradients agree with PyTorch to 1e-10 relative (same formulas,
different summation order); float32 to 1e-5 (a few ulps through a log-sum-exp and a mean).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F

torch.set_num_threads(1)


def _pair(a: np.ndarray, requires_grad: bool = True):
    ours = cr.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f")
    theirs = torch.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f")
    return ours, theirs


def _close(ours, theirs, rtol=1e-10, atol=1e-12):
    o = ours.detach().numpy() if isinstance(ours, cr.Tensor) else np.asarray(ours)
    t = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert o.shape == t.shape
    np.testing.assert_allclose(o, t, rtol=rtol, atol=atol)


# ---- numerical stability --------------------------------------------------------------------------
STABLE = [
    ("cross_entropy", lambda m, x, t: m.cross_entropy(x, t)),
    ("cross_entropy_sum_smoothing", lambda m, x, t: m.cross_entropy(x, t, reduction="sum", label_smoothing=0.1)),
    ("nll_of_log_softmax", lambda m, x, t: m.nll_loss(x.log_softmax(dim=1), t)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,fn", STABLE, ids=[s[0] for s in STABLE])
def test_cross_entropy_huge_logits(name, fn, dtype):
    rng = np.random.default_rng(0)
    x = (rng.choice([-1.0, 1.0], size=(4, 5)) * 1e4 + rng.uniform(-50, 50, size=(4, 5))).astype(dtype)
    t = np.array([0, 3, 4, 1])
    (xo, xt), (to, tt) = _pair(x), _pair(t)
    lo, lt = fn(F, xo, to), fn(TF, xt, tt)
    assert np.isfinite(lo.item()) and lo.dtype == (cr.float32 if dtype == np.float32 else cr.float64)
    lo.backward()
    lt.backward()
    assert np.all(np.isfinite(xo.grad.numpy()))
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    _close(lo, lt, rtol=rtol)
    _close(xo.grad, xt.grad, rtol=rtol, atol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_cross_entropy_probability_target_huge_logits(dtype):
    rng = np.random.default_rng(1)
    x = (rng.uniform(-1, 1, size=(3, 4)) * 2e4).astype(dtype)
    p = rng.uniform(0, 1, size=(3, 4))
    p = (p / p.sum(1, keepdims=True)).astype(dtype)
    (xo, xt), (po, pt) = _pair(x), _pair(p, requires_grad=False)
    lo, lt = F.cross_entropy(xo, po), TF.cross_entropy(xt, pt)
    lo.backward()
    lt.backward()
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    _close(lo, lt, rtol=rtol)
    _close(xo.grad, xt.grad, rtol=rtol, atol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_bce_with_logits_huge_logits(dtype):
    x = np.array([[-1e4, -30.0, 0.0, 30.0, 1e4]], dtype=dtype)
    y = np.array([[1.0, 0.0, 1.0, 1.0, 0.0]], dtype=dtype)
    pw = np.array([2.0, 1.0, 0.5, 1.0, 3.0], dtype=dtype)
    (xo, xt), (yo, yt) = _pair(x), _pair(y)
    lo = F.binary_cross_entropy_with_logits(xo, yo, pos_weight=cr.tensor(pw), reduction="none")
    lt = TF.binary_cross_entropy_with_logits(xt, yt, pos_weight=torch.tensor(pw), reduction="none")
    assert np.all(np.isfinite(lo.detach().numpy()))
    seed = np.linspace(0.5, 1.5, 5).reshape(1, 5).astype(dtype)
    lo.backward(cr.tensor(seed))
    lt.backward(torch.tensor(seed))
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    _close(lo, lt, rtol=rtol)
    _close(xo.grad, xt.grad, rtol=rtol)
    _close(yo.grad, yt.grad, rtol=rtol)


def test_bce_saturated_probabilities_are_clamped():
    x = np.array([0.0, 1.0, 0.5, 1e-30])
    y = np.array([1.0, 0.0, 0.5, 1.0])
    (xo, xt), (yo, yt) = _pair(x, requires_grad=False), _pair(y, requires_grad=False)
    lo = F.binary_cross_entropy(xo, yo, reduction="none")
    lt = TF.binary_cross_entropy(xt, yt, reduction="none")
    _close(lo, lt)  # log(0) clamped at -100: losses of exactly 100
    assert lo[0].item() == 100.0


# ---- double backward ---------------------------------------------------------------------------------
def _hvp(lib, fn, x, v):
    """Hessian-vector product ``d/dx <grad_x fn(x), v>`` by double backward."""
    if lib is cr:
        (g,) = cr.autograd.grad(fn(x), [x], create_graph=True)
        (h,) = cr.autograd.grad((g * v).sum(), [x])
    else:
        (g,) = torch.autograd.grad(fn(x), [x], create_graph=True)
        (h,) = torch.autograd.grad((g * v).sum(), [x])
    return h


HVP = [
    ("cross_entropy", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
     lambda x, t: TF.cross_entropy(x, t, label_smoothing=0.1)),
    ("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits),
    ("binary_cross_entropy", lambda x, t: F.binary_cross_entropy(cr.sigmoid(x), t),
     lambda x, t: TF.binary_cross_entropy(torch.sigmoid(x), t)),
    ("smooth_l1_loss", lambda x, t: F.smooth_l1_loss(x, t, beta=2.0),
     lambda x, t: TF.smooth_l1_loss(x, t, beta=2.0)),
    ("kl_div", lambda x, t: F.kl_div(x.log_softmax(1), t, reduction="batchmean"),
     lambda x, t: TF.kl_div(x.log_softmax(1), t, reduction="batchmean")),
]


@pytest.mark.parametrize("name,ours,theirs", HVP, ids=[h[0] for h in HVP])
def test_second_derivatives_match_torch(name, ours, theirs):
    rng = np.random.default_rng(2)
    x = rng.uniform(-2, 2, size=(3, 4))
    t = rng.integers(0, 4, size=3) if name == "cross_entropy" else rng.uniform(0, 1, size=(3, 4))
    v = rng.standard_normal((3, 4))
    (xo, xt), (to, tt) = _pair(x), _pair(t, requires_grad=False)
    ho = _hvp(cr, lambda a: ours(a, to), xo, cr.tensor(v))
    ht = _hvp(torch, lambda a: theirs(a, tt), xt, torch.tensor(v))
    assert np.abs(ht.numpy()).max() > 1e-3  # a non-trivial second derivative
    _close(ho, ht, rtol=1e-9, atol=1e-12)


# ---- edge cases ----------------------------------------------------------------------------------------
def test_all_targets_ignored_gives_nan_like_torch():
    x = np.random.default_rng(3).standard_normal((3, 4))
    t = np.full(3, -100)
    (xo, xt), (to, tt) = _pair(x), _pair(t)
    lo, lt = F.cross_entropy(xo, to), TF.cross_entropy(xt, tt)
    assert np.isnan(lo.item()) and np.isnan(lt.item())
    _close(F.cross_entropy(xo, to, reduction="sum"), TF.cross_entropy(xt, tt, reduction="sum"))


def test_custom_ignore_index_and_uint8_target():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 4))
    t = np.array([0, 1, 2, 3, 1, 1], dtype=np.uint8)
    (xo, xt), (to, tt) = _pair(x), _pair(t)
    lo, lt = F.cross_entropy(xo, to, ignore_index=1), TF.cross_entropy(xt, tt, ignore_index=1)
    lo.backward()
    lt.backward()
    _close(lo, lt)
    _close(xo.grad, xt.grad)


def test_label_smoothing_one_and_zero():
    rng = np.random.default_rng(5)
    x, t = rng.standard_normal((4, 3)), rng.integers(0, 3, size=4)
    (xo, xt), (to, tt) = _pair(x), _pair(t)
    for eps in (0.0, 1.0):
        _close(F.cross_entropy(xo, to, label_smoothing=eps), TF.cross_entropy(xt, tt, label_smoothing=eps))


def test_float32_stays_float32():
    rng = np.random.default_rng(6)
    x = cr.tensor(rng.uniform(0.1, 0.9, size=(3, 4)).astype(np.float32), requires_grad=True)
    y = cr.tensor(rng.uniform(0, 1, size=(3, 4)).astype(np.float32))
    t = cr.tensor(rng.integers(0, 4, size=3))
    w = cr.ones(4)
    losses = [
        F.mse_loss(x, y), F.l1_loss(x, y), F.smooth_l1_loss(x, y), F.huber_loss(x, y),
        F.binary_cross_entropy(x, y), F.binary_cross_entropy_with_logits(x, y, pos_weight=w),
        F.cross_entropy(x, t, weight=w, label_smoothing=0.1), F.nll_loss(x, t),
        F.kl_div(x, y, reduction="batchmean"), F.cross_entropy(x, y),
    ]
    for loss in losses:
        assert loss.dtype == cr.float32
        (g,) = cr.autograd.grad(loss, [x])
        assert g.dtype == cr.float32


def test_legacy_size_average_and_reduce():
    rng = np.random.default_rng(7)
    (xo, xt), (yo, yt) = _pair(rng.standard_normal(5)), _pair(rng.standard_normal(5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for sa, rd in [(False, None), (None, False), (True, True)]:
            _close(F.mse_loss(xo, yo, size_average=sa, reduce=rd), TF.mse_loss(xt, yt, size_average=sa, reduce=rd))


# ---- errors ---------------------------------------------------------------------------------------------
def _x(*shape, dtype=None):
    return cr.randn(*shape, dtype=dtype)


ERRORS = [
    ("float_target_for_indices", lambda: F.nll_loss(_x(3, 5), cr.tensor([1.0, 2.0, 3.0])),
     RuntimeError, "expected target dtype to be Long or Byte, but got chainrule.float32"),
    ("int32_target", lambda: F.cross_entropy(_x(3, 5), cr.tensor([1, 2, 3], dtype=cr.int32)),
     RuntimeError, "but got chainrule.int32"),
    ("index_too_large", lambda: F.cross_entropy(_x(3, 5), cr.tensor([1, 2, 7])), IndexError,
     "Target 7 is out of bounds"),
    ("index_negative", lambda: F.cross_entropy(_x(3, 5), cr.tensor([1, -3, 2])), IndexError,
     "Target -3 is out of bounds"),
    ("batch_mismatch", lambda: F.cross_entropy(_x(3, 5), cr.tensor([1, 2, 3, 4])), ValueError,
     "Expected input batch_size (3) to match target batch_size (4)."),
    ("spatial_mismatch", lambda: F.cross_entropy(_x(2, 5, 3), cr.tensor([[1, 2], [0, 0]])),
     RuntimeError, "Expected target size [2, 3], got [2, 2]"),
    ("multi_target", lambda: F.cross_entropy(_x(3, 5), cr.zeros(3, 2, dtype=cr.int64)), RuntimeError,
     "multi-target not supported"),
    ("prob_target_shape", lambda: F.cross_entropy(_x(3, 5), cr.rand(3, 4)), RuntimeError,
     "must have the input's shape [3, 5], got [3, 4]"),
    ("weight_size", lambda: F.cross_entropy(_x(3, 5), cr.tensor([1, 2, 3]), weight=cr.ones(4)),
     RuntimeError, "weight tensor should be defined either for all 5 classes"),
    ("bad_reduction", lambda: F.cross_entropy(_x(3, 5), cr.tensor([1, 2, 3]), reduction="avg"),
     ValueError, "avg is not a valid value for reduction"),
    ("label_smoothing", lambda: F.cross_entropy(_x(3, 5), cr.tensor([1, 2, 3]), label_smoothing=1.5),
     RuntimeError, "label_smoothing must be between 0.0 and 1.0. Got: 1.5"),
    ("integer_logits", lambda: F.cross_entropy(cr.tensor([[1, 2]]), cr.tensor([0])), RuntimeError,
     "expected a floating-point input"),
    ("bce_range", lambda: F.binary_cross_entropy(cr.tensor([0.5, 1.5]), cr.tensor([0.0, 1.0])),
     RuntimeError, "all elements of input should be between 0 and 1"),
    ("bce_shape", lambda: F.binary_cross_entropy(cr.rand(3), cr.rand(3, 1)), ValueError,
     "Using a target size (chainrule.Size([3, 1])) that is different to the input size"),
    ("bce_logits_shape", lambda: F.binary_cross_entropy_with_logits(cr.rand(3), cr.rand(3, 1)),
     ValueError, "Target size (chainrule.Size([3, 1])) must be the same as input size"),
    ("smooth_l1_beta", lambda: F.smooth_l1_loss(cr.rand(3), cr.rand(3), beta=-1.0), RuntimeError,
     "does not support negative values for beta"),
    ("huber_delta", lambda: F.huber_loss(cr.rand(3), cr.rand(3), delta=0.0), RuntimeError,
     "non-positive values for delta"),
    ("mse_not_tensor", lambda: F.mse_loss(cr.rand(3), [1.0, 2.0, 3.0]), TypeError,
     "argument 'target' must be Tensor, not list"),
    ("module_reduction", lambda: nn.MSELoss(reduction="avg"), ValueError, "MSELoss: 'avg' is not a valid"),
    ("module_smoothing", lambda: nn.CrossEntropyLoss(label_smoothing=-0.1), ValueError,
     "label_smoothing must be between 0.0 and 1.0"),
]


@pytest.mark.parametrize("name,fn,exc,msg", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(name, fn, exc, msg):
    with pytest.raises(exc) as info:
        fn()
    assert msg in str(info.value)


def test_broadcast_warning():
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(cr.rand(3, 5), cr.rand(5))


# ---- modules ----------------------------------------------------------------------------------------------
def _module_rows():
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    p, q = rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0, 1, (4, 3))
    t = rng.integers(0, 3, size=4)
    t[1] = 2
    w = np.array([0.5, 1.0, 2.0])
    return [
        ("L1Loss", {}, {}, x, y),
        ("MSELoss", {"reduction": "sum"}, {}, x, y),
        ("SmoothL1Loss", {"beta": 0.5, "reduction": "none"}, {}, x, y),
        ("HuberLoss", {"delta": 0.5}, {}, x, y),
        ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, {}, x, y),
        ("BCELoss", {}, {"weight": w}, p, q),
        ("BCEWithLogitsLoss", {}, {"weight": w, "pos_weight": w[::-1].copy()}, x, q),
        ("NLLLoss", {"ignore_index": 2}, {"weight": w}, x, t),
        ("CrossEntropyLoss", {"label_smoothing": 0.2}, {"weight": w}, x, t),
        ("CrossEntropyLoss", {"reduction": "sum"}, {}, x, q),
    ]


@pytest.mark.parametrize("name,kwargs,tensors,x,y", _module_rows(), ids=lambda v: v if isinstance(v, str) else "")
def test_loss_modules_match_torch(name, kwargs, tensors, x, y):
    ours = getattr(nn, name)(**kwargs, **{k: cr.tensor(v) for k, v in tensors.items()})
    theirs = getattr(torch.nn, name)(**kwargs, **{k: torch.tensor(v) for k, v in tensors.items()})
    assert repr(ours) == repr(theirs)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    (xo, xt), (yo, yt) = _pair(x), _pair(y, requires_grad=name not in ("BCEWithLogitsLoss",))
    lo, lt = ours(xo, yo), theirs(xt, yt)
    _close(lo, lt)
    seed = np.ones(tuple(lt.shape))
    lo.backward(cr.tensor(seed))
    lt.backward(torch.tensor(seed))
    _close(xo.grad, xt.grad)
    if yt.grad is not None:  # targets that take part in the gradient
        _close(yo.grad, yt.grad)


def test_loss_module_weight_buffer_follows_dtype():
    m = nn.CrossEntropyLoss(weight=cr.tensor([1.0, 2.0, 3.0], dtype=cr.float32)).double()
    assert m.weight.dtype == cr.float64
    assert "weight" in dict(m.named_buffers())
