"""Rows for statistics (ops/statistics.py) and counting/searching (ops/searching.py)."""

from __future__ import annotations

import numpy as np
import torch

import chainrule as cr

from .core import OpCase


def _distinct(shape, lo=-2.0, hi=2.0, gap=0.05):
    """Values at least ``gap`` apart, so orders do not flip under finite differences."""

    def make(rng, dtype):
        n = int(np.prod(shape))
        vals = lo + (np.arange(n) * (hi - lo) / n) + rng.uniform(0, gap, size=n)
        return [rng.permutation(vals).reshape(shape)]

    return make


def _with_nan(shape, where):
    def make(rng, dtype):
        x = _distinct(shape)(rng, dtype)[0]
        for idx in where:
            x[idx] = np.nan
        return [x]

    return make


def _repeats(rng, dtype):
    return [rng.integers(-2, 3, size=(4, 7)).astype(np.float64) + 0.5]


def _q(L, x, values):
    return L.tensor(values, dtype=x.dtype)


def _weights(rng, dtype):
    return [rng.standard_normal((3, 6)), rng.integers(1, 4, size=6), rng.uniform(0.2, 1.5, size=6)]


def _coords(n):
    return lambda L, x: L.tensor(np.cumsum(np.linspace(0.5, 1.5, n)), dtype=x.dtype)


QV = [0.0, 0.25, 0.5, 0.9, 1.0]


def _quantile_rows():
    rows = []
    for interp in ("linear", "lower", "higher", "midpoint", "nearest"):
        rows.append(OpCase(
            f"quantile.{interp}",
            lambda x, i=interp: cr.quantile(x, _q(cr, x, QV), dim=1, interpolation=i),
            lambda x, i=interp: torch.quantile(x, _q(torch, x, QV), dim=1, interpolation=i),
            make=_distinct((3, 6))))
    return rows


CASES = _quantile_rows() + [
    OpCase("quantile.scalar_all", lambda x: cr.quantile(x, 0.3), lambda x: torch.quantile(x, 0.3),
           make=_distinct((3, 5))),
    OpCase("quantile.keepdim_dim0", lambda x: x.quantile(0.7, 0, True), lambda x: x.quantile(0.7, 0, True),
           make=_distinct((4, 3))),
    OpCase("quantile.nan", lambda x: cr.quantile(x, 0.5, dim=1), lambda x: torch.quantile(x, 0.5, dim=1),
           make=_with_nan((3, 5), [(1, 2)])),
    OpCase("nanquantile", lambda x: cr.nanquantile(x, _q(cr, x, [0.2, 0.6]), dim=1),
           lambda x: torch.nanquantile(x, _q(torch, x, [0.2, 0.6]), dim=1), make=_with_nan((3, 5), [(1, 2), (2, 0)])),
    OpCase("nanquantile.all", lambda x: x.nanquantile(0.4, interpolation="midpoint"),
           lambda x: x.nanquantile(0.4, interpolation="midpoint"), make=_with_nan((3, 5), [(0, 0)])),
    OpCase("nanmedian", cr.nanmedian, torch.nanmedian, make=_with_nan((3, 4), [(0, 1), (2, 2)])),
    OpCase("nanmedian.dim", lambda x: tuple(x.nanmedian(1)), lambda x: tuple(x.nanmedian(1)),
           make=_with_nan((3, 4), [(0, 1), (2, 2), (2, 3)])),
    OpCase("nanmedian.keepdim", lambda x: tuple(cr.nanmedian(x, 0, keepdim=True)),
           lambda x: tuple(torch.nanmedian(x, 0, keepdim=True)), make=_distinct((4, 3))),
    OpCase("nansum", lambda x: cr.nansum(x), lambda x: torch.nansum(x), make=_with_nan((3, 4), [(0, 1)])),
    OpCase("nansum.dim", lambda x: x.nansum(1, keepdim=True), lambda x: x.nansum(1, keepdim=True),
           make=_with_nan((3, 4), [(0, 1), (2, 2)])),
    OpCase("nanmean", lambda x: cr.nanmean(x, 0), lambda x: torch.nanmean(x, 0), make=_with_nan((3, 4), [(0, 1)])),
    OpCase("nanmean.all", lambda x: x.nanmean(), lambda x: x.nanmean(), make=_with_nan((3, 4), [(1, 1)])),
    OpCase("mode", lambda x: tuple(cr.mode(x, 1)), lambda x: tuple(torch.mode(x, 1)), make=_repeats,
           numeric_grad=False),
    OpCase("mode.dim0_keepdim", lambda x: tuple(x.mode(0, True)), lambda x: tuple(x.mode(0, True)), make=_repeats,
           numeric_grad=False),
    OpCase("aminmax", lambda x: tuple(cr.aminmax(x)), lambda x: tuple(torch.aminmax(x)), make=_distinct((3, 4))),
    OpCase("aminmax.dim", lambda x: tuple(x.aminmax(dim=1, keepdim=True)),
           lambda x: tuple(x.aminmax(dim=1, keepdim=True)), make=_distinct((3, 4))),
    OpCase("msort", cr.msort, torch.msort, make=_distinct((4, 3))),
    OpCase("cummax", lambda x: tuple(cr.cummax(x, 1)), lambda x: tuple(torch.cummax(x, 1)), make=_distinct((3, 5))),
    OpCase("cummin", lambda x: tuple(x.cummin(0)), lambda x: tuple(x.cummin(0)), make=_distinct((4, 3))),
    OpCase("cummax.ties", lambda x: tuple(cr.cummax(x, 1)), lambda x: tuple(torch.cummax(x, 1)), make=_repeats,
           numeric_grad=False),
    OpCase("logcumsumexp", lambda x: cr.logcumsumexp(x, 1), lambda x: torch.logcumsumexp(x, 1), ((3, 5),)),
    OpCase("logcumsumexp.dim0", lambda x: x.logcumsumexp(0), lambda x: x.logcumsumexp(0), ((4, 3),),
           domain=(-30.0, 30.0)),
    OpCase("cov", cr.cov, torch.cov, ((3, 6),)),
    OpCase("cov.vector", lambda x: x.cov(correction=0), lambda x: x.cov(correction=0), ((6,),)),
    OpCase("cov.weights", lambda x, f, a: cr.cov(x, fweights=f, aweights=a),
           lambda x, f, a: torch.cov(x, fweights=f, aweights=a), make=_weights),
    OpCase("corrcoef", cr.corrcoef, torch.corrcoef, ((3, 6),)),
    OpCase("gradient", lambda x: cr.gradient(x), lambda x: torch.gradient(x), ((4, 5),)),
    OpCase("gradient.spacing_edge2", lambda x: cr.gradient(x, spacing=[2.0, 0.5], edge_order=2),
           lambda x: torch.gradient(x, spacing=[2.0, 0.5], edge_order=2), ((4, 5),)),
    OpCase("gradient.coords", lambda x: cr.gradient(x, spacing=(_coords(5)(cr, x),), dim=1, edge_order=2),
           lambda x: torch.gradient(x, spacing=(_coords(5)(torch, x),), dim=1, edge_order=2), ((4, 5),)),
    OpCase("trapezoid", lambda y: cr.trapezoid(y), lambda y: torch.trapezoid(y), ((3, 5),)),
    OpCase("trapezoid.x", lambda y: cr.trapezoid(y, _coords(5)(cr, y)), lambda y: torch.trapezoid(y, _coords(5)(torch, y)),
           ((3, 5),)),
    OpCase("trapezoid.xy", lambda y, x: cr.trapezoid(y, x, dim=0), lambda y, x: torch.trapezoid(y, x, dim=0),
           ((4, 3), (4, 3))),
    OpCase("trapz", lambda y: cr.trapz(y, dx=0.5, dim=0), lambda y: torch.trapz(y, dx=0.5, dim=0), ((4, 3),)),
    OpCase("cumulative_trapezoid", lambda y: cr.cumulative_trapezoid(y, dx=2.0),
           lambda y: torch.cumulative_trapezoid(y, dx=2.0), ((3, 5),)),
    OpCase("cumulative_trapezoid.x", lambda y: cr.cumulative_trapezoid(y, _coords(4)(cr, y), dim=0),
           lambda y: torch.cumulative_trapezoid(y, _coords(4)(torch, y), dim=0), ((4, 3),)),
    # counting and searching: no gradient
    OpCase("unique", lambda x: cr.unique(cr.round(x), return_inverse=True, return_counts=True),
           lambda x: torch.unique(torch.round(x), return_inverse=True, return_counts=True), grad=False),
    OpCase("unique.dim", lambda x: x.round().clamp(0, 1).unique(dim=1, return_inverse=True),
           lambda x: x.round().clamp(0, 1).unique(dim=1, return_inverse=True), ((3, 8),), grad=False),
    OpCase("unique_consecutive", lambda x: cr.unique_consecutive(cr.round(x), return_counts=True),
           lambda x: torch.unique_consecutive(torch.round(x), return_counts=True), ((20,),), grad=False),
    OpCase("histc", lambda x: cr.histc(x, 6), lambda x: torch.histc(x, 6), ((5, 7),), grad=False),
    OpCase("histc.range", lambda x: x.histc(4, min=-1, max=1), lambda x: x.histc(4, min=-1, max=1), ((5, 7),),
           grad=False),
    OpCase("histogram", lambda x: tuple(cr.histogram(x, 5, range=(-1.5, 1.5))),
           lambda x: tuple(torch.histogram(x, 5, range=(-1.5, 1.5))), ((5, 7),), grad=False),
    OpCase("histogram.edges_weight", lambda x, w: tuple(x.histogram(cr.tensor([-2.0, -0.5, 0.0, 2.0], dtype=x.dtype),
                                                                      weight=w, density=True)),
           lambda x, w: tuple(x.histogram(torch.tensor([-2.0, -0.5, 0.0, 2.0], dtype=x.dtype), weight=w, density=True)),
           ((5, 7), (5, 7)), grad=False),
    OpCase("searchsorted", lambda s, v: cr.searchsorted(cr.sort(s).values, v),
           lambda s, v: torch.searchsorted(torch.sort(s).values, v), ((3, 5), (3, 4)), grad=False),
    OpCase("searchsorted.right_1d", lambda s, v: cr.searchsorted(cr.sort(s).values, v, right=True),
           lambda s, v: torch.searchsorted(torch.sort(s).values, v, right=True), ((6,), (3, 4)), grad=False),
    OpCase("bucketize", lambda x: cr.bucketize(x, cr.tensor([-1.0, 0.0, 1.0], dtype=x.dtype)),
           lambda x: torch.bucketize(x, torch.tensor([-1.0, 0.0, 1.0], dtype=x.dtype)), grad=False),
    OpCase("isin", lambda x: cr.isin(cr.round(x), cr.tensor([0.0, 1.0], dtype=x.dtype)),
           lambda x: torch.isin(torch.round(x), torch.tensor([0.0, 1.0], dtype=x.dtype)), grad=False),
    OpCase("bincount", lambda w, i: cr.bincount(i, w), lambda w, i: torch.bincount(i, w),
           make=lambda rng, dt: [rng.uniform(0, 1, 8), rng.integers(0, 5, 8)], grad=False),
]
