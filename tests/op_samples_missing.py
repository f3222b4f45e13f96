"""Sample calls (``b(L) -> (args, kwargs)``) of the shape, index, product and sampling functions
added for tutorial code (chainrule/ops/reshaping.py, index_extra.py, products.py,
random_extra.py); merged into ``tests/op_samples.SAMPLES``. Sampling calls use degenerate
distributions (probabilities 0 and 1, rate 0) so both libraries draw the same values.
"""

from __future__ import annotations

import numpy as np

_R = np.random.default_rng(1)
A = _R.standard_normal((3, 4))
B = _R.standard_normal((3, 4))
V3, V4 = _R.standard_normal(3), _R.standard_normal(4)
B1, B2 = _R.standard_normal((2, 3, 4)), _R.standard_normal((2, 4, 5))
SRC24 = _R.standard_normal((2, 4))


def t(L, a, dtype=None):
    x = L.tensor(np.ascontiguousarray(a))
    return x if dtype is None else x.to(dtype)


def _i(L, values):
    return L.tensor(np.array(values, dtype=np.int64))


SAMPLES_MISSING: dict = {
    "column_stack": [lambda L: (([t(L, V4), t(L, V4)],), {})],
    "rot90": [lambda L: ((t(L, A),), {"k": 1, "dims": [0, 1]})],
    "diag_embed": [lambda L: ((t(L, A),), {"offset": 1})],
    "diag": [lambda L: ((t(L, A),), {"diagonal": 1}), lambda L: ((t(L, V4),), {})],
    "block_diag": [lambda L: ((t(L, A), t(L, V3)), {})],
    "diff": [lambda L: ((t(L, A),), {"dim": 0})],
    "tensor_split": [lambda L: ((t(L, A), 2), {"dim": 1})],
    "narrow_copy": [lambda L: ((t(L, A),), {"dim": 1, "start": 1, "length": 2})],
    "tril_indices": [lambda L: ((3, 4), {})],
    "triu_indices": [lambda L: ((3, 4, 1), {})],
    "range": [lambda L: ((1.0, 4.0), {})],
    "scatter_reduce": [lambda L: ((t(L, A),), {"dim": 0, "index": _i(L, [[0, 1, 0, 2], [2, 0, 0, 1]]),
                                               "src": t(L, SRC24), "reduce": "amax"})],
    "index_copy": [lambda L: ((t(L, A),), {"dim": 0, "index": _i(L, [2, 0]), "source": t(L, SRC24)})],
    "index_fill": [lambda L: ((t(L, A),), {"dim": 1, "index": _i(L, [1, 3]), "value": 2.0})],
    "index_reduce": [lambda L: ((t(L, A),), {"dim": 0, "index": _i(L, [2, 2]), "source": t(L, SRC24),
                                             "reduce": "mean"})],
    "index_put": [lambda L: ((t(L, A), (_i(L, [0, 2]),), t(L, V4)), {})],
    "put": [lambda L: ((t(L, A), _i(L, [1, 7]), t(L, V4[:2])), {})],
    "masked_scatter": [lambda L: ((t(L, A), t(L, A > 0), t(L, np.arange(12.0).reshape(3, 4))), {})],
    "select_scatter": [lambda L: ((t(L, A), t(L, V4)), {"dim": 0, "index": 1})],
    "slice_scatter": [lambda L: ((t(L, A), t(L, SRC24)), {"dim": 0, "start": 1})],
    "vdot": [lambda L: ((t(L, V4), t(L, V4[::-1])), {})],
    "tensordot": [lambda L: ((t(L, A), t(L, B)), {"dims": ([1], [1])})],
    "inner": [lambda L: ((t(L, A), t(L, B)), {})],
    "kron": [lambda L: ((t(L, A), t(L, V3)), {})],
    "chain_matmul": [lambda L: ((t(L, A), t(L, B.T), t(L, A)), {})],
    "addmv": [lambda L: ((t(L, V3), t(L, A), t(L, V4)), {"beta": 0.5})],
    "addr": [lambda L: ((t(L, A), t(L, V3), t(L, V4)), {"alpha": 2.0})],
    "addbmm": [lambda L: ((t(L, np.ones((3, 5))), t(L, B1), t(L, B2)), {})],
    "baddbmm": [lambda L: ((t(L, np.ones((2, 3, 5))), t(L, B1), t(L, B2)), {"beta": 2.0})],
    "dist": [lambda L: ((t(L, A), t(L, B)), {"p": 3})],
    "renorm": [lambda L: ((t(L, A),), {"p": 2, "dim": 0, "maxnorm": 1.0})],
    "multinomial": [lambda L: ((t(L, np.array([[0.0, 0.0, 1.0], [0.0, 2.0, 0.0]])), 1), {})],
    "bernoulli": [lambda L: ((t(L, (A > 0).astype(np.float64)),), {})],
    "poisson": [lambda L: ((t(L, np.zeros((2, 3))),), {})],
    "fill": [lambda L: ((t(L, A), 2.0), {})],
    "nonzero_static": [lambda L: ((t(L, A > 0),), {"size": 8})],
    "split_with_sizes": [lambda L: ((t(L, A), [1, 3]), {"dim": 1})],
    "unsafe_split": [lambda L: ((t(L, A), 2), {"dim": 1})],
    "unsafe_chunk": [lambda L: ((t(L, A), 2), {"dim": 1})],
    "diagonal_scatter": [lambda L: ((t(L, A), t(L, V3)), {"offset": 1})],
    "binomial": [lambda L: ((t(L, np.full((2, 3), 4.0)), t(L, (A[:2, :3] > 0).astype(np.float64))), {})],
    "empty_strided": [lambda L: (((2, 3), (3, 1)), {})],
}

# in-place methods taking ``dim``: the sample of their out-of-place function, called as a method
METHOD_SAMPLES_MISSING = {"index_copy_": "index_copy", "index_fill_": "index_fill", "index_reduce_": "index_reduce",
                          "scatter_reduce_": "scatter_reduce", "renorm_": "renorm", "unsqueeze_": "unsqueeze",
                          "squeeze_": "squeeze"}
