"""``explain(fn, *args, **kwargs)``: what ``chainrule.compile`` makes of one call.

Records ``fn(*args, **kwargs)`` as a compiled call would (the call runs once, eagerly) and
reports the graphs captured, the operators of each, the fused kernels, the values read into
Python that guard the graph, every graph break with its reason and source line, and whether each
graph may replay as a flat schedule (``flat.py``; its backward is recorded at the first backward
through a replay, which may still refuse it) or why it replays on nodes. The fields
follow PyTorch's ``torch._dynamo.explain`` output where they mean the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .compiled import compiled_callable
from .plan import static_refusal


@dataclass
class ExplainOutput:
    graph_count: int
    graph_break_count: int
    op_count: int
    ops_per_graph: list = field(default_factory=list)  # operator names per graph, fused runs as one entry
    fused_kernels: list = field(default_factory=list)  # the operators of each fused kernel
    break_reasons: list = field(default_factory=list)  # (reason, source line) per break
    guards: list = field(default_factory=list)  # (what was read, value, source line)
    compile_times: list = field(default_factory=list)  # seconds to record and fuse, per graph
    flat_refusals: list = field(default_factory=list)  # per graph: None (may run flat) or why not

    def __str__(self) -> str:
        lines = [f"Graph Count: {self.graph_count}", f"Graph Break Count: {self.graph_break_count}",
                 f"Op Count: {self.op_count}"]
        for reason, where in self.break_reasons:
            lines.append(f"Break Reason: {reason} ({where})")
        for i, ops in enumerate(self.ops_per_graph):
            lines.append(f"Ops per Graph {i + 1}: {len(ops)} steps")
            lines.extend(f"  {op}" for op in ops)
        for i, ops in enumerate(self.fused_kernels):
            lines.append(f"Fused kernel {i + 1}: {len(ops)} operators: {', '.join(ops)}")
        for what, value, where in self.guards:
            lines.append(f"Guard: {what} == {value!r} ({where})")
        for t in self.compile_times:
            lines.append(f"Compile time: {t:.4f} s")
        for i, why in enumerate(self.flat_refusals):
            lines.append(f"Graph {i + 1} replays " + ("as a flat schedule" if why is None else f"on nodes: {why}"))
        return "\n".join(lines)


def explain(fn: Callable, *args: Any, **kwargs: Any) -> ExplainOutput:
    """Record ``fn(*args, **kwargs)`` (a function or a Module) and report what would be compiled."""
    # what chainrule.compile returned is explained through the original
    target: Any = getattr(fn, "_orig_mod", None) if hasattr(fn, "_compiled_call") else None
    if target is None:
        target = getattr(getattr(fn, "_compiled", None), "fn", fn)
    compiled = compiled_callable(target, fullgraph=False, fusion=True)
    compiled(*args, **kwargs)
    graphs = compiled.graphs()
    ops_per_graph = []
    fused = []
    for g in graphs:
        names = []
        for step in g.steps:
            if step.fused:
                ops = [s.name for s in step.fused]
                fused.append(ops)
                names.append(f"{step.name}[{', '.join(ops)}]")
            else:
                names.append(step.name)
        ops_per_graph.append(names)
    breaks = [(f.reason, f.where) for f in compiled.failures()]
    return ExplainOutput(
        graph_count=len(graphs), graph_break_count=len(breaks),
        op_count=sum(len(s.fused) or 1 for g in graphs for s in g.steps),
        ops_per_graph=ops_per_graph, fused_kernels=fused, break_reasons=breaks,
        guards=[(g.kind, g.value, g.where) for gr in graphs for g in gr.guards],
        compile_times=[g.stats.get("compile_seconds", 0.0) for g in graphs],
        flat_refusals=[static_refusal(g) for g in graphs])
