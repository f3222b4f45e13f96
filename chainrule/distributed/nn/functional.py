"""Collectives that autograd can differentiate (``torch.distributed.nn.functional``).

``all_reduce`` with SUM: every rank's output is the sum of every rank's input, so the gradient
of rank r's input is the sum over ranks of the gradients of their outputs: the backward of a
SUM all-reduce is again a SUM all-reduce. Every rank must run backward through it (same order).
"""

from __future__ import annotations

from ...autograd.function import Function
from ...tensor import Tensor
from .. import collectives
from ..process_group import ProcessGroup, ReduceOp


class _AllReduceSum(Function):
    @staticmethod
    def forward(ctx, group, tensor: Tensor) -> Tensor:
        ctx.group = group
        out = Tensor._make(tensor._data.copy())
        collectives.all_reduce(out, ReduceOp.SUM, group)
        return out

    @staticmethod
    def backward(ctx, grad: Tensor):
        # again a SUM all-reduce, itself differentiable (double backward under create_graph)
        return None, _AllReduceSum.apply(ctx.group, grad)


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: ProcessGroup | None = None) -> Tensor:
    """out = sum over ranks of ``tensor`` (a new tensor; ``tensor`` is left alone); differentiable."""
    if op is not ReduceOp.SUM:
        raise ValueError(f"chainrule.distributed.nn.functional.all_reduce is differentiable for ReduceOp.SUM only, "
                         f"got {op!r}")
    if not isinstance(tensor, Tensor):
        raise TypeError(f"all_reduce: tensor must be a Tensor, got {type(tensor).__name__}")
    return _AllReduceSum.apply(group, tensor)
