"""Recording one eager call as a static graph: which operators ran, on what, in what order.

``record(fn, args, kwargs)`` runs ``fn`` eagerly inside ``autograd.capture.capturing`` and turns
what it saw into a ``Graph`` (``graph.py``): a flat list of steps, each an operator node (copied
before it ran, so its hyper-parameters are kept and its forward state is not) and the slots its
inputs come from and its outputs go to. A slot is a value of the call:

* an input - a Tensor among the arguments (found anywhere in tuples, lists and dicts);
* a live tensor - one that existed before the call (a parameter, a buffer, a tensor the function
  closes over): replay reads it anew each time, so updates to it are seen;
* a constant - a tensor made during the call outside any operator from numbers, lists, NumPy
  arrays and sizes of the code (``autograd.capture.literal``: what a Python number such as the
  ``0.5`` of ``y * 0.5`` or the ``0`` of ``x > 0`` becomes, ``torch.tensor([1, 2])``,
  ``torch.zeros(3)``, ``torch.arange(n)``; not ``torch.rand(3)``, which is the ``Draw`` operator
  inside a capture), or a table an operator built from sizes alone (``kernels.tables.size_only``:
  padding maps, pooling and interpolation matrices, the positions of a list index); a returned
  constant is copied on every call by a ``Clone`` step;
* an output of an earlier step.

Writes into tensors' memory that the library makes through ``autograd.capture.effect`` (the
in-place methods such as ``add_``/``mul_``/``relu_``, ``x += y``, batch norm's running statistics)
are steps too: an effect step calls the same function again on replay, reading the replayed
tensors (and, for batch norm, the replayed operator node whose batch statistics it folds in).

What cannot be replayed is refused with ``Unsupported`` (a graph break), naming the reason and
the user's source line: any other tensor made outside the operators (a value computed by code that
records no node, such as a raw-array helper), any other in-place write (``out=``, random fills),
a value read into Python after an in-place write (a replay that finds it changed could not undo
the write), a custom ``autograd.Function``, a backward pass, a
tensor hook, ``numpy()``. Values read into Python
(``item``, ``bool``, ``float``, ``int``, ``tolist``) become guards: replay recomputes them and
gives up (for a re-trace) when one differs, so a data-dependent branch is never replayed wrongly.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import capture
from ..autograd.function import FunctionNode
from ..autograd.grad_mode import is_grad_enabled
from ..kernels.tables import is_size_only
from ..ops.shape import Clone
from ..tensor import Tensor
from .graph import Graph, Guard, Step, const_origins, only_reads, written_by, written_specs

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # chainrule/
# code of the package that is a user of the library, not part of it: its lines are worth naming
_USER_PARTS = tuple(os.path.join(_PACKAGE, part) + os.sep for part in ("models", "cli"))


class Unsupported(Exception):
    """Something in the call cannot be captured; ``where`` is the user's source line."""

    def __init__(self, reason: str, where: str = ""):
        super().__init__(f"{reason} ({where})" if where else reason)
        self.reason = reason
        self.where = where


def user_line() -> str:
    """``file:line`` of the innermost frame of the user's code: outside chainrule, or in its
    ready-made models and command line (which use the library as a user would)."""
    f: Any = sys._getframe(1)
    while f is not None:
        name = f.f_code.co_filename
        if not name.startswith(_PACKAGE) or name.startswith(_USER_PARTS):
            return f"{name}:{f.f_lineno}"
        f = f.f_back
    return "?"


def flatten(obj: Any, out: list) -> Any:
    """The structure of ``obj`` with each Tensor replaced by ``("T", index into out)``."""
    if isinstance(obj, Tensor):
        out.append(obj)
        return ("T", len(out) - 1)
    if type(obj) in (tuple, list):
        return (type(obj).__name__, tuple(flatten(v, out) for v in obj))
    if isinstance(obj, tuple) and hasattr(type(obj), "_fields"):  # a named tuple (torch.return_types)
        return ("named", (type(obj), tuple(flatten(v, out) for v in obj)))
    if type(obj) is dict:
        return ("dict", tuple((k, flatten(v, out)) for k, v in obj.items()))
    return ("V", obj)


class Recorder:
    """The observer of one eager call (see ``autograd.capture``)."""

    def __init__(self, inputs: list[Tensor]):
        self.slot_of: dict[int, int] = {}  # id(Tensor) -> slot
        self.slot_of_data: dict[int, int] = {}  # id(raw array of a slot's tensor) -> its first slot
        self.keep: list[Any] = []  # every Tensor seen, alive until the end (ids stay unique)
        self.input_slots: list[tuple[int, int]] = []
        self.lives: list[tuple[int, Tensor]] = []
        self.consts: list[tuple[int, Tensor]] = []
        self.steps: list[Step] = []
        self.guards: list[Guard] = []
        self.const_slots: dict[tuple, int] = {}  # (dtype, bytes) -> slot of a constant
        self.const_shared: set[int] = set()  # constant slots that more than one tensor reads
        self.origins: dict[int, str] = {}  # id -> source line, of tensors made outside the operators
        self.n_slots = 0
        self.meta: list[tuple] = []  # (shape, dtype) per slot, as the value was when recorded
        self.error: Unsupported | None = None
        self.step_of_node: dict[int, int] = {}  # id(node that ran) -> its step
        self.in_effect = False  # an effect is running: its writes are the step being recorded
        self.effects = 0
        self.literals: set[int] = set()  # ids of tensors made from the caller's numbers (capture.literal)
        self.literal_data: dict[int, Tensor] = {}  # id(array) -> such a tensor
        for i, t in enumerate(inputs):
            if id(t) not in self.slot_of:
                self.input_slots.append((self._new_slot(t), i))

    def _new_slot(self, t: Tensor) -> int:
        s = self.n_slots
        self.n_slots += 1
        self._bind(t, s)
        self.meta.append((t._data.shape, t._data.dtype))
        return s

    def _bind(self, t: Tensor, s: int) -> None:
        """``t`` (and its raw array) read from slot ``s``."""
        self.slot_of[id(t)] = s
        self.slot_of_data.setdefault(id(t._data), s)
        self.keep.append(t)

    def fail(self, reason: str, where: str | None = None) -> None:
        if self.error is None:  # the first reason is the one to report
            self.error = Unsupported(reason, user_line() if where is None else where)

    # ---- the observer protocol (autograd.capture) ----------------------------------------------
    def slot(self, t: Tensor, what: str) -> int | None:
        """The slot of a tensor an operator or the caller uses; new lives and constants get one."""
        s = self.slot_of.get(id(t))
        if s is not None:
            return s
        origin = self.origins.get(id(t))
        if origin is None:  # made before the call: read afresh on every replay
            s = self._new_slot(t)
            self.lives.append((s, t))
            return s
        data = t._data
        if is_size_only(data) and not t._requires_grad:  # a table built from sizes: fixed by the signature
            s = self._new_slot(t)
            self.consts.append((s, t))
            return s
        # a value from numbers, arrays and sizes of the code (never one computed from data or drawn
        # at random): a constant, kept as it is now (a later in-place write into it must not change
        # what replays start from)
        if not t._requires_grad and type(data) is np.ndarray and id(t) in self.literals:
            key = (data.dtype.str, data.tobytes()) if data.ndim == 0 else None
            s = self.const_slots.get(key) if key is not None else None
            if s is None:
                s = self._new_slot(t)
                self.consts.append((s, Tensor._make(data.copy())))
                if key is not None:  # equal 0-d constants share one slot (one input of a fused kernel)
                    self.const_slots[key] = s
            else:
                self._bind(t, s)
                self.const_shared.add(s)
            return s
        self.fail(f"{what} is a tensor of shape {list(data.shape)} and dtype {t.dtype} computed outside the "
                  "recorded operators", origin)
        return None

    def apply(self, node: FunctionNode, inputs: tuple, run: Callable) -> Any:
        if capture.depth() > 1 or self.error is not None or self.in_effect:  # part of an operator or effect
            return run()
        template = object.__new__(type(node))
        template.__dict__.update(node.__dict__)
        ins = []
        for t in inputs:
            s = self.slot(t, f"an input of {type(node).__name__}")
            ins.append(-1 if s is None else s)
        grad = is_grad_enabled()
        out = run()
        outs = out if isinstance(out, tuple) else (out,)
        out_slots = tuple(self._new_slot(o) for o in outs)
        self.step_of_node[id(node)] = len(self.steps)
        self.steps.append(Step(template, tuple(ins), out_slots, not isinstance(out, tuple), grad, node,
                               self._substitutions(template)))
        return out

    def _substitutions(self, template: FunctionNode) -> tuple:
        """(attribute, spec) for each attribute of the node that holds values of the call, also
        inside tuples, lists and dicts: ``graph.fill`` rebuilds it from the slots on replay."""
        subst = []
        for name, v in template.__dict__.items():
            spec = self._value_spec(v, f"attribute {name!r} of {type(template).__name__}")
            if spec is not None:
                subst.append((name, spec))
        return tuple(subst)

    def _value_spec(self, v: Any, what: str) -> Any:
        """How to rebuild ``v`` from the slots, or None when it holds no tensor or array."""
        if isinstance(v, Tensor):
            s = self.slot(v, what)
            return ("const", v) if s is None else ("slot", s, False)
        if isinstance(v, np.ndarray) and is_size_only(v):  # a table built from sizes: kept as it is
            return None
        if isinstance(v, np.ndarray):  # only the raw data of a slot can be replaced
            s = self.slot_of_data.get(id(v))  # the arrays of kept tensors stay alive: ids are unique
            if s is None and id(v) in self.literal_data:  # the array of a constant of the code
                s = self.slot(self.literal_data[id(v)], what)
            if s is None:
                self.fail(f"{what} is an array computed outside the recorded operators")
                return ("const", v)
            return ("slot", s, True)
        if isinstance(v, (tuple, list)):
            children = [self._value_spec(x, what) for x in v]
            if all(c is None for c in children):
                return None
            items = tuple(("const", x) if c is None else c for c, x in zip(children, v))
            return ("seq", type(v), items)
        if type(v) is dict:
            children = [self._value_spec(x, what) for x in v.values()]
            if all(c is None for c in children):
                return None
            return ("dict", tuple(v), tuple(("const", x) if c is None else c for c, x in zip(children, v.values())))
        return None

    def literal(self, t: Tensor) -> None:
        self.literals.add(id(t))  # kept alive by made(), which saw it first: the id stays unique
        self.literal_data[id(t._data)] = t

    def made(self, t: Tensor) -> None:
        self.origins[id(t)] = user_line()
        self.keep.append(t)

    def wrote(self, t: Tensor) -> None:
        if not self.in_effect:
            self.fail(f"an in-place write into a tensor of shape {list(t.shape)} (one this capture cannot "
                      "replay: out= or a random fill)")

    def effect(self, fn: Callable, args: tuple) -> Any:
        """Run ``fn(*args)`` (``autograd.capture.effect``) and record it as a step."""
        if self.in_effect or self.error is not None:  # inside the effect being recorded / nothing to record
            return fn(*args)
        name = fn.__name__.strip("_")
        what = f"the tensor of {name}" if only_reads(fn, len(args)) else f"an argument of the in-place write {name}"
        specs = tuple((i, self._effect_spec(a, what)) for i, a in enumerate(args))
        self._writing_constants(written_specs(fn, specs))
        self.in_effect = True
        try:
            out = fn(*args)
        finally:
            self.in_effect = False
        outs: tuple = ()
        if isinstance(out, Tensor) and id(out) not in self.slot_of:  # a new value later steps may read
            outs = (self._new_slot(out),)
        self.steps.append(Step(None, (), outs, True, is_grad_enabled(), None, specs, effect=fn,
                               name=name))
        self.effects += 1
        return out

    def _writing_constants(self, specs: tuple) -> None:
        """An in-place write that may change a constant of the code (``z = zeros(()); z.add_(v)``):
        replays give each call a copy of it (``Graph.written_consts``), so no later constant may
        share its slot, and none may have shared it before."""
        # through views of constants too, which a write through them changes
        for s in written_by(specs, const_origins(self.steps, {s for s, _ in self.consts})):
            if s in self.const_shared:
                self.fail("an in-place write into a constant of the code that an equal constant shares")
            for key in [k for k, v in self.const_slots.items() if v == s]:
                del self.const_slots[key]

    def _effect_spec(self, a: Any, what: str) -> tuple:
        if isinstance(a, FunctionNode):
            k = self.step_of_node.get(id(a))
            if k is None or not self.steps[k].outs:
                self.fail(f"{what} is an operator node this capture did not record")
                return ("const", a)
            self.steps[k].keeps_node = True
            return ("node", self.steps[k].outs[0])
        spec = self._value_spec(a, what)
        return ("const", a) if spec is None else spec

    def read(self, t: Tensor, kind: str, value: Any) -> None:
        if kind == "numpy":
            self.fail("numpy() hands the tensor's memory to code that records no operator")
            return
        if self.in_effect:  # the effect runs again on replay, reading the value anew
            return
        if self.effects:
            self.fail(f"a value read into Python ({kind}) after an in-place write: a replay that found it "
                      "changed could not undo the write")
            return
        s = self.slot(t, f"the tensor read by {kind}()")
        if s is not None:
            self.guards.append(Guard(len(self.steps), s, kind, value, user_line()))

    def custom(self, cls: type) -> None:
        self.fail(f"the custom autograd.Function {cls.__name__}")

    def copy_step(self, s: int) -> int:
        """A step that copies slot ``s`` (``Clone``) appended to the schedule; the slot of the copy."""
        c = self.n_slots
        self.n_slots += 1
        self.meta.append(self.meta[s])
        self.steps.append(Step(Clone(), (s,), (c,), True, is_grad_enabled(), None, name="CloneBackward0"))
        return c

    def backward(self, node: Any) -> None:
        self.fail("a backward pass inside the compiled function (call backward on its result instead)")

    def unsupported(self, t: Tensor, name: str) -> None:
        self.fail(f"Tensor.{name}() attaches Python code to the graph")


def record(fn: Callable, args: tuple, kwargs: dict) -> tuple[Any, Graph | None, Unsupported | None]:
    """Run ``fn(*args, **kwargs)`` eagerly, recording it: (its result, the graph or None, why not)."""
    inputs: list[Tensor] = []
    spec = flatten((args, kwargs), inputs)
    rec = Recorder(inputs)
    with capture.capturing(rec):
        result = fn(*args, **kwargs)
    if rec.error is not None:
        return result, None, rec.error
    outs: list[Tensor] = []
    out_spec = flatten(result, outs)
    out_slots = []
    for t in outs:
        s = rec.slot(t, "a returned value")
        if s is None:
            return result, None, rec.error
        out_slots.append(s)
    for step in rec.steps:  # names given after the operator ran (named_output)
        if step.effect is not None:
            continue
        if step.node._renamed is not None:
            step.template._renamed = step.node._renamed
        step.name = step.node.name()
        step.node = None
    origin = const_origins(rec.steps, {s for s, _ in rec.consts})
    for j, s in enumerate(out_slots):
        if s in origin:  # a constant of the code or a view of one: each call returns a copy of its own
            out_slots[j] = rec.copy_step(s)
    graph = Graph(spec, rec.n_slots, tuple(rec.input_slots), tuple(rec.lives), tuple(rec.consts),
                  tuple(rec.steps), tuple(rec.guards), out_spec, tuple(out_slots), tuple(rec.meta))
    return result, graph, None
