"""cProfile reports of a workload's chainrule callable: hottest functions and time per area.

cProfile adds a fixed cost to every Python call, so it inflates code made of many tiny calls
(the autograd hot path) more than NumPy kernels; read the shares, not the absolute times, and
check absolute per-op costs with ``python -m bench.overhead`` (timeit, no profiler).
"""

from __future__ import annotations

import cProfile
import gc
import pstats
from collections.abc import Callable

# where a function lives -> the area of the framework it belongs to (first match wins)
_AREAS = (
    ("chainrule/autograd/function.py", "autograd: Node/FunctionNode.apply, saving, _connect"),
    ("chainrule/autograd/engine.py", "autograd: engine walk (run_backward)"),
    ("chainrule/autograd/grad_mode.py", "autograd: grad mode"),
    ("chainrule/autograd/", "autograd: other"),
    ("chainrule/tensor.py", "Tensor: creation and attributes"),
    ("chainrule/backend.py", "backend: array_module, dtypes"),
    ("chainrule/ops/_util.py", "ops: operand coercion (_util)"),
    ("chainrule/ops/", "ops: wrappers and forward/backward bodies"),
    ("chainrule/nn/", "nn: modules and functional"),
    ("chainrule/optim/", "optim"),
    ("chainrule/", "chainrule: other"),
    ("numpy/", "numpy: Python-level helpers"),
)


def profile(fn: Callable[[], object], calls: int) -> pstats.Stats:
    """Profile ``calls`` calls of ``fn`` (after one unprofiled warm-up call)."""
    fn()
    gc.collect()
    gc.freeze()  # as in the timing: collections inside fn scan only what fn creates
    prof = cProfile.Profile()
    try:
        prof.enable()
        for _ in range(calls):
            fn()
        prof.disable()
    finally:
        gc.unfreeze()
    return pstats.Stats(prof)


def _area(filename: str, funcname: str) -> str:
    path = filename.replace("\\", "/")
    if path == "~":  # C functions: NumPy kernels, builtins
        if "numpy" in funcname or "ufunc" in funcname:
            return "numpy: C kernels and array methods"
        return "Python builtins (isinstance, getattr, len, ...)"
    for key, area in _AREAS:
        if key in path:
            return area
    return "other Python"


def by_area(stats: pstats.Stats) -> list[tuple[str, float, int]]:
    """Own time (tottime) summed per area, largest first: (area, seconds, calls)."""
    totals: dict[str, list] = {}
    for (filename, _line, funcname), (_cc, nc, tt, _ct, _callers) in stats.stats.items():
        acc = totals.setdefault(_area(filename, funcname), [0.0, 0])
        acc[0] += tt
        acc[1] += nc
    return sorted(((a, t, n) for a, (t, n) in totals.items()), key=lambda r: -r[1])


def _where(filename: str, line: int, funcname: str) -> str:
    if filename == "~":
        return funcname
    path = filename.replace("\\", "/")
    for root in ("/chainrule/", "/bench/", "/numpy/", "/torch/"):
        if root in path:
            path = root[1:] + path.split(root, 1)[1]
            break
    return f"{path}:{line}({funcname})"


def report(stats: pstats.Stats, calls: int, top: int = 25) -> str:
    """Text report: own time per area, then the ``top`` functions by own time, per call of fn."""
    areas = by_area(stats)
    total = sum(t for _, t, _ in areas) or 1.0
    lines = [f"profiled {calls} calls; total own time {total / calls * 1e3:.2f} ms per call (profiled)",
             "", f"{'area':58} {'ms/call':>9} {'share':>6} {'calls/call':>11}"]
    for area, t, n in areas:
        lines.append(f"{area:58} {t / calls * 1e3:9.3f} {t / total:6.1%} {n / calls:11.0f}")
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:top]
    lines += ["", f"top {top} functions by own time, per call of the workload:",
              f"{'own ms':>8} {'cum ms':>8} {'calls':>7}  function"]
    for (filename, line, funcname), (_cc, nc, tt, ct, _callers) in rows:
        lines.append(f"{tt / calls * 1e3:8.3f} {ct / calls * 1e3:8.3f} {nc / calls:7.0f}  "
                     f"{_where(filename, line, funcname)}")
    return "\n".join(lines)
