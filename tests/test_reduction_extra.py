"""Reduction and matrix-product checks the operator table cannot express.

* gradients at ties (max/min/amax/amin/inf-norm), where finite differences are one-sided and the
  reference is PyTorch's rule (an even split, or all to the returned index);
* gradients at kinks (norm at the zero vector) and through zero factors (prod), compared with
  PyTorch including the second derivative;
* result types (namedtuples, dtypes), warnings and error messages.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F

TIES = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 2.0], [0.0, -4.0, 5.0, -4.0]])


def _grads(fn_cr, fn_torch, x: np.ndarray, seed: int = 0, create_graph: bool = False):
    """Gradient of <fn(x), u> for a random u, from chainrule and from PyTorch."""
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yc, yt = fn_cr(xc), fn_torch(xt)
    u = np.random.default_rng(seed).standard_normal(tuple(yt.shape))
    (gc,) = cr.autograd.grad(yc, xc, cr.tensor(u), create_graph=create_graph)
    (gt,) = torch.autograd.grad(yt, xt, torch.tensor(u), create_graph=create_graph)
    return xc, xt, gc, gt


TIE_CASES = [
    ("max", lambda x: cr.max(x), lambda x: torch.max(x)),
    ("min", lambda x: cr.min(x), lambda x: torch.min(x)),
    ("max.dim_values", lambda x: cr.max(x, 1).values, lambda x: torch.max(x, 1).values),
    ("min.dim_values", lambda x: x.min(0, keepdim=True)[0], lambda x: x.min(0, keepdim=True)[0]),
    ("amax.dim", lambda x: cr.amax(x, 1), lambda x: torch.amax(x, 1)),
    ("amax.all", lambda x: cr.amax(x, (0, 1), keepdim=True), lambda x: torch.amax(x, (0, 1), keepdim=True)),
    ("amin.dim0", lambda x: cr.amin(x, 0), lambda x: torch.amin(x, 0)),
    ("norm.inf", lambda x: cr.norm(x, float("inf"), 1), lambda x: torch.norm(x, float("inf"), 1)),
    ("norm.neginf", lambda x: cr.norm(x, float("-inf"), 1), lambda x: torch.norm(x, float("-inf"), 1)),
]


@pytest.mark.parametrize(("name", "fn_cr", "fn_torch"), TIE_CASES, ids=[c[0] for c in TIE_CASES])
def test_gradient_at_ties_matches_torch(name, fn_cr, fn_torch):
    xc, xt, gc, gt = _grads(fn_cr, fn_torch, TIES)
    np.testing.assert_allclose(fn_cr(xc).detach().numpy(), fn_torch(xt).detach().numpy())
    np.testing.assert_allclose(gc.numpy(), gt.numpy(), rtol=1e-12, atol=1e-12)


def test_full_max_splits_gradient_evenly_among_ties():
    x = cr.tensor([1.0, 5.0, 5.0, 5.0, 2.0], requires_grad=True)
    cr.max(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 1 / 3, 1 / 3, 1 / 3, 0])


def test_max_dim_sends_gradient_to_the_returned_index():
    x = cr.tensor(TIES, requires_grad=True)
    values, indices = cr.max(x, 1)
    values.sum().backward()
    expected = np.zeros_like(TIES)
    expected[np.arange(3), indices.numpy()] = 1.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    np.testing.assert_array_equal(indices.numpy(), torch.max(torch.tensor(TIES), 1).indices.numpy())


def test_max_dim_double_backward_is_a_gather_of_the_gradient():
    x = cr.tensor(TIES, requires_grad=True)
    v = cr.tensor(np.arange(3.0), requires_grad=True)
    (g,) = cr.autograd.grad(cr.max(x, 1).values, x, v, create_graph=True)
    (gv,) = cr.autograd.grad((g * cr.tensor(TIES + 10)).sum(), v)
    idx = np.argmax(TIES, 1)
    np.testing.assert_allclose(gv.numpy(), (TIES + 10)[np.arange(3), idx])


def test_max_returns_namedtuple_and_maximum_for_tensor_argument():
    x = cr.tensor(TIES)
    r = x.max(dim=1, keepdim=True)
    assert isinstance(r, tuple) and r._fields == ("values", "indices")
    assert r.values.shape == (3, 1) and r.indices.dtype == cr.int64
    assert cr.equal(cr.max(x, cr.zeros(4)), cr.maximum(x, cr.zeros(4)))
    assert cr.equal(cr.min(x, cr.zeros(4)), cr.minimum(x, cr.zeros(4)))


@pytest.mark.parametrize("p", [2, "fro", 1.5, 3, 0.5])
def test_norm_gradient_at_zero_vector_is_zero_like_torch(p):
    x = np.zeros((2, 3))
    x[1] = [0.5, -1.0, 0.0]  # one zero row, one row with a zero entry
    xc, xt, gc, gt = _grads(lambda t: cr.norm(t, p, 1), lambda t: torch.norm(t, p, 1), x)
    assert np.all(np.isfinite(gc.numpy()))
    np.testing.assert_allclose(gc.numpy(), gt.numpy(), rtol=1e-12, atol=1e-12)
    if p in (2, "fro"):
        assert not np.any(gc.numpy()[0])


def test_norm_at_zero_vector_full_reduction_and_method():
    x = cr.zeros(4, dtype=cr.float64, requires_grad=True)
    y = x.norm()
    y.backward()
    assert y.item() == 0.0
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(4))


def test_norm_second_derivative_at_zero_is_finite():
    # PyTorch's double backward gives NaN on the zero row; ours keeps the zero subgradient there
    x = cr.tensor([[0.0, 0.0], [3.0, 4.0]], dtype=cr.float64, requires_grad=True)
    (g,) = cr.autograd.grad(cr.norm(x, dim=1).sum(), x, create_graph=True)
    (gg,) = cr.autograd.grad((g * cr.tensor([[1.0, 2.0], [3.0, -1.0]])).sum(), x)
    np.testing.assert_array_equal(gg.numpy()[0], [0.0, 0.0])
    xt = torch.tensor([[0.0, 0.0], [3.0, 4.0]], dtype=torch.float64, requires_grad=True)
    (gt,) = torch.autograd.grad(torch.norm(xt, dim=1).sum(), xt, create_graph=True)
    (ggt,) = torch.autograd.grad((gt * torch.tensor([[1.0, 2.0], [3.0, -1.0]])).sum(), xt)
    np.testing.assert_allclose(gg.numpy()[1], ggt.numpy()[1], rtol=1e-12)


PROD_INPUTS = {
    "one_zero": np.array([[2.0, 0.0, 3.0], [1.5, -1.0, 2.0]]),
    "two_zeros": np.array([[0.0, 0.0, 3.0], [1.5, -1.0, 2.0]]),
    "zeros_apart": np.array([[0.0, 2.0, 3.0], [1.5, 0.0, 2.0]]),
    "three_zeros": np.array([[0.0, 0.0, 0.0], [1.5, -1.0, 2.0]]),
}


@pytest.mark.parametrize("dim", [None, 0, 1])
@pytest.mark.parametrize("name", list(PROD_INPUTS))
def test_prod_first_and_second_derivatives_with_zeros_match_torch(name, dim):
    x = PROD_INPUTS[name]

    def fc(t):
        return cr.prod(t) if dim is None else cr.prod(t, dim)

    def ft(t):
        return torch.prod(t) if dim is None else torch.prod(t, dim)

    xc, xt, gc, gt = _grads(fc, ft, x, create_graph=True)
    np.testing.assert_allclose(gc.detach().numpy(), gt.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = np.random.default_rng(3).standard_normal(x.shape)
    (ggc,) = cr.autograd.grad((gc * cr.tensor(w)).sum(), xc)
    (ggt,) = torch.autograd.grad((gt * torch.tensor(w)).sum(), xt)
    np.testing.assert_allclose(ggc.numpy(), ggt.numpy(), rtol=1e-12, atol=1e-12)


def test_prod_third_derivative_with_zeros_fails_loudly():
    x = cr.tensor([0.0, 2.0, 3.0], requires_grad=True)
    (g,) = cr.autograd.grad(cr.prod(x), x, create_graph=True)
    (gg,) = cr.autograd.grad(g.sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="order three"):
        cr.autograd.grad(gg.sum(), x)


def test_prod_third_derivative_without_zeros_matches_torch():
    x = np.array([1.5, 2.0, -3.0])
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours, theirs = cr.prod(xc), torch.prod(xt)
    for _ in range(3):
        (ours,) = cr.autograd.grad(ours.sum(), xc, create_graph=True)
        (theirs,) = torch.autograd.grad(theirs.sum(), xt, create_graph=True)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize(("fn", "args"), [
    (cr.sum, (1,)), (cr.mean, (0,)), (cr.prod, (1,)), (cr.amax, (1,)), (cr.var, (1,)), (cr.std, ()),
    (cr.logsumexp, (1,)), (cr.softmax, (1,)), (cr.log_softmax, (0,)), (cr.norm, ()), (cr.cumsum, (1,)),
    (lambda x: cr.max(x, 1).values, ()), (lambda x: cr.norm(x, 3), ()), (lambda x: cr.prod(x * 0), ()),
    (lambda x: x @ x.t(), ()), (lambda x: cr.einsum("ij,kj->ik", x, x), ()),
    (lambda x: cr.addmm(x[:, 0], x, x.t(), beta=0.5), ()),
])
def test_float32_stays_float32(fn, args):
    x = cr.tensor(np.random.default_rng(0).uniform(0.5, 2, (3, 3)), dtype=cr.float32, requires_grad=True)
    y = fn(x, *args)
    assert y.dtype == cr.float32
    (g,) = cr.autograd.grad(y.sum(), x, create_graph=True)
    assert g.dtype == cr.float32
    if g.requires_grad:  # a gradient that does not depend on x has no second derivative
        (gg,) = cr.autograd.grad((g * g).sum(), x, allow_unused=True)
        assert gg is None or gg.dtype == cr.float32


def test_integer_reductions_follow_pytorch_dtypes():
    i = cr.tensor([[1, 2], [3, 4]], dtype=cr.int32)
    assert cr.sum(i).dtype == cr.int64 and cr.prod(i).dtype == cr.int64 and cr.cumsum(i, 0).dtype == cr.int64
    assert cr.sum(cr.tensor([True, True, False])).item() == 2
    assert cr.mean(i, dtype=cr.float64).item() == 2.5
    u = cr.tensor([1, 0, 2], dtype=cr.uint8)
    assert cr.all(u).dtype == cr.uint8 and cr.any(u, 0).dtype == cr.uint8
    assert cr.all(cr.tensor([1.0, 2.0])).dtype == cr.bool


def test_softmax_without_dim_warns_and_uses_pytorch_default():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = F.softmax(cr.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = torch.nn.functional.softmax(torch.tensor(x))
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-12)


def test_var_with_too_large_correction_warns_and_matches_torch():
    x = np.array([[1.0, 2.0], [3.0, 5.0]])
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        ours = cr.var(cr.tensor(x), 1, correction=3).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.var(torch.tensor(x), 1, correction=3).numpy()
    np.testing.assert_array_equal(ours, theirs)


# ---- error messages ---------------------------------------------------------------------------------
ERRORS = [
    (lambda: cr.mm(cr.ones(2, 3), cr.ones(4, 5)), r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"),
    (lambda: cr.ones(2, 2, 3) @ cr.ones(4, 5), r"cannot be multiplied \(4x3 and 4x5\)"),
    (lambda: cr.mm(cr.ones(3), cr.ones(3, 2)), "self must be a matrix"),
    (lambda: cr.mm(cr.ones(2, 3), cr.ones(3)), "mat2 must be a matrix"),
    (lambda: cr.mm(cr.ones(2, 3), cr.ones(3, 2, dtype=cr.float64)), "same dtype.*float != double"),
    (lambda: cr.bmm(cr.ones(2, 3), cr.ones(2, 3, 4)), "batch1 must be a 3D tensor"),
    (lambda: cr.bmm(cr.ones(2, 2, 3), cr.ones(3, 3, 4)), r"batch2 tensor to be: \[2, 3\] but got: \[3, 3\]"),
    (lambda: cr.dot(cr.ones(3), cr.ones(4)), r"inconsistent tensor size, expected tensor \[3\] and src \[4\]"),
    (lambda: cr.ones(3) @ cr.ones(4), r"inconsistent tensor size"),
    (lambda: cr.dot(cr.ones(2, 3), cr.ones(3)), "1D tensors expected, but got 2D and 1D tensors"),
    (lambda: cr.mv(cr.ones(2, 3), cr.ones(4)), r"size mismatch, got input \(2\), mat \(2x3\), vec \(4\)"),
    (lambda: cr.outer(cr.ones(2, 2), cr.ones(3)), "outer: Expected 1-D argument self, but got 2-D"),
    (lambda: cr.matmul(cr.ones(2, 2, 3), cr.ones(3, 3, 2)), r"batch dimensions of shapes \[2, 2, 3\] and \[3, 3, 2\]"),
    (lambda: cr.einsum("ij,jk->ik", cr.ones(2, 3), cr.ones(4, 2)), "subscript j has size 4 for operand 1"),
    (lambda: cr.einsum("ij,jk", cr.ones(2, 3)), "fewer operands"),
    (lambda: cr.einsum("ij", cr.ones(3)), r"number of subscripts in the equation \(2\) does not match"),
    (lambda: cr.einsum("i->ii", cr.ones(3)), "appears more than once in the output"),
    (lambda: cr.einsum("i1", cr.ones(2, 3)), r"subscripts must be in \[a-zA-Z\]"),
    (lambda: cr.mean(cr.tensor([1, 2, 3])), "mean\\(\\): could not infer output dtype.*Got: Long"),
    (lambda: cr.var(cr.tensor([1, 2, 3])), "std and var only support floating point"),
    (lambda: cr.norm(cr.tensor([1, 2, 3])), "Expected a floating point.*Got Long"),
    (lambda: cr.max(cr.ones(0)), "Specify the reduction dim"),
    (lambda: cr.amax(cr.ones(2, 0), 1), "reduction dim 1 to have non-zero size"),
    (lambda: cr.softmax(cr.tensor([1, 2]), 0), "softmax: expected a floating-point input"),
    (lambda: cr.sum(cr.ones(2, 3), 2), r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"),
    (lambda: cr.prod(cr.ones(2, 3), (0, 1)), "dim must be an int"),
    (lambda: cr.var(cr.ones(3), 0, unbiased=True, correction=1), "either unbiased or correction"),
]


@pytest.mark.parametrize(("call", "pattern"), ERRORS, ids=[e[1][:40] for e in ERRORS])
def test_error_messages(call, pattern):
    with pytest.raises((RuntimeError, IndexError, TypeError), match=pattern):
        call()
