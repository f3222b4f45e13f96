"""More element-wise mathematics: inverse and hyperbolic trigonometry, ``atan2``, ``hypot``,
``logaddexp``, ``fmod``, ``frac``, ``nan_to_num``, ``lerp``, ``addcmul``, ``addcdiv``,
``count_nonzero``.

As in ``elementwise.py``, each backward is written with differentiable operators, so second
derivatives exist wherever the function has them.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..autograd.function import FunctionNode, named_output
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from ._util import binary_operands, check_tensor, float_operand, to_tensor, wrap_dims
from .compare import isfinite
from .elementwise import _Binary, exp, log, maximum, rsqrt, trunc, where

# ---- inverse trigonometric and hyperbolic functions -------------------------------------------------


class Atan(FunctionNode):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.arctan(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / (x * x + 1.0)


class Asin(FunctionNode):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.arcsin(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * rsqrt(1.0 - x * x)


class Acos(FunctionNode):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.arccos(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return -gy * rsqrt(1.0 - x * x)


class Sinh(FunctionNode):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.sinh(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * cosh(x)


class Cosh(FunctionNode):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.cosh(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * sinh(x)


class Asinh(FunctionNode):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.arcsinh(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * rsqrt(x * x + 1.0)


class Acosh(FunctionNode):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.arccosh(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * rsqrt(x * x - 1.0)


class Atanh(FunctionNode):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.arctanh(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / (1.0 - x * x)


class Atan2(_Binary):
    """atan2(a, b): the angle of the point (b, a); d/da = b / r^2, d/db = -a / r^2."""

    def compute(self, a, b):
        self.save_for_backward(a, b)
        return self.xp.arctan2(a, b)

    def backward(self, gy):
        a, b = self.saved_tensors
        na, nb = self.needs_input_grad
        r2 = a * a + b * b
        return (gy * b / r2 if na else None), (-gy * a / r2 if nb else None)


class Hypot(_Binary):
    """sqrt(a^2 + b^2); d/da = a / y."""

    def compute(self, a, b):
        y = self.xp.hypot(a, b)
        self.save_for_backward(a, b, y)
        return y

    def backward(self, gy):
        a, b, y = self.saved_tensors
        na, nb = self.needs_input_grad
        return (gy * a / y if na else None), (gy * b / y if nb else None)


class Fmod(_Binary):
    """C's fmod: a - trunc(a / b) b (the sign of ``a``); d/da = 1, d/db = -trunc(a / b)."""

    def compute(self, a, b):
        if a.dtype.kind in "iub" and (b == 0).any():  # checked here, so a compiled replay checks too
            raise RuntimeError("ZeroDivisionError")
        self.save_for_backward(a, b)
        return self.xp.fmod(a, b)

    def backward(self, gy):
        na, nb = self.needs_input_grad
        gb = None
        if nb:
            a, b = self.saved_tensors
            with no_grad():  # piecewise constant in a and b: a constant of the graph, made by operators
                q = trunc(a / b).to(gy.dtype)
            gb = -gy * q
        return (gy if na else None), gb


class Frac(FunctionNode):
    """x - trunc(x); its derivative is 1 (away from the integers, where it jumps)."""

    def forward(self, x):
        return x - self.xp.trunc(x)

    def backward(self, gy):
        return gy


class NanToNum(FunctionNode):
    """NaN, +inf, -inf replaced by numbers; the gradient passes only where the input was finite."""

    def __init__(self, nan: float, posinf, neginf):
        self.nan, self.posinf, self.neginf = nan, posinf, neginf

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.nan_to_num(x, nan=self.nan, posinf=self.posinf, neginf=self.neginf)

    def backward(self, gy):
        (x,) = self.saved_tensors
        # gy times 0/1, also where every input is finite (gy * 1 is gy bit for bit): a mask made
        # by operators, which a recorded backward makes anew
        return gy * isfinite(x).to(gy.dtype)


# ---- functional wrappers ----------------------------------------------------------------------------
def atan(input: Tensor) -> Tensor:
    """arctan x; derivative 1 / (1 + x^2)."""
    return Atan().apply(float_operand(input, "atan"))


def asin(input: Tensor) -> Tensor:
    """arcsin x on [-1, 1]; derivative 1 / sqrt(1 - x^2)."""
    return Asin().apply(float_operand(input, "asin"))


def acos(input: Tensor) -> Tensor:
    """arccos x on [-1, 1]; derivative -1 / sqrt(1 - x^2)."""
    return Acos().apply(float_operand(input, "acos"))


def sinh(input: Tensor) -> Tensor:
    """(e^x - e^-x) / 2; derivative cosh x."""
    return Sinh().apply(float_operand(input, "sinh"))


def cosh(input: Tensor) -> Tensor:
    """(e^x + e^-x) / 2; derivative sinh x."""
    return Cosh().apply(float_operand(input, "cosh"))


def asinh(input: Tensor) -> Tensor:
    """log(x + sqrt(x^2 + 1)); derivative 1 / sqrt(x^2 + 1)."""
    return Asinh().apply(float_operand(input, "asinh"))


def acosh(input: Tensor) -> Tensor:
    """log(x + sqrt(x^2 - 1)) for x >= 1; derivative 1 / sqrt(x^2 - 1)."""
    return Acosh().apply(float_operand(input, "acosh"))


def atanh(input: Tensor) -> Tensor:
    """log((1 + x) / (1 - x)) / 2 on (-1, 1); derivative 1 / (1 - x^2)."""
    return Atanh().apply(float_operand(input, "atanh"))


def _float_pair(input, other, name: str) -> tuple[Tensor, Tensor]:
    a, b = binary_operands(input, other)
    if a._data.dtype.kind != "f":
        a, b = float_operand(a, name), float_operand(b, name)
    return a, b


def atan2(input, other) -> Tensor:
    """The angle of the point (other, input) in (-pi, pi]: atan(input / other) with quadrants."""
    return Atan2().apply(*_float_pair(input, other, "atan2"))


arctan2 = atan2


def hypot(input, other) -> Tensor:
    """sqrt(input^2 + other^2), without overflow for large operands."""
    a, b = binary_operands(input, other)
    if a._data.dtype.kind != "f":
        raise RuntimeError(f"\"hypot_cpu\" not implemented for '{a.dtype}'")
    return Hypot().apply(a, b)


@named_output("Exp2Backward0")
def exp2(input: Tensor) -> Tensor:
    """2^x; derivative 2^x log 2."""
    x = float_operand(check_tensor(input, "exp2"), "exp2")
    return exp(x * math.log(2.0))


@named_output("LogaddexpBackward0")
def logaddexp(input, other) -> Tensor:
    """log(e^a + e^b), computed as m + log(e^(a-m) + e^(b-m)) with m = max(a, b) held constant.

    m cancels from the derivative (d/da = e^a / (e^a + e^b)), so holding it constant keeps the
    gradient exact and avoids overflow for large operands.
    """
    a, b = _float_pair(input, other, "logaddexp")
    with no_grad():  # m by operators, outside the graph: a compiled replay makes it anew
        m = maximum(a, b)
        m = where(isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):  # log(0) = -inf is the right answer when both are -inf
        return log(exp(a - m) + exp(b - m)) + m


def fmod(input, other) -> Tensor:
    """C's remainder a - trunc(a / b) b: the result has the sign of the dividend ``input``."""
    a, b = binary_operands(input, other)
    return Fmod().apply(a, b)  # an integer division by zero raises in its forward


def frac(input: Tensor) -> Tensor:
    """x - trunc(x), the fractional part with the sign of x (floating-point inputs only)."""
    x = check_tensor(input, "frac")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"\"frac_cpu\" not implemented for '{x.dtype}'")
    return Frac().apply(x)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """NaN -> ``nan``, +inf -> ``posinf`` (default: the dtype's largest value), -inf -> ``neginf``."""
    x = check_tensor(input, "nan_to_num")
    if x._data.dtype.kind != "f":
        return x.clone()
    return NanToNum(nan, posinf, neginf).apply(x)


@named_output(lambda input, end, weight, **k: f"LerpBackward{int(isinstance(weight, Tensor))}")
def lerp(input: Tensor, end: Tensor, weight) -> Tensor:
    """input + weight (end - input); ``weight`` is a number or a tensor (all three broadcast)."""
    x, e = check_tensor(input, "lerp"), check_tensor(end, "lerp", "end")
    if x._data.dtype != e._data.dtype:
        raise RuntimeError(f"expected dtype {x.dtype} for `end` but got dtype {e.dtype}")
    if isinstance(weight, Tensor) and weight._data.dtype != x._data.dtype:
        raise RuntimeError(f"expected dtype {x.dtype} for `weight` but got dtype {weight.dtype}")
    return x + (e - x) * weight


@named_output("AddcmulBackward0")
def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """input + value * tensor1 * tensor2 (all broadcast together)."""
    return input + tensor1 * tensor2 * value


@named_output("AddcdivBackward0")
def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """input + value * tensor1 / tensor2 (true division; integer operands are rejected, as in PyTorch)."""
    t1, t2 = to_tensor(tensor1), to_tensor(tensor2)
    if t1._data.dtype.kind in "iub" and t2._data.dtype.kind in "iub":
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future release addcdiv will "
            "perform a true division of tensor1 and tensor2. Use input + value * (tensor1 / tensor2) "
            "instead.")
    return input + t1 / t2 * value


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """The number of non-zero elements, over all of ``input`` or along ``dim`` (int64, no gradient)."""
    x = check_tensor(input, "count_nonzero")
    if dim is not None and not isinstance(dim, (numbers.Integral, tuple, list)):
        raise TypeError(f"count_nonzero(): argument 'dim' must be int or tuple of ints, not {type(dim).__name__}")
    axis = None if dim is None else wrap_dims(dim, max(x.ndim, 1))
    return CountNonzero(axis).apply(x)


class CountNonzero(FunctionNode):
    """The number of non-zero elements along ``axis`` (all when None): int64, no gradient. A node
    so that a graph capture sees the value computed."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        data = x.reshape(1) if x.ndim == 0 else x
        return self.xp.asarray(self.xp.count_nonzero(data, axis=self.axis), dtype=np.int64)

    def backward(self, gy):  # pragma: no cover - integer outputs never receive a gradient
        return None


__all__ = [
    "atan", "arctan", "asin", "arcsin", "acos", "arccos", "sinh", "cosh", "asinh", "arcsinh", "acosh",
    "arccosh", "atanh", "arctanh", "atan2", "arctan2", "hypot", "exp2", "logaddexp", "fmod", "frac",
    "nan_to_num", "lerp", "addcmul", "addcdiv", "count_nonzero",
]

arctan, arcsin, arccos, arcsinh, arccosh, arctanh = atan, asin, acos, asinh, acosh, atanh

TENSOR_METHODS = __all__
