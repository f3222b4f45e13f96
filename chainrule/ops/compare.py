"""Comparisons, logic and tests of values: element-wise results without gradient."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import FunctionNode
from ..tensor import Tensor
from ._util import binary_operands, broadcast_error, no_grad_unary


class Compare(FunctionNode):
    """An element-wise comparison or logical function of two tensors: a bool result, no gradient.
    A node (rather than a raw-array helper) so that a graph capture sees the value computed."""

    def __init__(self, ufunc: str):
        self.ufunc = ufunc

    def forward(self, a, b):
        try:
            return self.xp.asarray(getattr(self.xp, self.ufunc)(a, b))
        except ValueError:
            raise broadcast_error(a, b) from None

    def backward(self, gy):  # pragma: no cover - bool outputs never receive a gradient
        return None, None


def _compare(name: str):
    def fn(input, other) -> Tensor:
        a, b = binary_operands(input, other)
        return Compare(name).apply(a, b)

    fn.__name__ = name
    fn.__doc__ = f"Element-wise ``{name}`` as a bool tensor (no gradient)."
    return fn


eq = _compare("equal")
ne = _compare("not_equal")
lt = _compare("less")
le = _compare("less_equal")
gt = _compare("greater")
ge = _compare("greater_equal")
less, less_equal, greater, greater_equal, not_equal = lt, le, gt, ge, ne
logical_and = _compare("logical_and")
logical_or = _compare("logical_or")
logical_xor = _compare("logical_xor")
bitwise_and = _compare("bitwise_and")
bitwise_or = _compare("bitwise_or")
bitwise_xor = _compare("bitwise_xor")


logical_not = no_grad_unary("logical_not", "logical_not", "Element-wise ``not`` as a bool tensor (no gradient).")
# ``invert`` is the logical not on bool arrays, as PyTorch's ``~`` is on bool tensors
bitwise_not = no_grad_unary("invert", "bitwise_not", "Element-wise ``~`` (no gradient).")
isnan = no_grad_unary("isnan", "isnan", "True where the element is NaN.")
isinf = no_grad_unary("isinf", "isinf", "True where the element is +inf or -inf.")
isfinite = no_grad_unary("isfinite", "isfinite", "True where the element is neither NaN nor infinite.")


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both tensors have the same shape and values."""
    return input.shape == other.shape and bool((input._data == other._data).all())


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    return bool(np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input: Tensor, other, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    a, b = binary_operands(input, other)
    xp = backend.array_module(a._data, b._data)
    return Tensor._make(xp.asarray(xp.isclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan)))


__all__ = [
    "eq", "ne", "lt", "le", "gt", "ge", "less", "less_equal", "greater", "greater_equal",
    "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and",
    "bitwise_or", "bitwise_xor", "bitwise_not", "isnan", "isinf", "isfinite", "equal", "allclose",
    "isclose"
]

TENSOR_METHODS = [
    "eq", "ne", "lt", "le", "gt", "ge", "less", "less_equal", "greater", "greater_equal",
    "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and",
    "bitwise_or", "bitwise_xor", "bitwise_not", "isnan", "isinf", "isfinite", "equal", "allclose",
    "isclose"
]
