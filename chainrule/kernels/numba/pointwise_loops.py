"""ReLU's compiled loops over a slice ``lo:hi`` of flat contiguous arrays (``pointwise.py`` says
why and when they run). Semantics are PyTorch's: ``relu`` keeps NaN (``maximum``'s rule), the
gradient is ``g`` where ``y > 0`` and 0 elsewhere (``threshold_backward``)."""

from __future__ import annotations

from ._compile import jit


@jit(nogil=True)
def relu(x, y, lo, hi):
    src, dst = x[lo:hi], y[lo:hi]
    for t in range(hi - lo):
        v = src[t]
        dst[t] = 0 if v < 0 else v  # NaN (and -0.0) pass through, as maximum(v, 0)
    return 0


@jit(nogil=True)
def relu_backward(g, y, out, lo, hi):
    gs, ys, dst = g[lo:hi], y[lo:hi], out[lo:hi]
    for t in range(hi - lo):
        dst[t] = 0 if ys[t] <= 0 else gs[t]
    return 0


@jit(nogil=True)
def relu_backward_fill(v, y, out, lo, hi):
    """``relu_backward`` of a gradient that is one value everywhere (the broadcast gradient of a sum)."""
    ys, dst = y[lo:hi], out[lo:hi]
    for t in range(hi - lo):
        dst[t] = 0 if ys[t] <= 0 else v
    return 0
