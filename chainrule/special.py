"""``chainrule.special``: PyTorch's ``torch.special`` names.

Most are the top-level functions under their SciPy-style names (``expit`` is ``sigmoid``,
``gammaln`` is ``lgamma``, ``psi`` is ``digamma``, ``multigammaln`` is ``mvlgamma``); the rest
(``i0e``, ``i1``, ``i1e``, ``erfcx``, ``ndtr``, ``ndtri``, ``log_ndtr``, ``entr``, ``xlog1py``)
exist only here. All of those are differentiable (twice) on floating-point tensors; the
incomplete gamma, zeta, Bessel/Airy functions and orthogonal polynomials are differentiable
exactly where PyTorch's are (ops/special_extra.py).
"""

from __future__ import annotations

import math

from .autograd.function import named_output
from .ops import elementwise as _E
from .ops import math_extra as _M
from .ops import softmax as _S
from .ops import special_math as _SM
from .ops._keywords import with_keywords
from .ops._util import check_tensor, float_operand
from .ops.special_extra import (  # noqa: F401  (re-exported)
    airy_ai,
    bessel_j0,
    bessel_j1,
    bessel_y0,
    bessel_y1,
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    gammainc,
    gammaincc,
    hermite_polynomial_h,
    hermite_polynomial_he,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    modified_bessel_i0,
    modified_bessel_i1,
    modified_bessel_k0,
    modified_bessel_k1,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
    spherical_bessel_j0,
    zeta,
)
from .tensor import Tensor

expit = _E.sigmoid
erf = _E.erf
erfc = _SM.erfc
erfcx = _SM.special_erfcx
erfinv = _SM.erfinv
gammaln = _SM.lgamma
digamma = psi = _SM.digamma
polygamma = _SM.polygamma
multigammaln = _SM.mvlgamma
xlogy = _SM.xlogy
xlog1py = _SM.special_xlog1py
i0 = _SM.i0
i0e = _SM.special_i0e
i1 = _SM.special_i1
i1e = _SM.special_i1e
sinc = _SM.sinc
entr = _SM.special_entr
ndtri = _SM.special_ndtri
log_ndtr = _SM.special_log_ndtr
log1p = _E.log1p
expm1 = _E.expm1
exp2 = _M.exp2
logit = _SM.logit


@named_output("MulBackward1")
def ndtr(input: Tensor) -> Tensor:
    """The standard normal CDF (1 + erf(x / sqrt 2)) / 2."""
    x = float_operand(check_tensor(input, "special_ndtr"), "special_ndtr")
    return (1.0 + _E.erf(x * math.sqrt(0.5))) * 0.5


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log sum exp over ``dim``, computed stably (as ``chainrule.logsumexp``)."""
    return _S.logsumexp(input, dim, keepdim)


def softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """exp(x) / sum exp(x) along ``dim`` (optionally computed in ``dtype``)."""
    return _S.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """x - logsumexp(x) along ``dim`` (optionally computed in ``dtype``)."""
    return _S.log_softmax(input, dim, dtype=dtype)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001
    """Round half to even, to ``decimals`` decimal places (no gradient: piecewise constant)."""
    if decimals == 0:
        return _E.round(input)
    if decimals > 0:
        return _E.round(input * 10.0 ** decimals) / 10.0 ** decimals
    return _E.round(input / 10.0 ** -decimals) * 10.0 ** -decimals


__all__ = [
    "expit", "logit", "erf", "erfc", "erfcx", "erfinv", "gammaln", "digamma", "psi", "polygamma", "multigammaln",
    "xlogy", "xlog1py", "i0", "i0e", "i1", "i1e", "sinc", "entr", "ndtr", "ndtri", "log_ndtr", "log1p", "expm1",
    "exp2", "round", "logsumexp", "softmax", "log_softmax", "gammainc", "gammaincc", "zeta", "bessel_j0", "bessel_j1",
    "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
    "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0", "airy_ai",
    "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
    "legendre_polynomial_p",
]

# out= on every function but softmax/log_softmax, and axis=/keepdims= on the reductions, as torch.special
for _name in __all__:
    globals()[_name] = with_keywords(globals()[_name], _name, None if "softmax" in _name else
                                     ("same" if _name == "round" else "cast"),
                                     aliases=_name in ("logsumexp", "softmax", "log_softmax"))
del _name
