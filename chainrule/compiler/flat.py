"""Replay as a flat schedule of kernel calls: no Tensor or graph node per operator.

``graph.py`` replays a recorded call by applying a fresh copy of each operator node to Tensors,
which builds the eager autograd graph again on every call. Where a graph allows it, this module
replays it on raw arrays instead, forward and backward:

* **forward**: each step's node (copied from its template, its attributes filled from the slots)
  runs its ``forward`` on the arrays of its input slots; no Tensor, no edge, no saved-value
  bookkeeping. A slot is dropped as soon as its last reader has run (memory planning by
  liveness: what is left after the forward is the call's result and what the backward reads).
  Intermediates only the schedule sees are written into buffers made once and reused by every
  call (``buffers.py``). With grad mode off (inference), that is the whole replay.
* **backward**: the call's outputs get one node of their own, ``CompiledFunctionBackward`` (PyTorch's
  name for a compiled region), whose edges go to the tensors the call's gradient flows to (its
  inputs and the live tensors, such as parameters, that require grad). Its backward runs a
  *recorded backward schedule*: the operators the eager engine ran to differentiate the same
  graph, recorded once (``BackwardRecorder``) and replayed, again on raw arrays, reading the
  forward's values from the forward's slots and the forward state of its nodes (pooling routes,
  masks) from the nodes of this call. Slots are dropped after their last reader here too.

How a graph gets its plan (``call``): the first replay of a graph decides. A graph with grad mode
off in every step runs flat from that replay on. A graph that
records a backward runs its first replay on nodes as before, with its outputs behind one
``CompiledFunctionBackward`` node; the first backward through that node runs the eager engine
on the nodes under a ``BackwardRecorder`` (``backward_record.py``), so that backward's gradients
are the eager ones, and, when everything it did could be recorded, keeps the plan (``plan.py``):
the next calls run flat.

A graph keeps replaying on nodes (``graph.flat = False``) when: an in-place write involves an
argument of the call (in-place writes into values of the call, such as ``ReLU(inplace=True)`` and
``out += identity``, and into buffers, such as batch norm's running statistics, are steps of the
flat schedule too: each is called as on nodes, on tensors around the arrays it writes); an output is
not made by an operator step (an input or parameter returned as it is) or is returned twice; an
operator of the forward is not in ``static_ops.STATIC_BACKWARD`` (operators whose backward's
structure - which operators it runs, on what - depends only on shapes, dtypes, which inputs need a
gradient and hyper-parameters, never on values: ``Prod``'s backward, for one, branches on whether
a factor is zero, which a recorded schedule would freeze); the backward does something a schedule
cannot repeat (reads a value into Python, uses a tensor made outside the operators that is neither
a forward value nor forward state of a node of the call, keeps an attribute of a type not known to
be a constant); or a target of the gradient is a non-leaf tensor with hooks (the recording run
would call them a second time). A returned view is a view as in eager (``_share_bases``): of the
input or value it views, whose version counter it shares.

Semantics kept: gradients accumulate into ``.grad`` through the engine as in eager (hooks of the
leaves run there); a saved input or parameter modified in place before backward raises eager's
error; a second backward without ``retain_graph`` raises eager's error; ``create_graph=True``
recomputes the forward on nodes from the call's inputs (as ``torch.utils.checkpoint`` does) and
differentiates that, so higher derivatives go through the eager code. Values: the same operators
run on the same arrays in the same order as on nodes, so results are equal bit for bit; where a
leaf's gradient gets contributions from inside and from outside the compiled call, the inside ones
are summed first.
"""


from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from ..autograd import capture
from ..autograd.engine import retaining, run_backward
from ..autograd.function import _FREED_MSG, _NO_GRAD, Node, _connect, _modified_msg
from ..autograd.grad_mode import enable_grad, is_grad_enabled
from ..backend import array_module
from ..tensor import Tensor
from .backward_record import BackwardRecorder
from .buffers import unalias
from .fuse import FusedNode
from .graph import Graph, GuardFailed, build
from .plan import Plan, Schedule, forward_schedule, live_grads, static_refusal, view_keep

__all__ = ["CompiledRegion", "Plan", "call", "static_refusal"]


# ---- deciding ------------------------------------------------------------------------------
def call(graph: Graph, inputs: list) -> Any:
    """The result of ``graph`` on ``inputs``: flat when it has a plan, else on nodes (deciding
    on a plan at the first replay; see the module docstring)."""
    plan = graph.flat
    if isinstance(plan, Plan):
        return _run_flat(graph, plan, inputs)
    if plan is False:
        return graph.replay(inputs)
    why = static_refusal(graph)
    if why is not None:
        graph.flat = False
        graph.stats["flat"] = why
        return graph.replay(inputs)
    if not any(step.grad for step in graph.steps):
        forward, chains = forward_schedule(graph, [_NO_GRAD[len(s.ins)] for s in graph.steps])
        graph.flat = Plan(forward, None, views=chains, base_grads=dict.fromkeys(view_keep(chains), False))
        return graph.replay(inputs)
    return _replay_recording_backward(graph, inputs)


# ---- running on raw arrays -----------------------------------------------------------------
def _run_steps(schedule: Schedule, vals: list, tensors: dict, guards: tuple = (), nodes: dict | None = None) -> None:
    """Run ``schedule`` on the raw values in ``vals`` (in place). ``tensors``: slot -> the Tensor of
    an input or live slot (for attributes that hold a Tensor); ``nodes``: step -> node, filled for
    the steps it has as keys. Intermediates go into the schedule's buffers where it has them
    (``buffers.py``) and no other run holds them."""
    planned = schedule.buffers
    arrays = planned.take() if planned is not None else None
    try:
        _run(schedule, vals, tensors, guards, nodes, arrays)
    finally:
        if planned is not None and arrays is not None:
            planned.give_back()


def _run(schedule: Schedule, vals: list, tensors: dict, guards: tuple, nodes: dict | None,
         arrays: list | None) -> None:
    checks = None
    if arrays is not None and schedule.buffers is not None:
        checks = schedule.buffers.checks
    g = 0
    by_slot: dict[int, Any] = {}  # first output slot -> node, of the steps an effect reads
    for k, (step, needs) in enumerate(schedule.steps):
        while g < len(guards) and guards[g].position <= k:
            _check(guards[g], vals)
            g += 1
        if step.effect is not None:  # an in-place write (plan.static_refusal), as on nodes
            out = step.effect(*[by_slot[spec[1]] if spec[0] == "node" else _fill(spec, vals, tensors)
                                for _, spec in step.subst])
            if step.outs:  # a new value (the snapshot of a value about to be written)
                vals[step.outs[0]] = out._data
            for s in schedule.frees[k]:
                vals[s] = None
            continue
        node = object.__new__(type(step.template))
        node.__dict__.update(step.template.__dict__)
        for name, spec in step.subst:
            setattr(node, name, _fill(spec, vals, tensors))
        ins = [vals[s] for s in step.ins]
        node.xp = xp = array_module(*ins)
        node.needs_input_grad = needs
        into = None if arrays is None else arrays[k]
        out = node.forward(*ins) if into is None else node.forward(*ins, out=into)
        if checks is not None and checks[k]:  # an output in an input's buffer would be overwritten
            raw = schedule.buffers.arrays(checks[k])  # type: ignore[union-attr]
            out = unalias(out, raw) if step.single else [unalias(o, raw) for o in out]
        if step.single:
            vals[step.outs[0]] = out if type(out) is np.ndarray else xp.asarray(out)
        else:
            for s, o in zip(step.outs, out):
                vals[s] = o if type(o) is np.ndarray else xp.asarray(o)
        if step.keeps_node:
            by_slot[step.outs[0]] = node
        if nodes is not None and k in nodes:  # kept for its forward state: not for what it saved
            node._to_save = None
            nodes[k] = node
        for s in schedule.frees[k]:
            vals[s] = None
    while g < len(guards):
        _check(guards[g], vals)
        g += 1


def _check(guard: Any, vals: list) -> None:
    if not guard.holds(Tensor._make(vals[guard.slot])):
        raise GuardFailed(guard.where)


def _fill(spec: tuple, vals: list, tensors: dict) -> Any:
    kind = spec[0]
    if kind == "slot":
        v = vals[spec[1]]
        if spec[2] or not isinstance(v, np.ndarray):
            return v
        t = tensors.get(spec[1])
        return t if t is not None else Tensor._make(v)
    if kind == "const":
        return spec[1]
    if kind == "seq":
        items = [_fill(c, vals, tensors) for c in spec[2]]
        return spec[1](*items) if hasattr(spec[1], "_fields") else spec[1](items)
    return dict(zip(spec[1], (_fill(c, vals, tensors) for c in spec[2])))


def _run_flat(graph: Graph, plan: Plan, inputs: list) -> Any:
    if plan.live_grads is not None and plan.live_grads != live_grads(graph):
        # a parameter was frozen or unfrozen since (not part of the signature): plan again
        graph.flat = None
        return call(graph, inputs)
    graph.stats["flat_calls"] = graph.stats.get("flat_calls", 0) + 1
    vals: list[Any] = [None] * graph.n_slots
    tensors: dict[int, Tensor] = {}
    for s, i in graph.input_slots:
        t = inputs[i]
        vals[s] = t._data
        tensors[s] = t
    for s, t in graph.lives:
        vals[s] = t._data
        tensors[s] = t
    written = graph.written_consts()
    for s, t in graph.consts:
        vals[s] = t._data.copy() if s in written else t._data
    nodes: dict[int, Any] = dict.fromkeys(plan.nodes_kept)
    for _, chain in plan.views:
        nodes.update((k, None) for k, _ in chain)
    if plan.backward is None:
        _run_steps(plan.forward, vals, tensors, graph.guards, nodes)
        outs = [Tensor._make(vals[s]) for s in graph.out_slots]
        _share_bases(graph, plan, outs, vals, tensors, nodes, [])
        return build(graph.out_spec, outs)
    versions = [(tensors[s], tensors[s]._version[0]) for s in plan.saved if s in tensors]
    rng = backend.default_generator.get_state() if plan.random else None
    # the buffers this call writes, as they are before it: a recomputation (create_graph) writes
    # into copies of these, so that running statistics are not updated a second time
    written = graph.written_lives()
    before = {s: t._data.copy() for s, t in graph.lives if s in written and not t._requires_grad}
    _run_steps(plan.forward, vals, tensors, graph.guards, nodes)
    targets = _targets(plan.targets, inputs)
    node = CompiledRegion(graph, plan, inputs, versions, [vals[s] for s in plan.saved], nodes)
    node.rng, node.lives_before = rng, before
    outs = list(_connect(node, targets, tuple(vals[s] for s in graph.out_slots)))
    _outside_graph(outs, plan.out_grads)
    _share_bases(graph, plan, outs, vals, tensors, nodes, versions)
    return build(graph.out_spec, outs)


def _outside_graph(outs: list | tuple, grads: tuple) -> None:
    """The outputs that did not require grad when planned are not outputs of the compiled node."""
    for o, g in zip(outs, grads):
        if not g and o._requires_grad:
            o._requires_grad, o.grad_fn, o._output_nr = False, None, 0


def _share_bases(graph: Graph, plan: Plan, outs: list, vals: list, tensors: dict, nodes: dict,
                 versions: list) -> None:
    """Make each returned view a view as eager makes it: that of the tensor whose memory it shares,
    with ``_base`` that tensor (an in-place write with grad into a view of a value computed inside
    the call raises, where eager records it into the value: that value is no tensor of the graph
    here; one made under ``no_grad`` into a view of a value the backward reads makes the backward
    raise). A base computed inside the call, which eager holds as a tensor of
    its graph, is a tensor around its array with the ``requires_grad`` it had when planned."""
    made: dict[int, Tensor] = {}
    for j, chain in plan.views:
        base = None
        for k, s in chain:
            if not nodes[k]._is_view:
                break
            base = s
        if base is None:
            continue
        t = tensors.get(base)
        if t is None and base in graph.out_slots:
            t = outs[graph.out_slots.index(base)]
        if t is None:
            t = made.get(base)
            if t is None:
                t = made[base] = Tensor._make(vals[base], plan.base_grads.get(base, False))
                t._compiled_intermediate = True  # type: ignore[attr-defined]  # a write through the view says why
                if base in plan.saved:  # the backward reads it: a write through the view must show
                    versions.append((t, 0))
        elif t._base is not None:
            t = t._base
        outs[j]._version = t._version
        outs[j]._base = t


def _targets(spec: tuple, inputs: list) -> tuple:
    return tuple(inputs[v] if kind == "input" else v for kind, v in spec)


# ---- the node of a compiled call ------------------------------------------------------------
class CompiledRegion(Node):
    """The backward of one compiled call: the recorded backward schedule on this call's values
    (see the module docstring). Without a schedule yet (``plan`` None) it holds the call's eager
    outputs and records the schedule while the engine differentiates them."""

    torch_name = "CompiledFunctionBackward"

    def __init__(self, graph: Graph, plan: Plan | None, inputs: list, versions: list, saved: list,
                 nodes: dict, eager_outs: tuple = (), targets: tuple = ()):
        self.graph, self.plan, self.inputs = graph, plan, inputs
        self.versions, self.saved_values, self.nodes = versions, saved, nodes
        self.eager_outs, self.targets = eager_outs, targets
        self.rng: Any = None  # the random generator's state before the forward, where it drew numbers
        self.lives_before: dict = {}  # live slot -> its array before the call, of the buffers it writes
        # while recording (plan None): every slot's tensor of the replay on nodes, its nodes and
        # each node's needs_input_grad
        self.slot_values: list = []
        self.step_nodes: list = []
        self.step_needs: tuple = ()
        self.targets_spec: tuple = ()  # ("input", index) or ("live", Tensor) per tensor of ``targets``

    def compiled_steps(self) -> list:
        """``(name, fused operators or None)`` per operator step of the call (for the graph renderer)."""
        return [(step.name, step.template.fused_ops() if isinstance(step.template, FusedNode) else None)
                for step in self.graph.steps]

    def _release_extra(self) -> None:
        """After a backward without ``retain_graph``: nothing of the call is kept (its inputs too,
        which only a recomputation reads), so an output kept for later keeps no batch alive."""
        self._freed = True
        self.saved_values = self.nodes = self.eager_outs = None  # type: ignore[assignment]
        self.lives_before = {}
        self.slot_values = self.step_nodes = self.inputs = self.versions = []

    def backward(self, *grads):
        if self._freed:
            raise RuntimeError(_FREED_MSG)
        for t, version in self.versions:
            if t._version[0] != version:
                raise RuntimeError(_modified_msg(t.grad_fn, t.shape, t._version[0], version))
        if all(g is None for g in grads):
            return (None,) * len(self.next_functions)
        if self.plan is None:
            return self._record(grads)
        if is_grad_enabled():  # create_graph: differentiate the forward recomputed on nodes
            return self._differentiate(self._recompute(), grads)
        plan = self.plan.backward
        assert plan is not None
        vals: list[Any] = [None] * plan.schedule.n_slots
        for s, j in plan.grad_slots:
            vals[s] = grads[j]._data
        saved = dict(zip(self.plan.saved, self.saved_values))
        for s, fs in plan.forward_slots:
            vals[s] = saved[fs]
        for s, k, name in plan.state_slots:
            vals[s] = getattr(self.nodes[k], name)
        for s, t in plan.consts:
            vals[s] = t._data
        if not retaining():  # released after this backward anyway: the schedule frees each value
            del saved  # after its last reader, as the eager engine releases each node's saved values
            self._release()
        _run_steps(plan.schedule, vals, {})
        return tuple(None if s is None else Tensor._make(vals[s]) for s in plan.results)

    def _recompute(self) -> list:
        """The forward again on nodes, from the call's inputs (drawing the same random numbers), its
        writes into buffers going to copies of what those held before the call."""
        lives = {s: Tensor._make(a.copy()) for s, a in self.lives_before.items()}
        if self.rng is None:
            return self.graph.run(self.inputs, lives=lives)
        gen = backend.default_generator
        now = gen.get_state()
        gen.set_state(self.rng)
        try:
            return self.graph.run(self.inputs, lives=lives)
        finally:
            gen.set_state(now)

    def _differentiate(self, vals: list, grads: tuple) -> tuple:
        """The gradients of the call's inputs, with a graph, from the slots of a forward on nodes."""
        outs = tuple(vals[s] for s in self.graph.out_slots)
        diff = [(o, g) for o, g in zip(outs, grads) if o._requires_grad]
        assert self.plan is not None
        with enable_grad():
            return tuple(run_backward(tuple(o for o, _ in diff), [g for _, g in diff], retain_graph=True,
                                      create_graph=True, inputs=_targets(self.plan.targets, self.inputs),
                                      accumulate=False, allow_unused=True, leaf_hooks=False))

    def _record(self, grads: tuple) -> tuple:
        """Differentiate the eager outputs, recording the backward; keep the plan if it could be."""
        graph, outs, targets = self.graph, self.eager_outs, self.targets
        if (is_grad_enabled() or capture.active() is not None or isinstance(graph.flat, Plan)
                or graph.flat is False):
            return _eager_grads(outs, grads, targets, is_grad_enabled())
        fresh = []  # one array per output gradient, so that each is a slot of its own
        seen: set[int] = set()
        for g in grads:
            data = g._data if g is not None else None
            if data is not None and id(data) in seen:
                data = data.copy()
            if data is not None:
                seen.add(id(data))
            fresh.append(None if data is None else Tensor._make(data))
        rec = BackwardRecorder(fresh, self.slot_values, self.step_nodes)
        with capture.capturing(rec):
            results = _eager_grads(outs, fresh, targets, False)
        plan = rec.plan(results, graph, self.step_needs, self.targets_spec, self.slot_values)
        if isinstance(plan, str):
            graph.flat = False
            graph.stats["flat"] = plan
        else:
            graph.flat = plan
        return results


def _eager_grads(outs: tuple, grads, targets: tuple, create_graph: bool) -> tuple:
    pairs = [(o, g) for o, g in zip(outs, grads) if g is not None and o._requires_grad]
    return tuple(run_backward(tuple(o for o, _ in pairs), [g for _, g in pairs], retain_graph=True,
                              create_graph=create_graph, inputs=targets, accumulate=False,
                              allow_unused=True, leaf_hooks=False))


def _replay_recording_backward(graph: Graph, inputs: list) -> Any:
    """Replay on nodes; the outputs go behind a ``CompiledRegion`` that records the backward."""
    nodes: list = []
    vals = graph.run(inputs, nodes)
    outs = tuple(vals[s] for s in graph.out_slots)
    needs = tuple(() if n is None else n.needs_input_grad for n in nodes)  # None: an effect step
    if not any(o._requires_grad for o in outs):  # nothing to differentiate: the forward alone
        forward, chains = forward_schedule(graph, list(needs))
        graph.flat = Plan(forward, None, live_grads=live_grads(graph), views=chains,
                          base_grads={s: vals[s]._requires_grad for s in view_keep(chains)})
        return build(graph.out_spec, list(outs))
    targets_spec = []
    for _, i in graph.input_slots:
        if inputs[i]._requires_grad:
            targets_spec.append(("input", i))
    for _, t in graph.lives:
        if t._requires_grad:
            targets_spec.append(("live", t))
    targets = _targets(tuple(targets_spec), inputs)
    for t in targets:
        fn = t.grad_fn
        if fn is not None and (fn._pre_hooks or fn._node_pre_hooks or fn._post_hooks):
            graph.flat = False
            graph.stats["flat"] = "a non-leaf input with hooks"
            return build(graph.out_spec, list(outs))
    node = CompiledRegion(graph, None, inputs, [], [], {}, outs, targets)
    node.slot_values, node.step_nodes, node.step_needs = vals, nodes, needs
    node.targets_spec = tuple(targets_spec)
    wrapped = _connect(node, targets, tuple(o._data for o in outs))
    _outside_graph(wrapped, tuple(o._requires_grad for o in outs))
    for w, o in zip(wrapped, outs):  # a returned view stays one (see _share_bases)
        w._base, w._version = o._base, o._version
    return build(graph.out_spec, list(wrapped))


