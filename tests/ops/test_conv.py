"""Convolution and transposed convolution: worked examples, the naive loop reference, errors,
second derivatives and randomly drawn shapes (the operator table in tests/opinfo/cases_conv.py
covers forward/gradients against PyTorch, gradcheck and gradgradcheck row by row)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.autograd import gradgradcheck

from .. import conv_reference as ref

torch.set_num_threads(1)


def t(a, requires_grad=False):
    return cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# ---- worked examples ----------------------------------------------------------------------------


def test_1d_example_from_the_course():
    y = F.conv1d(t([[[1, 2, 3, 4]]]), t([[[3, 2]]]))
    np.testing.assert_array_equal(y.numpy(), [[[7, 12, 17]]])


def test_1d_difference_filter_finds_edges():
    x = t([[[0, 0, 0, 0, 1, 2, 3, 4, 4, 4, 4]]])
    y = F.conv1d(x, t([[[-1, 1]]]))
    np.testing.assert_array_equal(y.numpy(), [[[0, 0, 0, 1, 1, 1, 1, 0, 0, 0]]])


def test_2x2_kernel_over_3x3_input_gives_the_four_textbook_sums():
    rng = np.random.default_rng(0)
    w1, w2, w3, w4 = rng.standard_normal(4)
    x1, x2, x3, x4, x5, x6, x7, x8, x9 = rng.standard_normal(9)
    x = t([[[[x1, x2, x3], [x4, x5, x6], [x7, x8, x9]]]])
    w = t([[[[w1, w2], [w3, w4]]]])
    expected = [[w1 * x1 + w2 * x2 + w3 * x4 + w4 * x5, w1 * x2 + w2 * x3 + w3 * x5 + w4 * x6],
                [w1 * x4 + w2 * x5 + w3 * x7 + w4 * x8, w1 * x5 + w2 * x6 + w3 * x8 + w4 * x9]]
    np.testing.assert_allclose(F.conv2d(x, w).numpy()[0, 0], expected, rtol=1e-14)


def test_1x1_convolution_is_a_per_pixel_linear_map_over_channels():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 5, 4, 3)), rng.standard_normal((7, 5, 1, 1)), rng.standard_normal(7)
    y = F.conv2d(t(x), t(w), t(b)).numpy()
    expected = np.einsum("oc,nchw->nohw", w[:, :, 0, 0], x) + b[None, :, None, None]
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stride,padding,size", [(1, 0, (4, 5)), (1, 1, (3, 4)), (2, 1, (5, 5)), (2, 0, (5, 7))])
def test_convolution_is_a_toeplitz_matrix_product_and_its_transpose_the_adjoint(stride, padding, size):
    rng = np.random.default_rng(2)
    w = rng.standard_normal((3, 3))
    m = ref.conv_matrix_2d(w, size, stride, padding)
    x = rng.standard_normal(size)
    y = F.conv2d(t(x[None, None]), t(w[None, None]), stride=stride, padding=padding).numpy()
    np.testing.assert_allclose(y.ravel(), m @ x.ravel(), rtol=1e-12, atol=1e-12)
    # the transposed convolution is the product with M^T (output_padding recovers the input size)
    out = y.shape[2:]
    opad = tuple(s - ((o - 1) * stride - 2 * padding + 3) for s, o in zip(size, out))
    g = rng.standard_normal(out)
    back = F.conv_transpose2d(t(g[None, None]), t(w[None, None]), stride=stride, padding=padding,
                              output_padding=opad).numpy()
    np.testing.assert_allclose(back.ravel(), m.T @ g.ravel(), rtol=1e-12, atol=1e-12)


# (input, kernel, padding, stride, dilation)
SIZES = [(7, 3, 0, 1, 1), (7, 3, 1, 1, 1), (7, 3, 1, 2, 1), (8, 3, 1, 2, 1), (5, 5, 2, 1, 1), (9, 2, 0, 3, 1),
         (10, 3, 0, 1, 2), (10, 3, 2, 3, 2), (1, 1, 0, 1, 1), (4, 4, 3, 2, 1), (28, 5, 2, 1, 1), (32, 3, 1, 2, 1)]


@pytest.mark.parametrize("size,k,p,s,d", SIZES)
def test_output_sizes(size, k, p, s, d):
    expected = (size + 2 * p - d * (k - 1) - 1) // s + 1
    if d == 1:  # the textbook's floor((x - f + 2p + s) / s)
        assert expected == (size - k + 2 * p + s) // s
    y1 = F.conv1d(cr.zeros(1, 1, size), cr.zeros(1, 1, k), padding=p, stride=s, dilation=d)
    y2 = F.conv2d(cr.zeros(1, 1, size, 3), cr.zeros(1, 1, k, 1), padding=(p, 0), stride=(s, 1), dilation=(d, 1))
    assert y1.shape == (1, 1, expected)
    assert y2.shape == (1, 1, expected, 3)


def test_same_padding_puts_the_extra_zero_at_the_end():
    # with an even kernel, output 0 sees one zero in front and input 0 at tap 1
    x = np.zeros((1, 1, 6))
    x[0, 0, 0] = 1.0
    y = F.conv1d(t(x), t([[[1.0, 10.0, 100.0, 1000.0]]]), padding="same").numpy()
    np.testing.assert_array_equal(y[0, 0], [10, 1, 0, 0, 0, 0])


# ---- the naive loop reference -------------------------------------------------------------------

NAIVE = [  # (x shape, w shape, kwargs)
    ((2, 4, 9), (6, 2, 3), dict(stride=2, padding=1, groups=2)),
    ((1, 3, 8), (3, 1, 4), dict(padding=((1,), (2,)), dilation=1, groups=3)),
    ((2, 3, 6, 7), (4, 3, 3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2))),
    ((2, 4, 5, 5), (4, 2, 3, 3), dict(padding=1, groups=2)),
    ((1, 2, 4, 3, 5), (3, 2, 2, 2, 3), dict(stride=(1, 1, 2), padding=(1, 0, 1))),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("xs,ws,kw", NAIVE)
def test_forward_matches_the_naive_loops(xs, ws, kw, dtype):
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    nd = len(xs) - 2
    ours_kw = dict(kw)
    if isinstance(kw.get("padding"), tuple) and isinstance(kw["padding"][0], tuple):
        ours_kw["padding"] = "same"  # the asymmetric row is 'same' with an even kernel
    x, w, b = x.astype(dtype), w.astype(dtype), b.astype(dtype)
    expected = ref.conv(x, w, b, **kw)  # from the rounded inputs: what is left is our rounding
    y = getattr(F, f"conv{nd}d")(cr.tensor(x), cr.tensor(w), cr.tensor(b), **ours_kw)
    assert y.dtype.name == np.dtype(dtype).name
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y.numpy(), expected, rtol=tol, atol=tol)


NAIVE_T = [
    ((2, 4, 4), (4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ((1, 4, 5), (4, 1, 2), dict(groups=2, dilation=3, output_padding=2)),
    ((2, 2, 3, 4), (2, 3, 3, 2), dict(stride=(2, 3), padding=(1, 0))),
    ((1, 2, 2, 3, 2), (2, 2, 2, 2, 2), dict(stride=2, output_padding=(1, 0, 1))),
]


@pytest.mark.parametrize("xs,ws,kw", NAIVE_T)
def test_transposed_forward_matches_the_naive_scatter(xs, ws, kw):
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    b = rng.standard_normal(ws[1] * kw.get("groups", 1))
    nd = len(xs) - 2
    y = getattr(F, f"conv_transpose{nd}d")(t(x), t(w), t(b), **kw)
    np.testing.assert_allclose(y.numpy(), ref.conv_transpose(x, w, b, **kw), rtol=1e-12, atol=1e-12)


# ---- gradients ------------------------------------------------------------------------------------


def test_float32_stays_float32_through_first_and_second_derivatives():
    rng = np.random.default_rng(5)
    x = cr.tensor(rng.standard_normal((2, 3, 5, 5)).astype(np.float32), requires_grad=True)
    w = cr.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    y = F.conv2d(x, w, padding=1, stride=2)
    gx, gw = cr.autograd.grad((y * y).sum(), [x, w], create_graph=True)
    (ggw,) = cr.autograd.grad((gx * gx).sum(), [w])
    assert {y.dtype, gx.dtype, gw.dtype, ggw.dtype} == {cr.float32}


def _penalty(lib, fn, x, w, b, **kw):
    """A gradient penalty: d/d(w, b) of ||d(sum conv(x)^2)/dx||^2, a true second derivative."""
    y = fn(x, w, b, **kw)
    (gx,) = lib.autograd.grad((y * y).sum(), [x], create_graph=True)
    return lib.autograd.grad((gx * gx).sum(), [w, b])


@pytest.mark.parametrize("op,xs,ws,kw", [
    ("conv2d", (2, 4, 6, 5), (6, 2, 3, 3), dict(stride=1, padding=1, groups=2)),
    ("conv2d", (2, 3, 7, 6), (4, 3, 3, 2), dict(stride=2, padding=(1, 0), dilation=(1, 2))),
    ("conv_transpose2d", (2, 3, 4, 4), (3, 2, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ("conv1d", (2, 3, 9), (4, 3, 4), dict(padding="same", dilation=2)),
])
def test_second_derivative_matches_torch(op, xs, ws, kw):
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    b = rng.standard_normal(ws[1] if "transpose" in op else ws[0])
    ours = _penalty(cr, getattr(F, op), t(x, True), t(w, True), t(b, True), **kw)
    theirs = _penalty(torch, getattr(TF, op), *(torch.tensor(a, requires_grad=True) for a in (x, w, b)), **kw)
    for o, th in zip(ours, theirs):
        np.testing.assert_allclose(o.numpy(), th.numpy(), rtol=1e-10, atol=1e-10)


def test_only_the_needed_gradients_are_computed():
    rng = np.random.default_rng(7)
    x = t(rng.standard_normal((2, 3, 5, 5)))  # a constant input: only the weight gets a gradient
    w = t(rng.standard_normal((4, 3, 3, 3)), True)
    y = F.conv2d(x, w, padding=1)
    y.backward(cr.ones_like(y))
    assert x.grad is None
    tx, tw = torch.tensor(x.numpy()), torch.tensor(w.detach().numpy(), requires_grad=True)
    TF.conv2d(tx, tw, padding=1).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12)


# ---- every algorithm the kernels choose between ---------------------------------------------------

LAYOUTS = [  # (op, x shape, w shape, kwargs): big enough for the shift layout (Cg * k[1:] >= 8)
    ("conv2d", (2, 4, 6, 5), (3, 4, 3, 2), dict(padding=1)),
    ("conv2d", (2, 4, 7, 6), (6, 2, 3, 3), dict(stride=(2, 1), padding=(0, 1), dilation=(1, 2), groups=2)),
    ("conv3d", (2, 3, 4, 3, 4), (2, 3, 2, 2, 2), dict(dilation=(2, 1, 1), padding=(1, 0, 1))),
    ("conv1d", (2, 3, 9), (3, 1, 3), dict(stride=2, padding=1, groups=3)),
    ("conv_transpose2d", (2, 4, 3, 4), (4, 3, 3, 2), dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose2d", (2, 3, 4, 3), (3, 1, 3, 3), dict(padding=1, groups=3)),
]


@pytest.mark.parametrize("shift,fold,depthwise", [(True, True, True), (True, False, False), (False, True, False),
                                                  (False, False, True)])
def test_every_column_layout_gives_torchs_results_and_second_derivatives(monkeypatch, shift, fold, depthwise):
    from chainrule.kernels.numpy import tuning as numpy_tuning

    monkeypatch.setattr(numpy_tuning, "CONV_SHIFT_MIN_DEPTH", 1 if shift else 10**9)
    monkeypatch.setattr(numpy_tuning, "CONV_FOLD_BELOW", 10**9 if fold else 0)
    monkeypatch.setattr(numpy_tuning, "CONV_DEPTHWISE_PER_TAP", depthwise)
    rng = np.random.default_rng(8)
    for op, xs, ws, kw in LAYOUTS:
        x, w = rng.standard_normal(xs), rng.standard_normal(ws)
        ours, theirs = [t(x, True), t(w, True)], [torch.tensor(a, requires_grad=True) for a in (x, w)]
        y, ty = getattr(F, op)(*ours, **kw), getattr(TF, op)(*theirs, **kw)
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12, err_msg=op)
        g = rng.standard_normal(tuple(ty.shape))
        for o, th in zip(cr.autograd.grad(y, ours, t(g)), torch.autograd.grad(ty, theirs, torch.tensor(g))):
            np.testing.assert_allclose(o.numpy(), th.numpy(), rtol=1e-12, atol=1e-12, err_msg=op)
        assert gradgradcheck(lambda a, b, op=op, kw=kw: getattr(F, op)(a, b, **kw), ours, fast_mode=True)


# ---- errors ---------------------------------------------------------------------------------------

X4 = cr.zeros(2, 4, 5, 5)
ERRORS = [
    (lambda: F.conv2d(X4, cr.zeros(6, 3, 3, 3)), "expected input\\[2, 4, 5, 5\\] to have 3 channels, but got 4"),
    (lambda: F.conv2d(X4, cr.zeros(6, 2, 3, 3), groups=3), "to have 6 channels, but got 4 channels"),
    (lambda: F.conv2d(X4, cr.zeros(5, 2, 3, 3), groups=2), "expected weight to be divisible by 2 at dimension 0"),
    (lambda: F.conv2d(X4, cr.zeros(6, 4, 7, 7)), "Kernel size can't be greater than actual input size"),
    (lambda: F.conv2d(X4, cr.zeros(6, 4, 8, 8), padding=1),
     "padded input size per channel: \\(7 x 7\\). Kernel size: \\(8 x 8\\)"),
    (lambda: F.conv2d(X4, cr.zeros(6, 4, 3, 3), stride=0), "non-positive stride"),
    (lambda: F.conv2d(X4, cr.zeros(6, 4, 3, 3), dilation=(1, 0)), "non-positive dilation"),
    (lambda: F.conv2d(X4, cr.zeros(6, 4, 3, 3), groups=0), "non-positive groups"),
    (lambda: F.conv2d(X4, cr.zeros(6, 4, 3, 3), padding=-1), "negative padding"),
    (lambda: F.conv2d(cr.zeros(1, 2, 4, 5, 5), cr.zeros(6, 4, 3, 3)),
     "Expected 3D \\(unbatched\\) or 4D \\(batched\\) input to conv2d, but got input of size: \\[1, 2, 4, 5, 5\\]"),
    (lambda: F.conv1d(cr.zeros(5), cr.zeros(1, 1, 3)), "Expected 2D \\(unbatched\\) or 3D \\(batched\\) input to conv1d"),
    (lambda: F.conv2d(X4, cr.zeros(6, 4, 3)), "expected a 4-D weight"),
    (lambda: F.conv2d(X4, cr.zeros(6, 4, 3, 3), padding="same", stride=2), "padding='same' is not supported for strided"),
    (lambda: F.conv2d(X4, cr.zeros(6, 4, 3, 3), padding="full"), "Invalid padding string"),
    (lambda: F.conv2d(X4, cr.zeros(6, 4, 3, 3), bias=cr.zeros(5)), "expected bias to be 1-dimensional with 6 elements"),
    (lambda: F.conv2d(X4, cr.zeros(6, 4, 3, 3, dtype=cr.float64)), "should be the same"),
    (lambda: F.conv2d(X4.long(), cr.zeros(6, 4, 3, 3).long()), "expected a floating-point input"),
    (lambda: F.conv_transpose2d(X4, cr.zeros(4, 3, 3, 3), stride=2, output_padding=2),
     "output padding must be smaller than either stride or dilation"),
    (lambda: F.conv_transpose2d(X4, cr.zeros(4, 3, 3, 3), output_padding=1), "output padding must be smaller"),
    (lambda: F.conv_transpose2d(X4, cr.zeros(3, 3, 3, 3)), "Given transposed=1, weight of size \\[3, 3, 3, 3\\]"),
    (lambda: F.conv_transpose2d(X4, cr.zeros(4, 3, 3, 3), padding=4), "output size \\(-1 x -1\\) is too small"),
    (lambda: F.conv_transpose1d(cr.zeros(1, 2, 3), cr.zeros(2, 1, 2), padding="same"), "padding must be an int"),
]


@pytest.mark.parametrize("call,match", ERRORS)
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()


def test_bad_argument_types():
    with pytest.raises(TypeError, match="stride must be an int or a tuple of 2 ints"):
        F.conv2d(X4, cr.zeros(6, 4, 3, 3), stride=(1, 2, 3))
    with pytest.raises(TypeError, match="argument 'input' must be Tensor"):
        F.conv2d(np.zeros((2, 4, 5, 5)), cr.zeros(6, 4, 3, 3))


# ---- randomly drawn shapes --------------------------------------------------------------------


@st.composite
def conv_args(draw):
    nd = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 2))
    cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(nd))
    lows = [max(1, d * (k - 1) + 1 - 2 * p) for k, d, p in zip(kernel, dilation, padding)]
    size = tuple(draw(st.integers(lo, max(lo, 6 if nd < 3 else 4))) for lo in lows)
    n = draw(st.integers(1, 2))
    bias = draw(st.booleans())
    return nd, (n, cg * groups) + size, (og * groups, cg) + kernel, bias, dict(
        stride=stride, padding=padding, dilation=dilation, groups=groups)


@settings(max_examples=25, deadline=None)
@given(conv_args(), st.integers(0, 2**31 - 1))
def test_random_convolutions_match_torch_with_gradients(args, seed):
    nd, xs, ws, bias, kw = args
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws)] + ([rng.standard_normal(ws[0])] if bias else [])
    ours = [t(a, True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = getattr(F, f"conv{nd}d")(*ours, **kw)
    ty = getattr(TF, f"conv{nd}d")(*theirs, **kw)
    np.testing.assert_allclose(y.numpy() if not y.requires_grad else y.detach().numpy(), ty.detach().numpy(),
                               rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(tuple(ty.shape))
    grads = cr.autograd.grad(y, ours, t(g))
    tgrads = torch.autograd.grad(ty, theirs, torch.tensor(g))
    for o, th in zip(grads, tgrads):
        np.testing.assert_allclose(o.numpy(), th.numpy(), rtol=1e-10, atol=1e-10)


@st.composite
def conv_transpose_args(draw):
    nd = draw(st.integers(1, 2))
    groups = draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    size = tuple(draw(st.integers(1, 5)) for _ in range(nd))
    padding = tuple(draw(st.integers(0, ((n - 1) * s + d * (k - 1)) // 2))
                    for n, s, d, k in zip(size, stride, dilation, kernel))
    cin = groups * draw(st.integers(1, 2))
    return nd, (2, cin) + size, (cin, draw(st.integers(1, 2))) + kernel, dict(
        stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation)


@settings(max_examples=20, deadline=None)
@given(conv_transpose_args(), st.integers(0, 2**31 - 1))
def test_random_transposed_convolutions_match_torch(args, seed):
    nd, xs, ws, kw = args
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    ours = [t(x, True), t(w, True)]
    theirs = [torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)]
    y = getattr(F, f"conv_transpose{nd}d")(*ours, **kw)
    ty = getattr(TF, f"conv_transpose{nd}d")(*theirs, **kw)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(tuple(ty.shape))
    for o, th in zip(cr.autograd.grad(y, ours, t(g)), torch.autograd.grad(ty, theirs, torch.tensor(g))):
        np.testing.assert_allclose(o.numpy(), th.numpy(), rtol=1e-10, atol=1e-10)
