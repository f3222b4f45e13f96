"""Special functions and the remaining element-wise mathematics of ``torch``: ``erfc``, ``erfinv``,
``lgamma``, ``digamma``, ``polygamma``, ``mvlgamma``, the modified Bessel functions ``i0``/``i1``
(and their exponentially scaled forms), ``sinc``, ``xlogy``, ``logit``, ``logaddexp2``,
``float_power``, ``fmax``/``fmin``, ``copysign``, ``heaviside``, ``nextafter``, ``ldexp``,
``gcd``/``lcm``, ``deg2rad``/``rad2deg`` and the sign/class predicates.

The transcendental kernels are SciPy's (``scipy.special``, the same dependency ``erf`` uses;
SciPy comes with scikit-learn), evaluated in float64 and rounded to the input's dtype. Every
backward is written with differentiable operators (``lgamma``' derivative is ``digamma``, whose
derivative is ``polygamma(1, .)`` ...), so second derivatives exist. The results without gradient
(``heaviside``, ``nextafter``, the sign/class predicates) are computed in a ``Values`` node, so
that a graph capture replays them on new values.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import backend
from ..autograd.function import FunctionNode, named_output
from ..autograd.grad_mode import no_grad
from ..kernels.tables import size_only
from ..tensor import Tensor
from ._util import binary_operands, check_tensor, float_operand, to_tensor, torch_type_name
from .compare import logical_and
from .elementwise import _Binary, cos, erf, exp, expm1, log, log1p, pow, sign, where
from .inplace import _apply, _unary_
from .math_extra import exp2, logaddexp, nan_to_num
from .reduction import sum as _sum
from .shape import unsqueeze

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)


def _sp():
    import scipy.special  # lazily: only the special functions need it

    return scipy.special


def _kernel(name: str, x, *args):
    """``scipy.special.<name>(*args, x)`` in float64, returned in ``x``'s dtype."""
    with np.errstate(all="ignore"):
        y = getattr(_sp(), name)(*args, np.asarray(x, dtype=np.float64))
    return np.asarray(y).astype(x.dtype, copy=False)


def _safe(x: Tensor) -> Tensor:
    """``x`` with zeros replaced by ones: a divisor for the branch that ``where`` keeps away from 0."""
    return where(x == 0, 1.0, x)


class _Special(FunctionNode):
    """A unary special function: forward by ``kernel``, backward by the subclass' ``derivative``."""

    kernel = ""

    def __init__(self, *args):
        self.args = args

    def derivative(self, x: Tensor, y: Tensor) -> Tensor:  # pragma: no cover - each function defines it
        raise NotImplementedError

    def forward(self, x):
        y = _kernel(self.kernel, x, *self.args)
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved_tensors
        return gy * self.derivative(x, y)


class Erfc(_Special):
    torch_name, kernel = "ErfcBackward0", "erfc"

    def derivative(self, x, y):
        return exp(-(x * x)) * (-2.0 / _SQRT_PI)


class Erfinv(_Special):
    torch_name, kernel = "ErfinvBackward0", "erfinv"

    def derivative(self, x, y):
        return exp(y * y) * (_SQRT_PI / 2.0)


class Erfcx(_Special):
    torch_name, kernel = "SpecialErfcxBackward0", "erfcx"

    def derivative(self, x, y):
        return 2.0 * x * y - 2.0 / _SQRT_PI


class Lgamma(_Special):
    torch_name, kernel = "LgammaBackward0", "gammaln"

    def derivative(self, x, y):
        return digamma(x)


class Digamma(_Special):
    torch_name, kernel = "DigammaBackward0", "psi"

    def forward(self, x):
        y = super().forward(x)
        zero = x == 0  # PyTorch: -inf at +0, +inf at -0 (SciPy gives NaN at -0)
        if zero.any():
            y = np.where(zero, np.where(np.signbit(x), np.inf, -np.inf), y).astype(x.dtype)
        return y

    def derivative(self, x, y):
        return polygamma(1, x)


class Polygamma(_Special):
    torch_name, kernel = "PolygammaBackward0", "polygamma"

    def derivative(self, x, y):
        return polygamma(self.args[0] + 1, x)


class I0(_Special):
    torch_name, kernel = "I0Backward0", "i0"

    def derivative(self, x, y):
        return special_i1(x)


class I0e(_Special):
    torch_name, kernel = "SpecialI0EBackward0", "i0e"

    def derivative(self, x, y):  # d/dx e^-|x| I0(x) = i1e(x) - sign(x) i0e(x)
        return special_i1e(x) - sign(x) * y


class I1(_Special):
    torch_name, kernel = "SpecialI1Backward0", "i1"

    def derivative(self, x, y):  # I1'(x) = I0(x) - I1(x) / x, 1/2 at 0
        return where(x == 0, 0.5, i0(x) - y / _safe(x))


class I1e(_Special):
    torch_name, kernel = "SpecialI1EBackward0", "i1e"

    def derivative(self, x, y):  # i0e(x) - i1e(x) (sign(x) + 1/x), 1/2 at 0
        return where(x == 0, 0.5, special_i0e(x) - y * (sign(x) + 1.0 / _safe(x)))


class Ndtri(_Special):
    torch_name, kernel = "SpecialNdtriBackward0", "ndtri"

    def derivative(self, x, y):
        return exp(y * y * 0.5) * _SQRT_2PI


class LogNdtr(_Special):
    torch_name, kernel = "SpecialLogNdtrBackward0", "log_ndtr"

    def derivative(self, x, y):
        return exp(x * x * -0.5 - y) / _SQRT_2PI


class Entr(FunctionNode):
    """-x log x for x > 0, 0 at 0, -inf below; derivative -(1 + log x)."""

    torch_name = "SpecialEntrBackward0"

    def forward(self, x):
        self.save_for_backward(x)
        with np.errstate(all="ignore"):
            y = np.where(x > 0, -x * np.log(np.where(x > 0, x, 1)), np.where(x == 0, 0, -np.inf))
        return np.where(np.isnan(x), x, y).astype(x.dtype, copy=False)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return -gy * (log(x) + 1.0)


class Sinc(FunctionNode):
    """sin(pi x) / (pi x), 1 at 0; derivative (cos(pi x) - sinc x) / x, 0 at 0."""

    torch_name = "SincBackward0"

    def forward(self, x):
        y = np.sinc(x).astype(x.dtype, copy=False)
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved_tensors

        return gy * where(x == 0, 0.0, (cos(x * math.pi) - y) / _safe(x))


class Logit(FunctionNode):
    """log(x / (1 - x)) of x clamped to [eps, 1 - eps]; derivative 1 / (x (1 - x)), 0 where clamped."""

    torch_name = "LogitBackward0"

    def __init__(self, eps):
        self.eps = eps

    def forward(self, x):
        self.save_for_backward(x)
        z = x if self.eps is None else np.clip(x, self.eps, 1.0 - self.eps)
        with np.errstate(all="ignore"):
            return np.log(z / (1 - z)).astype(x.dtype, copy=False)

    def backward(self, gy):
        (x,) = self.saved_tensors
        g = gy / (x * (1.0 - x))
        if self.eps is None:
            return g
        inside = logical_and(x >= self.eps, x <= 1.0 - self.eps)  # operators, made anew on each call
        return g * inside.to(x.dtype)


class _XLog(_Binary):
    """x log(y) (``xlogy``) or x log(1 + y) (``xlog1py``): 0 where x == 0 unless y is NaN."""

    torch_name: str  # set per instance (the node's name depends on the operator)

    def __init__(self, plus_one: bool):
        self.plus_one = plus_one
        self.torch_name = "SpecialXlog1PyBackward0" if plus_one else "XlogyBackward0"

    def compute(self, x, y):
        self.save_for_backward(x, y)
        with np.errstate(all="ignore"):
            r = x * (np.log1p(y) if self.plus_one else np.log(y))
        return np.where((x == 0) & ~np.isnan(y), 0, r).astype(r.dtype, copy=False)

    def backward(self, gy):
        x, y = self.saved_tensors
        nx, ny = self.needs_input_grad
        gx = gy * _XLog(self.plus_one).apply((x != 0).to(x.dtype), y) if nx else None  # a mask made by operators
        gyy = gy * x / ((y + 1.0) if self.plus_one else y) if ny else None
        return gx, gyy


class _FMaxMin(_Binary):
    """fmax/fmin: the larger/smaller operand, NaN only where both are; ties go to ``input``."""

    torch_name: str  # set per instance

    def __init__(self, is_max: bool):
        self.is_max = is_max
        self.torch_name = "FmaxBackward0" if is_max else "FminBackward0"

    def compute(self, a, b):
        pick_a = ((a >= b) if self.is_max else (a <= b)) | np.isnan(b)
        self.mask = np.broadcast_to(pick_a, np.broadcast_shapes(np.shape(a), np.shape(b)))
        return (np.fmax if self.is_max else np.fmin)(a, b)

    def backward(self, gy):
        # the mask is forward state of the node (a recorded backward reads this call's); the cast
        # and the complement are operators
        m = Tensor._make(self.mask).to(gy.dtype)
        na, nb = self.needs_input_grad
        return (gy * m if na else None), (gy * (1 - m) if nb else None)


class Copysign(_Binary):
    """|a| with the sign of b; d/da = copysign(1, a) copysign(1, b) (0 at a = 0), nothing for b."""

    torch_name: str  # set per instance

    def __init__(self, scalar: bool):
        self.torch_name = f"CopysignBackward{int(scalar)}"

    def compute(self, a, b):
        y = np.copysign(a, b)
        with np.errstate(all="ignore"):
            self.ratio = np.where(a == 0, 0, y / np.where(a == 0, 1, a)).astype(y.dtype)
        return y

    def backward(self, gy):
        na, nb = self.needs_input_grad
        return (gy * Tensor._make(self.ratio) if na else None), (gy * 0.0 if nb else None)


# ---- functional wrappers ----------------------------------------------------------------------------
def _unary_float(node_cls, input, name: str, *args) -> Tensor:
    return node_cls(*args).apply(float_operand(check_tensor(input, name), name))


def erfc(input: Tensor) -> Tensor:
    """1 - erf(x) = 2/sqrt(pi) int_x^inf e^(-t^2) dt, accurate in the right tail."""
    return _unary_float(Erfc, input, "erfc")


def erfinv(input: Tensor) -> Tensor:
    """The inverse of erf on (-1, 1); derivative sqrt(pi)/2 e^(y^2)."""
    return _unary_float(Erfinv, input, "erfinv")


def lgamma(input: Tensor) -> Tensor:
    """log |Gamma(x)|; derivative digamma(x)."""
    return _unary_float(Lgamma, input, "lgamma")


def digamma(input: Tensor) -> Tensor:
    """psi(x) = d/dx log Gamma(x); -inf at 0, NaN at the negative integers."""
    return _unary_float(Digamma, input, "digamma")


def polygamma(n: int, input: Tensor) -> Tensor:
    """The n-th derivative of digamma: psi^(n)(x) (``n = 0`` is digamma)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n == 0:
        return digamma(input)
    return _unary_float(Polygamma, input, "polygamma", int(n))


@named_output("MvlgammaBackward0")
def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The multivariate log-gamma log Gamma_p(x) = p(p-1)/4 log(pi) + sum_{j<p} lgamma(x - j/2)."""
    x = float_operand(check_tensor(input, "mvlgamma"), "mvlgamma")
    if isinstance(p, bool) or not isinstance(p, numbers.Integral):
        raise TypeError(f"mvlgamma(): argument 'p' (position 2) must be int, not {type(p).__name__}")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")

    shifts = Tensor._make(size_only(-np.arange(p, dtype=x._data.dtype) / 2))  # a constant of p alone
    return _sum(lgamma(unsqueeze(x, -1) + shifts), -1) + p * (p - 1) / 4 * math.log(math.pi)


def i0(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind, order 0; derivative i1(x)."""
    return _unary_float(I0, input, "i0")


def special_i0e(input: Tensor) -> Tensor:
    """e^(-|x|) I0(x), without overflow for large |x|."""
    return _unary_float(I0e, input, "special_i0e")


def special_i1(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind, order 1; derivative I0(x) - I1(x)/x."""
    return _unary_float(I1, input, "special_i1")


def special_i1e(input: Tensor) -> Tensor:
    """e^(-|x|) I1(x)."""
    return _unary_float(I1e, input, "special_i1e")


def special_erfcx(input: Tensor) -> Tensor:
    """The scaled complementary error function e^(x^2) erfc(x)."""
    return _unary_float(Erfcx, input, "special_erfcx")


def special_ndtri(input: Tensor) -> Tensor:
    """The inverse of the standard normal CDF on (0, 1)."""
    return _unary_float(Ndtri, input, "special_ndtri")


def special_log_ndtr(input: Tensor) -> Tensor:
    """log of the standard normal CDF, accurate far in the left tail."""
    return _unary_float(LogNdtr, input, "special_log_ndtr")


def special_entr(input: Tensor) -> Tensor:
    """Elementwise entropy -x log x (0 at 0, -inf for x < 0)."""
    return _unary_float(Entr, input, "special_entr")


def sinc(input: Tensor) -> Tensor:
    """The normalised sinc sin(pi x) / (pi x), 1 at x = 0."""
    return _unary_float(Sinc, input, "sinc")


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(x / (1 - x)), the inverse of the sigmoid; with ``eps`` x is clamped to [eps, 1 - eps] first."""
    return Logit(None if eps is None else float(eps)).apply(float_operand(check_tensor(input, "logit"), "logit"))


def _float_binary(input, other, name: str) -> tuple[Tensor, Tensor]:
    a, b = binary_operands(input, other)
    if a._data.dtype.kind != "f":
        a, b = float_operand(a, name), float_operand(b, name)
    return a, b


def _xlog(input, other, plus_one: bool, name: str) -> Tensor:
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments: two numbers")
    out = _XLog(plus_one).apply(*_float_binary(input, other, name))
    if out.grad_fn is not None and not plus_one and not isinstance(other, Tensor):
        out.grad_fn._renamed = "XlogyBackward2"
    elif out.grad_fn is not None and not plus_one and not isinstance(input, Tensor):
        out.grad_fn._renamed = "XlogyBackward1"
    return out


def xlogy(input, other) -> Tensor:
    """x log(y), with 0 where x == 0 (unless y is NaN): the entropy terms' convention."""
    return _xlog(input, other, False, "xlogy")


def special_xlog1py(input, other) -> Tensor:
    """x log(1 + y), with 0 where x == 0 (unless y is NaN)."""
    return _xlog(input, other, True, "xlog1py")


@named_output("Logaddexp2Backward0")
def logaddexp2(input: Tensor, other: Tensor) -> Tensor:
    """log2(2^a + 2^b), computed without overflow as logaddexp(a ln 2, b ln 2) / ln 2."""
    a, b = binary_operands(check_tensor(input, "logaddexp2"), check_tensor(other, "logaddexp2", "other"))
    _int_or_float_only(a, "logaddexp2", "f")
    ln2 = math.log(2.0)
    return logaddexp(a * ln2, b * ln2) / ln2


def float_power(input, exponent) -> Tensor:
    """input ** exponent computed in double precision (the result is always float64)."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError("float_power() received an invalid combination of arguments: two numbers")
    base = input.to(backend.float64) if isinstance(input, Tensor) else to_tensor(float(input), backend.float64)
    e = exponent.to(backend.float64) if isinstance(exponent, Tensor) else float(exponent)
    return pow(base, e)


def _minmax_nan(input, other, is_max: bool) -> Tensor:
    name = "fmax" if is_max else "fmin"
    check_tensor(input, name)
    check_tensor(other, name, "other")
    a, b = binary_operands(input, other)
    return _FMaxMin(is_max).apply(a, b)


def fmax(input: Tensor, other: Tensor) -> Tensor:
    """Element-wise maximum that ignores NaN (NaN only where both are NaN)."""
    return _minmax_nan(input, other, True)


def fmin(input: Tensor, other: Tensor) -> Tensor:
    """Element-wise minimum that ignores NaN (NaN only where both are NaN)."""
    return _minmax_nan(input, other, False)


def copysign(input, other) -> Tensor:
    """|input| with the sign of ``other`` (a floating-point result, -0.0 counts as negative)."""
    check_tensor(input, "copysign")
    return Copysign(not isinstance(other, Tensor)).apply(*_float_binary(input, other, "copysign"))


class Values(FunctionNode):
    """``fn(xp, *arrays)``: a result computed from the inputs' values that has no gradient (a sign
    or class test, a step, the next float), applied under ``no_grad``. A node (rather than a
    raw-array helper) so that a graph capture sees the value computed."""

    def __init__(self, fn):
        self.fn = fn

    def forward(self, *arrays):
        return self.xp.asarray(self.fn(self.xp, *arrays))

    def backward(self, *grads):  # pragma: no cover - applied under no_grad: never in a graph
        return (None,) * len(self.next_functions)


def no_grad_values(fn, *inputs: Tensor) -> Tensor:
    """``fn(xp, *arrays)`` of the inputs' arrays, as a tensor without gradient (a ``Values`` node)."""
    with no_grad():
        return Values(fn).apply(*inputs)


def _all_false(xp, x):
    return xp.zeros(x.shape, bool)


def _all_true(xp, x):
    return xp.ones(x.shape, dtype=bool)


def _heaviside(xp, x, v):
    return xp.asarray(xp.heaviside(x, v)).astype(x.dtype)


def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """0 where x < 0, ``values`` where x == 0, 1 where x > 0 (no gradient)."""
    x, v = check_tensor(input, "heaviside"), check_tensor(values, "heaviside", "values")
    if x._data.dtype != v._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    return no_grad_values(_heaviside, x, v)


def _int_or_float_only(a: Tensor, name: str, kinds: str) -> None:
    if a._data.dtype.kind not in kinds:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{torch_type_name(a)}'")


def nextafter(input: Tensor, other: Tensor) -> Tensor:
    """The next floating-point value after ``input`` in the direction of ``other`` (no gradient)."""
    a, b = binary_operands(check_tensor(input, "nextafter"), check_tensor(other, "nextafter", "other"))
    _int_or_float_only(a, "nextafter", "f")
    return no_grad_values(lambda xp, a, b: xp.nextafter(a, b), a, b)


@named_output("LdexpBackward0")
def ldexp(input: Tensor, other: Tensor) -> Tensor:
    """input * 2^other."""
    check_tensor(input, "ldexp")
    if check_tensor(other, "ldexp", "other")._data.dtype == np.bool_ and input._data.dtype.kind == "f":
        raise NotImplementedError("\"ldexp_cpu_exp\" not implemented for 'Bool'")
    return input * exp2(other)


def _gcd_lcm(input, other, name: str) -> Tensor:
    a, b = binary_operands(check_tensor(input, name), check_tensor(other, name, "other"))
    _int_or_float_only(a, name, "iu")
    return Tensor._make(np.asarray(getattr(np, name)(a._data, b._data)).astype(a._data.dtype))


def gcd(input: Tensor, other: Tensor) -> Tensor:
    """The greatest common divisor, element-wise (integer tensors; gcd(0, 0) = 0)."""
    return _gcd_lcm(input, other, "gcd")


def lcm(input: Tensor, other: Tensor) -> Tensor:
    """The least common multiple, element-wise (integer tensors)."""
    return _gcd_lcm(input, other, "lcm")


@named_output("Deg2RadBackward0")
def deg2rad(input: Tensor) -> Tensor:
    """x pi / 180."""
    return float_operand(check_tensor(input, "deg2rad"), "deg2rad") * (math.pi / 180.0)


@named_output("Rad2DegBackward0")
def rad2deg(input: Tensor) -> Tensor:
    """x 180 / pi."""
    return float_operand(check_tensor(input, "rad2deg"), "rad2deg") * (180.0 / math.pi)


def signbit(input: Tensor) -> Tensor:
    """True where the sign bit is set (negative numbers and -0.0)."""
    x = check_tensor(input, "signbit")
    if x._data.dtype == np.bool_:
        return no_grad_values(_all_false, x)
    return no_grad_values(lambda xp, a: xp.signbit(a), x)


def isneginf(input: Tensor) -> Tensor:
    """True where the element is -inf."""
    x = check_tensor(input, "isneginf")
    if x._data.dtype.kind != "f":
        return no_grad_values(_all_false, x)
    return no_grad_values(lambda xp, a: xp.isneginf(a), x)


def isposinf(input: Tensor) -> Tensor:
    """True where the element is +inf."""
    x = check_tensor(input, "isposinf")
    if x._data.dtype.kind != "f":
        return no_grad_values(_all_false, x)
    return no_grad_values(lambda xp, a: xp.isposinf(a), x)


def isreal(input: Tensor) -> Tensor:
    """True everywhere (chainrule has no complex dtypes)."""
    return no_grad_values(_all_true, check_tensor(input, "isreal"))


def positive(input: Tensor) -> Tensor:
    """``input`` itself (unary plus); refused for bool tensors as in PyTorch."""
    x = check_tensor(input, "positive")
    if x._data.dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return x


# ---- Tensor methods whose argument order differs, and the in-place variants --------------------------
def _polygamma_method(self: Tensor, n: int) -> Tensor:
    """``x.polygamma(n)`` = ``polygamma(n, x)``."""
    return polygamma(n, self)


def _inplace(name: str, fn):
    def method(self: Tensor, *args, **kwargs) -> Tensor:
        return _apply(self, lambda s, *o: fn(s, *o, **kwargs), *args)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place ``{name[:-1]}``."
    return method


def _float_power_(self: Tensor, exponent) -> Tensor:
    """In-place ``float_power``: only a float64 tensor can hold the result."""
    if self._data.dtype != np.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype {torch_type_name(self)} but the operation's "
                           "result requires dtype Double")
    return _apply(self, lambda s: float_power(s, exponent))


def _nan_to_num_(self: Tensor, nan: float = 0.0, posinf=None, neginf=None) -> Tensor:
    """In-place ``nan_to_num``."""
    return _apply(self, lambda s: nan_to_num(s, nan, posinf, neginf))


def _inplace_methods() -> dict:
    unary = {"erfc": erfc, "erfinv": erfinv, "lgamma": lgamma, "digamma": digamma, "i0": i0, "sinc": sinc,
             "deg2rad": deg2rad, "rad2deg": rad2deg, "erf": erf, "log1p": log1p, "expm1": expm1, "exp2": exp2}
    methods = {f"{n}_": _unary_(f"{n}_", f) for n, f in unary.items()}
    for n, f in {"polygamma": _polygamma_method, "mvlgamma": mvlgamma, "xlogy": xlogy, "logit": logit,
                 "copysign": copysign, "heaviside": heaviside, "nextafter": nextafter, "ldexp": ldexp, "gcd": gcd,
                 "lcm": lcm}.items():
        methods[f"{n}_"] = _inplace(f"{n}_", f)
    for n in list(methods):
        if n not in ("gcd_", "lcm_", "heaviside_", "nextafter_"):
            methods[n] = _float_result(methods[n])
    methods["float_power_"] = _float_power_
    methods["nan_to_num_"] = _nan_to_num_
    return methods


def _float_result(method):
    """An in-place method whose result is floating point: refused on integer tensors, as in PyTorch."""

    def checked(self: Tensor, *args, **kwargs) -> Tensor:
        if self._data.dtype.kind != "f":
            raise RuntimeError(f"result type Float can't be cast to the desired output type {torch_type_name(self)}")
        return method(self, *args, **kwargs)

    checked.__name__ = checked.__qualname__ = method.__name__
    checked.__doc__ = method.__doc__
    return checked


__all__ = [
    "erfc", "erfinv", "lgamma", "digamma", "polygamma", "mvlgamma", "i0", "sinc", "xlogy", "logit", "logaddexp2",
    "float_power", "fmax", "fmin", "copysign", "heaviside", "nextafter", "ldexp", "gcd", "lcm", "deg2rad",
    "rad2deg", "signbit", "isneginf", "isposinf", "isreal", "positive",
]

TENSOR_METHODS = [n for n in __all__ if n != "polygamma"]
# methods attached by ops/__init__ under a name other than their function's
EXTRA_METHODS = {"polygamma": _polygamma_method, **_inplace_methods()}
