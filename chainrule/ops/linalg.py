"""Matrix products: matmul (batched, broadcasting) and its named special cases."""

from __future__ import annotations

from ..autograd.function import FunctionNode
from ..tensor import Tensor
from ._util import binary_operands
from .shape import reshape, transpose


class Matmul(FunctionNode):
    """``a @ b`` with NumPy/PyTorch semantics for 1-D operands and broadcast batch dimensions."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return self.xp.matmul(a, b)

    def backward(self, gy):
        a, b = self.saved_tensors
        na, nb = self.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:
            return (gy * b if na else None), (gy * a if nb else None)
        a2 = reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
        b2 = reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
        g2 = gy
        if a.ndim == 1:
            g2 = reshape(g2, g2.shape[:-1] + (1, g2.shape[-1]))
        if b.ndim == 1:
            g2 = reshape(g2, tuple(g2.shape) + (1,))
        ga = gb = None
        if na:
            ga = matmul(g2, transpose(b2, -1, -2))
            if a.ndim == 1:
                ga = reshape(ga, ga.shape[:-2] + (ga.shape[-1],))
        if nb:
            gb = matmul(transpose(a2, -1, -2), g2)
            if b.ndim == 1:
                gb = reshape(gb, gb.shape[:-1])
        return ga, gb


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product; 1-D operands are promoted to row/column vectors and batch dims broadcast."""
    a, b = binary_operands(input, other)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        ra = list(a.shape) if a.ndim > 1 else [1, a.shape[0]]
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({ra[-2] if a.ndim > 1 else 1}x{ka} and "
            f"{kb}x{b.shape[-1] if b.ndim > 1 else 1}); got tensors of shapes {list(a.shape)} and {list(b.shape)}")
    try:
        return Matmul().apply(a, b)
    except ValueError:
        raise RuntimeError(
            f"matmul: batch dimensions of shapes {list(a.shape)} and {list(b.shape)} cannot be broadcast") from None


__all__ = ["matmul"]

TENSOR_METHODS = ["matmul"]
