"""Element-wise operators: arithmetic, math functions, activations, comparisons.

Each operator is a ``FunctionNode`` whose backward is written with differentiable operators, so
every derivative here can itself be differentiated. Binary operators broadcast; the engine sums
the gradient back to each input's shape.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import backend
from ..autograd import capture
from ..autograd.function import FunctionNode, named_output
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from ._util import binary_operands, broadcast_error, float_operand, no_grad_unary, to_tensor


class _Binary(FunctionNode):
    def compute(self, a, b):  # pragma: no cover - each operator defines it
        raise NotImplementedError

    def forward(self, a, b):
        try:
            return self.compute(a, b)
        except ValueError:
            raise broadcast_error(a, b) from None


# ---- arithmetic ---------------------------------------------------------------------------------
class Add(_Binary):
    def compute(self, a, b):
        return a + b

    def backward(self, gy):
        na, nb = self.needs_input_grad
        return (gy if na else None), (gy if nb else None)


class Sub(_Binary):
    def compute(self, a, b):
        return a - b

    def backward(self, gy):
        na, nb = self.needs_input_grad
        return (gy if na else None), (-gy if nb else None)


class Mul(_Binary):
    def compute(self, a, b):
        # as PyTorch, only what a gradient reads: x * 2 keeps no x, so a later write into x is no error
        # (a forward called outside ``apply`` has no needs_input_grad: keep both)
        na, nb = self.needs_input_grad or (True, True)
        self.save_for_backward(a if nb else None, b if na else None)
        return a * b

    def backward(self, gy):
        a, b = self.saved_tensors
        na, nb = self.needs_input_grad
        return (gy * b if na else None), (gy * a if nb else None)


class Div(_Binary):
    def compute(self, a, b):
        needs = self.needs_input_grad or (True, True)
        self.save_for_backward(a if needs[1] else None, b)  # a only for b's gradient
        return a / b

    def backward(self, gy):
        a, b = self.saved_tensors
        na, nb = self.needs_input_grad
        ga = gy / b if na else None
        gb = -gy * a / (b * b) if nb else None
        return ga, gb


class Pow(_Binary):
    """``a ** b`` with both operands tensors."""

    torch_name = "PowBackward1"

    def compute(self, a, b):
        y = a ** b
        self.save_for_backward(a, b, y)
        return y

    def backward(self, gy):
        a, b, y = self.saved_tensors
        na, nb = self.needs_input_grad
        ga = gy * b * a ** (b - 1) if na else None
        gb = None
        if nb:
            # d/db a^b = a^b log a; PyTorch sets it to 0 where a == 0 and b >= 0. The mask is an
            # operator's (a recorded backward makes it anew); where a has no zeros, log of the
            # ``where`` equals log a bit for bit
            gb = gy * y * log(where(a == 0, 1.0, a))
        return ga, gb


class PowScalar(FunctionNode):
    """``x ** p`` for a Python number ``p``."""

    torch_name = "PowBackward0"

    def __init__(self, p):
        self.p = p

    def forward(self, x):
        self.save_for_backward(x)
        p = self.p
        if p == 2:
            return x * x
        return x ** (x.dtype.type(p) if x.dtype.kind == "f" else p)

    def backward(self, gy):
        (x,) = self.saved_tensors
        p = self.p
        if p == 0:
            return gy * 0.0
        if p == 1:
            return gy
        if p == 2:
            return gy * (2.0 * x)
        return gy * (p * x ** (p - 1))


class RPowScalar(FunctionNode):
    """``c ** x`` for a Python number ``c``: derivative ``c**x * log c``."""

    torch_name = "PowBackward2"

    def __init__(self, base):
        self.base = base

    def forward(self, x):
        y = x.dtype.type(self.base) ** x
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        if self.base == 0:
            return gy * 0.0
        return gy * y * math.log(self.base)


class Neg(FunctionNode):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


# ---- math functions -----------------------------------------------------------------------------
class Exp(FunctionNode):
    def forward(self, x):
        y = self.xp.exp(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy * y


class Expm1(FunctionNode):
    def forward(self, x):
        y = self.xp.expm1(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy * (y + 1.0)


class Log(FunctionNode):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.log(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / x


class Log1p(FunctionNode):
    torch_name = "Log1PBackward0"

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.log1p(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / (x + 1.0)


class Sqrt(FunctionNode):
    def forward(self, x):
        y = self.xp.sqrt(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy / (2.0 * y)


class Rsqrt(FunctionNode):
    def forward(self, x):
        y = 1.0 / self.xp.sqrt(x)
        y = y.astype(x.dtype, copy=False)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy * (-0.5 * y * y * y)


class Abs(FunctionNode):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.abs(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * sign(x)


class Sin(FunctionNode):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.sin(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * cos(x)


class Cos(FunctionNode):
    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.cos(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return -gy * sin(x)


class Tanh(FunctionNode):
    def forward(self, x):
        y = self.xp.tanh(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return TanhGrad().apply(gy, y)


class TanhGrad(FunctionNode):
    """``gy * (1 - y^2)`` as one node (tanh's backward), itself differentiable in ``gy`` and ``y``."""

    def forward(self, gy, y):
        self.save_for_backward(gy, y)
        return gy * (1 - y * y)

    def backward(self, g):
        gy, y = self.saved_tensors
        n_gy, n_y = self.needs_input_grad
        return (TanhGrad().apply(g, y) if n_gy else None), (g * gy * y * -2.0 if n_y else None)


class Sigmoid(FunctionNode):
    def forward(self, x):
        xp = self.xp
        # exp of -|x| never overflows: both halves of the logistic written stably
        e = xp.exp(-xp.abs(x))
        d = 1.0 + e
        y = xp.where(x >= 0, 1.0 / d, e / d).astype(x.dtype, copy=False)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return SigmoidGrad().apply(gy, y)


class SigmoidGrad(FunctionNode):
    """``gy * y (1 - y)`` as one node (the logistic's backward), differentiable in ``gy`` and ``y``."""

    def forward(self, gy, y):
        self.save_for_backward(gy, y)
        return gy * (y * (1 - y))

    def backward(self, g):
        gy, y = self.saved_tensors
        n_gy, n_y = self.needs_input_grad
        return (SigmoidGrad().apply(g, y) if n_gy else None), (g * gy * (1.0 - 2.0 * y) if n_y else None)


class Erf(FunctionNode):
    def forward(self, x):
        from scipy.special import erf as _erf  # scipy arrives with scikit-learn

        self.save_for_backward(x)
        return _erf(x).astype(x.dtype, copy=False)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * (2.0 / math.sqrt(math.pi)) * exp(-(x * x))


# ---- selection ----------------------------------------------------------------------------------
class Maximum(_Binary):
    def compute(self, a, b):
        self.save_for_backward(a, b)
        return self.xp.maximum(a, b)

    def backward(self, gy):
        a, b = self.saved_tensors
        return _tie_split(gy, a, b, True, self.needs_input_grad)


class Minimum(_Binary):
    def compute(self, a, b):
        self.save_for_backward(a, b)
        return self.xp.minimum(a, b)

    def backward(self, gy):
        a, b = self.saved_tensors
        return _tie_split(gy, a, b, False, self.needs_input_grad)


def _tie_split(gy: Tensor, a: Tensor, b: Tensor, largest: bool, needs) -> tuple:
    """Route the gradient to the selected operand; on ties each gets half (PyTorch's rule)."""
    with no_grad():  # a constant of the gradient, made by an operator (a recorded backward replays it)
        wa = TieWeight(largest, gy._data.dtype).apply(a, b)
    ga = gy * wa if needs[0] else None
    gb = gy * (1.0 - wa) if needs[1] else None
    return ga, gb


class TieWeight(FunctionNode):
    """The first operand's share of the gradient of the maximum (``largest``) or minimum of two:
    1 where it is selected, 0.5 on ties, 0 elsewhere, in ``dt``. No gradient flows through it."""

    def __init__(self, largest: bool, dt):
        self.largest, self.dt = largest, dt

    def forward(self, a, b):
        first = a > b if self.largest else a < b
        return first.astype(self.dt) + 0.5 * (a == b).astype(self.dt)


class Clamp(FunctionNode):
    torch_name = "ClampBackward1"

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.clip(x, self.lo, self.hi).astype(x.dtype, copy=False)

    def backward(self, gy):
        (x,) = self.saved_arrays
        return ClampGrad(x, self.lo, self.hi).apply(gy)


class ClampGrad(FunctionNode):
    """``gy`` where the saved input ``x`` lies within ``[lo, hi]`` (the ends included), 0 elsewhere:
    one node, linear in ``gy`` with ``x`` a constant, so its own backward is itself (a recorded
    backward schedule, ``compiler/flat.py``, replays it on the call's ``x``)."""

    def __init__(self, x, lo, hi):
        self.x, self.lo, self.hi = x, lo, hi

    def forward(self, gy):
        x = self.x
        keep = self.xp.ones(x.shape, dtype=bool)
        if self.lo is not None:
            keep &= x >= self.lo
        if self.hi is not None:
            keep &= x <= self.hi
        return gy * keep.astype(gy.dtype)

    def backward(self, g):
        return ClampGrad(self.x, self.lo, self.hi).apply(g)


class Where(FunctionNode):
    """``where(cond, a, b)``; ``cond`` is a constant mask held by the node."""

    def __init__(self, cond):
        self.cond = cond

    def forward(self, a, b):
        try:
            return self.xp.where(self.cond, a, b)
        except ValueError:
            raise RuntimeError(
                f"where: condition {list(self.cond.shape)}, input {list(a.shape)} and other "
                f"{list(b.shape)} cannot be broadcast together") from None

    def backward(self, gy):
        na, nb = self.needs_input_grad
        zero = capture.literal(Tensor._make(self.xp.zeros((), dtype=gy._data.dtype)))  # a constant of the code
        ga = where(self.cond, gy, zero) if na else None
        gb = where(self.cond, zero, gy) if nb else None
        return ga, gb


# ---- functional wrappers -------------------------------------------------------------------------
def add(input, other, *, alpha=1) -> Tensor:
    """``input + alpha * other``, broadcasting."""
    if alpha != 1:
        other = mul(other, alpha)
    a, b = binary_operands(input, other)
    return Add().apply(a, b)


def sub(input, other, *, alpha=1) -> Tensor:
    """``input - alpha * other``, broadcasting."""
    if alpha != 1:
        other = mul(other, alpha)
    a, b = binary_operands(input, other)
    if a._data.dtype == np.bool_:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported.")
    return Sub().apply(a, b)


subtract = sub


def mul(input, other) -> Tensor:
    """Element-wise product, broadcasting; d(ab) = b da + a db."""
    a, b = binary_operands(input, other)
    return Mul().apply(a, b)


multiply = mul


def div(input, other, *, rounding_mode: str | None = None) -> Tensor:
    """True division (integers give floats); ``rounding_mode`` 'trunc'/'floor' gives no gradient."""
    a, b = binary_operands(input, other)
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")
        xp = backend.array_module(a._data)
        if a._data.dtype.kind == "f":
            q = a._data / b._data
            q = xp.trunc(q) if rounding_mode == "trunc" else xp.floor(q)
        else:
            if (b._data == 0).any():  # NumPy would warn and return 0; PyTorch raises
                raise RuntimeError("ZeroDivisionError")
            q = xp.floor_divide(a._data, b._data)
            if rounding_mode == "trunc":  # exact in integers (a float quotient loses int64 digits)
                q = q + ((xp.remainder(a._data, b._data) != 0) & ((a._data < 0) != (b._data < 0)))
        return Tensor._make(xp.asarray(q.astype(a._data.dtype, copy=False)))
    if a._data.dtype.kind != "f":
        a, b = a.to(backend.get_default_dtype()), b.to(backend.get_default_dtype())
    return Div().apply(a, b)


divide = true_divide = div


def floor_divide(input, other) -> Tensor:
    return div(input, other, rounding_mode="floor")


def remainder(input, other) -> Tensor:
    """Python's ``%``: ``a - floor(a / b) * b`` (gradient 1 for ``a``, -floor(a / b) for ``b``)."""
    return sub(input, mul(floor_divide(input, other), other))  # the quotient carries no gradient


def pow(input, exponent) -> Tensor:  # noqa: A001
    """``input ** exponent`` for tensors or numbers on either side."""
    if isinstance(exponent, numbers.Real) and isinstance(input, Tensor):
        if input._data.dtype.kind != "f" and isinstance(exponent, float):
            input = input.to(backend.get_default_dtype())
        if input._data.dtype.kind in "iu" and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return PowScalar(exponent).apply(input)
    if isinstance(input, numbers.Real) and isinstance(exponent, Tensor):
        x = float_operand(exponent, "pow") if isinstance(input, float) else exponent
        return RPowScalar(input).apply(x)
    a, b = binary_operands(input, exponent)
    return Pow().apply(a, b)


def neg(input: Tensor) -> Tensor:
    if input._data.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported.")
    return Neg().apply(input)


negative = neg


def exp(input: Tensor) -> Tensor:
    """e^x; its derivative is itself."""
    return Exp().apply(float_operand(input, "exp"))


def expm1(input: Tensor) -> Tensor:
    return Expm1().apply(float_operand(input, "expm1"))


def log(input: Tensor) -> Tensor:
    """Natural logarithm; derivative 1/x."""
    return Log().apply(float_operand(input, "log"))


def log1p(input: Tensor) -> Tensor:
    """log(1 + x), accurate for small x; derivative 1/(1 + x)."""
    return Log1p().apply(float_operand(input, "log1p"))


@named_output("Log2Backward0")
def log2(input: Tensor) -> Tensor:
    return log(input) * (1.0 / math.log(2.0))


def log10(input: Tensor) -> Tensor:
    return log(input) * (1.0 / math.log(10.0))


def sqrt(input: Tensor) -> Tensor:
    """Square root; derivative 1/(2 sqrt x)."""
    return Sqrt().apply(float_operand(input, "sqrt"))


def rsqrt(input: Tensor) -> Tensor:
    """1/sqrt(x); derivative -x^(-3/2)/2."""
    return Rsqrt().apply(float_operand(input, "rsqrt"))


def square(input: Tensor) -> Tensor:
    return PowScalar(2).apply(input)


@named_output("ReciprocalBackward0")
def reciprocal(input: Tensor) -> Tensor:
    x = float_operand(input, "reciprocal")
    return Div().apply(to_tensor(1.0, x.dtype), x)


def abs(input: Tensor) -> Tensor:  # noqa: A001
    """|x|; derivative sign(x) (0 at 0, as PyTorch)."""
    return Abs().apply(input)


absolute = abs


sign = no_grad_unary("sign", "sign", "-1, 0 or 1; no gradient flows (its derivative is 0 almost everywhere).")
sgn = sign


def _piecewise_constant(name: str):
    return no_grad_unary(name, name, f"Element-wise {name}; piecewise constant, so no gradient flows.")


floor = _piecewise_constant("floor")
ceil = _piecewise_constant("ceil")
trunc = _piecewise_constant("trunc")
round = _piecewise_constant("round")  # noqa: A001  (numpy and PyTorch both round half to even)


def sin(input: Tensor) -> Tensor:
    return Sin().apply(float_operand(input, "sin"))


def cos(input: Tensor) -> Tensor:
    return Cos().apply(float_operand(input, "cos"))


@named_output("TanBackward0")
def tan(input: Tensor) -> Tensor:
    return sin(input) / cos(input)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent; derivative 1 - tanh(x)^2."""
    return Tanh().apply(float_operand(input, "tanh"))


def sigmoid(input: Tensor) -> Tensor:
    """Logistic 1/(1 + e^-x), computed without overflow; derivative s(1 - s)."""
    return Sigmoid().apply(float_operand(input, "sigmoid"))


def erf(input: Tensor) -> Tensor:
    return Erf().apply(float_operand(input, "erf"))


def clamp(input: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    """Limit values to [min, max]; the gradient passes where min <= x <= max."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    if input._data.dtype.kind != "f" and any(isinstance(v, float) for v in (min, max)):
        input = input.to(backend.get_default_dtype())
    return Clamp(min, max).apply(input)


clip = clamp


def clamp_min(input: Tensor, min) -> Tensor:  # noqa: A002
    return clamp(input, min=min)


def clamp_max(input: Tensor, max) -> Tensor:  # noqa: A002
    return clamp(input, max=max)


def maximum(input, other) -> Tensor:
    """Element-wise maximum; on ties each operand receives half of the gradient."""
    a, b = binary_operands(input, other)
    return Maximum().apply(a, b)


def minimum(input, other) -> Tensor:
    """Element-wise minimum; on ties each operand receives half of the gradient."""
    a, b = binary_operands(input, other)
    return Minimum().apply(a, b)


def where(condition, input=None, other=None):
    """Pick ``input`` where ``condition`` holds, ``other`` elsewhere (numbers allowed)."""
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if input is None and other is None:
        return tuple(Tensor._make(i) for i in backend.array_module(cond).nonzero(cond))
    if cond.dtype != np.bool_:
        raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{backend.from_numpy_dtype(cond.dtype)}")
    a, b = binary_operands(input, other)
    return Where(cond).apply(a, b)


__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
    "remainder", "pow", "neg", "negative", "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt",
    "rsqrt", "square", "reciprocal", "abs", "absolute", "sign", "sgn", "floor", "ceil", "trunc",
    "round", "sin", "cos", "tan", "tanh", "sigmoid", "erf", "clamp", "clip", "clamp_min",
    "clamp_max", "maximum", "minimum", "where"
]

TENSOR_METHODS = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
    "remainder", "pow", "neg", "negative", "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt",
    "rsqrt", "square", "reciprocal", "abs", "absolute", "sign", "sgn", "floor", "ceil", "trunc",
    "round", "sin", "cos", "tan", "tanh", "sigmoid", "erf", "clamp", "clip", "clamp_min",
    "clamp_max", "maximum", "minimum"
]
