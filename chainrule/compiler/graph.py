"""A recorded call as a flat schedule, and its replay.

A ``Graph`` is what ``trace.record`` saw: the call's inputs, live tensors and constants placed in
numbered slots, then one ``Step`` per operator, in the order they ran. ``replay`` runs the steps
on new inputs: each step is a fresh copy of the recorded operator node, applied to the tensors in
its input slots, so the autograd graph it builds (and every gradient) is the eager one, made
without the Python around the operators (argument parsing, checks, operand conversion). Where
``fuse.py`` has replaced a chain of element-wise steps by one fused step, that step runs one
compiled kernel for the chain forward and one for its gradient.

An effect step is a write outside the graph that the call made (an in-place method, batch norm's
update of its running statistics; see ``autograd.capture.effect``): replay calls its function again
on the replayed values, in its place in the schedule, so buffers and tensors written in place end
up as eager leaves them.

``flat.py`` runs the same steps on raw arrays once a graph has a plan (``Graph.flat``).

``Guard``s are the values the call read into Python; replay recomputes each at the point of the
schedule where it was read and raises ``GuardFailed`` when one differs, before anything outside
the call has changed (the random-number state is restored by the caller).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..autograd import grad_mode
from ..tensor import Tensor
from .buffers import may_view


class GuardFailed(Exception):
    """A value the recorded call read into Python is different on this call."""


@dataclass
class Step:
    """One operator of the schedule: ``template`` copied before it first ran."""

    template: Any
    ins: tuple  # slot per input
    outs: tuple  # slot per output
    single: bool  # the operator returned one Tensor, not a tuple
    grad: bool  # grad mode when it ran
    node: Any  # the node that ran while recording (dropped once the graph is built)
    subst: tuple = ()  # (attribute, spec): values of the call the node holds (see ``fill``)
    fused: tuple = ()  # for a fused step: the steps it replaces (for explain and double backward)
    name: str = ""  # PyTorch's name of the operator's backward node, as it was when recorded
    effect: Any = None  # for a write outside the graph (``capture.effect``): the function to call
    keeps_node: bool = False  # an effect reads this operator's node: replay keeps it by its first output


@dataclass
class Guard:
    """``kind`` (item, __bool__, ...) of the tensor in ``slot`` gave ``value`` after ``position`` steps."""

    position: int
    slot: int
    kind: str
    value: Any
    where: str

    def holds(self, t: Tensor) -> bool:
        now = getattr(Tensor, self.kind)(t)
        return type(now) is type(self.value) and bool(now == self.value)


@dataclass
class Graph:
    spec: Any  # the structure of (args, kwargs), tensors numbered
    n_slots: int
    input_slots: tuple  # (slot, index among the flattened input tensors)
    lives: tuple  # (slot, Tensor)
    consts: tuple  # (slot, Tensor)
    steps: tuple
    guards: tuple
    out_spec: Any
    out_slots: tuple
    slot_meta: tuple  # (shape, dtype) per slot
    stats: dict = field(default_factory=dict)

    flat: Any = None  # ``flat.py``'s plan for this graph: None (not yet decided), False (cannot), a plan
    _written: dict = field(default_factory=dict)  # "consts"/"lives" -> the slots written (see below)

    def written_consts(self) -> frozenset:
        """The constant slots an in-place write of the call may change (through the constant or a
        view of it): each call starts from a copy of those, as eager starts from a new tensor
        (``z = zeros(()); z.add_(x.sum())`` would otherwise add up across calls)."""
        return self._written_of("consts")

    def written_lives(self) -> frozenset:
        """The live slots (buffers such as batch norm's running statistics) an in-place write of the
        call may change, directly or through a view."""
        return self._written_of("lives")

    def _written_of(self, kind: str) -> frozenset:
        found = self._written.get(kind)
        if found is None:
            origin = const_origins(self.steps, {s for s, _ in getattr(self, kind)})
            found = self._written[kind] = frozenset(s for step in self.steps if step.effect is not None
                                                    for s in written_by(written_specs(step.effect, step.subst), origin))
        return found

    def replay(self, inputs: list) -> Any:
        """The call's result for new ``inputs`` (the flattened tensors of the arguments)."""
        vals = self.run(inputs)
        return build(self.out_spec, [vals[s] for s in self.out_slots])

    def run(self, inputs: list, nodes: list | None = None, lives: dict | None = None) -> list:
        """Every slot's tensor after the steps have run on ``inputs``; with ``nodes``, the node of
        each step is appended to it (None for an effect step); ``lives``: slot -> tensor standing
        for a live tensor (a recomputation writes into those instead of the live buffers)."""
        vals: list[Any] = [None] * self.n_slots
        for s, i in self.input_slots:
            vals[s] = inputs[i]
        for s, t in self.lives:
            vals[s] = t if lives is None else lives.get(s, t)
        written = self.written_consts()
        for s, t in self.consts:
            vals[s] = Tensor._make(t._data.copy()) if s in written else t
        guards, g, steps = self.guards, 0, self.steps
        kept: dict[int, Any] = {}  # first output slot -> node, of the steps an effect reads
        mode = outer = grad_mode.is_grad_enabled()
        try:
            for k in range(len(steps) + 1):  # the guards read after k steps, then step k
                while g < len(guards) and guards[g].position <= k:
                    if not guards[g].holds(vals[guards[g].slot]):
                        raise GuardFailed(guards[g].where)
                    g += 1
                if k == len(steps):
                    break
                step = steps[k]
                if step.grad is not mode:
                    mode = step.grad
                    grad_mode._set_enabled(mode)
                if step.effect is not None:
                    out = step.effect(*[kept[spec[1]] if spec[0] == "node" else fill(spec, vals)
                                        for _, spec in step.subst])
                    if step.outs:
                        vals[step.outs[0]] = out
                    if nodes is not None:
                        nodes.append(None)
                    continue
                node = object.__new__(type(step.template))
                node.__dict__.update(step.template.__dict__)
                for name, spec in step.subst:
                    setattr(node, name, fill(spec, vals))
                out = node.apply(*[vals[s] for s in step.ins])
                if step.keeps_node:
                    kept[step.outs[0]] = node
                if nodes is not None:
                    nodes.append(node)
                if step.single:
                    vals[step.outs[0]] = out
                else:
                    for s, o in zip(step.outs, out):
                        vals[s] = o
        finally:
            if mode is not outer:
                grad_mode._set_enabled(outer)
        return vals


def const_origins(steps, consts: set) -> dict:
    """Slot -> the slot it is (one of ``consts``, constants or live tensors) or is a view of, through
    ``steps``."""
    origin = {s: s for s in consts}
    for step in steps:
        if step.effect is None and step.ins and step.ins[0] in origin and may_view(step.template):
            for o in step.outs:
                origin[o] = origin[step.ins[0]]
        elif step.effect is not None and step.outs and len(step.subst) == 1 and only_reads(step.effect, 1):
            spec = step.subst[0][1]  # detach, .data: a tensor around the memory of its one argument
            if spec[0] == "slot" and spec[1] in origin:
                origin[step.outs[0]] = origin[spec[1]]
    return origin


def only_reads(effect: Any, n_args: int) -> bool:
    """Whether an effect of ``n_args`` arguments writes into none of them (``detach``, ``.data``)."""
    return getattr(effect, "reads_only", ()) == tuple(range(n_args))


def written_specs(effect: Any, subst: tuple) -> tuple:
    """The ``(position, spec)`` pairs of an effect's arguments it may write into: all of them, except
    the positions its function lists in ``reads_only`` (``autograd.capture.effect``)."""
    reads = getattr(effect, "reads_only", ())
    return tuple((i, spec) for i, spec in subst if i not in reads)


def written_by(subst: tuple, origin: dict) -> set:
    """The constant slots an in-place write with arguments ``subst`` may change (``origin``: see
    ``const_origins``)."""
    return {origin[s] for _, spec in subst if spec[0] != "node" for s in spec_slots(spec) if s in origin}


def fill(spec: tuple, vals: list) -> Any:
    """An operator's attribute rebuilt from the slots: ``("slot", s, raw)`` is the tensor in slot
    ``s`` (its array when ``raw``), ``("const", v)`` is ``v``, ``("seq", type, items)`` and
    ``("dict", keys, items)`` rebuild containers (named tuples by their fields)."""
    kind = spec[0]
    if kind == "slot":
        v = vals[spec[1]]
        return v._data if spec[2] else v
    if kind == "const":
        return spec[1]
    if kind == "seq":
        items = [fill(c, vals) for c in spec[2]]
        return spec[1](*items) if hasattr(spec[1], "_fields") else spec[1](items)
    return dict(zip(spec[1], (fill(c, vals) for c in spec[2])))


def spec_slots(spec: tuple) -> list:
    """The slots an attribute spec (see ``fill``) reads."""
    kind = spec[0]
    if kind in ("slot", "node"):  # a node: the one of the step that made this slot
        return [spec[1]]
    if kind in ("seq", "dict"):
        return [s for c in spec[2] for s in spec_slots(c)]
    return []


def build(spec: Any, tensors: list) -> Any:
    """The call's result: ``spec`` (see ``trace.flatten``) with its tensors put back."""
    kind, v = spec
    if kind == "T":
        return tensors[v]
    if kind == "V":
        return v
    if kind == "named":
        return v[0](*(build(x, tensors) for x in v[1]))
    if kind == "tuple":
        return tuple(build(x, tensors) for x in v)
    if kind == "list":
        return [build(x, tensors) for x in v]
    return {k: build(x, tensors) for k, x in v}
