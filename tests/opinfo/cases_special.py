"""Rows for the special functions and element-wise extras (ops/special_math.py, chainrule.special)."""

from __future__ import annotations

import numpy as np
import torch

import chainrule as cr
import chainrule.special  # noqa: F401  (the lazy submodule, loaded for the rows below)

from .core import OpCase

BCAST = ((3, 4), (4,))


def _pos(lo=0.2, hi=3.0, shape=(3, 4)):
    return lambda rng, dt: [rng.uniform(lo, hi, size=shape)]


def _non_integer(rng, dtype):
    """Both signs, away from the poles of Gamma at 0, -1, -2, ..."""
    x = rng.uniform(-2.8, 3.0, size=(3, 4))
    x = np.where(np.abs(x - np.round(x)) < 0.15, np.round(x) + 0.3, x)
    return [x]


def _signed_pair(rng, dtype):
    return [rng.uniform(0.2, 2.0, (3, 4)) * rng.choice([-1, 1], (3, 4)), rng.uniform(-2, 2, (3, 4))]


def _with_nan_pair(rng, dtype):
    a, b = rng.uniform(-2, 2, (3, 4)), rng.uniform(-2, 2, (3, 4))
    a[0, 1], b[1, 2], a[2, 3], b[2, 3] = np.nan, np.nan, np.nan, np.nan
    return [a, b]


def _signed_pair_first(rng, dtype):
    return _signed_pair(rng, dtype)[:1]


def _with_infs(rng, dtype):
    x = rng.uniform(-2, 2, (3, 4))
    x[0, 1], x[1, 2], x[2, 0], x[2, 3] = np.inf, -np.inf, np.nan, -np.inf
    return [x]


def _distinct_pair(rng, dtype):
    a = rng.uniform(-2, 2, (3, 4))
    return [a, a + rng.choice([-1, 1], (3, 4)) * rng.uniform(0.1, 1.0, (3, 4))]


S, T = cr.special, torch.special


def _const(L, like, values):
    return L.tensor(values, dtype=like.dtype)

CASES = [
    OpCase("erfc", cr.erfc, torch.erfc),
    OpCase("erfc.method", lambda x: x.erfc(), lambda x: x.erfc(), domain=(-4.0, 6.0)),
    OpCase("erfinv", cr.erfinv, torch.erfinv, domain=(-0.95, 0.95)),
    OpCase("lgamma", cr.lgamma, torch.lgamma, make=_non_integer),
    OpCase("lgamma.large", lambda x: x.lgamma(), lambda x: x.lgamma(), domain=(5.0, 200.0), rtol32=3e-5),
    # PyTorch's trigamma (the derivative of digamma) is accurate to about 1e-10 relative; SciPy's to 1e-15
    OpCase("digamma", cr.digamma, torch.digamma, make=_non_integer, rtol32=3e-5, atol32=3e-5, rtol64=1e-8),
    OpCase("polygamma.n1", lambda x: cr.polygamma(1, x), lambda x: torch.polygamma(1, x), make=_pos(), rtol64=1e-8),
    OpCase("polygamma.n3_method", lambda x: x.polygamma(3), lambda x: x.polygamma(3), make=_pos(0.5, 3.0),
           rtol32=3e-5),
    OpCase("mvlgamma", lambda x: cr.mvlgamma(x, 3), lambda x: torch.mvlgamma(x, 3), make=_pos(1.2, 4.0)),
    OpCase("i0", cr.i0, torch.i0, domain=(-4.0, 4.0)),
    OpCase("sinc", cr.sinc, torch.sinc),
    OpCase("xlogy", cr.xlogy, torch.xlogy, make=lambda rng, dt: [rng.uniform(-2, 2, (3, 4)),
                                                                 rng.uniform(0.2, 3.0, (4,))]),
    OpCase("xlogy.scalar_other", lambda x: cr.xlogy(x, 3.0), lambda x: torch.xlogy(x, 3.0)),
    OpCase("xlogy.scalar_self", lambda y: cr.xlogy(2.0, y), lambda y: torch.xlogy(2.0, y), make=_pos()),
    OpCase("logit", cr.logit, torch.logit, domain=(0.05, 0.95)),
    OpCase("logit.eps", lambda x: x.logit(eps=0.1), lambda x: x.logit(eps=0.1),
           make=lambda rng, dt: [np.concatenate([rng.uniform(0.02, 0.08, (1, 4)), rng.uniform(0.15, 0.85, (2, 4))])]),
    OpCase("logaddexp2", cr.logaddexp2, torch.logaddexp2, BCAST),
    OpCase("float_power", cr.float_power, torch.float_power, make=lambda rng, dt: [rng.uniform(0.5, 2, (3, 4)),
                                                                                   rng.uniform(-2, 2, (3, 4))]),
    OpCase("float_power.scalar", lambda x: x.float_power(2.5), lambda x: x.float_power(2.5), domain=(0.5, 2.0)),
    OpCase("fmax", cr.fmax, torch.fmax, make=_distinct_pair),
    OpCase("fmin", lambda a, b: a.fmin(b), lambda a, b: a.fmin(b), make=_distinct_pair),
    OpCase("fmax.nan", cr.fmax, torch.fmax, make=_with_nan_pair, numeric_grad=False),
    OpCase("copysign", cr.copysign, torch.copysign, make=_signed_pair),
    OpCase("copysign.scalar", lambda x: x.copysign(-1.0), lambda x: x.copysign(-1.0),
           make=lambda rng, dt: _signed_pair(rng, dt)[:1]),
    # (non-negative integer exponents: PyTorch's gradient computes 2^other in the integer dtype)
    OpCase("ldexp", lambda x: cr.ldexp(x, cr.tensor([1, 2, 0, 3])), lambda x: torch.ldexp(x, torch.tensor([1, 2, 0, 3]))),
    OpCase("ldexp.float", cr.ldexp, torch.ldexp, BCAST),
    OpCase("deg2rad", cr.deg2rad, torch.deg2rad),
    OpCase("rad2deg", lambda x: x.rad2deg(), lambda x: x.rad2deg()),
    OpCase("heaviside", lambda x: cr.heaviside(cr.round(x), x), lambda x: torch.heaviside(torch.round(x), x),
           grad=False),
    OpCase("nextafter", lambda a, b: cr.nextafter(a, b), lambda a, b: torch.nextafter(a, b), BCAST, grad=False),
    OpCase("signbit", lambda x: cr.signbit(x), lambda x: torch.signbit(x), grad=False),
    OpCase("isposinf", cr.isposinf, torch.isposinf, make=_with_infs, grad=False),
    OpCase("isneginf", lambda x: x.isneginf(), lambda x: x.isneginf(), make=_with_infs, grad=False),
    OpCase("isreal", cr.isreal, torch.isreal, grad=False),
    OpCase("positive", lambda x: cr.positive(x) * 2, lambda x: torch.positive(x) * 2),
    OpCase("frexp", lambda x: tuple(cr.frexp(x)), lambda x: tuple(torch.frexp(x)), domain=(-20.0, 20.0),
           make=lambda rng, dt: [rng.uniform(0.6, 0.9, (3, 4)) * 2.0 ** rng.integers(-5, 6, (3, 4))
                                 * rng.choice([-1, 1], (3, 4))]),
    OpCase("angle", cr.angle, torch.angle, make=_signed_pair_first),
    OpCase("rsub", cr.rsub, torch.rsub, BCAST),
    OpCase("rsub.scalar_alpha", lambda x: cr.rsub(x, 2.0, alpha=3), lambda x: torch.rsub(x, 2.0, alpha=3)),
    OpCase("igamma", lambda x: cr.igamma(_const(cr, x, [0.5, 1.0, 2.5, 4.0]), x),
           lambda x: torch.igamma(_const(torch, x, [0.5, 1.0, 2.5, 4.0]), x), domain=(0.2, 4.0)),
    OpCase("igammac.method", lambda x: _const(cr, x, [0.5, 1.0, 2.5, 4.0]).igammac(x),
           lambda x: _const(torch, x, [0.5, 1.0, 2.5, 4.0]).igammac(x), domain=(0.2, 4.0)),
    # chainrule.special
    OpCase("special.expit", S.expit, T.expit),
    OpCase("special.i0e", S.i0e, T.i0e, domain=(-6.0, 6.0)),
    OpCase("special.i1", S.i1, T.i1, domain=(-4.0, 4.0)),
    OpCase("special.i1e", S.i1e, T.i1e, domain=(-6.0, 6.0)),
    OpCase("special.erfcx", S.erfcx, T.erfcx, domain=(-1.5, 6.0)),
    OpCase("special.ndtr", S.ndtr, T.ndtr, domain=(-3.0, 3.0)),
    OpCase("special.ndtri", S.ndtri, T.ndtri, domain=(0.05, 0.95), rtol32=3e-5),
    OpCase("special.log_ndtr", S.log_ndtr, T.log_ndtr, domain=(-6.0, 3.0)),
    OpCase("special.entr", S.entr, T.entr, make=_pos(0.1, 2.0)),
    OpCase("special.xlog1py", S.xlog1py, T.xlog1py, make=lambda rng, dt: [rng.uniform(-2, 2, (3, 4)),
                                                                          rng.uniform(-0.8, 3.0, (3, 4))]),
    OpCase("special.gammaln", S.gammaln, T.gammaln, make=_pos()),
    OpCase("special.psi", S.psi, T.psi, make=_pos(), rtol32=3e-5, atol32=3e-5, rtol64=1e-8),
    OpCase("special.multigammaln", lambda x: S.multigammaln(x, 2), lambda x: T.multigammaln(x, 2),
           make=_pos(1.0, 4.0)),
    OpCase("special.sinc", S.sinc, T.sinc),
    OpCase("special.logsumexp", lambda x: S.logsumexp(x, 1), lambda x: T.logsumexp(x, 1)),
    OpCase("special.softmax", lambda x: S.softmax(x, 0), lambda x: T.softmax(x, 0)),
    OpCase("special.log_softmax", lambda x: S.log_softmax(x, 1), lambda x: T.log_softmax(x, 1)),
    # incomplete gamma and Hurwitz zeta: differentiable in their second argument only, as in PyTorch
    OpCase("special.gammainc", lambda x: S.gammainc(_const(cr, x, [0.5, 1.0, 2.5, 4.0]), x),
           lambda x: T.gammainc(_const(torch, x, [0.5, 1.0, 2.5, 4.0]), x), domain=(0.2, 4.0)),
    OpCase("special.gammaincc", lambda x: S.gammaincc(_const(cr, x, [0.7, 1.5, 3.0, 2.0]), x),
           lambda x: T.gammaincc(_const(torch, x, [0.7, 1.5, 3.0, 2.0]), x), domain=(0.2, 4.0)),
    OpCase("special.zeta", lambda q: S.zeta(_const(cr, q, [2.0, 3.5, 1.5, 5.0]), q),
           lambda q: T.zeta(_const(torch, q, [2.0, 3.5, 1.5, 5.0]), q), domain=(0.3, 3.0)),
    OpCase("special.round", lambda x: S.round(x * 10, decimals=1), lambda x: T.round(x * 10, decimals=1),
           grad=False),
]
