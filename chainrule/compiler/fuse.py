"""Fusion: runs of element-wise steps become one step that runs one generated kernel.

``fuse(graph)`` walks the schedule and groups consecutive element-wise steps (the operators of
``OPS``) of one shape, one floating dtype and one grad mode, whose inputs have that shape or are
0-d (scalars). A group of two or more becomes a ``FusedNode`` step: its inputs are the values the
group reads from outside, its outputs the values of the group used after it (by later steps,
guards or the call's result). The chain is handed to the ``fused`` kernel family as a
``Program`` (``kernels/fused_program.py``): one kernel computes the forward and one the
gradient, recomputing the chain from its inputs instead of keeping every intermediate.

``FusedNode.backward`` runs that gradient kernel when no graph of the gradient is wanted; under
``create_graph=True`` it replays the original operators on the saved inputs and runs their own
backward, so higher derivatives go through the same code as in eager mode.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .. import kernels
from ..autograd.function import FunctionNode
from ..autograd.grad_mode import is_grad_enabled
from ..kernels.fused_program import Instr, Program
from ..ops import activation as A
from ..ops import elementwise as E
from .graph import Graph, Step, spec_slots

# operator node -> the program's op name; attributes of the node the op needs
OPS: dict[type, str] = {
    E.Add: "add", E.Sub: "sub", E.Mul: "mul", E.Div: "div", E.Maximum: "maximum", E.Minimum: "minimum",
    E.Neg: "neg", E.Exp: "exp", E.Log: "log", E.Sqrt: "sqrt", E.Rsqrt: "rsqrt", E.Tanh: "tanh",
    E.Sigmoid: "sigmoid", A.Relu: "relu", E.Abs: "abs", E.Sin: "sin", E.Cos: "cos", E.Log1p: "log1p",
    E.Expm1: "expm1", E.PowScalar: "pow_scalar",
}
MIN_GROUP = 2  # a single operator gains nothing from a generated kernel


class FusedNode(FunctionNode):
    """A chain of element-wise operators run as one generated kernel (forward and gradient)."""

    torch_name = "CompiledFunctionBackward"  # PyTorch's name of a compiled region's backward node

    def __init__(self, program: Program, steps: tuple, in_slots: tuple, out_slots: tuple):
        self.program = program
        self.steps = steps  # the original steps, for double backward and for the graph drawing
        self.in_slots = in_slots
        self.out_slots = out_slots
        self._materialize_grads = False

    def fused_ops(self) -> list[str]:
        """The operators fused here, in order (PyTorch names of their backward nodes); the graph
        renderer (``autograd/graph.py``) boxes them."""
        return [s.name for s in self.steps]

    def forward(self, *arrays):
        self.save_for_backward(*arrays)
        outs = kernels.call("fused", "forward", self.xp, *arrays, program=self.program)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def backward(self, *grads):
        if is_grad_enabled():  # create_graph=True: the operators' own backward, differentiable
            return self._backward_by_operators(grads)
        ins = self.saved_tensors
        present = tuple(g is not None for g in grads)
        needs = tuple(self.needs_input_grad)
        out = FusedGrad(self.program, needs, present).apply(*ins, *[g for g in grads if g is not None])
        got = iter(out if isinstance(out, tuple) else (out,))
        return tuple(next(got) if need else None for need in needs)

    def _backward_by_operators(self, grads: tuple) -> tuple:
        vals: dict[int, Any] = dict(zip(self.in_slots, self.saved_tensors))
        nodes = []
        for step in self.steps:  # the chain again, recording its own graph
            node = object.__new__(type(step.template))
            node.__dict__.update(step.template.__dict__)
            out = node.apply(*[vals[s] for s in step.ins])
            vals[step.outs[0]] = out
            nodes.append((step, out))
        adj: dict[int, Any] = {}
        for s, g in zip(self.out_slots, grads):
            if g is not None:
                adj[s] = g
        for step, out in reversed(nodes):
            g = adj.pop(step.outs[0], None)
            if g is None or out.grad_fn is None:
                continue
            ins = out.grad_fn._call_backward([g])
            for s, gi in zip(step.ins, ins):
                if gi is not None:
                    adj[s] = gi if s not in adj else adj[s] + gi
        return tuple(adj.get(s) for s in self.in_slots)


class FusedGrad(FunctionNode):
    """The gradient of a ``FusedNode``'s chain: one call of the generated gradient kernel, on the
    chain's inputs and the gradients of its outputs (``present[j]``: output j has one; only those
    are inputs here), giving the gradient of each input that ``needs`` (the others are not
    outputs). An operator of its own so that a recorded backward (``flat.py``) can replay it; it
    runs only without a graph of the gradient (``FusedNode`` differentiates its operators under
    ``create_graph=True``), so it has no backward."""

    def __init__(self, program: Program, needs: tuple, present: tuple):
        self.program, self.needs, self.present = program, needs, present

    def forward(self, *arrays):
        n = self.program.n_inputs
        given = iter(arrays[n:])
        grads = [next(given) if p else None for p in self.present]
        out = kernels.call("fused", "backward", self.xp, *arrays[:n], *grads, program=self.program,
                           needs=self.needs)
        got = tuple(g for g, need in zip(out, self.needs) if need)
        return got[0] if len(got) == 1 else got


def _eligible(step: Step, graph: Graph) -> tuple | None:
    """(shape, dtype, grad mode) of an element-wise step that can join a group, else None."""
    op = OPS.get(type(step.template))
    if op is None or step.subst or step.keeps_node or len(step.outs) != 1:
        return None
    shape, dtype = graph.slot_meta[step.outs[0]]
    if dtype.kind != "f" or dtype.itemsize not in (4, 8):
        return None
    for s in step.ins:
        ishape, idt = graph.slot_meta[s]
        if idt != dtype or (ishape != shape and ishape != ()):
            return None
    return shape, dtype, step.grad


def _program(group: list[Step], outs: list[int]) -> tuple[Program, tuple]:
    """The chain as a program returning the slots ``outs``, and the slots of its inputs in register order."""
    produced = {s.outs[0] for s in group}
    in_slots: list[int] = []
    for step in group:
        for s in step.ins:
            if s not in produced and s not in in_slots:
                in_slots.append(s)
    reg = {s: i for i, s in enumerate(in_slots)}
    instrs = []
    for step in group:
        dst = len(reg)
        attr = float(step.template.p) if type(step.template) is E.PowScalar else None
        instrs.append(Instr(OPS[type(step.template)], dst, tuple(reg[s] for s in step.ins), attr))
        reg[step.outs[0]] = dst
    return Program(len(in_slots), tuple(instrs), tuple(reg[s] for s in outs)), tuple(in_slots)


def fuse(graph: Graph) -> Graph:
    """``graph`` with its runs of element-wise steps fused (the graph itself if there are none)."""
    steps = list(graph.steps)
    guard_at = {g.position for g in graph.guards}
    used_after: dict[int, int] = {}  # slot -> index of the last step that reads it
    for k, step in enumerate(steps):
        for s in step.ins:
            used_after[s] = k
        for _, spec in step.subst:
            for s in spec_slots(spec):
                used_after[s] = k
    escaping = set(graph.out_slots) | {g.slot for g in graph.guards}
    groups: list[tuple[int, int]] = []  # [start, stop) of each run
    start, key = 0, None
    for k in range(len(steps) + 1):
        kk = _eligible(steps[k], graph) if k < len(steps) else None
        if kk is None or kk != key or k in guard_at:
            if key is not None and k - start >= MIN_GROUP:
                groups.append((start, k))
            start, key = k, kk
    if not groups:
        return graph
    out_steps: list[Step] = []
    done = 0
    n_fused = 0
    for a, b in groups:
        out_steps.extend(steps[done:a])
        group = steps[a:b]
        outs = [s.outs[0] for s in group if s.outs[0] in escaping or used_after.get(s.outs[0], -1) >= b]
        if not outs:  # nothing of the run is used: keep it as it was
            out_steps.extend(group)
            done = b
            continue
        program, in_slots = _program(group, outs)
        node = FusedNode(program, tuple(group), in_slots, tuple(outs))
        out_steps.append(Step(node, in_slots, tuple(outs), len(outs) == 1, group[0].grad, None, (), tuple(group),
                              node.name()))
        n_fused += len(group)
        done = b
    out_steps.extend(steps[done:])
    fused = dataclasses.replace(graph, steps=tuple(out_steps))
    # guards keep their place in the new schedule (a run never spans a guard's position)
    shift = [dataclasses.replace(g, position=g.position - sum(b - a - 1 for a, b in groups if g.position >= b))
             for g in graph.guards]
    fused = dataclasses.replace(fused, guards=tuple(shift), stats={**graph.stats, "fused_ops": n_fused,
                                                                     "fused_kernels": len(groups)})
    return fused
