"""Smaller element-wise names of PyTorch's maths: ``frexp``, ``angle``, ``fix``, ``rsub``, the bit
shifts (``bitwise_left_shift``/``bitwise_right_shift`` and ``<<``/``>>``), and the top-level
``igamma``/``igammac`` (``torch.special.gammainc``/``gammaincc``).
"""

from __future__ import annotations

import math

import numpy as np

from .. import return_types
from ..autograd.function import FunctionNode, named_output
from ..tensor import Tensor
from ._util import binary_operands, check_tensor, float_operand, torch_type_name
from .elementwise import trunc
from .inplace import _apply
from .special_extra import gammainc, gammaincc

frexp_result = return_types.structseq("frexp", ("mantissa", "exponent"))


class Frexp(FunctionNode):
    """x = mantissa 2^exponent with |mantissa| in [0.5, 1): both outputs (the exponent int32, no
    gradient), so that a graph capture replays them; d mantissa / dx = 2^-exponent (``FrexpGrad``)."""

    torch_name = "FrexpBackward0"

    def forward(self, x):
        m, e = np.frexp(x)
        self.exponent = e.astype(np.int32)
        return np.asarray(m), np.asarray(self.exponent)

    def backward(self, gy, ge=None):  # the exponent (int32) gets no gradient
        return FrexpGrad(self.exponent).apply(gy)


class FrexpGrad(FunctionNode):
    """``g * 2^-exponent``, the exponent a ``Frexp``'s forward found; linear in ``g``, so its
    backward is itself."""

    def __init__(self, exponent):
        self.exponent = exponent

    def forward(self, g):
        return g * np.ldexp(np.ones((), g.dtype), -self.exponent).astype(g.dtype)

    def backward(self, gg):
        return FrexpGrad(self.exponent).apply(gg)


def frexp(input: Tensor):
    """``(mantissa, exponent)`` with input = mantissa * 2^exponent (exponent int32, mantissa in [0.5, 1))."""
    x = check_tensor(input, "frexp")
    if x._data.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    mantissa, exponent = Frexp().apply(x)
    return frexp_result(mantissa, exponent)


class Angle(FunctionNode):
    """The argument of a real number: 0 for x >= 0, pi for x < 0 (NaN stays NaN); derivative 0."""

    torch_name = "AngleBackward0"

    def forward(self, x):
        return np.where(np.isnan(x), x, np.where(x < 0, math.pi, 0.0)).astype(x.dtype)

    def backward(self, gy):
        return gy * 0.0


def angle(input: Tensor) -> Tensor:
    """The element-wise angle (argument) of a real tensor: pi where negative, else 0."""
    return Angle().apply(float_operand(check_tensor(input, "angle"), "angle"))


def fix(input: Tensor) -> Tensor:
    """Alias of ``trunc``: round toward zero."""
    return trunc(check_tensor(input, "fix"))


@named_output(lambda input, other, **k: f"RsubBackward{0 if isinstance(other, Tensor) else 1}")
def rsub(input: Tensor, other, *, alpha=1) -> Tensor:
    """other - alpha * input (``sub`` with its operands reversed)."""
    x = check_tensor(input, "rsub")
    return other - (x * alpha if alpha != 1 else x)


def _shift(input, other, left: bool) -> Tensor:
    name = "lshift" if left else "rshift"
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"bitwise_{'left' if left else 'right'}_shift() received an invalid combination of arguments")
    a, b = binary_operands(input, other)
    if a._data.dtype.kind not in "iub":
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{torch_type_name(a)}'")
    x, s = a._data, b._data
    if x.dtype == np.bool_:  # bool << bool is computed in uint8 by PyTorch, then cast back
        x, s = x.astype(np.uint8), s.astype(np.uint8)
    bits = x.dtype.itemsize * 8
    s64 = s.astype(np.int64)
    out_of_range = (s64 < 0) | (s64 >= bits)
    safe = np.where(out_of_range, 0, s64).astype(x.dtype)
    if left:
        y = np.where(out_of_range, 0, np.left_shift(x, safe))
    else:
        y = np.where(out_of_range, np.where(x < 0, -1, 0) if x.dtype.kind == "i" else 0, np.right_shift(x, safe))
    return Tensor._make(np.asarray(y).astype(a._data.dtype))


def bitwise_left_shift(input, other) -> Tensor:
    """input * 2^other on integers (bits shifted out are lost; a shift of the bit width or more gives 0)."""
    return _shift(input, other, True)


def bitwise_right_shift(input, other) -> Tensor:
    """Arithmetic right shift: floor(input / 2^other) on integers."""
    return _shift(input, other, False)


def igamma(input: Tensor, other: Tensor) -> Tensor:
    """The regularised lower incomplete gamma function P(input, other) (``special.gammainc``)."""
    return gammainc(input, other)


def igammac(input: Tensor, other: Tensor) -> Tensor:
    """The regularised upper incomplete gamma function Q(input, other) (``special.gammaincc``)."""
    return gammaincc(input, other)


def _in_place(fn):
    def method(self: Tensor, *args) -> Tensor:
        return _apply(self, lambda s, *o: fn(s, *o), *args)

    return method


__all__ = ["frexp", "angle", "fix", "rsub", "bitwise_left_shift", "bitwise_right_shift", "igamma", "igammac"]

TENSOR_METHODS = ["frexp", "angle", "fix", "bitwise_left_shift", "bitwise_right_shift", "igamma", "igammac"]

EXTRA_METHODS = {
    "fix_": _in_place(fix), "igamma_": _in_place(igamma), "igammac_": _in_place(igammac),
    "bitwise_left_shift_": _in_place(bitwise_left_shift), "bitwise_right_shift_": _in_place(bitwise_right_shift),
    "__lshift__": bitwise_left_shift, "__rshift__": bitwise_right_shift,
    "__rlshift__": lambda self, other: bitwise_left_shift(other, self),
    "__rrshift__": lambda self, other: bitwise_right_shift(other, self),
    "__ilshift__": _in_place(bitwise_left_shift), "__irshift__": _in_place(bitwise_right_shift),
}
