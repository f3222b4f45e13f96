"""Run in a fresh process by ``test_numba_cache.py``: one call of each compiled family, then print
the loads from and compilations of the on-disk cache, the output digests, and which modules the
process imported, as JSON."""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np

from chainrule.kernels import windows as _windows
from chainrule.kernels.numba import conv as conv_jit
from chainrule.kernels.numba import pointwise
from chainrule.kernels.numba import pool as pool_jit

rng = np.random.default_rng(0)
x = rng.standard_normal((2, 3, 8, 8))
w = rng.standard_normal((4, 3, 3, 3))
conv_win = _windows.Window((8, 8), (6, 6), (3, 3), (1, 1), (1, 1), (0, 0))
pool_win = _windows.Window((8, 8), (4, 4), (2, 2), (2, 2), (1, 1), (0, 0))
outputs = [conv_jit.forward(np, x, w, conv_win, 1), pointwise.relu(np, x),
           pool_jit.run_max_pool(np, x, pool_win, True)[0]]
conv, _ = conv_jit._kernels(np.float64)
dispatchers = [conv.forward, pointwise._loops().relu, pool_jit._kernels(2, 2, 2, 2, 1, 1).maxima]
print(json.dumps({
    "hits": [sum(d.stats.cache_hits.values()) for d in dispatchers],
    "misses": [sum(d.stats.cache_misses.values()) for d in dispatchers],
    "digests": [hashlib.sha256(np.ascontiguousarray(o).tobytes()).hexdigest() for o in outputs],
    "numba_imported": "numba" in sys.modules,
}))
