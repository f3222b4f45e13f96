"""The compiled rows of ``python -m bench``: their first-call cost, and ``torch.compile`` beside them.

A ``*_compiled`` workload (``workloads.py``) times chainrule's step through ``chainrule.compile``
against PyTorch's eager step, in the main table like any row (so its ratio reads against the
PyTorch users' default). What only these rows have is gathered here, for the JSON and a second
table:

* ``compile_s``, the first calls' cost of ``chainrule.compile``: the wall time of the recording
  call plus the first replay (which builds the fused kernels), minus two calls of the same step
  without ``compile``, measured after one untimed eager call (so kernels and caches every
  step builds on first use are not charged to compilation). The graphs' own
  ``stats["compile_seconds"]`` (recording and fusion, inside the recording call) are kept too.
  Fused kernels come from the on-disk kernel cache when an earlier process built them, so the
  figure is the cold one only on a machine's first run;
* the memory the flat schedules hold in buffers between calls (``buffer_bytes``);
* the calls that were recorded, replayed (how many of those as a flat schedule) or run eagerly,
  and every input signature that fell back to eager with its reason (a row whose signature fell
  back measures eager code, and says so);
* ``torch.compile`` (inductor: generated C++, which needs a C compiler): the same step compiled by
  PyTorch, timed interleaved with the other two, with its first calls' cost measured the same
  way (inductor keeps an on-disk cache too, so a second run of the bench compiles much faster);
  where it cannot run the row says ``n/a (reason)``. JAX is not a side (``n/a``).

This module imports neither NumPy nor PyTorch at import time: ``bench.report`` renders with it.
"""

from __future__ import annotations

import importlib.util
import statistics
import time
from collections.abc import Callable

EAGER_REFERENCE_CALLS = 3  # eager calls whose median is subtracted, twice, from the first two compiled ones


def _once(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def first_calls(compiled: Callable[[], object], eager: Callable[[], object]) -> dict:
    """Time the first two calls of ``compiled`` against ``eager`` (the same step without compile).

    ``compile_s`` = first call + second call - 2 x the median eager call. ``compiled`` must not
    have been called before.
    """
    eager()  # kernels and caches built on first use are the eager step's, not compilation's
    eager_s = statistics.median(_once(eager) for _ in range(EAGER_REFERENCE_CALLS))
    first_s = _once(compiled)  # chainrule: the recording call; PyTorch: tracing and code generation
    second_s = _once(compiled)  # chainrule: the first replay, which builds the fused kernels
    return {"eager_call_s": eager_s, "first_call_s": first_s, "second_call_s": second_s,
            "compile_s": first_s + second_s - 2 * eager_s}


def chainrule_stats(step: Callable[[], object]) -> dict:
    """Calls recorded / replayed / run eagerly, graphs kept, their recording seconds, and fallbacks."""
    compiled = getattr(step, "compiled", None)
    if compiled is None:
        return {"calls": None, "graphs": 0, "graph_compile_seconds": None, "fallbacks": []}
    graphs = compiled.graphs()
    return {"calls": dict(compiled.calls), "graphs": len(graphs),
            "flat_calls": sum(g.stats.get("flat_calls", 0) for g in graphs),
            "buffer_bytes": buffer_bytes(graphs),
            "graph_compile_seconds": sum(g.stats.get("compile_seconds", 0.0) for g in graphs),
            "fallbacks": [f"{f.reason} ({f.where})" if f.where else f.reason for f in compiled.failures()]}


def buffer_bytes(graphs: list) -> int:
    """The memory the graphs' flat schedules hold in preallocated buffers (``compiler/buffers.py``)."""
    arenas: dict[int, int] = {}
    for g in graphs:
        plan = g.flat
        schedules = [getattr(plan, "forward", None)]
        backward = getattr(plan, "backward", None)
        if backward is not None:
            schedules.append(backward.schedule)
        for schedule in schedules:
            held = getattr(schedule, "buffers", None)
            if held is not None:
                arenas[id(held.arena)] = held.nbytes
    return sum(arenas.values())


def error_text(exc: BaseException, limit: int = 200) -> str:
    """The first line of an exception, with its type, cut to ``limit`` characters."""
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
    return text if len(text) <= limit else text[:limit - 3] + "..."


def torch_compiled_side(build: Callable[[], Callable[[], object]], eager: Callable[[], object],
                        enabled: bool | str = True) -> tuple[Callable[[], object] | None, dict]:
    """PyTorch's step through ``torch.compile``, built and called twice (that compiles it), with its
    first calls' cost; ``(None, {"status": "n/a", "reason": ...})`` when it is off or fails.

    ``enabled``: True, or a string saying why the column is skipped.
    """
    if enabled is not True:
        return None, {"status": "n/a", "reason": str(enabled)}
    try:
        step = build()
        info = first_calls(step, eager)
    except Exception as exc:  # no C compiler, an unsupported op ...: a comparison, never a failure
        return None, {"status": "n/a", "reason": error_text(exc)}
    return step, {"status": "ok", **info}


def jax_status() -> str:
    """Why there is no JAX column."""
    if importlib.util.find_spec("jax") is None:
        return "n/a (JAX is not installed)"
    return "n/a (no JAX side is written)"


def finish(row: dict, sides: dict, ours_samples: list, torch_compiled_samples: list) -> None:
    """Put the compiled sides' figures into ``row`` (after timing): ``row["compiled"]`` for chainrule,
    ``row["torch_compile"]`` for PyTorch's compiled step, its ratio against chainrule's."""
    tc = dict(sides["torch_compile"])
    if torch_compiled_samples:
        tc.update(median=statistics.median(torch_compiled_samples), min=min(torch_compiled_samples),
                  samples=torch_compiled_samples)
        if ours_samples:
            tc["ratio"] = statistics.median(ours_samples) / tc["median"]
    row["compiled"] = sides["chainrule"]
    row["torch_compile"] = tc


# ---- rendering (the harness's text table, bench.report's Markdown) -----------------------------
HEAD = ("workload", "chainrule compile (first calls)", "recording + fusion", "graphs", "calls replayed (flat) / eager",
        "buffers held", "fell back to eager",
        "torch.compile", "chainrule / torch.compile", "torch.compile first calls")


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f} s" if abs(value) >= 1 else f"{value * 1e3:.2f} ms"


def _mib(n: int | None) -> str:
    return "-" if n is None else f"{n / 2**20:.2f} MiB"


def _flat(stats: dict) -> str:
    """`` (N)``: the replays that ran as a flat schedule (records before it was counted: empty)."""
    n = stats.get("flat_calls")
    return "" if n is None else f" ({n})"


def table_rows(rows: list[dict], format_value: Callable[[float | None, str], str]) -> list[tuple]:
    """One tuple of cells (``HEAD``) per compiled row; ``format_value`` formats a step's time."""
    out = []
    for r in rows:
        c, tc = r.get("compiled"), r.get("torch_compile")
        if not c:
            continue
        calls = c.get("calls") or {}
        fallbacks = c.get("fallbacks") or []
        if tc is None:
            torch_time = "-"
        elif tc.get("status") == "ok":
            torch_time = format_value(tc.get("median"), "s")
        else:
            torch_time = f"n/a ({tc.get('reason')})"
        out.append((r["name"], _seconds(c.get("compile_s")), _seconds(c.get("graph_compile_seconds")),
                    str(c.get("graphs", "-")),
                    f"{calls.get('replayed', '-')}{_flat(c)} / {calls.get('eager', '-')}",
                    _mib(c.get("buffer_bytes")), "; ".join(fallbacks) if fallbacks else "none",
                    torch_time, "-" if not tc or tc.get("ratio") is None else f"{tc['ratio']:.2f}x",
                    _seconds(tc.get("compile_s")) if tc else "-"))
    return out


def notes(meta: dict) -> list[str]:
    """What the compiled table's columns mean, for this run."""
    return [f"chainrule.compile backend {meta.get('compile_backend', '?')}; compile (first calls) = the recording "
            "call + the first replay (which builds the fused kernels) - 2 eager calls of the same step; recording + "
            "fusion = the graphs' stats['compile_seconds'], inside the recording call",
            "torch.compile: inductor, its first calls measured the same way; the main table's PyTorch column is "
            f"eager; JAX: {meta.get('jax', 'n/a')}"]
