"""Rows for element-wise operators and activations (chainrule/ops/elementwise.py, activation.py)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF

import chainrule as cr

from .core import OpCase

POS = (0.2, 3.0)  # domain of functions defined for positive inputs
BCAST = ((3, 4), (4,))  # broadcasting pair


def _pair_with_ties(rng, dtype):
    a = rng.uniform(-2, 2, size=(3, 4))
    b = rng.uniform(-2, 2, size=(3, 4))
    b[0, :2] = a[0, :2]  # exact ties: each side gets half of the gradient
    return [a, b]


def _away_from(points, lo=-2.0, hi=2.0, gap=0.1):
    """Samples kept ``gap`` away from kinks, so finite differences do not straddle them."""

    def make(rng, dtype):
        x = rng.uniform(lo, hi, size=(3, 4))
        for p in points:
            x = np.where(np.abs(x - p) < gap, p + np.sign(x - p + 1e-12) * gap * 2, x)
        return [x]

    return make


CASES = [
    OpCase("add", lambda a, b: a + b, lambda a, b: a + b, BCAST),
    OpCase("add.alpha", lambda a, b: cr.add(a, b, alpha=2.5), lambda a, b: torch.add(a, b, alpha=2.5), BCAST),
    OpCase("add.scalar", lambda a: 1.5 + a, lambda a: 1.5 + a),
    OpCase("sub", lambda a, b: a - b, lambda a, b: a - b, ((4,), (2, 3, 4))),
    OpCase("sub.rscalar", lambda a: 2 - a, lambda a: 2 - a),
    OpCase("mul", lambda a, b: a * b, lambda a, b: a * b, ((3, 1), (1, 4))),
    OpCase("mul.scalar", lambda a: a * 3, lambda a: a * 3),
    OpCase("div", lambda a, b: a / b, lambda a, b: a / b, ((3, 4), (3, 1)), domain=POS),
    OpCase("div.rscalar", lambda a: 2.0 / a, lambda a: 2.0 / a, domain=POS),
    OpCase("pow", lambda a, b: a ** b, lambda a, b: a ** b, BCAST, domain=POS),
    OpCase("pow.scalar", lambda a: a ** 3, lambda a: a ** 3),
    OpCase("pow.frac", lambda a: a ** 1.5, lambda a: a ** 1.5, domain=POS),
    OpCase("pow.square", lambda a: a ** 2, lambda a: a ** 2),
    OpCase("pow.rscalar", lambda a: 2.0 ** a, lambda a: 2.0 ** a),
    OpCase("neg", lambda a: -a, lambda a: -a),
    OpCase("exp", cr.exp, torch.exp),
    OpCase("expm1", cr.expm1, torch.expm1),
    OpCase("log", cr.log, torch.log, domain=POS),
    OpCase("log1p", cr.log1p, torch.log1p, domain=(-0.5, 2.0)),
    OpCase("log2", cr.log2, torch.log2, domain=POS),
    OpCase("sqrt", cr.sqrt, torch.sqrt, domain=POS),
    OpCase("rsqrt", cr.rsqrt, torch.rsqrt, domain=POS),
    OpCase("square", cr.square, torch.square),
    OpCase("reciprocal", cr.reciprocal, torch.reciprocal, domain=POS),
    OpCase("abs", cr.abs, torch.abs, make=_away_from([0.0])),
    OpCase("sin", cr.sin, torch.sin),
    OpCase("cos", cr.cos, torch.cos),
    OpCase("tan", cr.tan, torch.tan, domain=(-1.0, 1.0)),
    OpCase("tanh", cr.tanh, torch.tanh),
    OpCase("sigmoid", cr.sigmoid, torch.sigmoid, domain=(-6.0, 6.0)),
    OpCase("erf", cr.erf, torch.erf),
    OpCase("relu", cr.relu, torch.relu, make=_away_from([0.0])),
    OpCase("leaky_relu", lambda x: cr.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), make=_away_from([0.0])),
    OpCase("elu", lambda x: cr.elu(x, 1.3), lambda x: TF.elu(x, 1.3), make=_away_from([0.0])),
    OpCase("gelu", cr.gelu, TF.gelu),
    OpCase("gelu.tanh", lambda x: cr.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    OpCase("silu", cr.silu, TF.silu),
    OpCase("softplus", cr.softplus, TF.softplus, domain=(-5.0, 5.0)),
    OpCase("softplus.beta", lambda x: cr.softplus(x, beta=2.0, threshold=3.0),
           lambda x: TF.softplus(x, beta=2.0, threshold=3.0), make=_away_from([1.5], -3, 3)),
    OpCase("clamp", lambda x: cr.clamp(x, -0.5, 0.7), lambda x: torch.clamp(x, -0.5, 0.7), make=_away_from([-0.5, 0.7])),
    OpCase("clamp.min", lambda x: x.clamp(min=0.1), lambda x: x.clamp(min=0.1), make=_away_from([0.1])),
    OpCase("maximum", cr.maximum, torch.maximum, make=_pair_with_ties, numeric_grad=False),
    OpCase("minimum.ties", cr.minimum, torch.minimum, make=_pair_with_ties, op="minimum", numeric_grad=False),
    OpCase("maximum.smooth", cr.maximum, torch.maximum, BCAST),
    OpCase("minimum", cr.minimum, torch.minimum, BCAST),
    OpCase("where", lambda c, a, b: cr.where(c > 0, a, b), lambda c, a, b: torch.where(c > 0, a, b),
           ((3, 4), (3, 4), (4,))),
    OpCase("where.scalar", lambda c, a: cr.where(c > 0, a, 0.5), lambda c, a: torch.where(c > 0, a, 0.5),
           ((3, 4), (3, 4))),
]
