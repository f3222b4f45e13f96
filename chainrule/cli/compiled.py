"""``chainrule train --compile``: the model trained through ``chainrule.compile``, and its report.

Only the module called in the training loop is compiled; the loss, backward and the optimiser
step stay eager (as in a PyTorch loop around ``torch.compile(model)``). Under ``mpiexec`` the
model inside ``DistributedDataParallel`` is compiled, not DDP itself: DDP resets its gradient
reduction and weights each rank's share in Python on every call, which a replay would skip. Checkpoints, validation,
the test report and the plots keep using the bare model, so a checkpoint has the model's own
``state_dict`` keys (no ``_orig_mod.`` prefix) and is the same file with or without ``--compile``.
"""

from __future__ import annotations

from ..compiler import OptimizedModule
from ..compiler import compile as compile_module
from ..nn import Module

BACKENDS = ("inductor", "eager")  # chainrule.compile's backends: fused element-wise kernels, or none


def compile_for_training(model: Module, backend: str) -> OptimizedModule:
    """``chainrule.compile(model, backend=backend)``: the first call per input signature records,
    later ones replay; what cannot be captured runs eagerly (never ``fullgraph``: training goes on)."""
    return compile_module(model, backend=backend)


def find_compiled(module: Module) -> OptimizedModule:
    """The compiled module in what trains: the module itself, or the one inside DDP."""
    return next(m for m in module.modules() if isinstance(m, OptimizedModule))


def summary(compiled: OptimizedModule, backend: str) -> str:
    """One line: how the calls of the model went (recorded, replayed - how many of those as a flat
    schedule on raw arrays - run eagerly), the graphs kept, their fused element-wise kernels and
    the seconds recording them took, and each input signature that fell back to eager, with its
    reason and source line."""
    call = compiled._compiled_call
    calls = call.calls
    graphs = call.graphs()
    seconds = sum(g.stats.get("compile_seconds", 0.0) for g in graphs)
    failures = call.failures()
    fused = sum(g.stats.get("fused_kernels", 0) for g in graphs)
    flat = sum(g.stats.get("flat_calls", 0) for g in graphs)
    total = calls["recorded"] + calls["replayed"] + calls["eager"]
    text = (f"compiled ({backend}): {total} calls of the model: {calls['recorded']} recorded "
            f"({len(graphs)} graph{'' if len(graphs) == 1 else 's'} kept, {fused} fused kernel{'' if fused == 1 else 's'}, "
            f"{seconds:.2f}s), {calls['replayed']} replayed ({flat} as a flat schedule), {calls['eager']} eager; ")
    if not failures:
        return text + "no input signature fell back to eager"
    said = [f"{f.reason} ({f.where})" if f.where else f.reason for f in failures]
    reasons = "; ".join(r if said.count(r) == 1 else f"{r} (x{said.count(r)})" for r in dict.fromkeys(said))
    n = len(failures)
    return text + f"{n} input signature{'' if n == 1 else 's'} fell back to eager: {reasons}"
