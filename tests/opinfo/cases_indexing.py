"""Rows for indexing operators (chainrule/ops/indexing.py and scatter.py).

Index arrays come from ``make`` as integer/bool arrays, so they reach both libraries as index
tensors. Repeated indices are used wherever the gradient must add them up.
"""

from __future__ import annotations

import numpy as np
import torch

import chainrule as cr

from .core import OpCase


def _with(shape, *indices):
    """An input of ``shape`` followed by fixed index arrays (ints or bools)."""

    def make(rng, dtype):
        return [rng.uniform(-2, 2, size=shape)] + [np.array(i) for i in indices]

    return make


def _mask(shape, mshape=None, seed_true=True):
    def make(rng, dtype):
        m = rng.random(mshape or shape) < 0.5
        if seed_true:
            m.flat[0] = True
        return [rng.uniform(-2, 2, size=shape), m]

    return make


def _perm_index(shape, dim, index_shape):
    """Indices with no repeats along ``dim`` (scatter's result is only defined then)."""

    def make(rng, dtype):
        n = shape[dim]
        idx = np.empty(index_shape, dtype=np.int64)
        moved = np.moveaxis(idx, dim, -1)
        for pos in np.ndindex(moved.shape[:-1]):
            moved[pos] = rng.permutation(n)[: moved.shape[-1]]
        return [rng.uniform(-2, 2, size=shape), idx, rng.uniform(-2, 2, size=index_shape)]

    return make


def _scatter_make(shape, index, src_shape):
    def make(rng, dtype):
        return [rng.uniform(-2, 2, size=shape), np.array(index), rng.uniform(-2, 2, size=src_shape)]

    return make


REP0 = [[0, 2, 0, 1], [2, 2, 1, 0]]  # repeated row indices for a (3, 4) input, dim 0
REP1 = [[3, 3, 0], [1, 0, 1], [0, 0, 0]]  # repeated column indices, dim 1 / -1

_getitem = [
    ("int", lambda a: a[1], (3, 4)),
    ("neg_int", lambda a: a[-1, -2], (3, 4)),
    ("slice", lambda a: a[1:3], (4, 3)),
    ("step", lambda a: a[::2, 1::2], (5, 6)),
    ("slice_neg_bounds", lambda a: a[-3:-1, :-1], (4, 3)),
    ("none", lambda a: a[None, :, None], (3, 4)),
    ("ellipsis", lambda a: a[..., 1], (2, 3, 4)),
    ("ellipsis_none", lambda a: a[0, ..., None], (2, 3, 4)),
    ("empty_slice", lambda a: a[2:1], (3, 4)),
    ("list", lambda a: a[[0, 2, 2, -1]], (3, 4)),
    ("empty_list", lambda a: a[[]], (3, 4)),
    ("list_and_slice", lambda a: a[1:, [0, 2, 0]], (3, 4)),
    ("two_lists", lambda a: a[[0, 2, 2], [1, 1, 3]], (3, 4)),
    ("lists_broadcast", lambda a: a[[[0], [2]], [1, 3, 1]], (3, 4)),
    ("int_slice_list", lambda a: a[0, :, [1, 2, 1]], (2, 3, 4)),
    ("list_slice_list", lambda a: a[[0, 1, 1], :, [3, 2, 3]], (2, 3, 4)),
    ("int_none_list", lambda a: a[1, None, [2, 0, 2]], (2, 3, 4)),
    ("slice_int_list", lambda a: a[:, 1, [0, 0, 3]], (2, 3, 4)),
    ("list_int_slice", lambda a: a[[1, 0, 1], 2, 1:], (2, 3, 4)),
    ("none_list_ellipsis", lambda a: a[None, [1, 0], ..., None], (2, 3, 4)),
]


def _getitem_rows() -> list:
    rows = [OpCase(f"getitem.{name}", fn, fn, (shape,), op="getitem") for name, fn, shape in _getitem]
    # a nested list is one integer index (torch 2.x still reads it as a tuple, with a deprecation
    # warning announcing this meaning)
    rows.append(OpCase("getitem.list_2d", lambda a: a[[[0, 1], [1, 1]]],
                       lambda a: a[torch.tensor([[0, 1], [1, 1]])], ((3, 4),), op="getitem"))
    # index tensors as arguments: integer tensors (with repeats and negatives) and bool masks
    idx_rows = [
        ("tensor", lambda a, i: a[i], _with((4, 3), [3, 0, 3, -1])),
        ("tensor_2d", lambda a, i: a[:, i], _with((3, 4), [[0, 3], [3, 3]])),
        ("tensor_pair", lambda a, i, j: a[i, j], _with((3, 4), [2, 0, 2], [1, 1, 1])),
        ("tensor_0d", lambda a, i: a[i, 1:], _with((3, 4), 2)),
        ("mask", lambda a, m: a[m], _mask((3, 4))),
        ("mask_rows", lambda a, m: a[m], _mask((4, 3), (4,))),
        ("mask_cols", lambda a, m: a[:, m], _mask((3, 4), (4,))),
        ("mask_middle", lambda a, m: a[1, m], _mask((2, 3, 4), (3, 4))),
        ("mask_none", lambda a, m: a[m, None], _mask((3, 4), (3,))),
        ("mask_empty", lambda a, m: a[m], _mask((3, 4), seed_true=False)),
    ]
    for name, fn, make in idx_rows:
        rows.append(OpCase(f"getitem.{name}", fn, fn, make=make, op="getitem"))
    return rows


CASES = [
    *_getitem_rows(),
    OpCase("select", lambda a: a.select(1, -1), lambda a: a.select(1, -1)),
    OpCase("select.first", lambda a: cr.select(a, 0, 0), lambda a: torch.select(a, 0, 0), ((2, 3, 4),)),
    OpCase("take", lambda a, i: cr.take(a, i), lambda a, i: torch.take(a, i), make=_with((3, 4), [[0, 11], [-1, 0]])),
    OpCase("take.method", lambda a, i: a.take(i), lambda a, i: a.take(i), make=_with((2, 3), [5, 5, 2])),
    # gather / scatter_add: repeated indices
    OpCase("gather", lambda a, i: a.gather(0, i), lambda a, i: a.gather(0, i), make=_with((3, 4), REP0)),
    OpCase("gather.neg_dim", lambda a, i: cr.gather(a, -1, i), lambda a, i: torch.gather(a, -1, i),
           make=_with((3, 4), REP1)),
    OpCase("gather.small_index", lambda a, i: a.gather(1, i), lambda a, i: a.gather(1, i),
           make=_with((3, 4), [[0, 0, 3, 2, 1, 1]])),
    OpCase("gather.3d", lambda a, i: a.gather(1, i), lambda a, i: a.gather(1, i),
           make=_with((2, 3, 2), [[[0, 1], [2, 2]], [[1, 1], [0, 2]]])),
    OpCase("scatter_add", lambda a, i, s: a.scatter_add(0, i, s), lambda a, i, s: a.scatter_add(0, i, s),
           make=_scatter_make((3, 4), REP0, (2, 4))),
    OpCase("scatter_add.neg_dim", lambda a, i, s: cr.scatter_add(a, -1, i, s),
           lambda a, i, s: torch.scatter_add(a, -1, i, s), make=_scatter_make((3, 4), REP1, (3, 3))),
    OpCase("scatter_add.3d", lambda a, i, s: a.scatter_add(2, i, s), lambda a, i, s: a.scatter_add(2, i, s),
           make=_scatter_make((2, 2, 3), [[[0, 0], [2, 1]]], (1, 2, 2))),
    OpCase("scatter", lambda a, i, s: a.scatter(1, i, s), lambda a, i, s: a.scatter(1, i, s),
           make=_perm_index((3, 4), 1, (3, 2))),
    OpCase("scatter.dim0", lambda a, i, s: cr.scatter(a, 0, i, s), lambda a, i, s: torch.scatter(a, 0, i, s),
           make=_perm_index((4, 3), 0, (2, 3))),
    OpCase("scatter.value", lambda a, i: a.scatter(0, i, 1.5), lambda a, i: a.scatter(0, i, 1.5),
           make=_with((3, 4), REP0)),
    OpCase("scatter.value_kw", lambda a, i: cr.scatter(a, -1, i, value=-2.0),
           lambda a, i: torch.scatter(a, -1, i, value=-2.0), make=_with((3, 4), REP1)),
    OpCase("index_select", lambda a, i: a.index_select(0, i), lambda a, i: a.index_select(0, i),
           make=_with((3, 4), [2, 0, 2, 1, 2])),
    OpCase("index_select.neg_dim", lambda a, i: cr.index_select(a, -1, i), lambda a, i: torch.index_select(a, -1, i),
           make=_with((2, 3, 4), [3, 3, 0])),
    OpCase("index_select.0d_index", lambda a, i: a.index_select(1, i), lambda a, i: a.index_select(1, i),
           make=_with((3, 4), 2)),
    OpCase("index_add", lambda a, i, s: a.index_add(0, i, s), lambda a, i, s: a.index_add(0, i, s),
           make=_scatter_make((3, 4), [2, 0, 2, 2], (4, 4))),
    OpCase("index_add.alpha", lambda a, i, s: cr.index_add(a, -1, i, s, alpha=-1.5),
           lambda a, i, s: torch.index_add(a, -1, i, s, alpha=-1.5), make=_scatter_make((2, 3, 4), [1, 1], (2, 3, 2))),
    OpCase("take_along_dim", lambda a, i: cr.take_along_dim(a, i, 1), lambda a, i: torch.take_along_dim(a, i, 1),
           make=_with((3, 4), [[0, 3, 3]] * 3)),
    OpCase("take_along_dim.broadcast", lambda a, i: a.take_along_dim(i, -1), lambda a, i: a.take_along_dim(i, -1),
           make=_with((3, 1, 4), [[[0, 3], [-1, 0]]])),
    OpCase("take_along_dim.flat", lambda a, i: cr.take_along_dim(a, i), lambda a, i: torch.take_along_dim(a, i),
           make=_with((3, 4), [11, 0, 0, 5])),
    # masks
    OpCase("masked_fill", lambda a, m: a.masked_fill(m, 0.5), lambda a, m: a.masked_fill(m, 0.5), make=_mask((3, 4))),
    OpCase("masked_fill.broadcast", lambda a, m: cr.masked_fill(a, m, -1.0), lambda a, m: torch.masked_fill(a, m, -1.0),
           make=_mask((3, 4), (4,))),
    OpCase("masked_fill.tensor_value", lambda a, m, v: a.masked_fill(m, v), lambda a, m, v: a.masked_fill(m, v),
           make=lambda rng, dt: _mask((3, 4))(rng, dt) + [np.array(rng.uniform(-1, 1))]),
    OpCase("masked_select", lambda a, m: a.masked_select(m), lambda a, m: a.masked_select(m), make=_mask((3, 4))),
    OpCase("masked_select.broadcast", lambda a, m: cr.masked_select(a, m), lambda a, m: torch.masked_select(a, m),
           make=_mask((4,), (3, 4))),
    OpCase("nonzero", lambda a: cr.nonzero(a > 0), lambda a: torch.nonzero(a > 0), grad=False),
    OpCase("nonzero.as_tuple", lambda a: (a > 0).nonzero(as_tuple=True), lambda a: (a > 0).nonzero(as_tuple=True),
           ((2, 3, 2),), grad=False),
    OpCase("nonzero.float", lambda a: a.round().nonzero(), lambda a: a.round().nonzero(), grad=False),
    OpCase("argwhere", lambda a: cr.argwhere(a > 0.5), lambda a: torch.argwhere(a > 0.5), grad=False),
]
