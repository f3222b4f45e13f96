"""What a flat schedule is, and planning one from a recorded graph (``flat.py`` runs it).

A ``Schedule`` is a list of operator steps on raw arrays with, after each step, the slots no later
step reads (memory planning by liveness: a value is dropped as soon as its last reader has run).
A ``Plan`` is a graph's forward schedule and, where the call has a gradient, its recorded
``BackwardPlan`` (``backward_record.py``) with what the backward reads of the forward: its saved
slots and the state of some forward nodes. ``static_refusal`` says, from a graph's structure
alone, why it cannot have a plan; ``view_chains`` which outputs may be views of what.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from . import buffers
from .buffers import Buffers, may_view
from .graph import Graph, spec_slots, written_specs
from .static_ops import STATIC_BACKWARD


@dataclasses.dataclass
class Schedule:
    """Steps on raw arrays: each ``(step, needs_input_grad)``; ``frees[k]``: slots dropped after step k;
    ``buffers``: the preallocated buffers its intermediates are written into (``buffers.py``)."""

    n_slots: int
    steps: tuple
    frees: tuple
    buffers: Buffers | None = None


@dataclasses.dataclass
class BackwardPlan:
    """The recorded backward: where each of its slots comes from, its schedule, its results."""

    schedule: Schedule
    grad_slots: tuple  # (slot, index of the output gradient)
    forward_slots: tuple  # (slot, forward slot)
    state_slots: tuple  # (slot, forward step, attribute of that step's node)
    consts: tuple  # (slot, Tensor)
    results: tuple  # slot (or None: no gradient) per target


@dataclasses.dataclass
class Plan:
    forward: Schedule
    backward: BackwardPlan | None  # None: grad mode is off in the whole graph
    saved: tuple = ()  # forward slots the backward reads
    nodes_kept: tuple = ()  # forward steps whose node state the backward reads
    targets: tuple = ()  # ("input", index) or ("live", Tensor) per tensor the gradient flows to
    random: bool = False  # a step draws random numbers: a recomputation restores the generator first
    live_grads: tuple | None = None  # requires_grad of each live tensor when planned (None: grad mode off)
    views: tuple = ()  # (output position, chain) per output that may be a view (see ``view_chains``)
    base_grads: dict = dataclasses.field(default_factory=dict)  # slot -> requires_grad, of possible view bases
    out_grads: tuple = ()  # requires_grad of each output when planned (an output made from no input
    # that requires grad, such as a view of such an input, is not one of the compiled node's)


def static_refusal(graph: Graph) -> str | None:
    """Why ``graph`` cannot run flat, by its structure alone, or None."""
    made = {}
    inputs = {s for s, _ in graph.input_slots}
    for step in graph.steps:
        if step.effect is not None:
            # an in-place write runs as on nodes, into the arrays of the values it writes: a value of
            # the call or a buffer, never an argument (whose graph a write in grad mode would change)
            if any(s in inputs for _, spec in written_specs(step.effect, step.subst) if spec[0] != "node"
                   for s in spec_slots(spec)):
                return f"an in-place write that involves an argument of the call ({step.name})"
            continue
        for s in step.outs:
            made[s] = step
    if len(set(graph.out_slots)) != len(graph.out_slots):
        return "a value returned twice"
    for s in graph.out_slots:
        step = made.get(s)
        if step is None:
            return "a returned value that no operator made"
    if any(step.grad for step in graph.steps):
        for step in graph.steps:  # a step with no float output gets no gradient: its backward never runs
            if step.effect is not None or not step.grad:
                continue
            if all(np.dtype(graph.slot_meta[s][1]).kind not in "fc" for s in step.outs):
                continue
            if type(step.template) not in STATIC_BACKWARD:
                return f"{type(step.template).__name__}, whose backward is not known to depend on shapes only"
    return None


def forward_reads(graph: Graph) -> list:
    """Per step, the slots it reads (inputs, attributes, the guards checked before it)."""
    reads = [list(step.ins) + [s for _, spec in step.subst for s in spec_slots(spec)] for step in graph.steps]
    for g in graph.guards:
        if g.position < len(reads):
            reads[g.position].append(g.slot)
    return reads


def view_chains(graph: Graph) -> tuple:
    """``(output position, ((step, input slot), ...))`` for each output made by an operator that
    may return a view of its first input, following such operators back: at run time the output
    is a view of the input slot of the last link whose node made a view (eager's ``_base``)."""
    made = {o: k for k, step in enumerate(graph.steps) for o in step.outs}
    chains = []
    for j, s in enumerate(graph.out_slots):
        chain = []
        k = made.get(s)
        while k is not None and _may_view(graph.steps[k]) and graph.steps[k].ins:
            chain.append((k, graph.steps[k].ins[0]))
            k = made.get(graph.steps[k].ins[0])
        if chain:
            chains.append((j, tuple(chain)))
    return tuple(chains)


def _may_view(step: Any) -> bool:
    if step.effect is not None:  # a snapshot before an in-place write is a value of its own
        return False
    return may_view(step.template)


def view_keep(chains: tuple) -> set:
    """The slots a returned view's base is found from (kept past their last reader)."""
    return {s for _, chain in chains for _, s in chain}


def forward_schedule(graph: Graph, needs: list, saved: tuple = (), kept_nodes: tuple = ()) -> tuple[Schedule, tuple]:
    """The forward ``schedule`` of ``graph`` (``needs``: ``needs_input_grad`` per step), keeping the
    outputs, the ``saved`` slots the backward reads and the bases of returned views; and the
    outputs' ``view_chains``. ``kept_nodes``: steps whose node the backward reads."""
    chains = view_chains(graph)
    keep = set(graph.out_slots) | set(saved) | view_keep(chains)
    keep |= {g.slot for g in graph.guards if g.position >= len(graph.steps)}  # checked after the last step
    exclude = (set(kept_nodes) | {k for _, chain in chains for k, _ in chain}
               | {k for k, step in enumerate(graph.steps) if step.keeps_node})
    return schedule(graph.n_slots, list(zip(graph.steps, needs)), forward_reads(graph), keep,
                    graph.slot_meta, frozenset(exclude)), chains


def schedule(n_slots: int, steps: list, reads: list, keep, meta=None, exclude=frozenset()) -> Schedule:
    """``steps`` with, after each, the slots no later step reads and ``keep`` does not hold; with
    ``meta`` (shape and dtype per slot), the buffers of its intermediates (``buffers.plan``;
    ``exclude``: steps whose node outlives the schedule)."""
    last: dict[int, int] = {}
    for k, rs in enumerate(reads):
        for s in rs:
            last[s] = k
    kept = set(keep)
    frees: list[list[int]] = [[] for _ in steps]
    for s, k in last.items():
        if s not in kept:
            frees[k].append(s)
    for k, (step, _) in enumerate(steps):  # outputs nobody reads are dropped at once
        for s in step.outs:
            if s not in last and s not in kept:
                frees[k].append(s)
    planned = None if meta is None else buffers.plan(tuple(steps), reads, kept, meta, exclude)
    return Schedule(n_slots, tuple(steps), tuple(tuple(f) for f in frees), planned)


def live_grads(graph: Graph) -> tuple:
    return tuple(t._requires_grad for _, t in graph.lives)


