"""Normalisation layers against PyTorch (copied parameters: outputs, input and parameter
gradients, running statistics after several training steps, eval outputs), FRN/TLU against
their formulas, double backward (gradient penalties through batch norm in training mode), and
PyTorch's behaviour at the edges (batch of one, untracked statistics, cumulative momentum)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck

torch.set_num_threads(1)

# float32 forward/backward agree with PyTorch to a few ulps amplified by reductions over up to
# a few hundred elements; float64 to summation-order noise
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-10, atol=1e-11)}
MAX_REL: dict[str, float] = {}


@pytest.fixture(scope="module", autouse=True)
def _report_largest_relative_error():
    """After this module, print the largest relative error max|ours - torch| / max|torch| seen (with -s)."""
    yield
    for dt in ("float32", "float64"):
        vals = {k: v for k, v in MAX_REL.items() if k.endswith(dt)}
        if vals:
            worst = max(vals, key=vals.get)
            print(f"\nlargest relative error vs PyTorch, {dt}: {vals[worst]:.2e} ({worst}; "
                  f"{len(vals)} quantities)")


def _close(name: str, ours, theirs, dtype) -> None:
    a = ours.detach().numpy() if isinstance(ours, cr.Tensor) else np.asarray(ours)
    b = theirs.detach().numpy()
    assert a.shape == b.shape, f"{name}: shape {a.shape} != {b.shape}"
    assert a.dtype == b.dtype, f"{name}: dtype {a.dtype} != {b.dtype}"
    np.testing.assert_allclose(a, b, err_msg=name, **TOL[dtype])
    rel = float(np.max(np.abs(a - b)) / np.max(np.abs(b))) if a.size and np.any(b) else 0.0
    key = f"{name} {np.dtype(dtype).name}"
    MAX_REL[key] = max(MAX_REL.get(key, 0.0), rel)


def _copy_state(ours: nn.Module, theirs: torch.nn.Module, rng) -> None:
    """Random parameters in torch's module, copied into ours (buffers too)."""
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, p.shape) if "weight" in name
                                     else rng.standard_normal(p.shape)))
    state = ours.state_dict()
    assert set(state) == set(theirs.state_dict()), "state_dict keys differ from PyTorch's"
    with cr.no_grad():
        for name, t in theirs.state_dict().items():
            state[name].copy_(cr.from_numpy(t.detach().numpy().copy()))


LAYERS = [
    # (id, chainrule constructor, torch constructor, input shape)
    ("bn1d", lambda: nn.BatchNorm1d(3), lambda: torch.nn.BatchNorm1d(3), (6, 3)),
    ("bn1d_seq", lambda: nn.BatchNorm1d(3), lambda: torch.nn.BatchNorm1d(3), (4, 3, 5)),
    ("bn2d", lambda: nn.BatchNorm2d(3), lambda: torch.nn.BatchNorm2d(3), (4, 3, 5, 5)),
    ("bn2d_momentum_none", lambda: nn.BatchNorm2d(3, momentum=None),
     lambda: torch.nn.BatchNorm2d(3, momentum=None), (2, 3, 4, 3)),
    ("bn2d_noaffine", lambda: nn.BatchNorm2d(3, affine=False, momentum=0.3),
     lambda: torch.nn.BatchNorm2d(3, affine=False, momentum=0.3), (3, 3, 2, 4)),
    ("bn2d_untracked", lambda: nn.BatchNorm2d(3, track_running_stats=False),
     lambda: torch.nn.BatchNorm2d(3, track_running_stats=False), (3, 3, 2, 2)),
    ("bn2d_nobias", lambda: nn.BatchNorm2d(3, bias=False), lambda: torch.nn.BatchNorm2d(3, bias=False),
     (2, 3, 3, 3)),
    ("bn3d", lambda: nn.BatchNorm3d(2, eps=1e-3), lambda: torch.nn.BatchNorm3d(2, eps=1e-3), (3, 2, 3, 2, 2)),
    ("in1d", lambda: nn.InstanceNorm1d(3), lambda: torch.nn.InstanceNorm1d(3), (2, 3, 6)),
    ("in2d_affine_tracked", lambda: nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
     lambda: torch.nn.InstanceNorm2d(3, affine=True, track_running_stats=True), (2, 3, 4, 4)),
    ("in2d_unbatched", lambda: nn.InstanceNorm2d(3, affine=True), lambda: torch.nn.InstanceNorm2d(3, affine=True),
     (3, 4, 5)),
    ("in3d", lambda: nn.InstanceNorm3d(2, track_running_stats=True, momentum=0.5),
     lambda: torch.nn.InstanceNorm3d(2, track_running_stats=True, momentum=0.5), (2, 2, 3, 2, 2)),
    ("ln", lambda: nn.LayerNorm((4, 5)), lambda: torch.nn.LayerNorm((4, 5)), (3, 2, 4, 5)),
    ("ln_nobias", lambda: nn.LayerNorm(5, bias=False, eps=1e-3), lambda: torch.nn.LayerNorm(5, bias=False, eps=1e-3),
     (3, 5)),
    ("ln_noaffine", lambda: nn.LayerNorm(6, elementwise_affine=False),
     lambda: torch.nn.LayerNorm(6, elementwise_affine=False), (2, 3, 6)),
    ("gn", lambda: nn.GroupNorm(2, 4), lambda: torch.nn.GroupNorm(2, 4), (3, 4, 3, 3)),
    ("gn_1d_noaffine", lambda: nn.GroupNorm(3, 6, affine=False), lambda: torch.nn.GroupNorm(3, 6, affine=False),
     (2, 6, 5)),
    ("gn_instance", lambda: nn.GroupNorm(4, 4), lambda: torch.nn.GroupNorm(4, 4), (2, 4, 3)),
    ("rms", lambda: nn.RMSNorm(5), lambda: torch.nn.RMSNorm(5), (3, 5)),
    ("lrn", lambda: nn.LocalResponseNorm(3, alpha=0.3, k=1.2), lambda: torch.nn.LocalResponseNorm(3, alpha=0.3, k=1.2),
     (2, 5, 3, 3)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_matches_torch(case, dtype):
    name, make_ours, make_theirs, shape = case
    rng = np.random.default_rng(0)
    theirs = make_theirs().to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = make_ours().to(cr.float64 if dtype == np.float64 else cr.float32)
    _copy_state(ours, theirs, rng)
    tparams = dict(theirs.named_parameters())
    for _step in range(3):
        x_np = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)
        g_np = rng.standard_normal(shape).astype(dtype)
        x, tx = cr.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
        y, ty = ours(x), theirs(tx)
        _close(f"{name} output", y, ty, dtype)
        (y * cr.tensor(g_np)).sum().backward()
        (ty * torch.tensor(g_np)).sum().backward()
        _close(f"{name} input grad", x.grad, tx.grad, dtype)
        for pname, p in ours.named_parameters():
            _close(f"{name} {pname} grad", p.grad, tparams[pname].grad, dtype)
        ours.zero_grad()
        theirs.zero_grad()
    for bname, b in theirs.named_buffers():
        mine = ours.get_buffer(bname)
        if b.dtype == torch.int64:
            assert mine.dtype == cr.int64 and mine.item() == b.item(), f"{name}: {bname}"
        else:
            _close(f"{name} {bname}", mine, b, dtype)
    ours.eval()
    theirs.eval()
    x_np = rng.standard_normal(shape).astype(dtype)
    _close(f"{name} eval output", ours(cr.tensor(x_np)), theirs(torch.tensor(x_np)), dtype)


@pytest.mark.parametrize("case", LAYERS, ids=[c[0] for c in LAYERS])
def test_repr_matches_torch(case):
    _, make_ours, make_theirs, _ = case
    assert repr(make_ours()) == repr(make_theirs())


# ---- batch norm specifics ------------------------------------------------------------------------
def test_batch_norm_batch_of_one_raises_in_training_only():
    m = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input "
                                         r"size .*\[1, 3\]"):
        m(cr.randn(1, 3))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.BatchNorm2d(3)(cr.randn(1, 3, 1, 1))
    nn.BatchNorm2d(3)(cr.randn(1, 3, 2, 1))  # two values per channel: fine
    m.eval()
    assert m(cr.randn(1, 3)).shape == (1, 3)


def test_batch_norm_untracked_has_no_buffers_and_uses_batch_stats_in_eval():
    m = nn.BatchNorm2d(2, track_running_stats=False).eval()
    assert m.running_mean is None and m.running_var is None and m.num_batches_tracked is None
    assert "running_mean" not in m.state_dict()
    x = cr.randn(4, 2, 3, 3) * 3 + 1
    y = m(x).detach().numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-3)


def test_batch_norm_running_statistics_formulas():
    """Unbiased variance into the running estimate, cumulative average for momentum=None."""
    rng = np.random.default_rng(3)
    m = nn.BatchNorm1d(2, momentum=None).double()
    batches = [rng.standard_normal((5, 2)) * (i + 1) + i for i in range(4)]
    for b in batches:
        m(cr.tensor(b))
    assert m.num_batches_tracked.item() == 4 and m.num_batches_tracked.dtype == cr.int64
    np.testing.assert_allclose(m.running_mean.numpy(), np.mean([b.mean(0) for b in batches], axis=0), rtol=1e-12)
    np.testing.assert_allclose(m.running_var.numpy(), np.mean([b.var(0, ddof=1) for b in batches], axis=0),
                               rtol=1e-12)
    m2 = nn.BatchNorm1d(2, momentum=0.25).double()
    m2(cr.tensor(batches[0]))
    np.testing.assert_allclose(m2.running_var.numpy(), 0.75 + 0.25 * batches[0].var(0, ddof=1), rtol=1e-12)


def test_functional_batch_norm_updates_buffers_in_place():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 3, 2)).astype(np.float32)
    rm, rv = cr.zeros(3), cr.ones(3)
    trm, trv = torch.zeros(3), torch.ones(3)
    F.batch_norm(cr.tensor(x), rm, rv, training=True, momentum=0.2)
    torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=0.2)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-6)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-6)
    assert rm._version_number > 0


def test_batch_norm_keeps_float32():
    m = nn.BatchNorm2d(3)
    x = cr.randn(2, 3, 2, 2, requires_grad=True)
    y = m(x)
    y.sum().backward()
    assert y.dtype == cr.float32 and x.grad.dtype == cr.float32 and m.weight.grad.dtype == cr.float32
    assert m.running_var.dtype == cr.float32


def test_batch_norm_input_errors():
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(cr.randn(2, 3, 4))
    with pytest.raises(RuntimeError, match="running_mean should contain 4 elements not 3"):
        nn.BatchNorm1d(3)(cr.randn(2, 4))
    with pytest.raises(ValueError, match="either both be None or neither"):
        F.batch_norm(cr.randn(2, 3), cr.zeros(3), None, training=True)
    with pytest.raises(RuntimeError, match="dtype"):
        F.batch_norm(cr.randn(2, 3), None, None, cr.ones(3, dtype=cr.float64), training=True)
    with pytest.raises(ValueError, match="num_features must be a positive integer"):
        nn.BatchNorm2d(0)


def test_norm_layer_errors():
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups \(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(cr.randn(2, 6, 3), 4)
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[3\], expected input with shape \[\*, 3\]"):
        nn.LayerNorm(3)(cr.randn(2, 4))
    with pytest.raises(ValueError, match=r"expected input's size at dim=1 to match num_features \(3\)"):
        nn.InstanceNorm2d(3, affine=True)(cr.randn(2, 4, 3, 3))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(3)(cr.randn(2, 4, 5))
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        nn.InstanceNorm1d(3)(cr.randn(2, 3, 1))
    with pytest.raises(ValueError, match="Expected 3D or higher dimensionality input"):
        F.local_response_norm(cr.randn(2, 3), 2)


def test_defaults_match_torch():
    m, t = nn.InstanceNorm2d(4), torch.nn.InstanceNorm2d(4)
    assert (m.affine, m.track_running_stats, m.momentum, m.eps) == (t.affine, t.track_running_stats, t.momentum, t.eps)
    assert m.weight is None and m.running_mean is None
    b = nn.BatchNorm2d(4)
    np.testing.assert_array_equal(b.weight.detach().numpy(), np.ones(4))
    np.testing.assert_array_equal(b.bias.detach().numpy(), np.zeros(4))
    np.testing.assert_array_equal(b.running_var.numpy(), np.ones(4))


# ---- double backward -----------------------------------------------------------------------------
def _penalty_pair(fn_ours, fn_theirs, arrays):
    """d/d(inputs) of ||d(sum(y * g))/dx||^2: gradients of a gradient penalty, ours and torch's."""
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    g = np.random.default_rng(9).standard_normal(fn_theirs(*ts).shape)
    y = fn_ours(*xs)
    (gx,) = cr.autograd.grad((y * cr.tensor(g)).sum(), [xs[0]], create_graph=True)
    ours = cr.autograd.grad((gx * gx).sum(), xs, allow_unused=True)
    ty = fn_theirs(*ts)
    (tgx,) = torch.autograd.grad((ty * torch.tensor(g)).sum(), [ts[0]], create_graph=True)
    theirs = torch.autograd.grad((tgx * tgx).sum(), ts, allow_unused=True)
    return gx, tgx, ours, theirs


@pytest.mark.parametrize("which", ["batch_norm", "instance_norm", "layer_norm", "group_norm"])
def test_gradient_penalty_matches_torch(which):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 2, 2))
    w, b = rng.uniform(0.5, 1.5, 4), rng.standard_normal(4)
    fns = {
        "batch_norm": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                       lambda x, w, b: torch.nn.functional.batch_norm(x, None, None, w, b, training=True)),
        "instance_norm": (lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
                          lambda x, w, b: torch.nn.functional.instance_norm(x, weight=w, bias=b)),
        "layer_norm": (lambda x, w, b: F.layer_norm(x, (2, 2), w.reshape(2, 2), b.reshape(2, 2)),
                       lambda x, w, b: torch.nn.functional.layer_norm(x, (2, 2), w.reshape(2, 2), b.reshape(2, 2))),
        "group_norm": (lambda x, w, b: F.group_norm(x, 2, w, b),
                       lambda x, w, b: torch.nn.functional.group_norm(x, 2, w, b)),
    }
    gx, tgx, ours, theirs = _penalty_pair(*fns[which], [x, w, b])
    # the first derivative built with create_graph=True (the recomputed-statistics path)
    np.testing.assert_allclose(gx.detach().numpy(), tgx.detach().numpy(), rtol=1e-10, atol=1e-12)
    for o, t in zip(ours, theirs):
        if t is None:  # e.g. the bias: dL/dx does not depend on it
            assert o is None or not np.any(o.numpy())
            continue
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-9, atol=1e-11)


def test_module_gradgradcheck_batch_norm_training():
    m = nn.BatchNorm2d(2).double()
    x = cr.tensor(np.random.default_rng(6).standard_normal((3, 2, 2, 2)), requires_grad=True)

    def f(x, w, b):
        m.weight, m.bias = w, b
        return m(x)

    w = nn.Parameter(cr.tensor([0.7, 1.3], dtype=cr.float64))
    b = nn.Parameter(cr.tensor([0.1, -0.2], dtype=cr.float64))
    assert gradcheck(f, [x, w, b])
    assert gradgradcheck(f, [x, w, b])


def test_third_derivative_of_batch_norm():
    """The backward of the backward is again differentiable operators: a third order check."""
    x = cr.tensor(np.random.default_rng(7).standard_normal((4, 2)), requires_grad=True)

    def second(x):
        with cr.enable_grad():  # gradcheck evaluates its finite differences under no_grad
            y = F.batch_norm(x, None, None, training=True)
            (g,) = cr.autograd.grad((y ** 3).sum(), [x], create_graph=True)
            (gg,) = cr.autograd.grad((g * g).sum(), [x], create_graph=True)
        return gg

    assert gradcheck(second, [x])


# ---- filter response normalisation and TLU -------------------------------------------------------
def test_frn_tlu_hand_computed():
    x = cr.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, -1.0], [1.0, 0.0]]]], dtype=cr.float64)  # (1, 2, 2, 2)
    frn = nn.FilterResponseNorm2d(2, eps=1e-6).double()
    tlu = nn.TLU(2).double()
    with cr.no_grad():
        frn.weight.copy_(cr.tensor([2.0, 1.0], dtype=cr.float64))
        frn.bias.copy_(cr.tensor([0.5, 0.0], dtype=cr.float64))
        tlu.tau.copy_(cr.tensor([2.0, -0.2], dtype=cr.float64))
    y = frn(x)
    # channel 0: nu2 = (1 + 4 + 9 + 16) / 4 = 7.5; channel 1: nu2 = (0 + 1 + 1 + 0) / 4 = 0.5
    s0, s1 = 1 / math.sqrt(7.5 + 1e-6), 1 / math.sqrt(0.5 + 1e-6)
    expected = np.array([[[[2 * s0 + 0.5, 4 * s0 + 0.5], [6 * s0 + 0.5, 8 * s0 + 0.5]],
                          [[0.0, -s1], [s1, 0.0]]]])
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-12)
    z = tlu(y)
    np.testing.assert_allclose(z.detach().numpy(), np.maximum(expected, np.array([2.0, -0.2]).reshape(1, 2, 1, 1)),
                               rtol=1e-12)
    assert set(dict(frn.named_parameters())) == {"weight", "bias"}
    assert set(dict(tlu.named_parameters())) == {"tau"}


def test_frn_batch_of_one_and_unbatched():
    frn = nn.FilterResponseNorm2d(3)
    x = cr.randn(1, 3, 4, 4)
    y = frn(x)
    assert y.shape == (1, 3, 4, 4)
    # each sample is normalised on its own: the same sample in a larger batch gives the same output
    big = cr.cat([x, cr.randn(2, 3, 4, 4)])
    np.testing.assert_allclose(frn(big)[:1].detach().numpy(), y.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(frn(x[0]).detach().numpy(), y[0].detach().numpy(), rtol=1e-6)
    # nu2 of the output is ~1 per channel
    np.testing.assert_allclose((y.detach().numpy() ** 2).mean(axis=(2, 3)), 1.0, rtol=1e-4)


def test_frn_learnable_eps_and_gradgradcheck():
    frn = nn.FilterResponseNorm2d(2, eps=1e-2, learnable_eps=True).double()
    tlu = nn.TLU(2).double()
    assert set(dict(frn.named_parameters())) == {"weight", "bias", "eps"}
    assert frn.eps.shape == (1,) and abs(frn.eps.item() - 1e-2) < 1e-8
    rng = np.random.default_rng(8)
    x = cr.tensor(np.abs(rng.standard_normal((2, 2, 1, 1))) * 0.1, requires_grad=True)  # 1x1 maps: eps matters
    y = tlu(frn(x))
    y.sum().backward()
    assert frn.eps.grad is not None and frn.eps.grad.abs().item() > 0

    def f(x, e, w, b, tau):
        frn.eps, frn.weight, frn.bias, tlu.tau = e, w, b, tau
        return tlu(frn(x))

    params = [nn.Parameter(cr.tensor(v, dtype=cr.float64)) for v in
              ([0.05], [1.2, 0.8], [0.1, -0.1], [-0.9, -0.7])]
    x2 = cr.tensor(rng.standard_normal((2, 2, 2, 2)), requires_grad=True)
    assert gradcheck(f, [x2, *params])
    assert gradgradcheck(f, [x2, *params])


def test_layers_gradgradcheck():
    rng = np.random.default_rng(10)
    layers = [(nn.InstanceNorm2d(2, affine=True), (2, 2, 2, 2)), (nn.LayerNorm(3), (2, 3)),
              (nn.GroupNorm(2, 4), (2, 4, 2)), (nn.LocalResponseNorm(2), (1, 3, 2)), (nn.RMSNorm(3), (2, 3)),
              (nn.BatchNorm1d(2), (4, 2))]
    for m, shape in layers:
        m = m.double()
        for p in m.parameters():
            with cr.no_grad():
                p.copy_(cr.tensor(rng.uniform(0.5, 1.5, tuple(p.shape))))
        x = cr.tensor(rng.standard_normal(shape), requires_grad=True)
        params = list(m.parameters())

        def f(x, *ps, m=m):
            for (name, _), p in zip(list(m.named_parameters()), ps):
                setattr(m, name, p)
            return m(x)

        assert gradgradcheck(f, [x, *params]), type(m).__name__


# ---- scaled weight standardisation (WSConv2d) ---------------------------------------------------
def test_wsconv2d_hand_computed():
    conv = nn.WSConv2d(1, 2, (1, 2), bias=True).double()
    with cr.no_grad():
        # filter 0: [1, 3] -> mean 2, biased var 1, fan_in 2: (w - 2) / sqrt(1 * 2) = [-1, 1] / sqrt 2
        # filter 1: [2, 2] -> var 0: the eps floor (1e-4) keeps it finite: (w - 2) / 1e-2 = [0, 0]
        conv.weight.copy_(cr.tensor([[[[1.0, 3.0]]], [[[2.0, 2.0]]]], dtype=cr.float64))
        conv.gain.copy_(cr.tensor([1.5, 1.0], dtype=cr.float64).reshape(2, 1, 1, 1))
        conv.bias.copy_(cr.tensor([0.25, -1.0], dtype=cr.float64))
    r = 1 / math.sqrt(2)
    np.testing.assert_allclose(conv.standardized_weight().detach().numpy().reshape(2, 2),
                               [[-1.5 * r, 1.5 * r], [0.0, 0.0]], rtol=1e-12, atol=1e-15)
    x = cr.tensor([[[[1.0, 2.0, 4.0]]]], dtype=cr.float64)  # (1, 1, 1, 3)
    y = conv(x).detach().numpy()
    # out[o, j] = w_hat[o, 0] x[j] + w_hat[o, 1] x[j + 1] + b[o]
    expected = np.array([[[[1.5 * r * (2 - 1) + 0.25, 1.5 * r * (4 - 2) + 0.25]], [[-1.0, -1.0]]]])
    np.testing.assert_allclose(y, expected, rtol=1e-12)


def test_wsconv2d_statistics_gradients_and_torch_reference():
    rng = np.random.default_rng(11)
    conv = nn.WSConv2d(4, 6, 3, padding=1, groups=2, gain_init=1.7).double()
    w_hat = conv.standardized_weight().detach().numpy().reshape(6, -1)
    np.testing.assert_allclose(w_hat.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(w_hat.var(axis=1) * w_hat.shape[1], 1.7 ** 2, rtol=1e-6)  # gain made in f32
    assert set(dict(conv.named_parameters())) == {"weight", "bias", "gain"} and conv.gain.shape == (6, 1, 1, 1)
    x_np = rng.standard_normal((2, 4, 4, 4))
    g_np = rng.standard_normal((2, 6, 4, 4))
    x = cr.tensor(x_np, requires_grad=True)
    (conv(x) * cr.tensor(g_np)).sum().backward()
    tw = torch.tensor(conv.weight.detach().numpy(), requires_grad=True)
    tg = torch.tensor(conv.gain.detach().numpy(), requires_grad=True)
    tb = torch.tensor(conv.bias.detach().numpy(), requires_grad=True)
    tx = torch.tensor(x_np, requires_grad=True)
    var, mean = torch.var_mean(tw, dim=(1, 2, 3), keepdim=True, correction=0)
    ref_w = tg * (tw - mean) * torch.rsqrt(torch.clamp(var * 18, min=1e-4))
    ty = torch.nn.functional.conv2d(tx, ref_w, tb, padding=1, groups=2)
    (ty * torch.tensor(g_np)).sum().backward()
    for ours, theirs in ((x.grad, tx.grad), (conv.weight.grad, tw.grad), (conv.gain.grad, tg.grad),
                         (conv.bias.grad, tb.grad)):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_wsconv2d_gradgradcheck():
    conv = nn.WSConv2d(2, 2, 2).double()
    rng = np.random.default_rng(12)
    x = cr.tensor(rng.standard_normal((1, 2, 3, 3)), requires_grad=True)

    def f(x, w, gain):
        conv.weight, conv.gain = w, gain
        return conv(x)

    w = nn.Parameter(cr.tensor(rng.standard_normal((2, 2, 2, 2))))
    gain = nn.Parameter(cr.tensor([[[[1.2]]], [[[0.7]]]], dtype=cr.float64))
    assert gradcheck(f, [x, w, gain])
    assert gradgradcheck(f, [x, w, gain])


def test_batch_norm_float32_far_from_zero_mean():
    """Inputs with a large mean (e.g. raw 0..255 pixels): float32 results as accurate as PyTorch's."""
    rng = np.random.default_rng(13)
    # inputs representable in float32, so the float64 run is the exact answer for the same data
    x64 = (500.0 + rng.standard_normal((8, 3, 5, 5)) * 0.5).astype(np.float32).astype(np.float64)
    g64 = rng.standard_normal(x64.shape).astype(np.float32).astype(np.float64)
    w64 = rng.uniform(0.5, 1.5, 3).astype(np.float32).astype(np.float64)
    b64 = rng.standard_normal(3).astype(np.float32).astype(np.float64)

    def run(lib, dtype):
        if lib is cr:
            ts = [cr.tensor(a, dtype=dtype, requires_grad=True) for a in (x64, w64, b64)]
            y = F.batch_norm(ts[0], None, None, ts[1], ts[2], training=True)
            grads = cr.autograd.grad(y, ts, cr.tensor(g64, dtype=dtype))
        else:
            ts = [torch.tensor(a, dtype=dtype, requires_grad=True) for a in (x64, w64, b64)]
            y = torch.nn.functional.batch_norm(ts[0], None, None, ts[1], ts[2], training=True)
            grads = torch.autograd.grad(y, ts, torch.tensor(g64, dtype=dtype))
        return [np.asarray(t.detach().numpy(), dtype=np.float64) for t in (y, *grads)]

    exact = run(torch, torch.float64)
    ours, theirs = run(cr, cr.float32), run(torch, torch.float32)
    for name, o, t, e in zip(("output", "dx", "dw", "db"), ours, theirs, exact):
        err_ours = np.max(np.abs(o - e)) / np.max(np.abs(e))
        err_torch = np.max(np.abs(t - e)) / np.max(np.abs(e))
        assert err_ours <= 2 * err_torch + 1e-6, f"{name}: {err_ours:.1e} vs PyTorch float32 {err_torch:.1e}"
