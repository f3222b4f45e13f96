"""``autograd.Function`` written and called the PyTorch way (``MyFn.apply``), checked against PyTorch.

Each custom function is defined once, over a library ``lib`` (chainrule or torch), so the very
same code runs on both and the values, gradients and errors are compared.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import autograd


def library(lib):
    """The custom functions of this file, defined over ``lib``."""
    F = lib.autograd.Function

    class Exp(F):
        """y = exp(x), saving the output: dy/dx = y."""

        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, gy):
            (y,) = ctx.saved_tensors
            return gy * y

    class ScaledMul(F):
        """z = a * b * k for a number k: grads (g b k, g a k, None), only where needed."""

        @staticmethod
        def forward(ctx, a, b, k):
            ctx.save_for_backward(a, b)
            ctx.k = k
            return a * b * k

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            ga = g * b * ctx.k if ctx.needs_input_grad[0] else None
            gb = g * a * ctx.k if ctx.needs_input_grad[1] else None
            return ga, gb, None

    class SortWithIndex(F):
        """Sorted values (differentiable) and their indices (marked non-differentiable)."""

        @staticmethod
        def forward(ctx, x):
            values, idx = x.sort()
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            ctx.n = x.shape[0]
            return values, idx

        @staticmethod
        def backward(ctx, gv, gi):
            (idx,) = ctx.saved_tensors
            out = lib.zeros(ctx.n, dtype=gv.dtype)
            return out.index_add(0, idx, gv)

    class SinCos(F):
        """Two outputs; with materialize_grads off, the gradient of an unused output is None."""

        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, gs, gc):
            (x,) = ctx.saved_tensors
            ctx.seen = (gs is None, gc is None)
            g = None
            if gs is not None:
                g = gs * x.cos()
            if gc is not None:
                g = -gc * x.sin() if g is None else g - gc * x.sin()
            return g

    class SinCosMaterialized(F):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, gs, gc):
            (x,) = ctx.saved_tensors
            ctx.seen = (gs is None, gc is None)
            return gs * x.cos() - gc * x.sin()

    class Cube(F):
        """torch 2.x style: forward without ctx, setup_context(ctx, inputs, output)."""

        @staticmethod
        def forward(x, scale=1.0):
            return x**3 * scale

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, scale = inputs
            ctx.save_for_backward(x)
            ctx.scale = scale

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x**2 * ctx.scale, None

    class CubeOnce(F):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x**2

    class WithConstant(F):
        """A non-Tensor output next to a Tensor output, returned as is."""

        @staticmethod
        def forward(ctx, x):
            return x * 2, "label"

        @staticmethod
        def backward(ctx, g, _):
            return g * 2

    class BadSave(F):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g

    class TooManyGrads(F):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g, g

    return {c.__name__: c for c in (Exp, ScaledMul, SortWithIndex, SinCos, SinCosMaterialized, Cube, CubeOnce,
                                    WithConstant, BadSave, TooManyGrads)}


CR, TH = library(cr), library(torch)
X = np.array([0.3, -1.2, 2.0, 0.7])


def pair(values=X, requires_grad=True):
    return (cr.tensor(values, dtype=cr.float64, requires_grad=requires_grad),
            torch.tensor(values, dtype=torch.float64, requires_grad=requires_grad))


def close(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_saved_output_and_gradcheck():
    x, tx = pair()
    y, ty = CR["Exp"].apply(x), TH["Exp"].apply(tx)
    close(y, ty)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    close(x.grad, tx.grad)
    assert autograd.gradcheck(CR["Exp"].apply, (pair()[0],))
    assert autograd.gradgradcheck(CR["Exp"].apply, (pair()[0],))


@pytest.mark.parametrize("needs", [(True, True), (True, False), (False, True)])
def test_non_tensor_argument_and_needs_input_grad(needs):
    (a, ta), (b, tb) = pair(X, needs[0]), pair(X[::-1].copy(), needs[1])
    z, tz = CR["ScaledMul"].apply(a, b, 1.5), TH["ScaledMul"].apply(ta, tb, 1.5)
    close(z, tz)
    assert z.grad_fn.needs_input_grad == tz.grad_fn.needs_input_grad == (*needs, False)
    z.sum().backward()
    tz.sum().backward()
    for ours, theirs in ((a, ta), (b, tb)):
        assert (ours.grad is None) == (theirs.grad is None)
        if ours.grad is not None:
            close(ours.grad, theirs.grad)
    a, b = pair(X)[0], pair(X + 1)[0]
    assert autograd.gradcheck(lambda p, q: CR["ScaledMul"].apply(p, q, 1.5), (a, b))
    assert autograd.gradgradcheck(lambda p, q: CR["ScaledMul"].apply(p, q, 1.5), (a, b))


def test_no_graph_when_nothing_requires_grad():
    x, tx = pair(requires_grad=False)
    y, ty = CR["Exp"].apply(x), TH["Exp"].apply(tx)
    assert y.grad_fn is None and ty.grad_fn is None and not y.requires_grad
    with cr.no_grad():
        assert CR["Exp"].apply(pair()[0]).grad_fn is None


def test_mark_non_differentiable_and_multiple_outputs():
    x, tx = pair()
    (v, i), (tv, ti) = CR["SortWithIndex"].apply(x), TH["SortWithIndex"].apply(tx)
    close(v, tv)
    assert i.tolist() == ti.tolist()
    assert (v.requires_grad, i.requires_grad) == (tv.requires_grad, ti.requires_grad) == (True, False)
    (v * cr.arange(4.0, dtype=cr.float64)).sum().backward()
    (tv * torch.arange(4.0, dtype=torch.float64)).sum().backward()
    close(x.grad, tx.grad)
    assert autograd.gradcheck(lambda t: CR["SortWithIndex"].apply(t)[0], (pair()[0],))


@pytest.mark.parametrize("use", ["sin", "cos", "both"])
def test_set_materialize_grads(use):
    for name in ("SinCos", "SinCosMaterialized"):
        x, tx = pair()
        (s, c), (ts, tc) = CR[name].apply(x), TH[name].apply(tx)
        loss = {"sin": s.sum(), "cos": c.sum(), "both": (s * c).sum()}[use]
        tloss = {"sin": ts.sum(), "cos": tc.sum(), "both": (ts * tc).sum()}[use]
        loss.backward()
        tloss.backward()
        close(x.grad, tx.grad)
        assert s.grad_fn.seen == ts.grad_fn.seen, (name, use)
    assert autograd.gradcheck(lambda t: CR["SinCos"].apply(t)[1], (pair()[0],))
    assert autograd.gradgradcheck(lambda t: CR["SinCos"].apply(t)[1], (pair()[0],))


def test_setup_context_style():
    x, tx = pair()
    y, ty = CR["Cube"].apply(x, 0.5), TH["Cube"].apply(tx, 0.5)
    close(y, ty)
    (g,) = autograd.grad(y.sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad(ty.sum(), tx, create_graph=True)
    close(g, tg)
    (g2,) = autograd.grad(g.sum(), x)
    (tg2,) = torch.autograd.grad(tg.sum(), tx)
    close(g2, tg2)
    assert autograd.gradcheck(lambda t: CR["Cube"].apply(t, 0.5), (pair()[0],))
    assert autograd.gradgradcheck(lambda t: CR["Cube"].apply(t, 0.5), (pair()[0],))


def test_once_differentiable():
    x, tx = pair()
    v, tv = pair(np.ones(4))  # incoming gradients that require grad, as in a double backward
    (g,) = autograd.grad(CR["CubeOnce"].apply(x), x, v, create_graph=True)
    (tg,) = torch.autograd.grad(TH["CubeOnce"].apply(tx), tx, tv, create_graph=True)
    close(g, tg)
    assert g.requires_grad and tg.requires_grad
    with pytest.raises(RuntimeError, match="differentiate twice a function .*marked with @once_differentiable"):
        g.sum().backward()
    with pytest.raises(RuntimeError, match="differentiate twice a function .*marked with @once_differentiable"):
        tg.sum().backward()
    # With constant incoming gradients PyTorch returns a gradient that does not require grad
    # (a later backward fails with "does not require grad"; added to something that does, its
    # second derivative would be silently missing); chainrule keeps it in the graph so that any
    # second backward through it raises the once_differentiable error.
    (g,) = autograd.grad(CR["CubeOnce"].apply(x).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="marked with @once_differentiable"):
        (g.sum() + x.sum()).backward()
    assert autograd.gradcheck(CR["CubeOnce"].apply, (pair()[0],))


def test_non_tensor_output_is_passed_through():
    x, tx = pair()
    (y, label), (ty, tlabel) = CR["WithConstant"].apply(x), TH["WithConstant"].apply(tx)
    assert label == tlabel == "label"
    y.sum().backward()
    ty.sum().backward()
    close(x.grad, tx.grad)


def test_errors_match_pytorch():
    x, tx = pair()
    with pytest.raises(TypeError) as theirs:
        TH["BadSave"].apply(tx)
    with pytest.raises(TypeError) as ours:
        CR["BadSave"].apply(x)
    assert str(ours.value) == str(theirs.value)
    msg = r"TooManyGradsBackward0? returned an incorrect number of gradients \(expected 1, got 2\)"
    with pytest.raises(RuntimeError, match=msg):
        TH["TooManyGrads"].apply(tx).sum().backward()
    with pytest.raises(RuntimeError, match=msg):
        CR["TooManyGrads"].apply(x).sum().backward()
    with pytest.raises(NotImplementedError):
        cr.autograd.Function.apply(x)


def test_function_on_a_module_output_in_training():
    # a custom activation in a small network, trained a step the same way in both libraries
    class Clamp(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * (x > 0).to(g.dtype)

    class TClamp(torch.autograd.Function):
        forward, backward = Clamp.forward, Clamp.backward

    w = np.random.default_rng(0).standard_normal((3, 4))
    lin, tlin = cr.nn.Linear(4, 3, bias=False).double(), torch.nn.Linear(4, 3, bias=False).double()
    with cr.no_grad():
        lin.weight.copy_(cr.tensor(w))
    with torch.no_grad():
        tlin.weight.copy_(torch.tensor(w))
    x, tx = pair(np.arange(8.0).reshape(2, 4) - 3, requires_grad=False)
    Clamp.apply(lin(x)).pow(2).sum().backward()
    TClamp.apply(tlin(tx)).pow(2).sum().backward()
    close(lin.weight.grad, tlin.weight.grad)
