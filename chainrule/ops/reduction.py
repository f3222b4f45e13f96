"""Reductions: sums, means, extrema, variances, norms, softmax and friends."""

from __future__ import annotations

from ..autograd.function import FunctionNode
from ..tensor import Tensor
from ._util import wrap_dims
from .shape import broadcast_to, reshape


class Sum(FunctionNode):
    def __init__(self, dims: tuple, keepdim: bool):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        self.in_shape = x.shape
        return x.sum(axis=self.dims, keepdims=self.keepdim)

    def backward(self, gy):
        return broadcast_to(_unsqueeze_reduced(gy, self.in_shape, self.dims, self.keepdim), self.in_shape)


def _unsqueeze_reduced(g: Tensor, in_shape: tuple, dims: tuple, keepdim: bool) -> Tensor:
    """Put back the reduced axes (as size 1) so that ``g`` broadcasts against the input."""
    if keepdim:
        return g
    shape = tuple(1 if i in dims else s for i, s in enumerate(in_shape))
    return reshape(g, shape)


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (all axes when None); bool and integer inputs sum to int64."""
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "bui":
        from .. import backend

        input = input.to(backend.int64)
    return Sum(wrap_dims(dim, input._data.ndim), keepdim).apply(input)


__all__ = ["sum"]

TENSOR_METHODS = ["sum"]
