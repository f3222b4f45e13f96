"""Matrix products, the ``matmul`` family of the reference backend (``linear`` and ``matmul``
run it through ``kernels.call``): 2-D products on chainrule's own threads, never on BLAS's.

Why: a product that OpenBLAS splits over its own threads leaves its worker spinning for a
while after it returns, on the core that the next parallel region (a convolution, a batch
norm) wants, which then runs at half speed. Measured on the bench's 2-core machine: the
LeNet-5 training step at batch 256 took 20-22 ms with the fully-connected layers' products on
2-thread BLAS and 16-17 ms with BLAS at one thread, the convolutions' two threads no longer
sharing a core with a spinning worker (``bench/README.md``).

So a 2-D product (a stack of leading dimensions on ``a`` folds into its rows) is cut into one
block of rows, or of columns when there are more columns than rows, per thread, each block a
BLAS call at one thread writing its own slice of the output (``_parallel.parallel_for``).
Products under ``tuning.MATMUL_PARALLEL_MIN_MACS`` multiply-adds run in one BLAS call at one thread
(under ``tuning.MATMUL_AS_IS_MAX_MACS``, which OpenBLAS runs on one thread by itself, without
setting its thread count first). Each
output element is the same dot product either way, so the results do not depend on the split.
Batched products (3-D and more on both sides), 1-D operands and non-NumPy arrays go to
``xp.matmul`` unchanged.
"""

from __future__ import annotations

from .._out import fits
from .._parallel import parallel_for, single_blas, threads_for
from . import tuning


def matmul(xp, a, b, out=None):
    """``xp.matmul(a, b)``, 2-D products spread over chainrule's threads (see the module doc);
    into ``out`` where it fits (``_out.py``)."""
    if getattr(xp, "__name__", "") != "numpy" or a.ndim < 2 or b.ndim != 2:
        return xp.matmul(a, b)
    shape = a.shape[:-1] + (b.shape[1],)
    if not fits(out, shape, xp.result_type(a, b), a):
        out = None
    if a.ndim > 2:
        if not a.flags.c_contiguous:
            return xp.matmul(a, b)
        flat = None if out is None else out.reshape(-1, b.shape[1])
        return matmul(xp, a.reshape(-1, a.shape[-1]), b, flat).reshape(shape)
    m, k = a.shape
    n = b.shape[1]
    if m * k * n < tuning.MATMUL_AS_IS_MAX_MACS:  # one thread in BLAS anyway (tuning.py)
        return xp.matmul(a, b, out=out)
    threads = threads_for(xp, (m * k + k * n + m * n) * a.itemsize) if m * k * n >= tuning.MATMUL_PARALLEL_MIN_MACS else 1
    if threads == 1:
        with single_blas():
            return xp.matmul(a, b, out=out)
    if out is None:
        out = xp.empty((m, n), dtype=xp.result_type(a, b))
    if m >= n:
        parallel_for(lambda lo, hi: xp.matmul(a[lo:hi], b, out=out[lo:hi]), m, threads)
    else:
        parallel_for(lambda lo, hi: xp.matmul(a, b[:, lo:hi], out=out[:, lo:hi]), n, threads)
    return out


def matmul_pair(xp, a1, b1, a2, b2) -> tuple:
    """``(matmul(a1, b1), matmul(a2, b2))`` for 2-D operands, the two products at once on two
    threads (one each, BLAS at one thread) when they are large enough.

    For a linear layer's backward, whose input and weight gradients (``gy W`` and ``gy^T x``)
    take the same number of multiply-adds: each thread runs a whole product, which is faster
    than both threads running half of each in turn (one region instead of two, and full-size
    products run nearer BLAS's speed)."""
    work = a1.shape[0] * a1.shape[1] * b1.shape[1] + a2.shape[0] * a2.shape[1] * b2.shape[1]
    nbytes = (a1.size + b1.size + a2.size + b2.size) * a1.itemsize
    threads = threads_for(xp, nbytes) if work >= 2 * tuning.MATMUL_PARALLEL_MIN_MACS else 1
    if threads == 1:  # also for non-NumPy arrays (threads_for)
        return matmul(xp, a1, b1), matmul(xp, a2, b2)
    operands = ((a1, b1), (a2, b2))
    first, second = parallel_for(lambda lo, hi: xp.matmul(*operands[lo]), 2, 2)
    return first, second
