"""Rows for PyTorch names added for textbook/tutorial code: shapes and diagonals
(chainrule/ops/reshaping.py), writes at indices (index_extra.py) and products/distances
(products.py). Each row is written once for both libraries: ``f(L, *inputs)`` with ``L`` torch or
chainrule.
"""

from __future__ import annotations

import numpy as np
import torch

import chainrule as cr

from .core import OpCase


def _row(name: str, f, **kw) -> OpCase:
    return OpCase(name, lambda *xs: f(cr, *xs), lambda *xs: f(torch, *xs), **kw)


def _with(*parts):
    """Inputs: float arrays of the given shapes (tuples) and fixed integer/bool arrays (lists/arrays)."""

    def make(rng, dtype):
        return [rng.uniform(-2, 2, size=p) if isinstance(p, tuple) else np.array(p) for p in parts]

    return make


def _distinct(*shapes):
    """Float inputs whose values are all distinct and away from 0 (no ties for amax/amin, no 0 for prod)."""

    def make(rng, dtype):
        out = []
        for s in shapes:
            n = int(np.prod(s))
            v = (rng.permutation(n) + 1.0) / n * rng.choice([-1.0, 1.0], size=n)
            out.append((v + rng.uniform(0, 0.1 / n, size=n)).reshape(s))
        return out

    return make


_shape = [
    _row("atleast_1d", lambda L, x: L.atleast_1d(x), shapes=((),), noncontig=False),
    _row("atleast_2d", lambda L, x: L.atleast_2d(x), shapes=((4,),)),
    _row("atleast_3d", lambda L, x: L.atleast_3d(x), shapes=((3, 4),)),
    _row("atleast_3d.seq", lambda L, x, y: L.atleast_3d([x, y]), shapes=((4,), (2, 3))),
    _row("column_stack", lambda L, x, y: L.column_stack([x, y]), shapes=((4,), (4, 2))),
    _row("tensor_split.sections", lambda L, x: L.tensor_split(x, 3, 1), shapes=((3, 4),)),
    _row("tensor_split.indices", lambda L, x: L.tensor_split(x, [1, 3], dim=1), shapes=((3, 4),)),
    _row("hsplit", lambda L, x: L.hsplit(x, 2), shapes=((3, 4),)),
    _row("vsplit", lambda L, x: L.vsplit(x, [1]), shapes=((3, 4),)),
    _row("dsplit", lambda L, x: L.dsplit(x, 2), shapes=((2, 2, 4),)),
    _row("rot90", lambda L, x: L.rot90(x), shapes=((3, 4),)),
    _row("rot90.k2", lambda L, x: L.rot90(x, 2, [1, 2]), shapes=((2, 3, 4),)),
    _row("rot90.k3", lambda L, x: L.rot90(x, -1, [2, 0]), shapes=((2, 3, 4),)),
    _row("diag.vector", lambda L, x: L.diag(x, 1), shapes=((4,),)),
    _row("diag.vector_neg", lambda L, x: L.diag(x, -2), shapes=((3,),)),
    _row("diag.matrix", lambda L, x: L.diag(x, 1), shapes=((3, 4),)),
    _row("diag_embed", lambda L, x: L.diag_embed(x), shapes=((2, 3),)),
    _row("diag_embed.dims", lambda L, x: L.diag_embed(x, 1, 0, 2), shapes=((2, 3),)),
    _row("diagflat", lambda L, x: L.diagflat(x, -1), shapes=((2, 3),)),
    _row("diagonal", lambda L, x: L.diagonal(x), shapes=((3, 4),)),
    _row("diagonal.dims", lambda L, x: L.diagonal(x, 1, 2, 0), shapes=((3, 4, 5),)),
    _row("diagonal.method", lambda L, x: x.diagonal(-1), shapes=((4, 3),)),
    _row("cartesian_prod", lambda L, x, y: L.cartesian_prod(x, y), shapes=((3,), (2,))),
    _row("combinations", lambda L, x: L.combinations(x), shapes=((4,),)),
    _row("combinations.r3_repl", lambda L, x: L.combinations(x, 3, with_replacement=True), shapes=((3,),)),
    # torch's own vander backward fails (an in-place write it checks); gradients: tests/test_missing_names.py
    _row("vander", lambda L, x: L.vander(x), shapes=((4,),), grad=False),
    _row("vander.increasing", lambda L, x: L.vander(x, 3, increasing=True), shapes=((4,),), grad=False),
    _row("block_diag", lambda L, x, y, z: L.block_diag(x, y, z), shapes=((2, 3), (2,), ())),
    _row("diff", lambda L, x: L.diff(x), shapes=((3, 5),)),
    _row("diff.n2_dim0", lambda L, x: L.diff(x, 2, 0), shapes=((4, 3),)),
    _row("diff.prepend_append", lambda L, x, p, a: L.diff(x, dim=1, prepend=p, append=a),
         shapes=((3, 4), (3, 1), (3, 2))),
    _row("diff.method", lambda L, x: x.diff(), shapes=((5,),)),
    _row("unfold", lambda L, x: x.unfold(1, 3, 2), shapes=((3, 7),)),
    _row("unfold.dim0", lambda L, x: x.unfold(0, 2, 1), shapes=((4, 3),)),
    _row("as_strided", lambda L, x: L.as_strided(x.contiguous(), (2, 2), (1, 2), 1), shapes=((3, 4),)),
    _row("narrow_copy", lambda L, x: L.narrow_copy(x, 1, 1, 2), shapes=((3, 4),)),
    _row("split_with_sizes", lambda L, x: L.split_with_sizes(x, [1, 3], 1), shapes=((3, 4),)),
    _row("unsafe_split", lambda L, x: x.unsafe_split(2, dim=1), shapes=((3, 5),)),
    _row("unsafe_chunk", lambda L, x: L.unsafe_chunk(x, 2), shapes=((3, 4),)),
    _row("reshape_as", lambda L, x, y: x.reshape_as(y.detach()), shapes=((3, 4), (2, 6)), grad=False),
    _row("sum_to_size", lambda L, x: x.sum_to_size(1, 4), shapes=((3, 4),)),
]

_index = [
    _row("index_copy", lambda L, x, s, i: L.index_copy(x, 0, i, s), make=_with((3, 4), (2, 4), [2, 0])),
    _row("index_copy.dim1", lambda L, x, s, i: x.index_copy(1, i, s), make=_with((3, 4), (3, 2), [3, 1])),
    _row("index_fill", lambda L, x, i: L.index_fill(x, 1, i, 2.5), make=_with((3, 4), [1, 3])),
    _row("index_fill.tensor", lambda L, x, v, i: x.index_fill(0, i, v), make=_with((3, 4), (), [2])),
    _row("index_put", lambda L, x, v, i, j: L.index_put(x, (i, j), v), make=_with((3, 4), (2,), [0, 2], [1, 3])),
    _row("index_put.accumulate", lambda L, x, v, i: L.index_put(x, (i,), v, accumulate=True),
         make=_with((3, 4), (3, 4), [0, 2, 0])),
    _row("index_put.broadcast", lambda L, x, v, i: x.index_put((i,), v), make=_with((3, 4), (4,), [1])),
    _row("put", lambda L, x, s, i: L.put(x, i, s), make=_with((3, 4), (3,), [0, 5, -1])),
    _row("put.accumulate", lambda L, x, s, i: x.put(i, s, accumulate=True), make=_with((3, 4), (3,), [0, 5, 0])),
    _row("masked_scatter", lambda L, x, s, m: L.masked_scatter(x, m, s),
         make=_with((3, 4), (13,), np.arange(12).reshape(3, 4) % 3 == 0)),
    _row("masked_scatter.broadcast", lambda L, x, s, m: x.masked_scatter(m, s),
         make=_with((3, 4), (12,), [True, False, True, True])),
    _row("select_scatter", lambda L, x, s: L.select_scatter(x, s, 1, -1), shapes=((3, 4), (3,))),
    _row("slice_scatter", lambda L, x, s: L.slice_scatter(x, s, 1, 0, 4, 2), shapes=((3, 4), (3, 2))),
    _row("slice_scatter.dim0", lambda L, x, s: L.slice_scatter(x, s, start=1), shapes=((3, 4), (2, 4))),
    _row("diagonal_scatter", lambda L, x, s: L.diagonal_scatter(x, s, 1), shapes=((3, 4), (3,))),
    _row("diagonal_scatter.dims", lambda L, x, s: x.diagonal_scatter(s, -1, 2, 0), shapes=((3, 2, 4), (2, 3))),
]
_SCATTER_IDX = [[0, 1, 0, 2], [2, 1, 0, 2]]
for _r in ("sum", "prod", "mean", "amax", "amin"):
    for _self in (True, False):
        _tag = "" if _self else ".exclude_self"
        _index.append(_row(f"scatter_reduce.{_r}{_tag}",
                           lambda L, x, s, i, r=_r, inc=_self: L.scatter_reduce(x, 0, i, s, r, include_self=inc),
                           make=lambda rng, dtype: _distinct((3, 4), (2, 4))(rng, dtype) + [np.array(_SCATTER_IDX)]))
for _r in ("prod", "mean", "amax", "amin"):
    for _self in (True, False):
        _tag = "" if _self else ".exclude_self"
        _index.append(_row(f"index_reduce.{_r}{_tag}",
                           lambda L, x, s, i, r=_r, inc=_self: x.index_reduce(1, i, s, r, include_self=inc),
                           make=lambda rng, dtype: _distinct((3, 4), (3, 3))(rng, dtype) + [np.array([3, 0, 3])]))
_index.append(_row("scatter_reduce.sum_dim1_small_index",
                   lambda L, x, s, i: x.scatter_reduce(1, i, s, "sum"),
                   make=_with((3, 4), (3, 5), [[0, 0], [3, 1]]), grad=False))  # torch's backward fails here

_products = [
    _row("tensordot", lambda L, a, b: L.tensordot(a, b, ([1, 0], [0, 2])), shapes=((3, 4, 2), (4, 5, 3))),
    _row("tensordot.int", lambda L, a, b: L.tensordot(a, b, 1), shapes=((3, 4), (4, 2))),
    _row("tensordot.zero", lambda L, a, b: L.tensordot(a, b, 0), shapes=((3,), (2,))),
    _row("inner", lambda L, a, b: L.inner(a, b), shapes=((3, 4), (2, 4))),
    _row("inner.vectors", lambda L, a, b: a.inner(b), shapes=((4,), (4,))),
    _row("inner.scalar", lambda L, a, b: L.inner(a, b), shapes=((), (2, 3))),
    _row("kron", lambda L, a, b: L.kron(a, b), shapes=((2, 3), (3, 2))),
    _row("kron.ranks", lambda L, a, b: a.kron(b), shapes=((3,), (2, 2))),
    _row("vdot", lambda L, a, b: L.vdot(a, b), shapes=((4,), (4,))),
    _row("addmv", lambda L, c, m, v: L.addmv(c, m, v, beta=0.5, alpha=2.0), shapes=((3,), (3, 4), (4,))),
    _row("addmv.broadcast", lambda L, c, m, v: c.addmv(m, v), shapes=((1,), (3, 4), (4,))),
    _row("addr", lambda L, c, a, b: L.addr(c, a, b, beta=2.0, alpha=-1.0), shapes=((3, 4), (3,), (4,))),
    _row("addbmm", lambda L, c, a, b: L.addbmm(c, a, b, alpha=0.5), shapes=((3, 5), (2, 3, 4), (2, 4, 5))),
    _row("baddbmm", lambda L, c, a, b: L.baddbmm(c, a, b, beta=0.5, alpha=2.0), shapes=((2, 3, 5), (2, 3, 4),
                                                                                      (2, 4, 5))),
    _row("baddbmm.broadcast", lambda L, c, a, b: c.baddbmm(a, b), shapes=((5,), (2, 3, 4), (2, 4, 5))),
    _row("cdist", lambda L, a, b: L.cdist(a, b), shapes=((3, 4), (5, 4))),
    _row("cdist.batch", lambda L, a, b: L.cdist(a, b), shapes=((2, 3, 4), (2, 2, 4))),
    _row("cdist.mm", lambda L, a, b: L.cdist(a, b), shapes=((30, 3), (4, 3)), fast=True, atol32=1e-4, rtol32=1e-4,
         atol64=1e-9, rtol64=1e-9),
    _row("cdist.mm_mode", lambda L, a, b: L.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
         shapes=((2, 3, 4), (2, 2, 4)), atol32=1e-4, rtol32=1e-4, atol64=1e-9, rtol64=1e-9),
    _row("cdist.p1", lambda L, a, b: L.cdist(a, b, p=1), shapes=((3, 4), (2, 4))),
    _row("cdist.p3", lambda L, a, b: L.cdist(a, b, p=3.0), shapes=((3, 4), (2, 4))),
    _row("cdist.inf", lambda L, a, b: L.cdist(a, b, p=float("inf")), shapes=((3, 4), (2, 4))),
    _row("pdist", lambda L, a: L.pdist(a), shapes=((4, 3),)),
    _row("pdist.p1", lambda L, a: L.pdist(a, 1), shapes=((4, 3),)),
    _row("dist", lambda L, a, b: L.dist(a, b), shapes=((3, 4), (4,))),
    _row("dist.p3", lambda L, a, b: a.dist(b, 3), shapes=((3, 4), (3, 4))),
    _row("renorm", lambda L, a: L.renorm(a, 2, 0, 1.5), shapes=((4, 3),)),
    _row("renorm.p1_dim1", lambda L, a: a.renorm(1, 1, 2.0), shapes=((3, 4),)),
]


def _chain(L, a, b, c):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return L.chain_matmul(a, b, c)


_products.append(_row("chain_matmul", _chain, shapes=((2, 3), (3, 4), (4, 2))))

CASES = _shape + _index + _products
