"""Activation functions: relu, leaky_relu, elu, gelu, silu, softplus, and the compositions
relu6, hardtanh, softmin, logsigmoid, hardswish, hardsigmoid, mish, selu, celu, glu, prelu,
softsign, tanhshrink, threshold.

Each backward is written with differentiable operators (masks are constants of the node), so
second derivatives work where the function has them.
"""

from __future__ import annotations

import math

from .. import kernels
from ..autograd.function import FunctionNode, named_output
from ..tensor import Tensor
from ._util import float_operand, wrap_dim
from .elementwise import abs as _abs
from .elementwise import clamp, erf, exp, minimum, sigmoid, tanh, where
from .indexing import narrow
from .shape import reshape
from .softmax import softmax


# ---- activations --------------------------------------------------------------------------------
class Relu(FunctionNode):
    """``y = max(x, 0)``; its backward is ``ReluGrad``, one node for every order of derivative."""

    def forward(self, x, out=None):
        """``out``: an array the result may be written into (a compiled schedule's buffer)."""
        y = kernels.call("pointwise", "relu", self.xp, x, out=out)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_arrays
        return ReluGrad(y).apply(gy)


class ReluGrad(FunctionNode):
    """``gy`` where the ReLU's output ``y`` is positive (or NaN), 0 where ``y <= 0`` (PyTorch's
    ``threshold_backward``). The forward is the fast kernel (compiled where it runs); the node is
    linear in ``gy`` with ``y`` a constant, so its own backward is itself, and first and second
    derivatives run the same code."""

    def __init__(self, y):
        self.y = y

    def forward(self, gy, out=None):
        return kernels.call("pointwise", "relu_backward", self.xp, gy, self.y, out=out)

    def backward(self, g):
        return ReluGrad(self.y).apply(g)


class LeakyRelu(FunctionNode):
    def __init__(self, slope: float):
        self.slope = slope

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.where(x > 0, x, x * x.dtype.type(self.slope))

    def backward(self, gy):
        (x,) = self.saved_arrays
        return LeakyReluGrad(x, self.slope).apply(gy)


class LeakyReluGrad(FunctionNode):
    """``gy`` times the leaky ReLU's slope at the saved input ``x`` (1 where ``x > 0``, ``slope``
    elsewhere): one node, linear in ``gy`` with ``x`` a constant, so its own backward is itself (a
    recorded backward schedule, ``compiler/flat.py``, replays it on the call's ``x``)."""

    def __init__(self, x, slope: float):
        self.x, self.slope = x, slope

    def forward(self, gy):
        return gy * self.xp.where(self.x > 0, 1.0, self.slope).astype(gy.dtype)

    def backward(self, g):
        return LeakyReluGrad(self.x, self.slope).apply(g)


class Elu(FunctionNode):
    def __init__(self, alpha: float):
        self.alpha = alpha

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.where(x > 0, x, self.alpha * self.xp.expm1(self.xp.minimum(x, 0))).astype(x.dtype, copy=False)

    def backward(self, gy):
        (x,) = self.saved_tensors
        positive = x > 0  # an operator, so that a recorded backward (compiler/flat.py) makes it anew
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
        return xp.where(bx > self.threshold, x, soft).astype(x.dtype, copy=False)

    def backward(self, gy):
        (x,) = self.saved_tensors
        linear = x * self.beta > self.threshold  # operators, as in Elu.backward
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


@named_output("GeluBackward0")
def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x) with Phi the standard normal CDF; ``approximate='tanh'`` uses the tanh formula."""
    x = float_operand(input, "gelu")
    if approximate == "none":
        return x * (erf(x * (1.0 / math.sqrt(2.0))) + 1.0) * 0.5
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
        return x * (tanh(inner) + 1.0) * 0.5
    raise ValueError(f"approximate argument must be either none or tanh, got '{approximate}'")


@named_output("SiluBackward0")
def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    x = float_operand(input, "silu")
    return _maybe_inplace(input, x * sigmoid(x), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta, linear where beta x > threshold."""
    return Softplus(float(beta), float(threshold)).apply(float_operand(input, "softplus"))


# ---- compositions of the operators above (the maths of nn's activation modules) ----------------------
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@named_output("HardtanhBackward0")
def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """clamp(x, min_val, max_val)."""
    if max_val < min_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _maybe_inplace(input, clamp(input, min_val, max_val), inplace)


@named_output("HardtanhBackward0")
def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along ``dim``."""
    return softmax(-input, dim, _stacklevel=_stacklevel + 1, dtype=dtype)


@named_output("LogSigmoidBackward0")
def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), stable for large |x|."""
    return -softplus(-float_operand(input, "log_sigmoid"))


@named_output("HardsigmoidBackward0")
def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear in between."""
    x = float_operand(input, "hardsigmoid")
    return _maybe_inplace(input, clamp(x + 3.0, 0.0, 6.0) * (1.0 / 6.0), inplace)


@named_output("HardswishBackward0")
def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6."""
    x = float_operand(input, "hardswish")
    return _maybe_inplace(input, x * clamp(x + 3.0, 0.0, 6.0) * (1.0 / 6.0), inplace)


@named_output("MishBackward0")
def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    x = float_operand(input, "mish")
    return _maybe_inplace(input, x * tanh(softplus(x)), inplace)


@named_output("EluBackward0")
def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with scale = 1.0507..., alpha = 1.6733... (self-normalising)."""
    return _maybe_inplace(input, elu(input, _SELU_ALPHA) * _SELU_SCALE, inplace)


@named_output("CeluBackward0")
def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha (e^(x/alpha) - 1) otherwise (= alpha * elu(x / alpha))."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu's alpha must be non-zero")
    x = float_operand(input, "celu")
    return _maybe_inplace(input, elu(x * (1.0 / alpha)) * alpha, inplace)


@named_output("GluBackward0")
def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b), where a and b are the two halves of ``input`` along ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = wrap_dim(dim, input.ndim)
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    return narrow(input, d, 0, n // 2) * sigmoid(narrow(input, d, n // 2, n // 2))


@named_output("PreluKernelBackward0")
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """max(0, x) + w min(0, x); ``weight`` has one slope, or one per channel (dimension 1)."""
    w = weight
    if w.numel() != 1:
        channels = input.shape[1] if input.ndim >= 2 else (input.shape[0] if input.ndim == 1 else 1)
        if w.ndim != 1 or w.shape[0] != channels:
            raise RuntimeError(
                f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                f"{w.numel()} and channel size = {channels}.")
        if input.ndim >= 2:
            w = reshape(w, (channels,) + (1,) * (input.ndim - 2))
    elif input.ndim == 0:
        w = reshape(w, ())
    return relu(input) - w * relu(-input)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (_abs(input) + 1.0)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return input - tanh(input)


@named_output("ThresholdBackward0")
def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, ``value`` elsewhere."""
    return _maybe_inplace(input, where(input > threshold, input, value), inplace)


def _maybe_inplace(input: Tensor, result: Tensor, inplace: bool) -> Tensor:
    if not inplace:
        return result
    return input.copy_(result) if not (input.requires_grad or result.requires_grad) else result


__all__ = [
    "relu", "leaky_relu", "elu", "gelu", "silu", "softplus", "selu", "celu", "prelu", "threshold",
]  # relu6, hardtanh, softmin, logsigmoid, ... are nn.functional only, as in PyTorch

TENSOR_METHODS = [
    "relu", "prelu"
]
