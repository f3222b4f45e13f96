"""One recorded forward pass, for export: the module calls and operator calls, in order.

Why a tracing mode and not a walk of the finished autograd graph: a ``grad_fn`` keeps only what
its backward needs, so the operand of ``x + c`` for a constant ``c``, or the values of a mask,
are gone by the time the graph can be walked. Here every ``FunctionNode.apply`` of the pass is
seen with all its operands (constants included) and its outputs, and a forward hook on each
module sees the module's inputs and outputs; the same machinery ``tools/_trace.py`` uses.

A module that has an ONNX mapping of its own (``_modules.MODULES``) is recorded as one event
and the operators inside it are not recorded; any other module is transparent, so a
``forward`` written with functional calls and tensor methods is recorded operator by operator.

Tensors are identified by ``(grad_fn, output_nr)`` (the input is made to require grad, so every
value computed from it has a node) and by object identity otherwise: an in-place operation
gives the same Tensor object a new node, and so a new identity, as it should.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..autograd.function import FunctionNode
from ..autograd.grad_mode import enable_grad
from ..kernels import _jit
from ..nn.module import Module
from ..tensor import Tensor


def key(t: Tensor) -> tuple:
    """The identity of the value ``t`` holds now."""
    if t.grad_fn is not None:
        return ("node", id(t.grad_fn), t.output_nr)
    return ("tensor", id(t))


def tensors(obj: Any) -> list[Tensor]:
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for item in obj for t in tensors(item)]
    if isinstance(obj, dict):
        return [t for item in obj.values() for t in tensors(item)]
    return []


@dataclass
class Event:
    """One recorded call: an operator node or a mapped module."""

    target: Any  # the FunctionNode, or the Module
    scope: str  # the name of the module it ran in ("" for the model itself)
    inputs: list  # Tensors, as they were when the call started
    in_keys: list
    outputs: list = field(default_factory=list)
    out_keys: list = field(default_factory=list)
    is_module: bool = False
    mapper: Any = None  # a module's mapping, chosen while the module was in export (eval) mode


class Recorder:
    """Records ``model(*args)``; ``mapped(module)`` gives the mapping of a module recorded whole (or None)."""

    def __init__(self, model: Module, mapped: Callable[[Module], Any]):
        self.model = model
        self.mapped = mapped
        self.names = {id(m): name for name, m in model.named_modules()}
        self.events: list[Event] = []
        self.stack: list[tuple[Module, Event | None]] = []
        self.inside = 0  # > 0 while a mapped module runs: its operators are not recorded
        self.keep: list = []  # keeps nodes alive so that their ids stay unique

    def scope(self) -> str:
        return self.names.get(id(self.stack[-1][0]), "") if self.stack else ""

    def pre_hook(self, module: Module, args: tuple) -> None:
        ev = None
        mapper = self.mapped(module) if self.inside == 0 else None
        if mapper is not None:
            ins = tensors(args)
            ev = Event(module, self.names.get(id(module), ""), ins, [key(t) for t in ins], is_module=True,
                       mapper=mapper)
        if ev is not None or self.inside:
            self.inside += 1
        self.stack.append((module, ev))

    def hook(self, module: Module, args: tuple, output: Any) -> None:
        _, ev = self.stack.pop()
        if self.inside:
            self.inside -= 1
        if ev is not None:
            ev.outputs = tensors(output)
            ev.out_keys = [key(t) for t in ev.outputs]
            self.events.append(ev)
            self.keep.extend(t.grad_fn for t in ev.outputs)

    def record_op(self, node: FunctionNode, inputs: tuple, run: Callable) -> Any:
        if self.inside:
            return run()
        ins = list(inputs)
        ev = Event(node, self.scope(), ins, [key(t) for t in ins])
        out = run()
        ev.outputs = list(out) if isinstance(out, tuple) else [out]
        ev.out_keys = [key(t) for t in ev.outputs]
        self.events.append(ev)
        self.keep.append(node)
        return out

    def run(self, args: tuple) -> Any:
        handles = []
        original = FunctionNode.apply
        recorder = self

        def apply(node, *inputs):
            return recorder.record_op(node, inputs, lambda: original(node, *inputs))

        try:
            for m in self.model.modules():
                handles.append(m.register_forward_pre_hook(self.pre_hook))
                handles.append(m.register_forward_hook(self.hook))
            # a tracing mode for the length of one call, restored in any case
            FunctionNode.apply = apply  # type: ignore[method-assign]
            # one pass: the compiled kernels would cost more to load (numba) than they save
            with enable_grad(), _jit.disabled():
                return self.model(*args)
        finally:
            FunctionNode.apply = original  # type: ignore[method-assign]
            for h in handles:
                h.remove()
