"""The ``fused`` kernel family: element-wise chains as one program (``kernels/fused_program.py``),
interpreted with NumPy (``kernels/numpy/fused.py``) or compiled into one loop each for forward
and backward (``kernels/numba/fused*.py``).

* the program: validation messages, its key and text;
* the reference against chainrule's eager operators (on the reference backend): bit for bit
  for every single op, forward and backward; random chains to 1e-12 (float64: eager adds a
  register's three or more contributions in another order, and sums 0-d gradients earlier);
* the compiled kernels against the reference on random programs over every op, float32 and
  float64, 0-d inputs, several outputs, ``needs`` masks and missing output gradients: bit for bit
  where every op is correctly rounded (+ - * /, sqrt, comparisons); with the C library's
  ``exp tanh ...`` (NumPy has its own SIMD code) to 1e-4 (float32) and 1e-10 (float64) of the
  values' scale, and a single op to 4 units in the last place;
* the generated files: a second process loads the compiled kernels from the cache (numba's
  dispatcher statistics), a corrupt generated file is written again, corrupt cache entries are
  compiled again.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import warnings
import zlib

import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels
from chainrule.kernels import _jit
from chainrule.kernels.fused_program import BINARY, UNARY, Instr, Program, output_shape
from chainrule.kernels.numba import fused as jit_fused
from chainrule.kernels.numba import fused_codegen
from chainrule.kernels.numba import tuning as numba_tuning
from chainrule.kernels.numpy import fused as ref

from ..threads import force_two_threads

requires_jit = pytest.mark.skipif(jit_fused._loader() is None or not _jit.ENABLED,
                                  reason="numba not installed or CHAINRULE_JIT off")

POWERS = (2.0, 3.0, 0.5, -1.0, 1.0, 0.0, 2.5, -1.5)
# ops whose every step is correctly rounded in both backends: their results agree bit for bit
EXACT = ("add", "sub", "mul", "div", "maximum", "minimum", "neg", "sqrt", "rsqrt", "relu", "abs", "square",
         "reciprocal")
EXACT_POWERS = (2.0, 0.5, -1.0, 1.0, 0.0)
POSITIVE = ("log", "sqrt", "rsqrt", "reciprocal")  # ops given operands >= 1.5 in random programs


def P(n, *instrs, outputs=None):
    """A program from (op, srcs[, attr]) rows, registers numbered on from ``n``."""
    rows = [Instr(r[0], n + k, tuple(r[1]), *r[2:]) for k, r in enumerate(instrs)]
    return Program(n, tuple(rows), tuple(outputs) if outputs is not None else (n + len(rows) - 1,))


# ---- the program ----------------------------------------------------------------------------------
@pytest.mark.parametrize("build,message", [
    (lambda: Program(1, (Instr("gelu", 1, (0,)),), (1,)), "unknown op 'gelu'; expected one of"),
    (lambda: Program(1, (Instr("neg", 2, (0,)),), (2,)), "expected dst 1 (registers are written in order), got 2"),
    (lambda: Program(1, (Instr("neg", 1, (1,)),), (1,)), "expected operand registers in 0..0"),
    (lambda: Program(2, (Instr("add", 2, (0,)),), (2,)), "add expected 2 operand(s), got 1"),
    (lambda: Program(1, (Instr("pow_scalar", 1, (0,)),), (1,)), "pow_scalar expected a finite number attr, got None"),
    (lambda: Program(1, (Instr("exp", 1, (0,), 2.0),), (1,)), "exp expected no attr, got 2.0"),
    (lambda: Program(1, (Instr("exp", 1, (0,)),), (2,)), "expected output registers in 0..1, got 2"),
    (lambda: Program(1, (Instr("exp", 1, (0,)),), ()), "expected at least one output register"),
    (lambda: Program(0, (), (0,)), "expected n_inputs to be a positive int, got 0"),
])
def test_a_malformed_program_says_what_was_expected_and_what_it_got(build, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        build()


def test_the_key_names_the_program_and_the_text_gives_it_back():
    a = P(2, ("mul", (0, 1)), ("pow_scalar", (2,), 2.5), outputs=(3, 2))
    assert Program.from_text(a.text()) == a
    assert a.key() == P(2, ("mul", (0, 1)), ("pow_scalar", (2,), 2.5), outputs=(3, 2)).key()
    assert a.key() == P(2, ("mul", (0, 1)), ("pow_scalar", (2,), 5 / 2), outputs=[3, 2]).key()
    others = [P(2, ("mul", (0, 1)), ("pow_scalar", (2,), 3.0), outputs=(3, 2)),
              P(2, ("mul", (1, 0)), ("pow_scalar", (2,), 2.5), outputs=(3, 2)),
              P(2, ("mul", (0, 1)), ("pow_scalar", (2,), 2.5), outputs=(3,))]
    assert len({a.key()} | {o.key() for o in others}) == 4
    with pytest.raises(ValueError, match="expected the text of Program.text"):
        Program.from_text("r2 = mul r0 r1")


def test_inputs_of_two_shapes_are_refused():
    assert output_shape([(), (2, 3), ()]) == (2, 3)
    assert output_shape([(), ()]) == ()
    with pytest.raises(ValueError, match="expected every non-0-d input to have one shape"):
        ref.forward(np, P(2, ("add", (0, 1))), np.ones(3), np.ones(4))


# ---- eager chains -----------------------------------------------------------------------------------
EAGER = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
         "maximum": cr.maximum, "minimum": cr.minimum, "neg": lambda x: -x, "exp": cr.exp, "log": cr.log,
         "sqrt": cr.sqrt, "rsqrt": cr.rsqrt, "tanh": cr.tanh, "sigmoid": cr.sigmoid, "relu": cr.relu, "abs": cr.abs,
         "sin": cr.sin, "cos": cr.cos, "log1p": cr.log1p, "expm1": cr.expm1, "square": cr.square,
         "reciprocal": cr.reciprocal, "pow_scalar": lambda x, p: x ** p}


def eager(program: Program, inputs, grads, needs):
    """The program run by chainrule's operators on the reference backend: (outputs, each
    expanded to the output shape as the fused kernels give it, and the input gradients, None
    where eager gives none)."""
    with kernels.only("numpy"):
        ts = [cr.from_numpy(a.copy()).requires_grad_(bool(f)) for a, f in zip(inputs, needs)]
        regs = list(ts)
        for ins in program.instrs:
            regs.append(EAGER[ins.op](*[regs[s] for s in ins.srcs], *([] if ins.attr is None else [ins.attr])))
        shape = output_shape([a.shape for a in inputs])
        outs = [regs[o].expand(*shape) if regs[o].shape != shape else regs[o] for o in program.outputs]
        pairs = [(o, cr.from_numpy(g)) for o, g in zip(outs, grads) if g is not None and o.requires_grad]
        if pairs:
            cr.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        return ([o.detach().numpy() for o in outs],
                [None if t.grad is None else t.grad.numpy() for t in ts])


def _operands(op, n, dtype, rng, size=257):
    """Operands in the op's domain, with ties, zeros and both signs where the op has a rule for them."""
    xs = [(rng.standard_normal(size) * 2).astype(dtype) for _ in range(n)]
    if op in ("log", "sqrt", "rsqrt", "pow_scalar"):
        xs = [np.abs(x) + dtype(0.1) for x in xs]
    elif op == "log1p":
        xs = [np.abs(x) - dtype(0.5) for x in xs]
    if op in ("maximum", "minimum"):
        xs[1][::5] = xs[0][::5]  # ties split the gradient in halves
    if op in ("relu", "abs"):
        xs[0][::7] = 0
    return xs


def _single_ops():
    return [(op, None) for op in BINARY + UNARY] + [("pow_scalar", p) for p in POWERS]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op,attr", _single_ops())
def test_one_op_on_the_reference_is_the_eager_operator_bit_for_bit(op, attr, dtype):
    rng = np.random.default_rng(zlib.crc32(f"{op} {attr}".encode()))
    n = 2 if op in BINARY else 1
    prog = P(n, (op, tuple(range(n)), *([] if attr is None else [attr])))
    xs = _operands(op, n, dtype, rng)
    g = rng.standard_normal(xs[0].shape).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (y,), grads = eager(prog, xs, [g], (True,) * n)
        ours = ref.forward(np, prog, *xs)[0], ref.backward(np, prog, (True,) * n, *xs, g)
    np.testing.assert_array_equal(ours[0], y)
    assert ours[0].dtype == dtype and ours[0].flags.c_contiguous
    for mine, theirs in zip(ours[1], grads):
        np.testing.assert_array_equal(mine, theirs)
        assert mine.dtype == dtype


@pytest.mark.parametrize("op", BINARY)
def test_a_0d_operand_gets_a_gradient_of_the_output_shape_that_sums_to_eagers(op):
    rng = np.random.default_rng(3)
    x, s = rng.standard_normal((4, 5)), np.array(0.7)
    g = rng.standard_normal((4, 5))
    prog = P(2, (op, (0, 1)))
    (y,), (gx, gs) = eager(prog, [x, s], [g], (True, True))
    ours = ref.backward(np, prog, (True, True), x, s, g)
    np.testing.assert_array_equal(ref.forward(np, prog, x, s)[0], y)
    np.testing.assert_array_equal(ours[0], gx)
    assert ours[1].shape == (4, 5)
    np.testing.assert_allclose(ours[1].sum(), gs, rtol=1e-13)


def random_program(rng, n_inputs: int, n_instrs: int, ops, powers=POWERS, n_outputs: int = 2) -> Program:
    """A valid random program over ``ops`` whose values stay finite on inputs within [-3, 3]:
    input 0 is meant to be a 0-d constant of at least 1.5; operands of log, sqrt, rsqrt, 1/x,
    fractional and negative powers and divisors go through ``abs(x) + r0`` first, those of
    exp and expm1 through tanh, log1p's through ``abs``."""
    instrs: list[Instr] = []
    nxt = [n_inputs]

    def emit(op, *srcs, attr=None) -> int:
        instrs.append(Instr(op, nxt[0], srcs, attr))
        nxt[0] += 1
        return nxt[0] - 1

    def pick() -> int:
        return int(rng.integers(0, nxt[0]))

    def positive(r: int) -> int:
        return emit("add", emit("abs", r), 0)

    while len(instrs) < n_instrs:
        op = str(rng.choice(ops))
        if op in BINARY:
            a, b = pick(), pick()
            emit(op, a, positive(b) if op == "div" else b)
        elif op in POSITIVE:
            emit(op, positive(pick()))
        elif op in ("exp", "expm1"):
            emit(op, emit("tanh", pick()) if "tanh" in ops else emit("sigmoid", pick()) if "sigmoid" in ops else pick())
        elif op == "log1p":
            emit(op, emit("abs", pick()))
        elif op == "pow_scalar":
            p = float(rng.choice(powers))
            r = pick()
            emit(op, positive(r) if p != int(p) or p < 0 else r, attr=p)
        else:
            emit(op, pick())
    last = nxt[0] - 1
    outputs = [last] + [int(rng.integers(n_inputs, last + 1)) for _ in range(n_outputs - 1)]
    return Program(n_inputs, tuple(instrs), tuple(outputs))


def _case(seed: int, dtype, ops, powers=POWERS, shape=(3, 7)):
    """A random program with its inputs (input 0 a 0-d 1.5, input 2 0-d too), output gradients
    (one missing when ``seed`` is odd) and needs mask."""
    rng = np.random.default_rng(seed)
    prog = random_program(rng, 4, int(rng.integers(3, 14)), ops, powers, n_outputs=int(rng.integers(1, 4)))
    inputs = [np.array(1.5, dtype), (rng.uniform(-3, 3, shape)).astype(dtype), np.array(rng.uniform(-3, 3), dtype),
              rng.uniform(-3, 3, shape).astype(dtype)]
    grads = [rng.standard_normal(shape).astype(dtype) for _ in prog.outputs]
    if seed % 2 and len(grads) > 1:
        grads[int(rng.integers(0, len(grads)))] = None
    needs = tuple(bool(f) for f in rng.integers(0, 2, 4))
    needs = needs if any(needs) else (False, True, True, False)
    return prog, inputs, grads, needs


@pytest.mark.parametrize("seed", range(12))
def test_random_chains_on_the_reference_agree_with_eager(seed):
    prog, inputs, grads, needs = _case(seed, np.float64, BINARY + UNARY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ys, eager_grads = eager(prog, inputs, grads, needs)
        ours = ref.forward(np, prog, *inputs), ref.backward(np, prog, needs, *inputs, *grads)
    shape = output_shape([a.shape for a in inputs])
    for mine, theirs in zip(ours[0], ys):  # an output of 0-d inputs alone is broadcast to the shape
        assert mine.shape == shape
        np.testing.assert_allclose(mine, np.broadcast_to(theirs, shape), rtol=1e-12, atol=1e-12)
    for a, mine, theirs, need in zip(inputs, ours[1], eager_grads, needs):
        if not need:
            assert mine is None
            continue
        assert mine.shape == shape
        if theirs is None:  # eager reached this input with no gradient at all
            np.testing.assert_array_equal(mine, 0)
            continue
        mine = mine.sum() if a.ndim == 0 else mine
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-10 * (1 + np.abs(theirs).max()))


@pytest.mark.parametrize("backend", [pytest.param("numba", marks=[requires_jit, pytest.mark.numba]), "numpy"])
def test_kernels_call_passes_the_program_as_a_keyword(backend):
    prog = P(2, ("mul", (0, 1)), ("tanh", (2,)))
    x, w, g = np.linspace(-1, 1, 5), np.linspace(2, 3, 5), np.ones(5)
    with kernels.only(*dict.fromkeys([backend, "numpy"])):
        (y,) = kernels.call("fused", "forward", np, x, w, program=prog)
        gx, gw = kernels.call("fused", "backward", np, x, w, g, program=prog, needs=(True, False))
    np.testing.assert_allclose(y, np.tanh(x * w), rtol=1e-15)
    np.testing.assert_allclose(gx, (1 - y * y) * w, rtol=1e-15)
    assert gw is None
    with pytest.raises(TypeError, match="expected a Program, got ndarray"):
        ref.forward(np, x, w)
    with pytest.raises(TypeError, match="expected needs"):
        ref.backward(np, x, w, g, program=prog)


def test_needs_and_missing_gradients_on_the_reference():
    prog = P(2, ("mul", (0, 1)), ("exp", (2,)), outputs=(3, 2))
    x, w, g = np.array([1.0, 2.0]), np.array([3.0, -1.0]), np.array([0.5, 0.25])
    assert ref.backward(np, prog, (False, False), x, w, g, g) == (None, None)
    gx, gw = ref.backward(np, prog, (True, True), x, w, None, None)
    np.testing.assert_array_equal(gx, 0)
    np.testing.assert_array_equal(gw, 0)
    gx, gw = ref.backward(np, prog, (True, False), x, w, None, g)
    assert gw is None
    np.testing.assert_array_equal(gx, g * w)
    with pytest.raises(ValueError, match="expected 2 output gradient"):
        ref.backward(np, prog, (True, True), x, w, g)


# ---- the compiled kernels ---------------------------------------------------------------------------
def _ulps(a, b) -> int:
    """The largest distance in units in the last place between ``a`` and ``b`` (NaN equal to NaN)."""
    it = np.int32 if a.dtype == np.float32 else np.int64
    ia, ib = a.view(it).astype(np.int64), b.view(it).astype(np.int64)
    lo = np.iinfo(it).min
    ia, ib = np.where(ia < 0, lo - ia, ia), np.where(ib < 0, lo - ib, ib)
    d = np.abs(ia - ib)
    d[np.isnan(a) & np.isnan(b)] = 0
    return int(d.max())


def _agree(mine, theirs, exact: bool, dtype) -> None:
    if mine is None or theirs is None:
        assert mine is None and theirs is None
        return
    assert mine.dtype == theirs.dtype and mine.shape == theirs.shape and mine.flags.c_contiguous
    if exact:
        np.testing.assert_array_equal(mine, theirs)
    else:
        tol = 1e-4 if dtype == np.float32 else 1e-10
        np.testing.assert_allclose(mine, theirs, rtol=tol, atol=tol * (1 + np.nanmax(np.abs(theirs), initial=0)))


def _both(prog, inputs, grads, needs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ((jit_fused.forward(np, prog, *inputs), jit_fused.backward(np, prog, needs, *inputs, *grads)),
                (ref.forward(np, prog, *inputs), ref.backward(np, prog, needs, *inputs, *grads)))


@requires_jit
@pytest.mark.numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("exact", [True, False], ids=["exact-ops", "all-ops"])
@pytest.mark.parametrize("seed", range(8))
def test_compiled_random_programs_agree_with_the_reference(seed, exact, dtype):
    ops = EXACT if exact else BINARY + UNARY + ("pow_scalar",)
    prog, inputs, grads, needs = _case(100 * seed + exact, dtype, ops, EXACT_POWERS if exact else POWERS)
    (jy, jg), (ry, rg) = _both(prog, inputs, grads, needs)
    for mine, theirs in zip(jy, ry):
        _agree(mine, theirs, exact, dtype)
    for mine, theirs in zip(jg, rg):
        _agree(mine, theirs, exact, dtype)


@requires_jit
@pytest.mark.numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op,attr", _single_ops())
def test_compiled_single_ops_agree_with_the_reference(op, attr, dtype):
    """Bit for bit for the correctly rounded ops; within 4 units in the last place for those
    where numba calls the C library and NumPy its own code (exp, log, tanh, sin, cos, log1p,
    expm1, sigmoid through exp, x ** p). ``x ** 0.5`` and ``x ** -1`` are exact forward (sqrt and
    a division) but their gradients take ``x ** (p - 1)``, a general power: NumPy's own SIMD
    power and the C library's differ by an ulp on some CPUs (20% of float32 inputs on an AMD
    EPYC with AVX2), so gradients are exact only for p in {0, 1, 2}."""
    rng = np.random.default_rng(7)
    n = 2 if op in BINARY else 1
    prog = P(n, (op, tuple(range(n)), *([] if attr is None else [attr])))
    xs = _operands(op, n, dtype, rng, size=10_000)
    g = rng.standard_normal(xs[0].shape).astype(dtype)
    (jy, jg), (ry, rg) = _both(prog, xs, [g], (True,) * n)
    exact = op in EXACT or (op == "pow_scalar" and attr in EXACT_POWERS)
    if exact:
        np.testing.assert_array_equal(jy[0], ry[0])
        grad_exact = op != "pow_scalar" or attr in (0.0, 1.0, 2.0)
        for mine, theirs in zip(jg, rg):
            if grad_exact:
                np.testing.assert_array_equal(mine, theirs)
            else:
                assert _ulps(mine, theirs) <= 4
    else:
        assert _ulps(jy[0], ry[0]) <= 4
        for mine, theirs in zip(jg, rg):
            _agree(mine, theirs, False, dtype)


@requires_jit
@pytest.mark.numba
def test_compiled_kernels_decline_what_they_do_not_take():
    prog = P(2, ("mul", (0, 1)))
    x = np.ones(3)
    assert jit_fused.forward(np, prog, x.astype(np.float16), x.astype(np.float16)) is NotImplemented
    assert jit_fused.forward(np, prog, x, x.astype(np.float32)) is NotImplemented
    assert jit_fused.forward(np, prog, x, np.ones(3, np.int64)) is NotImplemented
    assert jit_fused.forward(np, prog, np.ones(0), np.ones(0)) is NotImplemented
    with _jit.disabled():
        assert jit_fused.forward(np, prog, x, x) is NotImplemented
        assert jit_fused.backward(np, prog, (True, True), x, x, x) is NotImplemented
    assert kernels.select(np, x, x)[0].fused is jit_fused  # the family is registered


@pytest.mark.parametrize("backend", [pytest.param("numba", marks=[requires_jit, pytest.mark.numba]), "numpy"])
def test_0d_inputs_alone_read_only_inputs_and_no_aliasing(backend):
    fused = jit_fused if backend == "numba" else ref
    prog = P(2, ("mul", (0, 1)), ("add", (2, 1)), outputs=(3, 0, 3))
    a, b = np.array(2.0), np.array(-3.0)
    y, x_out, y2 = fused.forward(np, prog, a, b)
    assert y.shape == () and float(y) == -9.0 and float(x_out) == 2.0 and y2 is not y
    assert x_out is not a
    g = np.array(1.0)
    ga, gb = fused.backward(np, prog, (True, True), a, b, g, None, None)
    assert (float(ga), float(gb)) == (-3.0, 3.0)
    ro = np.arange(1.0, 5.0)
    ro.flags.writeable = False
    y, _, _ = fused.forward(np, prog, ro, np.array(2.0))
    np.testing.assert_array_equal(y, ro * 2 + 2)
    # an input's gradient that is an output's gradient passed through is a new array, not the caller's
    g = np.ones(4)
    (gx,) = fused.backward(np, P(1, ("neg", (0,)), outputs=(0,)), (True,), ro, g)
    np.testing.assert_array_equal(gx, g)
    assert gx is not g


@requires_jit
@pytest.mark.numba
def test_compiled_kernels_copy_non_contiguous_inputs():
    rng = np.random.default_rng(5)
    prog = P(2, ("mul", (0, 1)), ("tanh", (2,)), ("sub", (3, 1)))
    a, b, g = (rng.standard_normal((6, 5)).T for _ in range(3))
    (jy, jg), (ry, rg) = _both(prog, [a, b], [g], (True, True))
    _agree(jy[0], ry[0], False, np.float64)
    for mine, theirs in zip(jg, rg):
        _agree(mine, theirs, False, np.float64)


@requires_jit
@pytest.mark.numba
def test_compiled_kernels_in_parallel_repeat_the_serial_result(monkeypatch):
    prog, inputs, grads, needs = _case(11, np.float32, BINARY + UNARY, shape=(5, 1001))
    serial = _both(prog, inputs, grads, needs)[0]
    force_two_threads(monkeypatch)
    monkeypatch.setattr(numba_tuning, "FUSED_PARALLEL_MIN_WORK", 0)
    parallel = _both(prog, inputs, grads, needs)[0]
    for a, b in zip(serial[0] + serial[1], parallel[0] + parallel[1]):
        if a is None:
            assert b is None
        else:
            np.testing.assert_array_equal(a, b)


# ---- the generated files across processes --------------------------------------------------------------
PROBE = """
import hashlib, json, numpy as np
from chainrule.kernels.fused_program import Instr, Program
from chainrule.kernels.numba import fused, fused_loader
prog = Program(3, (Instr("mul", 3, (0, 1)), Instr("tanh", 4, (3,)), Instr("mul", 5, (4, 2)),
                   Instr("maximum", 6, (5, 0))), (6, 4))
rng = np.random.default_rng(0)
x, w, g = (rng.standard_normal(33).astype(np.float32) for _ in range(3))
s = np.array(0.5, np.float32)
outs = list(fused.forward(np, prog, x, w, s)) + list(fused.backward(np, prog, (True, True, False), x, w, s, g, None))
ks = list(fused._kernels.values())
print(json.dumps({"hits": [sum(k.stats.cache_hits.values()) for k in ks],
                  "misses": [sum(k.stats.cache_misses.values()) for k in ks], "folder": fused_loader.folder(),
                  "key": prog.key(), "digests": [hashlib.sha256(o.tobytes()).hexdigest() for o in outs if o is not None]}))
"""


def _probe(cache: str) -> dict:
    env = dict(os.environ, CHAINRULE_CACHE_DIR=cache, CHAINRULE_JIT="1")
    env.pop("NUMBA_CACHE_DIR", None)
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@requires_jit
@pytest.mark.numba
def test_a_second_process_loads_the_generated_kernels_and_corrupt_files_are_written_again(tmp_path):
    cache = str(tmp_path / "cache")
    cold = _probe(cache)
    assert cold["hits"] == [0, 0] and cold["misses"] == [1, 1]
    sources = sorted(glob.glob(os.path.join(cold["folder"], "*.py")))
    assert [os.path.basename(p).split("_")[:3] for p in sources] == [
        [cold["key"], "float32", "backward"], [cold["key"], "float32", "forward"]]
    texts = [open(p).read() for p in sources]

    warm = _probe(cache)
    assert warm["misses"] == [0, 0] and warm["hits"] == [1, 1]
    assert warm["digests"] == cold["digests"]

    # a truncated and an edited generated file: both written again, and the compiled entries,
    # made from the text that is written again, still serve
    with open(sources[0], "r+") as f:
        f.truncate(40)
    with open(sources[1], "a") as f:
        f.write("raise RuntimeError('edited')\n")
    again = _probe(cache)
    assert [open(p).read() for p in sources] == texts
    assert again["misses"] == [0, 0] and again["digests"] == cold["digests"]

    # corrupt compiled entries are compiled again
    entries = glob.glob(os.path.join(cache, "numba", "fused-*_*", "*.nb[ic]"))
    assert entries
    for path in entries:
        with open(path, "r+b") as f:
            f.write(b"\x80\x04not a pickle at all")
    broken = _probe(cache)
    assert broken["misses"] == [1, 1] and broken["digests"] == cold["digests"]
    assert _probe(cache)["misses"] == [0, 0]


@requires_jit
@pytest.mark.numba
def test_an_unwritable_cache_costs_time_not_results(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    out = _probe(str(blocker))
    assert out["misses"] == [1, 1] and out["digests"] == _probe(str(tmp_path / "cache"))["digests"]


def test_the_generated_source_is_a_function_of_the_program_and_its_flags():
    prog = P(2, ("mul", (0, 1)), ("relu", (2,)))
    a = fused_codegen.plan(prog, "backward", "float32", (False, True), (True,), (True, False))
    text = fused_codegen.source(a)
    assert text == fused_codegen.source(fused_codegen.plan(prog, "backward", "float32", (False, True), (True,),
                                                           (True, False)))
    assert prog.text() in text and "scalars='01', grads='1', needs='10'" in text
    assert fused_codegen.name(a) == f"{prog.key()}_float32_backward_01_1_10"
    # the backward recomputes what its derivatives read: w for d/dx of x * w, the product for relu
    assert a.before == (1,) and a.inside == (0, 2, 3) and a.sweep == ((1, (True,)), (0, (True, False)))
