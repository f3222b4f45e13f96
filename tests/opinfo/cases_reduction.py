"""Rows for reductions (chainrule/ops/reduction.py).

Rows at ties (max/min/amax of repeated values) are forward-only here: finite differences across
a tie measure a one-sided derivative, not PyTorch's even split. Their gradients are compared
with PyTorch in tests/test_reduction_extra.py.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F

from .core import OpCase

X3 = ((2, 3, 4),)
INF = float("inf")


def _zeros_at(*positions, shape=(3, 4)):
    """Uniform samples with exact zeros at ``positions`` (prod's 0/0 cases)."""

    def make(rng, dtype):
        x = rng.uniform(-2, 2, size=shape)
        for p in positions:
            x[p] = 0.0
        return [x]

    return make


def _ties(rng, dtype):
    # small integers: many exact ties in every row and column
    return [rng.integers(-2, 3, size=(3, 4)).astype(np.float64)]


def _away_from_zero(rng, dtype):
    x = rng.uniform(0.2, 2.0, size=(3, 4))
    return [x * rng.choice([-1.0, 1.0], size=x.shape)]


def _large(rng, dtype):
    # exp(1000) overflows even in float64: only the max-subtracting formulas survive
    return [rng.uniform(-2, 2, size=(3, 4)) + np.array([[1000.0], [-1000.0], [0.0]])]


def _ints(rng, dtype):
    return [rng.integers(-3, 4, size=(3, 4)).astype(np.int64)]


CASES = [
    # sum
    OpCase("sum", cr.sum, torch.sum),
    OpCase("sum.dim", lambda x: cr.sum(x, 1), lambda x: torch.sum(x, 1)),
    OpCase("sum.neg_keepdim", lambda x: x.sum(-2, keepdim=True), lambda x: x.sum(-2, keepdim=True), X3),
    OpCase("sum.tuple", lambda x: cr.sum(x, (0, 2)), lambda x: torch.sum(x, (0, 2)), X3),
    OpCase("sum.dtype", lambda x: cr.sum(x, 0, dtype=cr.float64), lambda x: torch.sum(x, 0, dtype=torch.float64)),
    OpCase("sum.int", lambda x: x.sum(1), lambda x: x.sum(1), make=_ints, grad=False),
    OpCase("sum.scalar", lambda x: cr.sum(x, 0), lambda x: torch.sum(x, 0), ((),)),
    # mean
    OpCase("mean", cr.mean, torch.mean),
    OpCase("mean.dim", lambda x: x.mean(1), lambda x: x.mean(1)),
    OpCase("mean.tuple_keepdim", lambda x: cr.mean(x, (-1, 0), True), lambda x: torch.mean(x, (-1, 0), True), X3),
    OpCase("mean.dtype", lambda x: cr.mean(x, dtype=cr.float64), lambda x: torch.mean(x, dtype=torch.float64)),
    # prod
    OpCase("prod", cr.prod, torch.prod),
    OpCase("prod.dim", lambda x: cr.prod(x, 1), lambda x: torch.prod(x, 1)),
    OpCase("prod.neg_keepdim", lambda x: x.prod(-3, keepdim=True), lambda x: x.prod(-3, keepdim=True), X3),
    OpCase("prod.one_zero", cr.prod, torch.prod, make=_zeros_at((1, 2))),
    OpCase("prod.two_zeros", cr.prod, torch.prod, make=_zeros_at((0, 0), (2, 3))),
    OpCase("prod.three_zeros", cr.prod, torch.prod, make=_zeros_at((0, 0), (1, 1), (2, 2))),
    OpCase("prod.dim_zeros", lambda x: cr.prod(x, 1), lambda x: torch.prod(x, 1),
           make=_zeros_at((0, 1), (1, 0), (1, 3), (2, 0), (2, 1), (2, 2))),
    OpCase("prod.dim0_zeros", lambda x: cr.prod(x, 0, True), lambda x: torch.prod(x, 0, True),
           make=_zeros_at((0, 1), (2, 1), (1, 3))),
    OpCase("prod.int", lambda x: cr.prod(x, 0), lambda x: torch.prod(x, 0), make=_ints, grad=False),
    # max / min
    OpCase("max", cr.max, torch.max),
    OpCase("max.dim", lambda x: cr.max(x, 1), lambda x: torch.max(x, 1)),
    OpCase("max.dim_keepdim", lambda x: x.max(-1, keepdim=True), lambda x: x.max(-1, keepdim=True), X3),
    OpCase("max.dim0", lambda x: tuple(x.max(dim=0)), lambda x: tuple(x.max(dim=0)), X3),
    OpCase("max.other", cr.max, torch.max, ((3, 4), (4,))),
    OpCase("max.ties", cr.max, torch.max, make=_ties, numeric_grad=False),
    OpCase("max.dim_ties", lambda x: cr.max(x, 1), lambda x: torch.max(x, 1), make=_ties, numeric_grad=False),
    OpCase("max.scalar_dim", lambda x: cr.max(x, 0), lambda x: torch.max(x, 0), ((),)),
    OpCase("min", cr.min, torch.min),
    OpCase("min.dim", lambda x: cr.min(x, 0), lambda x: torch.min(x, 0)),
    OpCase("min.dim_keepdim", lambda x: x.min(-2, True), lambda x: x.min(-2, True), X3),
    OpCase("min.other", lambda a, b: a.min(b), lambda a, b: a.min(b), ((3, 1), (4,))),
    OpCase("min.ties", cr.min, torch.min, make=_ties, numeric_grad=False),
    OpCase("min.dim_ties", lambda x: cr.min(x, 0), lambda x: torch.min(x, 0), make=_ties, numeric_grad=False),
    # amax / amin
    OpCase("amax", cr.amax, torch.amax),
    OpCase("amax.dim", lambda x: cr.amax(x, 1), lambda x: torch.amax(x, 1)),
    OpCase("amax.tuple_keepdim", lambda x: x.amax((0, -1), True), lambda x: x.amax((0, -1), True), X3),
    OpCase("amax.ties", lambda x: cr.amax(x, 1), lambda x: torch.amax(x, 1), make=_ties, numeric_grad=False),
    OpCase("amin", cr.amin, torch.amin),
    OpCase("amin.tuple", lambda x: cr.amin(x, (1, 2)), lambda x: torch.amin(x, (1, 2)), X3),
    OpCase("amin.ties", lambda x: cr.amin(x, 0, True), lambda x: torch.amin(x, 0, True), make=_ties, numeric_grad=False),
    # argmax / argmin (integer results, no gradient)
    OpCase("argmax", cr.argmax, torch.argmax, grad=False),
    OpCase("argmax.dim", lambda x: cr.argmax(x, 1), lambda x: torch.argmax(x, 1), X3, grad=False),
    OpCase("argmax.keepdim", lambda x: x.argmax(-1, True), lambda x: x.argmax(-1, True), grad=False),
    OpCase("argmax.all_keepdim", lambda x: cr.argmax(x, keepdim=True), lambda x: torch.argmax(x, keepdim=True),
           grad=False),
    OpCase("argmax.ties", lambda x: cr.argmax(x, 0), lambda x: torch.argmax(x, 0), make=_ties, grad=False),
    OpCase("argmin", cr.argmin, torch.argmin, grad=False),
    OpCase("argmin.dim", lambda x: x.argmin(0), lambda x: x.argmin(0), X3, grad=False),
    OpCase("argmin.ties", lambda x: cr.argmin(x, 1), lambda x: torch.argmin(x, 1), make=_ties, grad=False),
    # var / std (correction and the legacy unbiased flag)
    OpCase("var", cr.var, torch.var),
    OpCase("var.dim", lambda x: cr.var(x, 1), lambda x: torch.var(x, 1)),
    OpCase("var.correction0", lambda x: cr.var(x, 0, correction=0), lambda x: torch.var(x, 0, correction=0)),
    OpCase("var.correction2_keepdim", lambda x: x.var(-1, correction=2, keepdim=True),
           lambda x: x.var(-1, correction=2, keepdim=True)),
    OpCase("var.tuple", lambda x: cr.var(x, (0, 2)), lambda x: torch.var(x, (0, 2)), X3),
    OpCase("var.unbiased_false", lambda x: cr.var(x, 1, unbiased=False), lambda x: torch.var(x, 1, unbiased=False)),
    OpCase("var.unbiased_positional", lambda x: cr.var(x, False), lambda x: torch.var(x, False)),
    OpCase("var.legacy_positional", lambda x: x.var(1, True, True), lambda x: x.var(1, True, True)),
    OpCase("std", cr.std, torch.std),
    OpCase("std.dim", lambda x: x.std(0), lambda x: x.std(0)),
    OpCase("std.correction0_keepdim", lambda x: cr.std(x, -1, correction=0, keepdim=True),
           lambda x: torch.std(x, -1, correction=0, keepdim=True), X3),
    OpCase("std.correction2", lambda x: cr.std(x, (1, 2), correction=2), lambda x: torch.std(x, (1, 2), correction=2), X3),
    OpCase("std.unbiased_false", lambda x: cr.std(x, unbiased=False), lambda x: torch.std(x, unbiased=False)),
    OpCase("var_mean", cr.var_mean, torch.var_mean),
    OpCase("var_mean.dim", lambda x: cr.var_mean(x, 1, correction=0), lambda x: torch.var_mean(x, 1, correction=0)),
    OpCase("var_mean.keepdim", lambda x: cr.var_mean(x, (0, 1), keepdim=True),
           lambda x: torch.var_mean(x, (0, 1), keepdim=True), X3),
    OpCase("std_mean", cr.std_mean, torch.std_mean),
    OpCase("std_mean.dim", lambda x: cr.std_mean(x, -1, unbiased=False), lambda x: torch.std_mean(x, -1, unbiased=False)),
    # logsumexp / softmax / log_softmax
    OpCase("logsumexp", lambda x: cr.logsumexp(x, 1), lambda x: torch.logsumexp(x, 1)),
    OpCase("logsumexp.keepdim", lambda x: x.logsumexp(0, keepdim=True), lambda x: x.logsumexp(0, keepdim=True)),
    OpCase("logsumexp.tuple", lambda x: cr.logsumexp(x, (0, 2)), lambda x: torch.logsumexp(x, (0, 2)), X3),
    OpCase("logsumexp.large", lambda x: cr.logsumexp(x, 1), lambda x: torch.logsumexp(x, 1), make=_large),
    OpCase("softmax", lambda x: cr.softmax(x, 1), lambda x: torch.softmax(x, 1)),
    OpCase("softmax.dim0", lambda x: x.softmax(0), lambda x: x.softmax(0), X3),
    OpCase("softmax.neg", lambda x: F.softmax(x, dim=-1), lambda x: TF.softmax(x, dim=-1), X3),
    OpCase("softmax.dtype", lambda x: cr.softmax(x, 1, dtype=cr.float64), lambda x: torch.softmax(x, 1, dtype=torch.float64)),
    OpCase("softmax.large", lambda x: cr.softmax(x, 1), lambda x: torch.softmax(x, 1), make=_large),
    OpCase("log_softmax", lambda x: cr.log_softmax(x, 1), lambda x: torch.log_softmax(x, 1)),
    OpCase("log_softmax.dim0", lambda x: x.log_softmax(0), lambda x: x.log_softmax(0), X3),
    OpCase("log_softmax.dtype", lambda x: F.log_softmax(x, -1, dtype=cr.float64),
           lambda x: TF.log_softmax(x, -1, dtype=torch.float64)),
    OpCase("log_softmax.large", lambda x: cr.log_softmax(x, 1), lambda x: torch.log_softmax(x, 1), make=_large),
    # norm
    OpCase("norm", cr.norm, torch.norm),
    OpCase("norm.method", lambda x: x.norm(), lambda x: x.norm(), X3),
    OpCase("norm.dim", lambda x: cr.norm(x, dim=1), lambda x: torch.norm(x, dim=1)),
    OpCase("norm.fro_tuple", lambda x: cr.norm(x, "fro", (0, 2), True), lambda x: torch.norm(x, "fro", (0, 2), True), X3),
    OpCase("norm.p2_keepdim", lambda x: x.norm(2, -1, True), lambda x: x.norm(2, -1, True)),
    OpCase("norm.p1", lambda x: cr.norm(x, 1, 0), lambda x: torch.norm(x, 1, 0), make=_away_from_zero),
    OpCase("norm.inf", lambda x: cr.norm(x, INF, 1), lambda x: torch.norm(x, INF, 1)),
    OpCase("norm.neginf", lambda x: cr.norm(x, -INF), lambda x: torch.norm(x, -INF), make=_away_from_zero),
    OpCase("norm.p0", lambda x: cr.norm(x, 0, 1), lambda x: torch.norm(x, 0, 1), make=_zeros_at((0, 1), (2, 2))),
    OpCase("norm.p3", lambda x: cr.norm(x, 3, 1), lambda x: torch.norm(x, 3, 1)),
    OpCase("norm.p1_5", lambda x: x.norm(1.5, (0, 1)), lambda x: x.norm(1.5, (0, 1)), X3),
    OpCase("norm.p0_5", lambda x: cr.norm(x, 0.5, 0), lambda x: torch.norm(x, 0.5, 0), make=_away_from_zero),
    OpCase("norm.dtype", lambda x: cr.norm(x, dim=0, dtype=cr.float64), lambda x: torch.norm(x, dim=0, dtype=torch.float64)),
    # cumsum
    OpCase("cumsum", lambda x: cr.cumsum(x, 0), lambda x: torch.cumsum(x, 0)),
    OpCase("cumsum.neg", lambda x: x.cumsum(-1), lambda x: x.cumsum(-1), X3),
    OpCase("cumsum.mid", lambda x: cr.cumsum(x, 1), lambda x: torch.cumsum(x, 1), X3),
    OpCase("cumsum.int", lambda x: cr.cumsum(x, 1), lambda x: torch.cumsum(x, 1), make=_ints, grad=False),
    # all / any (bool results)
    OpCase("all", lambda x: cr.all(x > -1.5), lambda x: torch.all(x > -1.5), grad=False),
    OpCase("all.dim", lambda x: (x > -1).all(1), lambda x: (x > -1).all(1), grad=False),
    OpCase("all.tuple_keepdim", lambda x: cr.all(x > -1.8, (0, 2), True), lambda x: torch.all(x > -1.8, (0, 2), True),
           X3, grad=False),
    OpCase("all.float", lambda x: cr.all(x, 0), lambda x: torch.all(x, 0), make=_zeros_at((1, 2)), grad=False),
    OpCase("any", lambda x: cr.any(x > 1.5), lambda x: torch.any(x > 1.5), grad=False),
    OpCase("any.dim", lambda x: (x > 1).any(0), lambda x: (x > 1).any(0), grad=False),
    OpCase("any.int", lambda x: cr.any(x, -1, keepdim=True), lambda x: torch.any(x, -1, keepdim=True),
           make=_ints, grad=False),
]
