"""The compiled optimiser updates (``chainrule.kernels.numba.optim``) against the reference kernels
they stand in for (``kernels.numpy.optim``): equal bit for bit, for every kernel and option, on
sizes with vector-loop tails and above one reference block; on two threads; where a fused
multiply-add rounded twice (in float32, or through a hardware float32 FMA) would differ. Then
the arrays they decline, and every optimiser of ``tests/optim/test_optimizers.py`` taking the
same steps on both backends. (The optimisers against PyTorch: ``tests/optim/``.)
"""

from __future__ import annotations

import itertools
import sys
import types
from fractions import Fraction

import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels, optim
from chainrule.kernels import _jit
from chainrule.kernels.numba import optim as optim_jit
from chainrule.kernels.numba import tuning as numba_tuning
from chainrule.kernels.numpy import optim as optim_ref
from chainrule.optim import _arith

from .. import backends
from ..optim.test_optimizers import CONFIGS, _id
from ..threads import force_two_threads

requires_jit = pytest.mark.skipif(optim_jit._loops() is None or not _jit.ENABLED,
                                  reason="numba not available or CHAINRULE_JIT off")

# tails of the 8- and 16-wide vector loops; 32769 and 100003 span several 32768-element blocks
# of the reference's float64 path
SIZES = [1, 7, 8, 9, 17, 33, 1000, 32769, 100003]


def _rand(n, seed, positive=False):
    x = np.random.default_rng(seed).standard_normal(n) * 10.0 ** np.random.default_rng(seed + 99).integers(-3, 2, n)
    return (np.abs(x) + 1e-3 if positive else x).astype(np.float32)


def _assert_same_bits(ours, ref):
    assert ours is not NotImplemented
    assert ours.dtype == ref.dtype and ours.shape == ref.shape
    np.testing.assert_array_equal(ours.view(np.uint32), ref.view(np.uint32))


def _both(name, make, written, **options):
    """Runs kernel ``name`` of both backends on fresh arrays from ``make()`` (a tuple of the
    positional arrays, then a dict of array options); compares the arrays at positions
    ``written`` of the positional arrays, the array options and the results bit for bit."""
    results = []
    for backend in (optim_jit, optim_ref):
        args, arrays = make()
        out = getattr(backend, name)(np, *args, **arrays, **options)
        results.append((out, [args[i] for i in written], arrays))
    (out, w, a), (out_ref, w_ref, a_ref) = results
    assert out is not NotImplemented, name
    if out_ref is None:
        assert out is None
    else:
        _assert_same_bits(out, out_ref)
    for x, y in zip(w, w_ref):
        _assert_same_bits(x, y)
    for key in a_ref:
        if a_ref[key] is not None:
            _assert_same_bits(a[key], a_ref[key])


# ---- fused multiply-adds ---------------------------------------------------------------------------
def _two_roundings(a, b, c):
    """``a * b + c`` with the product rounded to float32 first: what a fused kernel must not do."""
    return (np.float32(a) * b if np.ndim(a) == 0 else a * b) + c


@requires_jit
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("layout", ["arrays", "arrays in place", "scalar a", "0-d a in place", "scalar b in place",
                                    "out is b"])
def test_fma_equals_the_reference(n, layout):
    def make():
        a, b, c = _rand(n, 1), _rand(n, 2), _rand(n, 3)
        s = np.float32(-0.3)
        if layout == "arrays":
            return (a, b, c, np.empty_like(c)), {}
        if layout == "arrays in place":
            return (a, b, c, c), {}
        if layout == "scalar a":
            return (s, b, c, np.empty_like(c)), {}
        if layout == "0-d a in place":
            return (np.asarray(s), b, c, c), {}
        if layout == "scalar b in place":
            return (a, s, c, c), {}
        return (a, b, c, b), {}

    _both("fma", make, written=(3,))
    if n >= 1000:  # the data tell a single rounding from two
        a, b, c, out = make()[0]
        single = optim_ref.fma(np, a, b, c.copy(), out.copy())
        assert (single != _two_roundings(a, b, c)).any()


def _float32_midpoint_cases(n):
    """Arrays where ``a * b + c`` lies just below the midpoint of two float32 numbers and float64
    rounds it onto the midpoint: rounded once from float64 (PyTorch's and the reference's way)
    it goes to the even neighbour above, correctly rounded (a float32 FMA) to the one below."""
    a = np.full(n, np.float32(2.0**-24 * (1 + 2.0**-23)))
    b = np.full(n, np.float32(1 - 2.0**-23))
    c = np.full(n, np.float32(1 + 2.0**-23))
    exact = Fraction(float(a[0])) * Fraction(float(b[0])) + Fraction(float(c[0]))
    below, above = Fraction(1 + 2.0**-23), Fraction(1 + 2.0**-22)
    assert below < exact < (below + above) / 2  # a correctly rounding FMA gives `below`
    return a, b, c, np.float32(1 + 2.0**-22)


@requires_jit
@pytest.mark.parametrize("n", [1, 9, 1000])
def test_fma_rounds_through_float64_not_as_a_float32_fma(n):
    a, b, c, expected = _float32_midpoint_cases(n)
    for out in (optim_jit.fma(np, a, b, c.copy(), np.empty_like(c)), optim_ref.fma(np, a, b, c.copy(), np.empty_like(c))):
        assert (out == expected).all()
    x = c.copy()
    optim_jit.addcmul_(np, x, a, b)
    assert (x == expected).all()


# ---- the PyTorch primitives ------------------------------------------------------------------------
@requires_jit
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("alpha", [-0.3, 2.5, 1e-4])
def test_add_and_added_equal_the_reference(n, alpha):
    _both("add_", lambda: ((_rand(n, 1), _rand(n, 2)), {}), written=(0,), alpha=alpha)
    _both("added", lambda: ((_rand(n, 1), _rand(n, 2)), {}), written=(0, 1), alpha=alpha)
    assert optim_jit.add_(np, _rand(n, 1), _rand(n, 2), alpha=1.0) is NotImplemented  # NumPy's own sum


@requires_jit
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("value", [1.0, 0.01, -3.0])
def test_addcmul_and_addcdiv_equal_the_reference(n, value):
    def make():
        return (_rand(n, 1), _rand(n, 2), _rand(n, 3, positive=True)), {"tmp": None}

    _both("addcmul_", make, written=(0,), value=value)
    _both("addcdiv_", make, written=(0,), value=value)


@requires_jit
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("weight", [0.1, 0.7, 1.0, -0.6, 0.0, 0.5])
def test_lerp_equals_the_reference(n, weight):
    _both("lerp_", lambda: ((_rand(n, 1), _rand(n, 2)), {}), written=(0,), weight=weight)


@requires_jit
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("decay", [0.99, 0.5, 0.0])
def test_square_avg_equals_the_reference(n, decay):
    _both("square_avg_", lambda: ((_rand(n, 1, positive=True), _rand(n, 2)), {}), written=(0,), decay=decay)


# ---- whole steps -----------------------------------------------------------------------------------
SGD_OPTIONS = [  # (momentum, dampening, weight_decay, nesterov)
    (m, d, wd, nest) for m, d, wd, nest in itertools.product((0.0, 0.9), (0.0, 0.3), (0.0, 0.1), (False, True))
    if not (nest and (m == 0 or d != 0)) and not (m == 0 and d != 0)]


@requires_jit
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize(("momentum", "dampening", "weight_decay", "nesterov"), SGD_OPTIONS)
@pytest.mark.parametrize("first", [False, True])
@pytest.mark.parametrize("lr", [0.01, -1.0])  # -1: theta.add_(g) is a plain sum
def test_sgd_step_equals_the_reference(n, momentum, dampening, weight_decay, nesterov, first, lr):
    def make():
        buf = None if first or momentum == 0 else _rand(n, 3)
        return (_rand(n, 1), _rand(n, 2)), {"buf": buf}

    _both("sgd_", make, written=(0, 1), lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
          nesterov=nesterov)


@requires_jit
def test_sgd_step_rounds_the_momentum_update_twice():
    """``b * momentum + g`` is a multiply and an add in PyTorch, not a fused multiply-add: the data
    tell the two apart, and the compiled step rounds like the reference."""
    n = 1000
    theta, g, buf = _rand(n, 1), _rand(n, 2), _rand(n, 3)
    fused = (np.float64(np.float32(0.9)) * buf + g.astype(np.float64)).astype(np.float32)
    out = optim_jit.sgd_(np, theta, g, buf=buf.copy(), lr=0.01, momentum=0.9)
    assert (out == buf * np.float32(0.9) + g).all()
    assert (out != fused).any()


ADAM_OPTIONS = [  # (betas, weight_decay, decoupled, amsgrad, step)
    ((0.9, 0.999), 0.0, False, False, 1), ((0.9, 0.999), 0.1, False, True, 7), ((0.9, 0.999), 0.1, True, False, 3),
    ((0.6, 0.3), 0.2, True, True, 2), ((0.0, 0.0), 0.0, False, False, 1), ((0.3, 0.5), 0.1, False, False, 40)]


@requires_jit
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize(("betas", "weight_decay", "decoupled", "amsgrad", "step"), ADAM_OPTIONS)
@pytest.mark.parametrize("lr", [0.01, 1.0])
def test_adam_step_equals_the_reference(n, betas, weight_decay, decoupled, amsgrad, step, lr):
    beta1, beta2 = betas
    step_size = lr / (1.0 - beta1**step)  # 1.0 at lr 1 and beta1 0: theta.addcdiv_ by a plain quotient

    def make():
        v_max = _rand(n, 5, positive=True) if amsgrad else None
        return (_rand(n, 1), _rand(n, 2), _rand(n, 3), _rand(n, 4, positive=True)), {"v_max": v_max}

    _both("adam_", make, written=(0, 1, 2, 3), lr=lr, beta1=beta1, beta2=beta2, eps=1e-3, weight_decay=weight_decay,
          decoupled=decoupled, step_size=step_size, bias_correction2_sqrt=(1.0 - beta2**step) ** 0.5)


@requires_jit
@pytest.mark.parametrize("name", ["fma", "sgd_", "adam_", "lerp_"])
def test_two_threads_repeat_the_serial_result(monkeypatch, name):
    n = 100003
    calls = {
        "fma": lambda b: b.fma(np, _rand(n, 1), _rand(n, 2), _rand(n, 3), np.empty(n, np.float32)),
        "sgd_": lambda b: b.sgd_(np, _rand(n, 1), _rand(n, 2), buf=_rand(n, 3), lr=0.1, momentum=0.9, weight_decay=0.1),
        "adam_": lambda b: b.adam_(np, _rand(n, 1), _rand(n, 2), _rand(n, 3), _rand(n, 4, positive=True), lr=0.1,
                                   beta1=0.9, beta2=0.999, eps=1e-8, step_size=0.5, bias_correction2_sqrt=0.1),
        "lerp_": lambda b: b.lerp_(np, _rand(n, 1), _rand(n, 2), weight=0.1),
    }
    ref = calls[name](optim_ref)
    force_two_threads(monkeypatch)
    monkeypatch.setattr(numba_tuning, "OPTIM_PARALLEL_MIN_BYTES", 0)
    _assert_same_bits(calls[name](optim_jit), ref)


# ---- what the compiled kernels decline --------------------------------------------------------------
def _declined_cases():
    n = 64
    f32 = _rand(2 * n, 1)
    return {
        "float64": (f32[:n].astype(np.float64), f32[n:].astype(np.float64)),
        "float16": (f32[:n].astype(np.float16), f32[n:].astype(np.float16)),
        "strided": (f32[::2].copy()[: n // 2], f32[::4]),
        "other shape": (f32[:n], f32[:1]),
        "partly overlapping": (f32[1:n + 1], f32[:n]),
    }


@requires_jit
@pytest.mark.parametrize("case", list(_declined_cases()))
def test_kernels_decline_what_they_do_not_take_and_the_reference_runs(case):
    x, y = _declined_cases()[case]
    assert optim_jit.add_(np, x, y, alpha=0.5) is NotImplemented
    assert optim_jit.lerp_(np, x, y, weight=0.1) is NotImplemented
    assert optim_jit.sgd_(np, x, y, buf=None, lr=0.1, momentum=0.9) is NotImplemented
    assert optim_jit.fma(np, y, y, x, x) is NotImplemented
    # through kernels.call the reference takes over, with its own results
    x_ref = x.copy()
    optim_ref.lerp_(np, x_ref, y, weight=0.1)
    _arith.lerp_(x, y, 0.1)
    np.testing.assert_array_equal(x, x_ref)


@requires_jit
def test_fma_declines_unrounded_scalars_and_other_array_modules():
    b, c = _rand(10, 1), _rand(10, 2)
    assert optim_jit.fma(np, 0.3, b, c, c.copy()) is NotImplemented  # a Python float is a float64
    assert optim_jit.fma(np, np.float32(0.3), np.float32(2), c, c.copy()) is NotImplemented  # no array to multiply
    other = types.SimpleNamespace(__name__="cupy")
    assert optim_jit.add_(other, c, b, alpha=0.5) is NotImplemented
    # the reference computes an unrounded scalar in float64, as before: through _arith too
    out = _arith.fma(0.3, b, c, np.empty_like(c))
    np.testing.assert_array_equal(out, (0.3 * b.astype(np.float64) + c).astype(np.float32))


@requires_jit
def test_a_written_array_may_be_an_operand_but_not_overlap_one_partly():
    x = _rand(100, 1)
    ref = optim_ref.fma(np, x.copy(), x.copy(), x.copy(), np.empty_like(x))
    y = x.copy()
    _assert_same_bits(optim_jit.fma(np, y, y, y, y), ref)  # every operand the output itself
    z = x.copy()
    _assert_same_bits(optim_jit.fma(np, z, z, z.reshape(-1)[:], z), ref)  # the output through another view


def test_without_numba_the_primitives_fall_back_to_numpy(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    caches = [_jit.numba_module, optim_jit._loops]
    for cache in caches:
        cache.cache_clear()
    try:
        x, y = _rand(50, 1), _rand(50, 2)
        assert not optim_jit.available(np, (x,), y)
        ref = optim_ref.added(np, x, y, alpha=0.3)
        _assert_same_bits(_arith.added(x, y, 0.3), ref)
    finally:
        monkeypatch.undo()
        for cache in caches:
            cache.cache_clear()


# ---- every optimiser, on both backends -------------------------------------------------------------
SHAPES = [(1,), (9,), (33, 40), (3000,)]


def _steps(name, kwargs, g2, backend):
    rng = np.random.default_rng(0)
    params = [cr.nn.Parameter(cr.tensor(rng.standard_normal(s).astype(np.float32))) for s in SHAPES]
    opt = getattr(optim, name)([{"params": params[:2]}, {"params": params[2:], **g2}], **kwargs)
    with backends.running(backend):
        for _ in range(4):
            for p in params:
                p.grad = cr.tensor((rng.standard_normal(p.shape) * 10.0 ** rng.integers(-3, 1)).astype(np.float32))
            opt.step()
    states = [v.numpy() for p in params for v in opt.state[p].values() if isinstance(v, cr.Tensor) and v.ndim > 0]
    return [p.detach().numpy() for p in params] + states


@pytest.mark.parametrize("cfg", CONFIGS, ids=_id)
def test_every_optimizer_takes_the_same_steps_on_both_backends(cfg):
    reason = backends.skip_reason("numba")
    if reason:
        pytest.skip(reason)
    name, kwargs, g2 = cfg
    for ours, ref in zip(_steps(name, kwargs, g2, "numba"), _steps(name, kwargs, g2, "numpy"), strict=True):
        _assert_same_bits(ours, ref)
    assert kernels.BACKENDS["numba"].optim is optim_jit  # the family is registered
