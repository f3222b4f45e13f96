"""Activation functions: relu, leaky_relu, elu, gelu, silu, softplus.

Each backward is written with differentiable operators (masks are constants of the node), so
second derivatives work where the function has them.
"""

from __future__ import annotations

import math

from ..autograd.function import FunctionNode
from ..tensor import Tensor
from ._util import float_operand
from .elementwise import erf, exp, minimum, sigmoid, tanh, where


# ---- activations --------------------------------------------------------------------------------
class Relu(FunctionNode):
    def forward(self, x):
        y = self.xp.maximum(x, 0)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_arrays
        return gy * Tensor._make((y > 0).astype(gy._data.dtype))


class LeakyRelu(FunctionNode):
    def __init__(self, slope: float):
        self.slope = slope

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.where(x > 0, x, x * x.dtype.type(self.slope))

    def backward(self, gy):
        (x,) = self.saved_arrays
        return gy * Tensor._make(self.xp.where(x > 0, 1.0, self.slope).astype(gy._data.dtype))


class Elu(FunctionNode):
    def __init__(self, alpha: float):
        self.alpha = alpha

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.where(x > 0, x, self.alpha * self.xp.expm1(self.xp.minimum(x, 0))).astype(x.dtype)

    def backward(self, gy):
        (x,) = self.saved_tensors
        positive = x._data > 0
        # for x <= 0 the derivative is alpha * exp(x), itself differentiable in x
        neg = exp(minimum(x, 0.0)) * self.alpha
        return gy * where(positive, 1.0, neg)


class Softplus(FunctionNode):
    def __init__(self, beta: float, threshold: float):
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        xp = self.xp
        bx = x * self.beta
        soft = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / self.beta
        self.save_for_backward(x)
        return xp.where(bx > self.threshold, x, soft).astype(x.dtype)

    def backward(self, gy):
        (x,) = self.saved_tensors
        linear = x._data * self.beta > self.threshold
        return gy * where(linear, 1.0, sigmoid(x * self.beta))


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0); the derivative at 0 is taken as 0 (PyTorch's choice)."""
    if inplace:
        return input.relu_()
    return Relu().apply(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    y = LeakyRelu(float(negative_slope)).apply(input)
    return _maybe_inplace(input, y, inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha (e^x - 1) otherwise."""
    return _maybe_inplace(input, Elu(float(alpha)).apply(float_operand(input, "elu")), inplace)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x) with Phi the standard normal CDF; ``approximate='tanh'`` uses the tanh formula."""
    x = float_operand(input, "gelu")
    if approximate == "none":
        return x * (erf(x * (1.0 / math.sqrt(2.0))) + 1.0) * 0.5
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
        return x * (tanh(inner) + 1.0) * 0.5
    raise ValueError(f"approximate argument must be either none or tanh, got '{approximate}'")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    x = float_operand(input, "silu")
    return _maybe_inplace(input, x * sigmoid(x), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta, linear where beta x > threshold."""
    return Softplus(float(beta), float(threshold)).apply(float_operand(input, "softplus"))


def _maybe_inplace(input: Tensor, result: Tensor, inplace: bool) -> Tensor:
    if not inplace:
        return result
    return input.copy_(result) if not (input.requires_grad or result.requires_grad) else result


__all__ = [
    "relu", "leaky_relu", "elu", "gelu", "silu", "softplus"
]

TENSOR_METHODS = [
    "relu"
]
