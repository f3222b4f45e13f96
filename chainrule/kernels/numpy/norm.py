"""Batch normalisation in the (N, C, L) layout, the ``norm`` family of the reference backend:
``forward`` (output and statistics) and ``backward`` (first order, statistics constant); the
operator is ``ops/normalization.py``'s ``Normalize`` and its gradient node ``NormalizeGrad``.

Statistics per channel C over the batch N and the positions L. Sums are matrix-vector products
(one read of the data each, no temporaries; measured 3x faster than ``sum`` over axes (0, 2)).
Two passes over the data in forward and two in backward.

These stay on one thread: splitting the batch over two threads (``_parallel``), partial sums
per part, was measured no faster on the 2-core machine of ``bench/README.md``, the passes being
bound by memory, not arithmetic. They do run with BLAS held to one thread: its
matrix-vector products are too small to gain from a second, whose worker would then spin on the
core the next parallel convolution needs.

Precision: the data are centred on ``shift``, the mean of up to ``SHIFT_SAMPLES`` samples spread
over the batch, before anything is summed; ``delta``, the mean of the centred data, corrects
the rest exactly. For float32 inputs far from zero mean the sums then run over small numbers
(measured: more accurate than PyTorch's batch norm on such inputs, ``tests/nn``).
"""

from __future__ import annotations

from .._parallel import blas_single_threaded

# samples that give the centring shift: an estimate of the mean is all it needs to be
SHIFT_SAMPLES = 8


def rowdot(xp, a, b):
    """``sum(a * b, axis=-1)`` without the product's temporary, as a batch of (1 x L) (L x 1)
    matrix products."""
    return xp.matmul(a[..., None, :], b[..., :, None])[..., 0, 0]


@blas_single_threaded
def channel_stats(xp, x3):
    """(xc, shift, delta, var): ``xc = x - shift`` (a new array, for the output to be written
    into) and the per-channel shift, mean of ``xc`` and biased variance of ``x``."""
    n, c, length = x3.shape
    dt = x3.dtype
    step = max(1, n // SHIFT_SAMPLES)
    shift = x3[::step].mean(axis=(0, 2), dtype=dt)
    ones = xp.ones(length, dtype=dt)
    xc = x3 - shift[:, None]
    inv_n = dt.type(1.0 / (n * length))
    delta = xp.matmul(xc, ones).sum(axis=0) * inv_n
    var = rowdot(xp, xc, xc).sum(axis=0) * inv_n - delta * delta
    return xc, shift, delta, var


def forward(xp, x3, w, b, eps: float):
    """Batch norm's training forward: (y3, shift, delta, var, rstd), the last four (C,) arrays of
    x's dtype with ``channel_stats``' meaning and ``rstd = 1 / sqrt(var + eps)``;
    ``y3 = (x3 - shift - delta) rstd w + b``. ``w``, ``b``: C values or None."""
    c = x3.shape[1]
    dt = x3.dtype
    xc, shift, delta, var = channel_stats(xp, x3)
    rstd = (1.0 / xp.sqrt(var + dt.type(eps))).astype(dt, copy=False)
    scale = rstd if w is None else rstd * w.reshape(c)
    offset = -(delta * scale)
    if b is not None:
        offset = offset + b.reshape(c)
    # xc is this call's own temporary: the output is written into it
    xc *= scale[:, None]
    xc += offset[:, None]
    return xc, shift, delta, var, rstd


@blas_single_threaded
def backward(xp, g3, x3, shift, delta, rstd, w, need_input: bool):
    """(gx, dw, db) of batch norm with the statistics constant (first order): with
    ``xs = x - shift``, ``S1 = sum(g)`` and ``S2 = sum(g xs) - delta S1`` per channel,
    ``db = S1``, ``dw = rstd S2`` and ``dx = a g + b1 xs + c0`` where ``a = w rstd``,
    ``b1 = -rstd^2 w dw / n`` and ``c0 = -a S1 / n - delta b1``. ``w`` (C,) or None;
    ``gx`` is None unless ``need_input``."""
    n, c, length = x3.shape
    dt = x3.dtype
    xs = x3 - shift[:, None]
    s1 = xp.matmul(g3, xp.ones(length, dtype=dt)).sum(axis=0)
    dw = (rowdot(xp, g3, xs).sum(axis=0) - delta * s1) * rstd  # sum(g * x_hat) per channel
    if not need_input:
        return None, dw, s1
    inv_n = dt.type(1.0 / (n * length))
    a = rstd if w is None else rstd * w
    b1 = -(rstd * rstd) * (dw if w is None else dw * w) * inv_n
    c0 = -(a * s1) * inv_n - delta * b1
    gx = g3 * a[:, None]
    xs *= b1[:, None]
    gx += xs
    gx += c0[:, None]
    return gx, dw, s1
