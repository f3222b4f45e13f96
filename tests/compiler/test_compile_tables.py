"""Every row of the operator table (tests/opinfo) and of the module table (tests/nn/moduleinfo.py)
through ``chainrule.compile``: replay equals eager, outputs and gradients, float32 and float64.

Each row is compiled with each backend of ``BACKENDS`` and called three times: the first call
records, the second and third replay. Each call gets new input values of the same signature (the
table's inputs drawn with seeds 0, 1, 2), so a node that keeps a value of the recorded call
instead of computing it in ``forward`` gives a wrong answer here. Each call is compared with eager
on the same values: the outputs, and the gradients of every float input (and, for a module, every
parameter) for a random output cotangent; for a module also its state after the call (running
statistics), the eager module and the compiled copies stepping in lockstep.

From its first replay on, a graph that allows it runs as a flat schedule on raw arrays, forward and
backward (``compiler/flat.py``): the second call records the backward, the third runs both flat,
so the third call of every such row checks the flat schedule against eager.

Comparisons: ``backend="eager"`` replays the same operators in the same order, so it must agree
bit for bit (``==``, NaN equal to NaN). So must the default backend (``"inductor"``), except where
a fused kernel ran (``graph.stats["fused_kernels"]``): a generated kernel may round differently
from NumPy (kernels/numpy/fused.py), and there the row's own tolerance applies (``atol32/rtol32``,
``atol64/rtol64`` of an ``OpCase``; ``rtol32/rtol64`` of a ``ModuleCase``, relative to the largest
magnitude, as tests/nn/test_module_table.py measures).

A signature that cannot be captured runs eagerly (a graph break): allowed, as long as the answer
is right; ``run_op_case`` and ``run_module_case`` return what happened to a row (replayed, broke
and why, fused), which a report of the graph breaks can use. Kernels run on the reference backend
only (``kernels.only("numpy")``): what is checked here is the capture and the replay, which do not
depend on the kernel backend; the tables themselves cover the compiled kernels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels

from ..nn.moduleinfo import all_module_cases
from ..opinfo import all_cases

OP_CASES = all_cases()
MODULE_CASES = all_module_cases()
DTYPES = {"f32": np.float32, "f64": np.float64}
BACKENDS = ("eager", "inductor")  # without fusion, and the default (element-wise runs fused)
SEEDS = (0, 1, 2)  # call 1 records, calls 2 and 3 replay


@dataclass
class Outcome:
    """What ``chainrule.compile`` did with one row: the counts of ``CompiledFunction.calls``, the
    graph breaks as ``(reason, source line)`` (what ``explain`` reports) and whether a fused kernel ran."""

    calls: dict
    breaks: list = field(default_factory=list)
    fused: bool = False
    flat: bool = False  # a call ran as a flat schedule (compiler/flat.py)
    not_flat: list = field(default_factory=list)  # why a graph replays on nodes instead


def _flat(x) -> list:
    if isinstance(x, (tuple, list)):
        return [v for item in x for v in _flat(item)]
    return [x]


def _tensors(arrays, grad: bool) -> list:
    out = []
    for a in arrays:
        t = cr.from_numpy(a.copy())
        if grad and a.dtype.kind == "f":
            t.requires_grad_()
        out.append(t)
    return out


def _evaluate(fn, args, wrt, seed: int) -> tuple[list, list]:
    """``fn(*args)``'s outputs (flattened) and the gradients w.r.t. ``wrt`` of those that require
    grad, for cotangents drawn from ``seed``."""
    cr.manual_seed(seed)  # random operators draw the same numbers on both sides
    outs = _flat(fn(*args))
    diff = [o for o in outs if isinstance(o, cr.Tensor) and o.requires_grad]
    grads: list = []
    if diff and wrt:
        rng = np.random.default_rng(100 + seed)
        seeds = [cr.from_numpy(rng.standard_normal(tuple(o.shape)).astype(o.dtype.name)) for o in diff]
        grads = list(cr.autograd.grad(diff, wrt, seeds, allow_unused=True))
    return outs, grads


def _bitwise(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")


def _max_diff(a: np.ndarray, b: np.ndarray) -> float:
    if a.dtype.kind not in "fc" or a.size == 0:
        return float(np.sum(a != b))
    return float(np.nanmax(np.abs(a.astype(np.complex128) - b.astype(np.complex128))))


def _compare(what: str, got, want, close) -> None:
    """``got`` equals ``want`` bit for bit, or (``close`` given, for floats) as ``close`` says."""
    if not isinstance(want, cr.Tensor):
        assert not isinstance(got, cr.Tensor) and got == want, f"{what}: {got!r} != eager {want!r}"
        return
    assert isinstance(got, cr.Tensor), f"{what}: {type(got).__name__}, eager gives a Tensor"
    g, w = got.detach().numpy(), want.detach().numpy()
    assert g.shape == w.shape and g.dtype == w.dtype, f"{what}: {g.dtype}{g.shape} != eager {w.dtype}{w.shape}"
    if close is None or w.dtype.kind not in "fc":
        assert _bitwise(g, w), f"{what}: differs from eager (max |diff| {_max_diff(g, w):.3g})"
    else:
        close(g, w, what)


def _compare_all(what: str, got: tuple, want: tuple, close) -> None:
    (outs, grads), (ref_outs, ref_grads) = got, want
    assert len(outs) == len(ref_outs), f"{what}: {len(outs)} outputs, eager {len(ref_outs)}"
    for i, (o, r) in enumerate(zip(outs, ref_outs)):
        _compare(f"{what} output {i}", o, r, close)
        if isinstance(r, cr.Tensor):
            assert o.requires_grad == r.requires_grad, f"{what} output {i}: requires_grad differs from eager"
    assert len(grads) == len(ref_grads), f"{what}: {len(grads)} gradients, eager {len(ref_grads)}"
    for i, (g, r) in enumerate(zip(grads, ref_grads)):
        assert (g is None) == (r is None), f"{what} gradient {i}: {g} where eager gives {r}"
        if r is not None:
            _compare(f"{what} gradient {i}", g, r, close)


def _outcome(compiled) -> Outcome:
    graphs = compiled.graphs()
    return Outcome(dict(compiled.calls), [(f.reason, f.where) for f in compiled.failures()],
                   any(g.stats.get("fused_kernels", 0) for g in graphs), any(g.stats.get("flat_calls") for g in graphs),
                   [g.stats["flat"] for g in graphs if "flat" in g.stats])


def _check_calls(what: str, out: Outcome) -> None:
    """Every call is accounted for: call 1 recorded and calls 2 and 3 replayed; or the signature
    broke and calls 2 and 3 ran eagerly; or a value read into Python changed (a guard) and a call
    recorded again."""
    c = out.calls
    assert sum(c.values()) == len(SEEDS) and c["recorded"] >= 1, f"{what}: {c}"
    if out.breaks:
        assert c == {"replayed": 0, "recorded": 1, "eager": len(SEEDS) - 1}, f"{what}: {c} with a graph break"
    else:
        assert c["eager"] == 0 and c["replayed"] + c["recorded"] == len(SEEDS), f"{what}: {c}"


# ---- the operator table -------------------------------------------------------------------------------
def _op_close(case, dtype):
    atol, rtol = (case.atol32, case.rtol32) if dtype == np.float32 else (case.atol64, case.rtol64)

    def close(g, w, what):
        np.testing.assert_allclose(g, w, atol=atol, rtol=rtol, equal_nan=True, err_msg=what)
    return close


def run_op_case(case, dtype) -> dict[str, Outcome]:
    """Compile ``case.fn`` with each backend, call it with the inputs of each seed and compare
    every call with eager; the outcome per backend."""
    compiled = {b: cr.compile(case.fn, backend=b) for b in BACKENDS}
    for seed in SEEDS:
        arrays = case.inputs(dtype, seed)
        xs = _tensors(arrays, case.grad)
        want = _evaluate(case.fn, xs, [x for x in xs if x.requires_grad], seed)
        for b, cf in compiled.items():
            ys = _tensors(arrays, case.grad)
            got = _evaluate(cf, ys, [y for y in ys if y.requires_grad], seed)
            close = _op_close(case, dtype) if _outcome(cf._compiled).fused else None
            _compare_all(f"{case.name} [{b}, {dtype.__name__}, call {seed + 1}]", got, want, close)
    return {b: _outcome(cf._compiled) for b, cf in compiled.items()}


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in OP_CASES])
def test_operator_row_compiled_equals_eager(case):
    with kernels.only("numpy"):
        for d, dtype in DTYPES.items():
            for b, out in run_op_case(case, dtype).items():
                _check_calls(f"{case.name} [{b}, {d}]", out)


# ---- the module table ---------------------------------------------------------------------------------
def _module_close(case, dtype):
    rtol = case.rtol32 if dtype == np.float32 else case.rtol64

    def close(g, w, what):
        if w.size:
            scale = float(np.abs(w).max())
            err = float(np.abs(g.astype(np.float64) - w.astype(np.float64)).max())
            assert err <= rtol * (scale if scale > 0 else 1.0), f"{what}: error {err:.3g} > {rtol} of {scale:.3g}"
    return close


def _build(case, dtype, mode):
    cr.manual_seed(0)
    m = case.build(cr.nn).to(cr.float32 if dtype == np.float32 else cr.float64)
    m.train(mode == "train")
    return m


def _call_module(call, module, *args):
    return call(module, *args)


def run_module_case(case, dtype, mode) -> dict[str, Outcome]:
    """The module of ``case`` eager and compiled with each backend (copies with the same state,
    called in lockstep); every call compared with eager, and the module state after it."""
    eager = _build(case, dtype, mode)
    copies = {b: _build(case, dtype, mode) for b in BACKENDS}
    for m in copies.values():
        m.load_state_dict(eager.state_dict())
    compiled = {b: cr.compile(m, backend=b) for b, m in copies.items()}
    call = case.call or (lambda m, *a: m(*a))
    for seed in SEEDS:
        arrays = case.inputs(dtype, seed)
        xs = _tensors(arrays, case.grad)
        wrt = [x for x in xs if x.requires_grad] + (list(eager.parameters()) if case.grad else [])
        want = _evaluate(_call_module, (call, eager, *xs), wrt, seed)
        ref_state = eager.state_dict()
        for b, cm in compiled.items():
            ys = _tensors(arrays, case.grad)
            wrt = [y for y in ys if y.requires_grad] + (list(copies[b].parameters()) if case.grad else [])
            got = _evaluate(_call_module, (call, cm, *ys), wrt, seed)
            close = _module_close(case, dtype) if _outcome(cm._compiled_call).fused else None
            what = f"{case.name} [{b}, {dtype.__name__}, {mode}, call {seed + 1}]"
            _compare_all(what, got, want, close)
            state = copies[b].state_dict()
            assert list(state) == list(ref_state), f"{what}: state keys {list(state)}"
            for k, v in state.items():
                _compare(f"{what} state {k}", v, ref_state[k], close)
    return {b: _outcome(cm._compiled_call) for b, cm in compiled.items()}


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in MODULE_CASES])
def test_module_row_compiled_equals_eager(case):
    with kernels.only("numpy"):
        for d, dtype in DTYPES.items():
            for mode in case.modes:
                for b, out in run_module_case(case, dtype, mode).items():
                    _check_calls(f"{case.name} [{b}, {d}, {mode}]", out)
