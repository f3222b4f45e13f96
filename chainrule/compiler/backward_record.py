"""Recording the backward of a replayed call as a schedule (``flat.py`` replays it).

``BackwardRecorder`` observes the eager engine differentiating a call replayed on nodes (through
``autograd.capture``, as ``trace.Recorder`` observes a forward) and turns what it ran into a
``plan.BackwardPlan``: each operator with the slots it reads. Its inputs are the output gradients;
a forward value (a tensor of a forward slot, or a tensor around a forward slot's array, as
``saved_tensors`` rebuilds them) reads its forward slot; an attribute of a forward node (a pooling
route, a dropout mask, a target table) reads that node's attribute on replay. Constants are kept
only when they cannot come from the data (numbers of the code, tables built from sizes, values of
known constant types); anything else made before the backward, and any value read into Python,
refuses the plan, and the graph keeps replaying on nodes.
"""

from __future__ import annotations

import dataclasses
import enum
import types
from typing import Any

import numpy as np

from .. import backend
from ..autograd.function import _NO_GRAD
from ..kernels.tables import is_size_only
from ..tensor import Tensor
from . import buffers, trace
from .graph import Graph, only_reads, spec_slots
from .plan import BackwardPlan, Plan, forward_schedule, live_grads, schedule, view_keep
from .static_ops import RANDOM

# a node's own bookkeeping, never forward state a backward reads
_NODE_FIELDS = frozenset({"xp", "needs_input_grad", "next_functions", "_in_meta", "_out_meta", "_to_save",
                          "_saved", "_n_out", "_trace", "_renamed", "_freed"})


def _is_constant(v: Any) -> bool:
    """Whether an attribute value is a constant of the signature (kept in a recorded node as is)."""
    if v is None or isinstance(v, (bool, int, float, complex, str, bytes, np.generic, np.dtype, backend.dtype,
                                   type, types.ModuleType, slice, range, enum.Enum)) or v is Ellipsis:
        return True
    if isinstance(v, (tuple, list, frozenset, set)):
        return all(_is_constant(x) for x in v)
    if type(v) is dict:
        return all(_is_constant(x) for x in v.values())
    if isinstance(v, np.ndarray):
        return is_size_only(v)
    params = getattr(type(v), "__dataclass_params__", None)
    if params is not None and params.frozen:
        return all(_is_constant(getattr(v, f.name)) for f in dataclasses.fields(v))
    return False


class BackwardRecorder(trace.Recorder):
    """Records what the engine runs to differentiate a replayed call (see the module docstring).

    Its inputs are the output gradients; a forward value (a tensor of a forward slot, or a tensor
    around a forward slot's array, as ``saved_tensors`` rebuilds them) reads its forward slot; an
    attribute of a forward node (a pooling route, a mask) reads that node's attribute on replay.
    Anything else made before the backward, and anything read into Python, is refused."""

    def __init__(self, grads: list, fwd_vals: list, fwd_nodes: list):
        super().__init__([g for g in grads if g is not None])
        self.grad_slots = []
        k = 0
        for j, g in enumerate(grads):
            if g is not None:
                self.grad_slots.append((self.input_slots[k][0], j))
                k += 1
        self.forward_slots: list[tuple[int, int]] = []
        self.fwd_slot_of: dict[int, int] = {}  # id(forward array) -> forward slot
        for fs, t in enumerate(fwd_vals):
            if t is not None:
                self.fwd_slot_of.setdefault(id(t._data), fs)
        self.fwd_tensor_of = {id(t): fs for fs, t in enumerate(fwd_vals) if t is not None}
        self.keep.extend(t for t in fwd_vals if t is not None)
        self.state_of: dict[int, tuple[int, str]] = {}  # id(attribute value) -> (step, name)
        for k, node in enumerate(fwd_nodes):
            if node is None:
                continue
            for name, v in node.__dict__.items():
                if name not in _NODE_FIELDS and not _is_constant(v) and not isinstance(v, Tensor):
                    self.state_of.setdefault(id(v), (k, name))
        self.state_slots: list[tuple[int, int, str]] = []
        self.bound: dict[tuple, int] = {}  # ("fwd", slot) / ("state", id) -> backward slot

    def _fwd_slot(self, fs: int, t: Tensor) -> int:
        s = self.bound.get(("fwd", fs))
        if s is None:
            s = self.bound[("fwd", fs)] = self._new_slot(t)
            self.forward_slots.append((s, fs))
        else:
            self._bind(t, s)
        return s

    def _state_slot(self, v: Any, holder: Any) -> int:
        s = self.bound.get(("state", id(v)))
        if s is None:
            s = self.n_slots
            self.n_slots += 1
            self.meta.append(((), None))
            self.bound[("state", id(v))] = s
            k, name = self.state_of[id(v)]
            self.state_slots.append((s, k, name))
            self.keep.append(v)
        if isinstance(holder, Tensor):
            self._bind(holder, s)
        return s

    def slot(self, t: Tensor, what: str) -> int | None:
        s = self.slot_of.get(id(t))
        if s is None:  # another tensor around a value's array (detach, saved_tensors): that value
            s = self.slot_of_data.get(id(t._data))
            if s is not None:
                self._bind(t, s)
        if s is not None:
            return s
        fs = self.fwd_tensor_of.get(id(t))
        if fs is None:
            fs = self.fwd_slot_of.get(id(t._data))
        if fs is not None:
            return self._fwd_slot(fs, t)
        if id(t._data) in self.state_of:
            return self._state_slot(t._data, t)
        if id(t) not in self.origins:
            self.fail(f"{what} is a tensor from before the backward that is not a value of the call")
            return None
        if t._data.ndim == 0 and id(t) not in self.literals and not is_size_only(t._data):
            # a 0-d value made outside the operators is a constant only when it is a number of the
            # code (``capture.literal``); one computed from the data would be frozen into the schedule
            self.fail(f"{what} is a 0-d tensor computed outside the recorded operators")
            return None
        return super().slot(t, what)

    def _value_spec(self, v: Any, what: str) -> Any:
        if isinstance(v, Tensor):
            s = self.slot(v, what)
            return ("const", v) if s is None else ("slot", s, False)
        if id(v) in self.state_of:  # forward state of a node of the call (also a tuple of arrays)
            return ("slot", self._state_slot(v, None), True)
        if isinstance(v, (tuple, list)) or type(v) is dict:
            return super()._value_spec(v, what)
        if isinstance(v, np.ndarray):
            s = self.slot_of_data.get(id(v))  # the array of a value of the backward (a mask an operator made)
            if s is not None:
                return ("slot", s, True)
            fs = self.fwd_slot_of.get(id(v))
            if fs is not None:
                return ("slot", self._fwd_slot(fs, Tensor._make(v)), True)
        if not _is_constant(v):
            self.fail(f"{what} is a value of type {type(v).__name__} that is not known to be a constant")
            return ("const", v)
        return None

    def read(self, t: Tensor, kind: str, value: Any) -> None:
        self.fail(f"a value read into Python ({kind}) in the backward")

    def effect(self, fn: Any, args: tuple) -> Any:
        if not only_reads(fn, len(args)):
            self.fail("an in-place write in the backward")
        # one that only reads (detach, .data) makes a tensor around a value's array: ``slot`` finds
        # that value by its array
        return fn(*args)

    def backward(self, node: Any) -> None:
        """The backward being recorded: nothing to refuse."""

    def plan(self, results: tuple, graph: Graph, needs: tuple, targets_spec: tuple, fwd_vals: list) -> Plan | str:
        """The plan of ``graph`` with this backward, or why there is none."""
        result_slots: list[int | None] = []
        for r in results:
            if r is None:
                result_slots.append(None)
                continue
            s = self.slot(r, "a gradient")
            result_slots.append(s)
        if self.error is not None:
            return str(self.error)
        for step in self.steps:
            step.name = ""
            step.node = None
            for name, _ in step.subst:  # filled on every replay: the recorded call's values are not kept
                step.template.__dict__[name] = None
        bsteps = [(step, _NO_GRAD[len(step.ins)]) for step in self.steps]
        breads = [list(step.ins) + [s for _, spec in step.subst for s in spec_slots(spec)] for step in self.steps]
        backward = BackwardPlan(schedule(self.n_slots, bsteps, breads, [s for s in result_slots if s is not None],
                                         self.meta),
                                tuple(self.grad_slots), tuple(self.forward_slots), tuple(self.state_slots),
                                tuple(self.consts), tuple(result_slots))
        saved = tuple(sorted({fs for _, fs in self.forward_slots}))
        kept_nodes = tuple(sorted({k for _, k, _ in self.state_slots}))
        forward, chains = forward_schedule(graph, list(needs), saved, kept_nodes)
        buffers.share(forward.buffers, backward.schedule.buffers)
        random = any(type(step.template) in RANDOM for step in graph.steps)
        base_grads = {s: fwd_vals[s]._requires_grad for s in view_keep(chains)}
        return Plan(forward, backward, saved, kept_nodes, targets_spec, random, live_grads(graph),
                    chains, base_grads, tuple(fwd_vals[s]._requires_grad for s in graph.out_slots))
