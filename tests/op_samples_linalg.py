"""Sample calls of the top-level linear-algebra functions (``inverse``, ``cross`` ...), for the
keyword tests of tests/test_out_and_aliases.py (see tests/op_samples.py)."""

from __future__ import annotations

import numpy as np

_R = np.random.default_rng(1)
SQ = _R.standard_normal((4, 4)) + 4 * np.eye(4)
SPD = SQ @ SQ.T + 4 * np.eye(4)
V3 = _R.standard_normal((2, 3))
W3 = _R.standard_normal((2, 3))


def _t(L, a):
    return L.tensor(np.ascontiguousarray(a))


LINALG_SAMPLES: dict = {
    "inverse": [lambda L: ((_t(L, SQ),), {})],
    "cholesky": [lambda L: ((_t(L, SPD),), {}), lambda L: ((_t(L, SPD), True), {})],
    "matrix_power": [lambda L: ((_t(L, SQ), 3), {}), lambda L: ((_t(L, SQ), -1), {})],
    "cross": [lambda L: ((_t(L, V3), _t(L, W3)), {"dim": 1}), lambda L: ((_t(L, V3.T), _t(L, W3.T)), {"dim": 0})],
    "slogdet": [lambda L: ((_t(L, SQ),), {})],
    "svd": [lambda L: ((_t(L, V3),), {})],
    "qr": [lambda L: ((_t(L, SQ),), {})],
    "cholesky_solve": [lambda L: ((_t(L, V3.T), _t(L, np.linalg.cholesky(SPD[:3, :3]))), {})],
    "cholesky_inverse": [lambda L: ((_t(L, np.linalg.cholesky(SPD)),), {})],
    "lu_solve": [lambda L: ((_t(L, V3.T), *L.linalg.lu_factor(_t(L, SQ[:3, :3]))), {})],
    "lu_unpack": [lambda L: (tuple(L.linalg.lu_factor(_t(L, SQ))), {})],
    "triangular_solve": [lambda L: ((_t(L, V3.T), _t(L, np.triu(SQ[:3, :3]))), {})],
}
