"""Checks outside the operator/module tables for sorting, extra maths, factory methods,
functional activations and embedding: return types, dtypes, errors and gradients PyTorch defines
on purpose differently from the derivative (padding_idx, scale_grad_by_freq)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F


def _t(a, **kw):
    return cr.tensor(np.asarray(a), **kw)


# ---- sorting ------------------------------------------------------------------------------------
def test_sort_family_returns_named_tuples_with_int64_indices():
    x = _t([[3.0, 1.0, 2.0], [0.0, 5.0, -1.0]])
    for result in (cr.sort(x), x.topk(2), x.kthvalue(1), x.median(1)):
        values, indices = result
        assert result.values is values and result.indices is indices
        assert indices.dtype == cr.int64
    assert type(cr.sort(x)).__name__ == "sort" and type(cr.topk(x, 1)).__name__ == "topk"


def test_median_is_the_lower_median_like_torch():
    a = np.array([[4.0, 1.0, 3.0, 2.0], [7.0, 8.0, 5.0, 6.0]])
    assert cr.median(_t(a)).item() == torch.median(torch.tensor(a)).item()
    np.testing.assert_array_equal(cr.median(_t(a), 1).values.numpy(), torch.median(torch.tensor(a), 1).values.numpy())


def test_sort_of_integers_and_0d():
    a = np.array([3, -1, 2, 2], dtype=np.int64)
    ours, theirs = cr.sort(_t(a), descending=True), torch.sort(torch.tensor(a), descending=True, stable=True)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    v, i = cr.sort(_t(2.5))
    assert v.shape == () and i.item() == 0


def test_topk_and_kthvalue_errors():
    x = cr.randn(3, 4)
    with pytest.raises(RuntimeError, match="out of range"):
        cr.topk(x, 5)
    with pytest.raises(RuntimeError, match="out of range"):
        cr.kthvalue(x, 0)
    with pytest.raises(TypeError, match="'k' must be int"):
        cr.topk(x, 1.5)


def test_cumprod_with_zeros_second_derivative_matches_torch():
    a = np.array([[0.5, 0.0, 2.0, -1.5], [1.2, 0.7, 0.0, 0.0]])
    x, t = _t(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (gx,) = cr.autograd.grad(cr.cumprod(x, 1).sum(), x, create_graph=True)
    (gt,) = torch.autograd.grad(torch.cumprod(t, 1).sum(), t, create_graph=True)
    np.testing.assert_allclose(gx.detach().numpy(), gt.detach().numpy(), rtol=1e-12)
    (hx,) = cr.autograd.grad((gx * gx).sum(), x)
    (ht,) = torch.autograd.grad((gt * gt).sum(), t)
    np.testing.assert_allclose(hx.numpy(), ht.numpy(), rtol=1e-12, atol=1e-12)


def test_cumprod_integers_accumulate_in_int64():
    assert cr.cumprod(_t(np.array([1, 2, 3], dtype=np.int32)), 0).dtype == cr.int64


# ---- extra maths ---------------------------------------------------------------------------------
def test_float_results_stay_float32():
    x = cr.rand(3, 2) * 0.5
    for fn in (cr.atan, cr.asin, cr.acos, cr.sinh, cr.cosh, cr.asinh, cr.atanh, cr.exp2, cr.frac, cr.nan_to_num):
        assert fn(x).dtype == cr.float32, fn.__name__
    for fn in (cr.atan2, cr.hypot, cr.logaddexp, cr.fmod):
        assert fn(x, x + 1).dtype == cr.float32, fn.__name__
    assert cr.lerp(x, x + 1, 0.5).dtype == cr.float32
    assert cr.exp2(_t(np.array([1, 3]))).dtype == cr.float32


def test_nan_to_num_defaults_match_torch():
    a = np.array([np.nan, np.inf, -np.inf, 1.5], dtype=np.float32)
    np.testing.assert_array_equal(cr.nan_to_num(_t(a)).numpy(), torch.nan_to_num(torch.tensor(a)).numpy())


def test_logaddexp_of_minus_infinities():
    a = np.array([-np.inf, 0.0])
    np.testing.assert_array_equal(cr.logaddexp(_t(a), _t(a)).numpy(), torch.logaddexp(torch.tensor(a), torch.tensor(a)).numpy())


def test_addcdiv_rejects_integer_division_and_count_nonzero():
    i = _t(np.array([1, 2]))
    with pytest.raises(RuntimeError, match="Integer division"):
        cr.addcdiv(i, i, i)
    a = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])
    assert cr.count_nonzero(_t(a)).item() == 3
    np.testing.assert_array_equal(cr.count_nonzero(_t(a), 0).numpy(), torch.count_nonzero(torch.tensor(a), 0).numpy())


# ---- factory methods -----------------------------------------------------------------------------
def test_new_factories_follow_self_dtype():
    x = cr.zeros(2, dtype=cr.float64)
    t = torch.zeros(2, dtype=torch.float64)
    for name, args in (("new_zeros", (2, 3)), ("new_ones", ((4,),)), ("new_empty", (1, 2))):
        ours, theirs = getattr(x, name)(*args), getattr(t, name)(*args)
        assert ours.dtype == cr.float64 and tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(x.new_full((2, 2), 7).numpy(), t.new_full((2, 2), 7).numpy())
    assert x.new_full((2,), 7).dtype == cr.float64
    assert x.new_tensor([1, 2]).dtype == cr.float64 and x.new_tensor([1, 2], dtype=cr.int64).dtype == cr.int64
    y = x.new_ones(3, requires_grad=True)
    assert y.requires_grad and y.is_leaf
    src = cr.ones(2, requires_grad=True)
    copy = x.new_tensor(src)
    assert not copy.requires_grad and copy.dtype == cr.float64


def test_type_names_and_casts():
    x = cr.zeros(2)
    assert x.type() == torch.zeros(2).type().replace("torch", "chainrule") == "chainrule.FloatTensor"
    assert cr.zeros(2, dtype=cr.int64).type() == "chainrule.LongTensor"
    assert x.type(cr.float64).dtype == cr.float64
    assert x.type("torch.IntTensor").dtype == cr.int32
    assert x.type(cr.float32) is x
    with pytest.raises(ValueError, match="invalid type"):
        x.type("torch.NopeTensor")


# ---- functional activations ---------------------------------------------------------------------
@pytest.mark.parametrize("fn,module", [
    (F.relu6, nn.ReLU6()), (lambda x: F.hardtanh(x, -0.5, 0.5), nn.Hardtanh(-0.5, 0.5)),
    (lambda x: F.softmin(x, 1), nn.Softmin(1)), (F.logsigmoid, nn.LogSigmoid()), (F.hardswish, nn.Hardswish()),
    (F.hardsigmoid, nn.Hardsigmoid()), (F.mish, nn.Mish()), (F.selu, nn.SELU()), (lambda x: F.celu(x, 0.5), nn.CELU(0.5)),
    (F.softsign, nn.Softsign()), (F.tanhshrink, nn.Tanhshrink()), (lambda x: F.threshold(x, 0.1, 2.0), nn.Threshold(0.1, 2.0)),
])
def test_functional_activations_agree_with_modules(fn, module):
    x = cr.randn(3, 5, dtype=cr.float64)
    np.testing.assert_allclose(fn(x).numpy(), module(x).numpy(), rtol=1e-14, atol=1e-15)


def test_glu_and_prelu_errors():
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        F.glu(cr.randn(2, 3))
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers"):
        F.prelu(cr.randn(2, 3), cr.ones(4))


def test_inplace_activation_writes_input():
    x = cr.randn(4)
    expected = TF.relu6(torch.from_numpy(x.numpy().copy()))
    out = F.relu6(x, inplace=True)
    np.testing.assert_array_equal(x.numpy(), expected.numpy())
    assert out is x


# ---- embedding ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [dict(padding_idx=2), dict(padding_idx=-1, scale_grad_by_freq=True),
                                dict(scale_grad_by_freq=True), dict(max_norm=0.5, norm_type=1.0)])
def test_embedding_gradients_and_renorm_match_torch(kw):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((5, 3))
    idx = np.array([[0, 2, 2], [4, 1, 2]])
    g = rng.standard_normal((2, 3, 3))
    a, b = _t(w.copy(), requires_grad=True), torch.tensor(w.copy(), requires_grad=True)
    ya, yb = F.embedding(_t(idx), a, **kw), TF.embedding(torch.tensor(idx), b, **kw)
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-12)
    (ya * _t(g)).sum().backward()
    (yb * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)  # renormalised rows


def test_embedding_module_init_and_from_pretrained():
    cr.manual_seed(0)
    e = nn.Embedding(1000, 8, padding_idx=3)
    w = e.weight.detach().numpy()
    assert np.all(w[3] == 0)
    assert abs(w.mean()) < 0.05 and abs(w.std() - 1.0) < 0.05
    pre = nn.Embedding.from_pretrained(cr.ones(4, 2))
    assert not pre.weight.requires_grad and repr(pre) == "Embedding(4, 2)"
    assert nn.Embedding.from_pretrained(cr.ones(4, 2), freeze=False).weight.requires_grad
    with pytest.raises(RuntimeError, match="Long, Int"):
        e(cr.zeros(2))
    with pytest.raises(IndexError, match="out of range"):
        e(_t(np.array([1000])))
    with pytest.raises(ValueError, match="Padding_idx"):
        nn.Embedding(3, 2, padding_idx=3)


# ---- resampling ----------------------------------------------------------------------------------
def test_interpolate_errors_and_repr():
    x = cr.randn(1, 2, 3, 3)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="linear mode needs 3D input"):
        F.interpolate(x, scale_factor=2, mode="linear")
    with pytest.raises(RuntimeError, match="divisible"):
        F.pixel_shuffle(cr.randn(1, 3, 2, 2), 2)
    assert repr(nn.Upsample(scale_factor=2)) == repr(torch.nn.Upsample(scale_factor=2))
    assert repr(nn.Upsample(size=(4, 5), mode="bilinear")) == repr(torch.nn.Upsample(size=(4, 5), mode="bilinear"))


def test_interpolate_keeps_float32():
    x = cr.randn(1, 1, 3, 3)
    for mode in ("nearest", "bilinear"):
        assert F.interpolate(x, scale_factor=2, mode=mode).dtype == cr.float32
