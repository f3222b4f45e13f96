"""Module backward hooks: identity nodes around a module's inputs and outputs.

The gradient with respect to a module's outputs reaches the identity node placed after
``forward`` (``grad_output``; backward pre-hooks may replace it). The gradient with respect to
its inputs reaches the identity node placed before ``forward`` (``grad_input``); there the full
backward hooks run and may replace it. This is PyTorch's ``BackwardHook`` design.
"""

from __future__ import annotations

from typing import Any

from ..autograd.function import FunctionNode
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor


class _HookIdentity(FunctionNode):
    """y_i = x_i; backward hands the incoming gradients to a callback that may replace them."""

    def __init__(self, on_backward):
        self.on_backward = on_backward

    def forward(self, *arrays):
        return tuple(arrays)

    def backward(self, *grads):
        return tuple(self.on_backward(grads))


def _grad_tensor_positions(values: tuple) -> list[int]:
    return [i for i, v in enumerate(values) if isinstance(v, Tensor) and v.requires_grad]


def _run_hooks(hooks, call, grads: tuple, what: str, name: str) -> tuple:
    """``call(hook, grads)`` for each hook in turn; a non-None result of the same length replaces
    ``grads`` (``what`` and ``name`` word the error)."""
    for hook in list(hooks):
        new = call(hook, grads)
        if new is not None:
            new = new if isinstance(new, tuple) else (new,)
            if len(new) != len(grads):
                raise RuntimeError(
                    f"{what} returned an invalid number of {name}, got {len(new)}, but expected {len(grads)}")
            grads = new
    return grads


class BackwardHookState:
    """One forward call's bookkeeping between its output node and its input node."""

    def __init__(self, module: Any):
        self.module = module
        self.n_inputs = 0
        self.input_positions: list[int] = []
        self.n_outputs = 0
        self.output_positions: list[int] = []
        self.grad_output: tuple | None = None

    def setup_inputs(self, args: tuple) -> tuple:
        self.n_inputs = len(args)
        if not is_grad_enabled():
            return args
        self.input_positions = _grad_tensor_positions(args)
        if not self.input_positions or not self.module._backward_hooks:
            self.input_positions = []
            return args
        wrapped = _HookIdentity(self._on_input_grads).apply(*(args[i] for i in self.input_positions))
        new = list(args)
        for i, t in zip(self.input_positions, wrapped):
            new[i] = t
        return tuple(new)

    def setup_outputs(self, result: Any) -> Any:
        if not is_grad_enabled():
            return result
        single = isinstance(result, Tensor)
        outs = (result,) if single else result
        if not isinstance(outs, tuple):
            return result  # dicts and other containers are passed through without hooks
        positions = _grad_tensor_positions(outs)
        if not positions:
            return result
        self.n_outputs = len(outs)
        self.output_positions = positions
        wrapped = _HookIdentity(self._on_output_grads).apply(*(outs[i] for i in positions))
        new = list(outs)
        for i, t in zip(positions, wrapped):
            new[i] = t
        return new[0] if single else tuple(new)

    @staticmethod
    def _pack(positions: list[int], grads: tuple, n: int) -> tuple:
        full: list = [None] * n
        for i, g in zip(positions, grads):
            full[i] = g
        return tuple(full)

    def _on_output_grads(self, grads: tuple) -> tuple:
        grad_output = self._pack(self.output_positions, grads, self.n_outputs)
        self.grad_output = _run_hooks(self.module._backward_pre_hooks.values(),
                                      lambda hook, g: hook(self.module, g), grad_output,
                                      "Backward pre hook", "grad_output")
        if not self.input_positions:
            # nothing upstream requires grad: the full hooks see grad_input made of None
            self._run_full_hooks((None,) * self.n_inputs)
        return tuple(self.grad_output[i] for i in self.output_positions)

    def _on_input_grads(self, grads: tuple) -> tuple:
        grad_input = self._run_full_hooks(self._pack(self.input_positions, grads, self.n_inputs))
        return tuple(grad_input[i] for i in self.input_positions)

    def _run_full_hooks(self, grad_input: tuple) -> tuple:
        return _run_hooks(self.module._backward_hooks.values(),
                          lambda hook, g: hook(self.module, g, self.grad_output), grad_input,
                          "Backward hook", "grad_input")
