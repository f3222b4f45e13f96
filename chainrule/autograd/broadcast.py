"""Broadcasting and its adjoint, the two operators the engine itself needs.

``sum_to(g, shape)`` sums ``g`` over the axes along which ``shape`` was broadcast: the engine
undoes the broadcasting of every binary operator once, here, instead of in each operator's
backward. ``broadcast_to`` is its adjoint, so each is the other's backward and both are
differentiable to any order. They live in ``autograd`` (not ``ops``) so that the core imports
nothing above it; ``ops.shape`` exports them with PyTorch's argument forms.
"""

from __future__ import annotations

from ..tensor import Tensor
from .function import FunctionNode


class SumTo(FunctionNode):
    """Sum a broadcast array back to ``shape`` (the adjoint of broadcasting)."""

    def __init__(self, shape: tuple):
        self.shape = tuple(shape)

    def forward(self, x):
        self.in_shape = x.shape
        shape = self.shape
        lead = x.ndim - len(shape)
        if lead < 0:
            raise ValueError("cannot sum to a larger rank")
        axes = tuple(range(lead)) + tuple(
            lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1)
        for i, s in enumerate(shape):
            if s != 1 and x.shape[lead + i] != s:
                raise ValueError(f"cannot sum {x.shape} to {shape}")
        y = x.sum(axis=axes, keepdims=True) if axes else x
        if lead:
            y = y.reshape(shape)
        return y

    def backward(self, gy):
        return broadcast_to(gy, self.in_shape)


class BroadcastTo(FunctionNode):
    torch_name = "ExpandBackward0"

    _is_view = True

    def __init__(self, shape: tuple):
        self.shape = tuple(shape)

    def forward(self, x):
        self.in_shape = x.shape
        return self.xp.broadcast_to(x, self.shape)

    def backward(self, gy):
        return sum_to(gy, self.in_shape)


def sum_to(input: Tensor, shape) -> Tensor:
    """Sum ``input`` over the axes along which ``shape`` was broadcast to reach it."""
    shape = tuple(shape)
    if input._data.shape == shape:
        return input
    return SumTo(shape).apply(input)


def broadcast_to(input: Tensor, size: tuple) -> Tensor:
    """A read-only broadcast view of ``input`` with shape ``size``, a tuple of ints (-1 keeps a
    dimension); PyTorch's checks and messages."""
    nd = input._data.ndim
    if len(size) < nd:
        raise RuntimeError(
            f"the number of sizes provided ({len(size)}) must be greater or equal to the number of "
            f"dimensions in the tensor ({nd})")
    lead = len(size) - nd
    target = tuple(
        (input._data.shape[i - lead] if (s == -1 and i >= lead) else s) for i, s in enumerate(size))
    for i in range(nd):
        s_in, s_out = input._data.shape[i], target[lead + i]
        if s_in != s_out and s_in != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({s_out}) must match the existing size ({s_in}) at "
                f"non-singleton dimension {lead + i}.  Target sizes: {list(size)}.  Tensor sizes: "
                f"{list(input._data.shape)}")
    if target == input._data.shape:
        return input
    return BroadcastTo(target).apply(input)
