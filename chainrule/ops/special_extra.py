"""The functions found only in ``torch.special``: incomplete gamma, Hurwitz zeta, Bessel and Airy
functions, and the classical orthogonal polynomials.

As in PyTorch, ``gammainc``/``gammaincc`` are differentiable in ``x`` (not in ``a``) and ``zeta``
in ``q`` (not in ``x``); the Bessel functions and polynomials record no gradient. Kernels are
SciPy's (as for ``erf``), the polynomials PyTorch's three-term recurrences with ``n`` truncated
to an integer (negative ``n`` gives 0).
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import FunctionNode
from ..tensor import Tensor
from ._util import binary_operands, check_tensor, float_operand, torch_type_name
from .elementwise import exp, log
from .special_math import _kernel, _sp, lgamma


def _float_pair(a, b, name: str) -> tuple[Tensor, Tensor]:
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments: two numbers")
    x, y = binary_operands(a, b)
    if x._data.dtype.kind != "f":
        x, y = float_operand(x, name), float_operand(y, name)
    return x, y


def _float_only(a: Tensor, b: Tensor, name: str) -> tuple[Tensor, Tensor]:
    x, y = binary_operands(a, b)
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{torch_type_name(x)}'")
    return x, y


def _binary_kernel(name: str, a, b):
    with np.errstate(all="ignore"):
        r = getattr(_sp(), name)(np.asarray(a, np.float64), np.asarray(b, np.float64))
    return np.asarray(r).astype(np.result_type(a, b), copy=False)


class _Igamma(FunctionNode):
    """P(a, x) (``upper=False``) or Q(a, x) = 1 - P(a, x); dP/dx = x^(a-1) e^-x / Gamma(a)."""

    torch_name: str  # set per instance

    def __init__(self, upper: bool):
        self.upper = upper
        self.torch_name = "IgammacBackward0" if upper else "IgammaBackward0"

    def forward(self, a, x):
        self.save_for_backward(a, x)
        return _binary_kernel("gammaincc" if self.upper else "gammainc", a, x)

    def backward(self, gy):
        a, x = self.saved_tensors
        na, nx = self.needs_input_grad
        if na:
            raise NotImplementedError(f"the derivative for '{'igammac' if self.upper else 'igamma'}: input' is not "
                                      "implemented.")
        d = exp((a - 1.0) * log(x) - x - lgamma(a))
        return None, (-gy * d if self.upper else gy * d)


class _Zeta(FunctionNode):
    """Hurwitz zeta sum_k (k + q)^-x; d/dq = -x zeta(x + 1, q)."""

    torch_name = "SpecialZetaBackward0"

    def forward(self, x, q):
        self.save_for_backward(x, q)
        return _binary_kernel("zeta", x, q)

    def backward(self, gy):
        x, q = self.saved_tensors
        nx, nq = self.needs_input_grad
        if nx:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        return None, -gy * x * _Zeta().apply(x + 1.0, q)


def gammainc(input, other) -> Tensor:
    """The regularised lower incomplete gamma P(a, x) = gamma(a, x) / Gamma(a) (``input`` = a)."""
    check_tensor(input, "special_gammainc")
    check_tensor(other, "special_gammainc", "other")
    return _Igamma(False).apply(*_float_only(input, other, "igamma"))


def gammaincc(input, other) -> Tensor:
    """The regularised upper incomplete gamma Q(a, x) = 1 - P(a, x)."""
    check_tensor(input, "special_gammaincc")
    check_tensor(other, "special_gammaincc", "other")
    return _Igamma(True).apply(*_float_only(input, other, "igammac"))


def zeta(input, other) -> Tensor:
    """The Hurwitz zeta function zeta(x, q) = sum_{k>=0} (k + q)^(-x) (``input`` = x, ``other`` = q)."""
    return _Zeta().apply(*_float_pair(input, other, "special_zeta"))


# ---- Bessel and Airy functions (no gradient, as in PyTorch) ----------------------------------------------
def _no_grad(kernel: str, name: str, doc: str):
    def fn(input: Tensor) -> Tensor:
        x = float_operand(check_tensor(input, name), name)
        if kernel == "spherical_j0":
            with np.errstate(all="ignore"):
                y = _sp().spherical_jn(0, x._data.astype(np.float64)).astype(x._data.dtype)
        elif kernel == "airy_ai":
            with np.errstate(all="ignore"):
                y = _sp().airy(x._data.astype(np.float64))[0].astype(x._data.dtype)
        else:
            y = _kernel(kernel, x._data)
        return Tensor._make(np.asarray(y))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


bessel_j0 = _no_grad("j0", "bessel_j0", "The Bessel function of the first kind of order 0.")
bessel_j1 = _no_grad("j1", "bessel_j1", "The Bessel function of the first kind of order 1.")
bessel_y0 = _no_grad("y0", "bessel_y0", "The Bessel function of the second kind of order 0.")
bessel_y1 = _no_grad("y1", "bessel_y1", "The Bessel function of the second kind of order 1.")
modified_bessel_i0 = _no_grad("i0", "modified_bessel_i0", "The modified Bessel function of the first kind, order 0.")
modified_bessel_i1 = _no_grad("i1", "modified_bessel_i1", "The modified Bessel function of the first kind, order 1.")
modified_bessel_k0 = _no_grad("k0", "modified_bessel_k0", "The modified Bessel function of the second kind, order 0.")
modified_bessel_k1 = _no_grad("k1", "modified_bessel_k1", "The modified Bessel function of the second kind, order 1.")
scaled_modified_bessel_k0 = _no_grad("k0e", "scaled_modified_bessel_k0", "e^x K0(x).")
scaled_modified_bessel_k1 = _no_grad("k1e", "scaled_modified_bessel_k1", "e^x K1(x).")
spherical_bessel_j0 = _no_grad("spherical_j0", "spherical_bessel_j0", "The spherical Bessel function j0(x) = sin x / x.")
airy_ai = _no_grad("airy_ai", "airy_ai", "The Airy function Ai(x).")


# ---- orthogonal polynomials by their three-term recurrences ------------------------------------------------
def _recurrence(kind: str, x, n):
    """p_n(x) for every element (``n`` an integer array broadcast with ``x``)."""
    x, n = np.broadcast_arrays(x, n)
    top = int(n.max()) if n.size else 0
    p_prev = np.ones_like(x)
    p = {"t": x, "u": 2 * x, "v": 2 * x - 1, "w": 2 * x + 1, "h": 2 * x, "he": x, "l": 1 - x, "p": x}[kind]
    out = np.where(n == 0, p_prev, 0.0)
    out = np.where(n == 1, p, out)
    for k in range(1, top):
        if kind in ("t", "u", "v", "w"):
            p_next = 2 * x * p - p_prev
        elif kind == "h":
            p_next = 2 * x * p - 2 * k * p_prev
        elif kind == "he":
            p_next = x * p - k * p_prev
        elif kind == "l":
            p_next = ((2 * k + 1 - x) * p - k * p_prev) / (k + 1)
        else:
            p_next = ((2 * k + 1) * x * p - k * p_prev) / (k + 1)
        p_prev, p = p, p_next
        out = np.where(n == k + 1, p, out)
    return np.where(n < 0, 0.0, out)


def _polynomial(kind: str, name: str, shifted: bool, doc: str):
    def fn(input, n) -> Tensor:
        x, nn = _float_pair(input, n, name)
        with np.errstate(all="ignore"):
            xs = x._data.astype(np.float64)
            y = _recurrence(kind, 2 * xs - 1 if shifted else xs, np.trunc(nn._data).astype(np.int64))
        return Tensor._make(np.asarray(y).astype(x._data.dtype))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


chebyshev_polynomial_t = _polynomial("t", "chebyshev_polynomial_t", False, "Chebyshev T_n(x).")
chebyshev_polynomial_u = _polynomial("u", "chebyshev_polynomial_u", False, "Chebyshev U_n(x).")
chebyshev_polynomial_v = _polynomial("v", "chebyshev_polynomial_v", False, "Chebyshev V_n(x) (third kind).")
chebyshev_polynomial_w = _polynomial("w", "chebyshev_polynomial_w", False, "Chebyshev W_n(x) (fourth kind).")
shifted_chebyshev_polynomial_t = _polynomial("t", "shifted_chebyshev_polynomial_t", True, "T_n(2x - 1).")
shifted_chebyshev_polynomial_u = _polynomial("u", "shifted_chebyshev_polynomial_u", True, "U_n(2x - 1).")
shifted_chebyshev_polynomial_v = _polynomial("v", "shifted_chebyshev_polynomial_v", True, "V_n(2x - 1).")
shifted_chebyshev_polynomial_w = _polynomial("w", "shifted_chebyshev_polynomial_w", True, "W_n(2x - 1).")
hermite_polynomial_h = _polynomial("h", "hermite_polynomial_h", False, "The physicists' Hermite H_n(x).")
hermite_polynomial_he = _polynomial("he", "hermite_polynomial_he", False, "The probabilists' Hermite He_n(x).")
laguerre_polynomial_l = _polynomial("l", "laguerre_polynomial_l", False, "The Laguerre L_n(x).")
legendre_polynomial_p = _polynomial("p", "legendre_polynomial_p", False, "The Legendre P_n(x).")

__all__: list[str] = []  # public through chainrule.special
TENSOR_METHODS: list[str] = []
