"""Sample calls (see op_samples.py) for the statistics, searching and special-function operators."""

from __future__ import annotations

import numpy as np

_R = np.random.default_rng(7)
A = _R.standard_normal((3, 4))
B = _R.standard_normal((3, 4))
POS = np.abs(A) + 0.5
NAN = np.where(A > 1.0, np.nan, A)
REP = _R.integers(0, 3, (3, 6)).astype(np.float64)
COUNTS = _R.integers(0, 5, 8)
SORTED = np.sort(_R.standard_normal(6))
PROB = 1.0 / (1.0 + np.exp(-A))
INT_A, INT_B = _R.integers(1, 30, (3, 4)), _R.integers(1, 30, (3, 4))


def t(L, a, dtype=None):
    x = L.tensor(np.ascontiguousarray(a))
    return x if dtype is None else x.to(dtype)


def _unary(arr):
    return [lambda L: ((t(L, arr),), {})]


def _binary(a=A, b=B):
    return [lambda L: ((t(L, a), t(L, b)), {})]


STAT_SAMPLES: dict = {}
for _n in "erfc lgamma digamma i0 sinc deg2rad rad2deg signbit isneginf isposinf msort corrcoef cov".split():
    STAT_SAMPLES[_n] = _unary(A)
STAT_SAMPLES["erfinv"] = _unary(np.tanh(A) * 0.9)
STAT_SAMPLES["logit"] = [lambda L: ((t(L, PROB),), {}), lambda L: ((t(L, PROB),), {"eps": 0.2})]
for _n in "fmax fmin copysign logaddexp2 nextafter heaviside".split():
    STAT_SAMPLES[_n] = _binary()
STAT_SAMPLES.update({
    "xlogy": [lambda L: ((t(L, A), t(L, POS)), {}), lambda L: ((t(L, A), 2.0), {})],
    "float_power": [lambda L: ((t(L, POS), t(L, B)), {}), lambda L: ((t(L, POS), 2.0), {})],
    "ldexp": [lambda L: ((t(L, A), t(L, INT_A % 4)), {})],
    "gcd": [lambda L: ((t(L, INT_A), t(L, INT_B)), {})],
    "lcm": [lambda L: ((t(L, INT_A), t(L, INT_B)), {})],
    "polygamma": [lambda L: ((2, t(L, POS)), {})],
    "mvlgamma": [lambda L: ((t(L, POS + 1.0),), {"p": 2})],
    "unique": [lambda L: ((t(L, REP),), {"dim": 1})],
    "unique_consecutive": [lambda L: ((t(L, REP),), {"dim": 0})],
    "histc": [lambda L: ((t(L, A),), {"bins": 5})],
    "histogram": [lambda L: ((t(L, A),), {"bins": 5})],
    "bincount": [lambda L: ((t(L, COUNTS),), {"minlength": 6})],
    "searchsorted": [lambda L: ((t(L, SORTED), t(L, A)), {})],
    "bucketize": [lambda L: ((t(L, A), t(L, SORTED)), {})],
    "isin": [lambda L: ((t(L, REP), t(L, np.array([1.0]))), {})],
    "mode": [lambda L: ((t(L, REP),), {"dim": 1, "keepdim": True})],
    "aminmax": [lambda L: ((t(L, A),), {"dim": 1, "keepdim": True})],
    "cummax": [lambda L: ((t(L, A),), {"dim": 1})],
    "cummin": [lambda L: ((t(L, A),), {"dim": 0})],
    "logcumsumexp": [lambda L: ((t(L, A),), {"dim": 1})],
    "nanmean": [lambda L: ((t(L, NAN),), {"dim": 1, "keepdim": True})],
    "nansum": [lambda L: ((t(L, NAN),), {"dim": 0, "keepdim": True})],
    "nanmedian": [lambda L: ((t(L, NAN),), {"dim": 1, "keepdim": True})],
    "quantile": [lambda L: ((t(L, A), 0.3), {"dim": 1, "keepdim": True})],
    "nanquantile": [lambda L: ((t(L, NAN), 0.3), {"dim": 0, "keepdim": True})],
    "gradient": [lambda L: ((t(L, A),), {"dim": 1})],
    "trapezoid": [lambda L: ((t(L, A),), {"dim": 0})],
    "trapz": [lambda L: ((t(L, A),), {"dim": 0})],
    "cumulative_trapezoid": [lambda L: ((t(L, A),), {"dim": 1})],
    "frexp": [lambda L: ((t(L, A),), {})],
    "angle": [lambda L: ((t(L, A),), {})],
    "fix": [lambda L: ((t(L, A),), {})],
    "rsub": [lambda L: ((t(L, A), t(L, B)), {}), lambda L: ((t(L, A), 2.0), {"alpha": 2})],
    "bitwise_left_shift": [lambda L: ((t(L, INT_A), t(L, INT_B % 5)), {}), lambda L: ((t(L, INT_A), 3), {})],
    "bitwise_right_shift": [lambda L: ((t(L, INT_A), t(L, INT_B % 5)), {}), lambda L: ((t(L, INT_A), 3), {})],
    "igamma": [lambda L: ((t(L, POS), t(L, POS + 1.0)), {})],
    "igammac": [lambda L: ((t(L, POS), t(L, POS + 1.0)), {})],
    "histogramdd": [lambda L: ((t(L, A),), {"bins": 3})],
})
