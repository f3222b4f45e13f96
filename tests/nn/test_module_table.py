"""Every row of the module table (tests/nn/moduleinfo.py) against PyTorch, on every backend.

Each row runs on the reference kernels (``-numpy`` ids) and, where its module reaches a compiled
kernel of ``kernels.BACKENDS["numba"]`` (probed per row: tests/backends.py), on numba too
(``-numba`` ids, marker ``numba``).

For each row, dtype (float32, float64) and mode (train, eval): build the module in both
frameworks, check that the state-dict keys and shapes agree, copy torch's state into ours, run
both on the same inputs and compare outputs, the state after forward (running statistics),
and the gradients of every float input and every parameter for a random output cotangent.

Errors are measured as ``max|ours - torch| / max|torch|`` per tensor. Tolerances: 1e-10 in
float64 (identical formulas; only the order of summation differs) and 1e-5 in float32: one
rounding is 6e-8 relative, and the sums here (convolution windows, batch and position sums of
weight gradients: up to a few hundred terms) accumulate O(sqrt(n)) to O(n) of them, i.e. 1e-6 to
1e-5 of the largest magnitude; PyTorch's kernels also sum in a different order (blocked GEMMs).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn  # noqa: F401  (makes cr.nn available)

from .. import backends
from .moduleinfo import all_module_cases

CASES = all_module_cases()
DTYPES = {"f32": (np.float32, cr.float32, torch.float32), "f64": (np.float64, cr.float64, torch.float64)}
PARAMS = [(c, d, m) for c in CASES for d in DTYPES for m in c.modes]
_RESULTS: dict = {}  # (case name, dtype, mode) -> largest relative error, for the summary
torch.set_num_threads(1)


def _np(t) -> np.ndarray:
    return t.detach().numpy() if isinstance(t, (torch.Tensor, cr.Tensor)) else np.asarray(t)


def _tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _rel_err(ours, theirs, what: str) -> float:
    o, t = _np(ours), _np(theirs)
    assert o.shape == t.shape, f"{what}: shape {o.shape} != torch {t.shape}"
    if o.size == 0:
        return 0.0
    scale = np.abs(t).max()
    err = np.abs(o.astype(np.float64) - t.astype(np.float64)).max()
    return float(err / scale) if scale > 0 else float(err)


def run_case(case, dtype_id: str, mode: str) -> float:
    """Compare one row in one dtype and mode; return the largest relative error seen."""
    np_dt, cr_dt, torch_dt = DTYPES[dtype_id]
    rtol = case.rtol32 if np_dt is np.float32 else case.rtol64
    torch.manual_seed(0)
    cr.manual_seed(0)
    theirs, ours = case.build(torch.nn).to(torch_dt), case.build(cr.nn).to(cr_dt)

    tsd, osd = theirs.state_dict(), ours.state_dict()
    assert list(osd) == list(tsd), f"{case.name}: state_dict keys {list(osd)} != torch {list(tsd)}"
    for k in tsd:
        assert tuple(osd[k].shape) == tuple(tsd[k].shape), f"{case.name}: {k} shape differs"
    ours.load_state_dict({k: cr.from_numpy(v.detach().numpy().copy()) for k, v in tsd.items()})
    theirs.train(mode == "train")
    ours.train(mode == "train")

    arrays = case.inputs(np_dt)
    diff = [a.dtype.kind == "f" and case.grad for a in arrays]
    ts = [torch.from_numpy(a.copy()).requires_grad_(d) for a, d in zip(arrays, diff)]
    xs = [cr.from_numpy(a.copy()).requires_grad_(d) for a, d in zip(arrays, diff)]
    call = case.call or (lambda m, *a: m(*a))
    touts, oouts = _tuple(call(theirs, *ts)), _tuple(call(ours, *xs))
    assert len(oouts) == len(touts), f"{case.name}: {len(oouts)} outputs, torch {len(touts)}"

    errs = [0.0]
    for i, (o, t) in enumerate(zip(oouts, touts)):
        assert o.dtype.name == str(t.dtype).replace("torch.", ""), f"{case.name}: output {i} dtype {o.dtype}"
        if t.is_floating_point():
            errs.append(_rel_err(o, t, f"{case.name} output {i}"))
        else:
            np.testing.assert_array_equal(_np(o), _np(t), err_msg=f"{case.name}: output {i}")
    after_t, after_o = theirs.state_dict(), ours.state_dict()
    for k, t in after_t.items():
        errs.append(_rel_err(after_o[k], t, f"{case.name} state {k} after forward"))

    if case.grad:
        pairs = [(o, t) for o, t in zip(oouts, touts) if t.is_floating_point() and t.requires_grad]
        tparams = dict(theirs.named_parameters())
        oparams = dict(ours.named_parameters())
        assert list(oparams) == list(tparams), f"{case.name}: parameters {list(oparams)} != {list(tparams)}"
        if pairs:
            rng = np.random.default_rng(1)
            seeds = [rng.standard_normal(tuple(t.shape)).astype(np_dt) for _, t in pairs]
            t_wrt = [t for t, d in zip(ts, diff) if d] + list(tparams.values())
            o_wrt = [x for x, d in zip(xs, diff) if d] + list(oparams.values())
            tg = torch.autograd.grad([t for _, t in pairs], t_wrt, [torch.from_numpy(s) for s in seeds],
                                     allow_unused=True)
            og = cr.autograd.grad([o for o, _ in pairs], o_wrt, [cr.from_numpy(s) for s in seeds],
                                  allow_unused=True)
            names = [f"input {i}" for i, d in enumerate(diff) if d] + list(tparams)
            for name, o, t in zip(names, og, tg):
                what = f"{case.name}: gradient of {name}"
                if t is None:
                    assert o is None or not np.any(_np(o)), f"{what} should be zero"
                    continue
                assert o is not None, f"{what} is missing"
                assert o.dtype == cr_dt, f"{what} has dtype {o.dtype}"
                errs.append(_rel_err(o, t, what))
    worst = max(errs)
    assert worst <= rtol, f"{case.name} [{dtype_id}, {mode}]: relative error {worst:.3g} > {rtol}"
    return worst


def _compiled(row) -> bool:
    """Whether the row's module reaches a compiled kernel (tests/backends.py), probed once per row
    with a float64 forward in training mode."""
    case = row[0]
    if case.name not in _COMPILED:
        def forward():
            m = case.build(cr.nn).to(cr.float64)
            (case.call or (lambda m, *a: m(*a)))(m, *[cr.from_numpy(a) for a in case.inputs(np.float64)])
        _COMPILED[case.name] = bool(backends.compiled_kernels_used(forward))
    return _COMPILED[case.name]


_COMPILED: dict[str, bool] = {}


@pytest.mark.parametrize("case,dtype_id,mode,backend",
                         backends.params(PARAMS, [f"{c.name}-{d}-{m}" for c, d, m in PARAMS], _compiled),
                         indirect=["backend"])
def test_module_matches_torch(case, dtype_id, mode, backend):
    worst = run_case(case, dtype_id, mode)
    _RESULTS[(case.name, dtype_id, mode)] = max(worst, _RESULTS.get((case.name, dtype_id, mode), 0.0))


def test_table_summary():
    """Runs whatever rows did not run above, then reports coverage and the largest errors."""
    classes = set()
    for case in CASES:
        for m in case.build(cr.nn).modules():
            if type(m).__module__.startswith("chainrule.nn"):
                classes.add(type(m).__name__)
        for d in DTYPES:
            for mode in case.modes:
                if (case.name, d, mode) not in _RESULTS:
                    _RESULTS[(case.name, d, mode)] = run_case(case, d, mode)
    print(f"\nmodule table: {len(CASES)} rows, {len(classes)} module classes: {sorted(classes)}")
    for d in DTYPES:
        per_row: dict = {}
        for (name, dt, _), v in _RESULTS.items():
            if dt == d:
                per_row[name] = max(v, per_row.get(name, 0.0))
        worst = sorted(((v, name) for name, v in per_row.items()), reverse=True)[:4]
        print(f"largest relative errors {d}: " + ", ".join(f"{v:.3g} ({name})" for v, name in worst))
    exported = {n for n, v in vars(cr.nn).items() if isinstance(v, type) and issubclass(v, cr.nn.Module)}
    assert exported - classes == TESTED_ELSEWHERE, "every nn module class needs a row here or in TESTED_ELSEWHERE"


# module classes checked against torch in other files (not by this table)
TESTED_ELSEWHERE = {
    "Module",  # the base class: tests/nn/test_module.py
    "MultiheadAttention",  # tests/nn/test_attention.py (against torch, weights copied through state_dict)
    # tests/nn/test_normalization.py (LAYERS: against torch with running statistics over steps);
    # BatchNorm2d and InstanceNorm1d are also rows here, as what the lazy rows turn into
    "BatchNorm1d", "BatchNorm3d", "InstanceNorm2d", "InstanceNorm3d",
    "LayerNorm", "GroupNorm", "LocalResponseNorm", "RMSNorm",
    # no torch counterpart: tests/nn/test_normalization.py (FRN + TLU, WSConv2d by formula)
    "FilterResponseNorm2d", "TLU", "WSConv2d",
    # across ranks against BatchNorm on the whole batch: tests/distributed (one rank: test_single_rank.py)
    "SyncBatchNorm",
    # lazy modules become the eager classes above at their first call: tests/nn/test_lazy.py
    "LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
    "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d",
    "LazyInstanceNorm2d", "LazyInstanceNorm3d",
}
