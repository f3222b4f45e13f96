"""Run each workload in chainrule and in PyTorch in one process and compare them.

Method: same thread count and float32 on both sides; each callable is warmed up, then the two
are timed alternately, swapping which goes first every round (ABBA), so drift in clock speed or
load from other processes hits both alike; the median of the repeats is reported. The share of
the matrix-multiply peak uses a float32 NumPy GEMM measured in the same run. Results go to a
table on stdout and to JSON (``--json``, default bench/results.json); ``--record`` also keeps the
run as bench/results/<date>-<commit>.json with its commit, machine and load (bench/record.py),
from which ``python -m bench.report`` renders the table in bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from . import compiled, default_threads, memory, record
from .record import format_value as _fmt
from .workloads import WORKLOADS, Case, Spec

DEFAULT_JSON = Path(__file__).resolve().parent / "results.json"
# seconds slept at each switch of framework, and then run untimed (see time_pair)
SWITCH_PAUSE = 0.1
MEMORY_NAMES = (memory.NAME, memory.STEADY_NAME, memory.PROCESS_NAME)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes and few repeats (the smoke test)")
    p.add_argument("--only", action="append", default=None, metavar="NAME",
                   help="run only workloads whose name starts with NAME (repeatable; 'memory' for workload 7)")
    p.add_argument("--repeats", type=int, default=None, help="timed runs per side (default 10, quick 2)")
    p.add_argument("--warmup", type=int, default=None, help="untimed runs per side first (default 2, quick 1)")
    p.add_argument("--settle", type=int, default=1,
                   help="untimed calls after each switch of framework (default 1)")
    p.add_argument("--pause", type=float, default=None,
                   help=f"seconds slept at each switch of framework, then run untimed (default {SWITCH_PAUSE}, quick 0)")
    p.add_argument("--threads", type=int, default=None, help="threads for both frameworks (default: all cores)")
    p.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"where to write results (default {DEFAULT_JSON})")
    p.add_argument("--record", action="store_true",
                   help="also write bench/results/<date>-<commit>.json (-quick.json for --quick; see bench/report.py)")
    p.add_argument("--no-memory", action="store_true", help="skip workload 7 (child processes)")
    p.add_argument("--keep-malloc", action="store_true",
                   help="do not pin glibc's malloc thresholds (see bench/__main__.py)")
    p.add_argument("--profile", action="store_true", help="cProfile chainrule's side of each workload run")
    p.add_argument("--compile-backend", choices=("inductor", "eager"), default="inductor",
                   help="chainrule.compile's backend in the *_compiled workloads (default inductor: fused "
                        "element-wise kernels; eager: replay without fusion)")
    p.add_argument("--no-torch-compile", action="store_true",
                   help="skip the torch.compile column of the *_compiled workloads (skipped under --quick)")
    p.add_argument("--list", action="store_true", help="list the workload names and exit")
    args = p.parse_args(argv)
    if args.repeats is None:
        args.repeats = 2 if args.quick else 10
    if args.pause is None:
        args.pause = 0.0 if args.quick else SWITCH_PAUSE
    if args.pause < 0:
        p.error("--pause must not be negative")
    if args.warmup is None:
        args.warmup = 1 if args.quick else 2
    if args.threads is None or args.threads <= 0:
        args.threads = default_threads()
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    return args


# ---- threads --------------------------------------------------------------------------------
class ThreadPin:
    """Pin NumPy's BLAS and PyTorch's intra-op pool to ``n`` threads for the run, then restore.

    ``python -m bench`` already set OMP/OPENBLAS/MKL_NUM_THREADS before NumPy loaded; this also
    covers a process that imported NumPy earlier (pytest), through threadpoolctl at run time.
    """

    def __init__(self, n: int):
        import torch

        self.n = n
        self._torch_prev = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # comes with scikit-learn; without it only the env vars apply
            self._limits = None
        else:
            self._limits = threadpool_limits(limits=n)

    def info(self) -> dict:
        import torch

        blas = []
        if self._limits is not None:
            from threadpoolctl import threadpool_info

            blas = [{"api": d.get("internal_api"), "num_threads": d.get("num_threads")} for d in threadpool_info()]
        return {"requested": self.n, "torch": torch.get_num_threads(), "pools": blas,
                "env": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}}

    def restore(self) -> None:
        import torch

        torch.set_num_threads(self._torch_prev)
        if self._limits is not None:
            self._limits.restore_original_limits()


# ---- timing ---------------------------------------------------------------------------------
def _once(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def time_pair(ours: Callable | None, theirs: Callable, repeats: int, warmup: int,
              settle: int = 1, pause: float = SWITCH_PAUSE) -> tuple[list, list]:
    """Warm both up, then time them alternately (ABBA order); ``ours=None`` times PyTorch alone.
    ``time_sides`` with two sides."""
    t_ours, t_theirs = time_sides([ours, theirs], repeats, warmup, settle, pause)
    return t_ours, t_theirs


def time_sides(sides: list[Callable | None], repeats: int, warmup: int, settle: int = 1,
               pause: float = SWITCH_PAUSE) -> list[list[float]]:
    """Warm every side up, then time them in turn; a side that is None is skipped. One list of
    times per side. Two sides alternate the listed order and its reverse (ABBA): each follows the
    other and itself equally often. Three or more rotate (ABC BCA CAB): no side ever follows
    itself, where the reversal (ABCCBA) lets the first and last do so and never a middle one.

    After switching sides the harness sleeps ``pause`` seconds, then runs the side untimed for
    as long again (and ``settle`` calls before every timed one). Both, because the bench
    machine is a VM with 2 vCPUs:

    * the thread pools of both sides (OpenBLAS's, libgomp's) spin for a while after a call
      returns, OpenBLAS's workers for 20-50 ms, on the cores the other side's threads need.
      Measured: PyTorch's MLP step at 2 threads took 8.1-8.2 ms right after chainrule's steps
      had used 2-thread BLAS, 4.4 ms after a pause of 50-200 ms. The pause lets them park, so
      neither framework is charged for the other's threads;
    * after a pause, waking a thread on the idle vCPU is slow until the host has seen it busy
      again: chainrule's MLP step took 7.2-7.5 ms after a 0.1 s sleep and up to 20 ms of
      back-to-back steps, 4.8 ms after 100 ms of them (its pool's threads block between
      regions, where PyTorch's spin). The untimed run brings each side to the steady state of
      a training loop, steps back to back.
    """
    for _ in range(warmup):
        for fn in sides:
            if fn is not None:
                fn()
    # objects alive now (both frameworks, the models) go to the permanent generation: a
    # collection triggered inside a timed call then scans only what the calls create, instead
    # of the ~10^5 objects of the imported libraries (0.1 s a time)
    gc.collect()
    gc.freeze()
    try:
        return _interleave(sides, repeats, settle, pause)
    finally:
        gc.unfreeze()


def _interleave(sides: list[Callable | None], repeats: int, settle: int, pause: float) -> list[list[float]]:
    times: list[list[float]] = [[] for _ in sides]
    last = [fn for fn in sides if fn is not None][-1]  # the warm-up ends with it
    pairs = [(fn, out) for fn, out in zip(sides, times) if fn is not None]
    for r in range(repeats):
        if len(pairs) <= 2:
            order = pairs if r % 2 == 0 else pairs[::-1]
        else:
            k = r % len(pairs)
            order = pairs[k:] + pairs[:k]
        for fn, out in order:
            start = None
            if last is not fn:
                time.sleep(pause)  # the other side's spinning threads go to sleep (see time_pair)
                start = time.perf_counter()
            last = fn
            for _ in range(settle):
                fn()
            while start is not None and time.perf_counter() - start < pause:  # as long again
                fn()
            gc.collect()  # garbage of earlier calls is not charged to the timed one (cheap when frozen)
            out.append(_once(fn))
    return times


def matmul_peak(n: int, repeats: int) -> dict:
    """Median GFLOP/s of an n x n float32 matrix product, NumPy (the reference) and PyTorch."""
    import torch

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    t_np, t_torch = time_pair(lambda: a @ b, lambda: ta @ tb, repeats, warmup=2, settle=3)
    flops = 2.0 * n ** 3
    return {"n": n, "numpy_gflops": flops / statistics.median(t_np) / 1e9,
            "torch_gflops": flops / statistics.median(t_torch) / 1e9}


def peak_size(quick: bool) -> tuple[int, int]:
    """(matrix size, repeats) of the matmul peak."""
    return (128, 3) if quick else (1024, 20)


def _set_peak(meta: dict, rows: list[dict], size: tuple[int, int]) -> None:
    after = matmul_peak(*size)
    before = meta["peak"]
    meta["peak_before"], meta["peak_after"] = before, after
    meta["peak"] = max(before, after, key=lambda p: p["numpy_gflops"])
    for r in rows:
        if r["ours_gflops"] is not None:
            r["peak_share"] = r["ours_gflops"] / meta["peak"]["numpy_gflops"]


# ---- rows -----------------------------------------------------------------------------------
def _row(name: str, title: str, unit: str) -> dict:
    return {"name": name, "title": title, "unit": unit, "status": "ok", "ours": None, "torch": None,
            "ratio": None, "flops": None, "ours_gflops": None, "torch_gflops": None, "peak_share": None,
            "missing": [], "error": None, "ours_samples": [], "torch_samples": []}


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


def _first_call(case: Case, row: dict, sides: dict) -> Callable | None:
    """chainrule's side called once before the timed loop, where a broken op shows up; for a
    compiled case its first two calls, timed (``bench/compiled.py``). None when it failed."""
    ours = case.ours
    if ours is None:
        return None
    try:
        if case.compiled is not None and case.compiled.ours_eager is not None:
            sides["chainrule"] = {"backend": case.compiled.backend,
                                  **compiled.first_calls(ours, case.compiled.ours_eager)}
        else:
            ours()
    except Exception as exc:
        row.update(status="error", error=_error_text(exc))
        return None
    return ours


def run_workload(spec: Spec, quick: bool, repeats: int, warmup: int, settle: int,
                 pause: float = SWITCH_PAUSE, compile_backend: str = "inductor",
                 torch_compile: bool | str = True) -> tuple[dict, Case | None]:
    """Build and time one workload. ``torch_compile``: time PyTorch's step under ``torch.compile``
    too in a compiled workload (True), or a string saying why not."""
    try:
        case = spec.build(quick, compile_backend)
    except Exception as exc:
        row = _row(spec.name, spec.name, "s")
        row.update(status="error", error=f"building the workload: {_error_text(exc)}")
        return row, None
    row = _row(spec.name, case.title, "s")
    row["flops"] = case.flops
    ours = case.ours
    sides: dict = {"chainrule": {"backend": compile_backend}}
    if ours is None:
        row.update(status="n/a", missing=case.missing)
    else:
        ours = _first_call(case, row, sides)
    theirs_compiled = None
    if case.compiled is not None:
        theirs_compiled, sides["torch_compile"] = compiled.torch_compiled_side(case.compiled.torch_compiled,
                                                                               case.torch, torch_compile)
    try:
        t_ours, t_theirs, t_theirs_compiled = time_sides([ours, case.torch, theirs_compiled], repeats, warmup,
                                                         settle, pause)
    except Exception as exc:  # a later call failed (state carried between calls): report, go on
        row.update(status="error", error=f"while timing: {_error_text(exc)}")
        return row, None
    if case.compiled is not None:
        sides["chainrule"].update(compiled.chainrule_stats(ours) if ours is not None else {})
        compiled.finish(row, sides, t_ours, t_theirs_compiled)
    row["ours_samples"], row["torch_samples"] = t_ours, t_theirs
    row["torch"] = statistics.median(t_theirs)
    row["torch_min"] = min(t_theirs)
    if case.flops:
        row["torch_gflops"] = case.flops / row["torch"] / 1e9
    if t_ours:
        row["ours"] = statistics.median(t_ours)
        row["ours_min"] = min(t_ours)
        row["ratio"] = row["ours"] / row["torch"]
        if case.flops:
            row["ours_gflops"] = case.flops / row["ours"] / 1e9
    return row, (case if t_ours else None)


def run_memory(quick: bool, threads: int) -> list[dict]:
    """Workload 7: three rows, the first steps, one steady-state step and the whole process
    (see bench/memory.py)."""
    batch = memory.QUICK_BATCH if quick else memory.FULL_BATCH
    children = memory.run_children(("ours", "torch"), batch, threads)
    ours, theirs = children["ours"], children["torch"]
    rows = []
    for name, key, what in ((memory.NAME, "growth_mib", f"first {memory.STEPS} steps"),
                            (memory.STEADY_NAME, "steady_growth_mib", "one step after those"),
                            (memory.PROCESS_NAME, "process_growth_mib",
                             f"whole process, import to step {memory.STEPS}")):
        row = _row(name, f"peak RSS growth, small ResNet training, batch {batch}: {what}", "MiB")
        row["detail"] = {"ours": ours, "torch": theirs}
        rows.append(row)
        if theirs.get("status") != "ok":
            row.update(status="error", error=f"PyTorch side: {theirs.get('error')}")
            continue
        row["torch"] = theirs[key]
        if ours.get("status") == "ok":
            row["ours"] = ours[key]
            row["ratio"] = row["ours"] / row["torch"] if row["torch"] > 0 else None
        elif ours.get("status") == "n/a":
            row.update(status="n/a", missing=ours.get("missing", []))
        else:
            row.update(status="error", error=ours.get("error"))
    return rows


# ---- output ---------------------------------------------------------------------------------
def format_table(rows: list[dict], meta: dict) -> str:
    head = ("workload", "ours", "PyTorch", "ours/PyTorch", "our GFLOP/s", "% of peak")
    body = []
    for r in rows:
        ours = _fmt(r["ours"], r["unit"])
        if r["status"] == "n/a":
            ours = "n/a"
        elif r["status"] == "error":
            ours = "error"
        body.append((r["name"], ours, _fmt(r["torch"], r["unit"]),
                     "-" if r["ratio"] is None else f"{r['ratio']:.2f}x",
                     "-" if r["ours_gflops"] is None else f"{r['ours_gflops']:.2f}",
                     "-" if r["peak_share"] is None else f"{r['peak_share']:.1%}"))
    widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(len(head))]
    line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths)))
    out = [f"matmul peak: NumPy float32 {meta['peak']['n']}x{meta['peak']['n']} "
           f"{meta['peak']['numpy_gflops']:.1f} GFLOP/s, the better of before/after the workloads "
           f"(PyTorch {meta['peak']['torch_gflops']:.1f}); "
           f"threads {meta['threads']['requested']}; median of {meta['repeats']} interleaved runs"
           + (" [quick sizes]" if meta["quick"] else ""), "", line, "-" * len(line)]
    for b in body:
        out.append("  ".join(str(x).ljust(w) if i == 0 else str(x).rjust(w)
                             for i, (x, w) in enumerate(zip(b, widths))))
    notes = []
    for r in rows:
        if r["status"] == "n/a":
            notes.append(f"  {r['name']}: n/a (missing: {', '.join(r['missing'])})")
        elif r["status"] == "error":
            notes.append(f"  {r['name']}: error: {r['error']}")
    out += ["", "workloads:"] + [f"  {r['name']}: {r['title']}" for r in rows]
    if notes:
        out += ["", "not measured on chainrule's side:"] + notes
    out += _compiled_table(rows, meta)
    return "\n".join(out)


def _compiled_table(rows: list[dict], meta: dict) -> list[str]:
    """The compiled workloads' first-call cost, call counts and torch.compile (``bench/compiled.py``)."""
    body = compiled.table_rows(rows, _fmt)
    if not body:
        return []
    head = compiled.HEAD
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    out = ["", "compiled workloads:", "  ".join(h.ljust(w) for h, w in zip(head, widths))]
    out += ["  ".join(x.ljust(w) for x, w in zip(b, widths)) for b in body]
    return out + [f"  {n}" for n in compiled.notes(meta)]


def _meta(args: argparse.Namespace, pin: ThreadPin, peak: dict) -> dict:
    import torch

    import chainrule
    from chainrule.kernels import _jit

    jit = {"enabled": _jit.ENABLED, "env": os.environ.get("CHAINRULE_JIT"), "numba": record.package_version("numba")}
    return {"date": datetime.datetime.now().isoformat(timespec="seconds"), "quick": args.quick,
            "repeats": args.repeats, "warmup": args.warmup, "settle": args.settle, "pause": args.pause, "threads": pin.info(), "peak": peak,
            "python": sys.version.split()[0], "numpy": np.__version__, "torch": torch.__version__,
            "chainrule": getattr(chainrule, "__version__", "?"), "machine": platform.machine(),
            "compile_backend": args.compile_backend, "torch_compile": _torch_compile_setting(args),
            "jax": compiled.jax_status(),
            "cpu_count": os.cpu_count(), "command": "python -m bench " + " ".join(args.argv),
            **record.provenance(), "blas": record.blas_info(), "jit": jit,
            "record_format": record.FORMAT}


def _torch_compile_setting(args: argparse.Namespace) -> bool | str:
    """True, or why the torch.compile column is skipped."""
    if args.no_torch_compile:
        return "skipped (--no-torch-compile)"
    if args.quick:
        return "skipped under --quick"
    return True


def select(only: list[str] | None) -> tuple[list[Spec], bool]:
    """The workloads whose names start with one of ``only`` (all when None), and whether memory runs."""
    if not only:
        return list(WORKLOADS), True
    specs = [s for s in WORKLOADS if any(s.name.startswith(o) for o in only)]
    mem = any(name.startswith(o) for o in only for name in MEMORY_NAMES)
    if not specs and not mem:
        names = ", ".join([s.name for s in WORKLOADS] + list(MEMORY_NAMES))
        raise SystemExit(f"--only {only}: no such workload; choose from {names}")
    return specs, mem


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    args.argv = argv
    if args.list:
        print("\n".join([s.name for s in WORKLOADS] + list(MEMORY_NAMES)))
        return 0
    specs, with_memory = select(args.only)
    pin = ThreadPin(args.threads)
    try:
        peak = matmul_peak(*peak_size(args.quick))
        meta = _meta(args, pin, peak)
        rows = []
        for spec in specs:
            t0 = time.perf_counter()
            row, case = run_workload(spec, args.quick, args.repeats, args.warmup, args.settle, args.pause,
                                     args.compile_backend, _torch_compile_setting(args))
            rows.append(row)
            print(f"[bench] {spec.name}: ours {_fmt(row['ours'], 's')}, PyTorch {_fmt(row['torch'], 's')}"
                  f" ({row['status']}; {time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)
            if args.profile and case is not None:
                from .profiling import profile, report

                calls = max(3, args.repeats // 2)
                print(f"\n==== profile of chainrule: {spec.name} ====\n"
                      f"{report(profile(case.ours, calls), calls)}", flush=True)
            del case
        if with_memory and not args.no_memory:
            rows += run_memory(args.quick, args.threads)
        # the peak is measured before and after the workloads and the higher one is used, so
        # that a burst of load from elsewhere during one measurement does not inflate the shares
        _set_peak(meta, rows, peak_size(args.quick))
    finally:
        pin.restore()
    meta["load_after"] = record.load_average()
    print(format_table(rows, meta))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"meta": meta, "results": rows}, indent=1))
    print(f"\nwrote {args.json}")
    if args.record:
        path = record.record_path(meta)
        record.write_json(path, {"meta": meta, "results": rows})
        print(f"wrote {path}" + (" (quick sizes: git-ignored, not for bench/README.md)" if args.quick else ""))
    return 0
