"""ReLU forward and backward with array-module calls: the ``pointwise`` family's reference.

``relu(x) = maximum(x, 0)`` (NaN stays NaN); ``relu_backward(g, y) = g where y > 0, else 0``,
from ReLU's output ``y``: PyTorch's ``threshold_backward``, so a NaN output passes ``g`` and an
inactive position gives 0 even where ``g`` is NaN or infinite.
"""

from __future__ import annotations

from .._out import fits


def relu(xp, x, out=None):
    """``maximum(x, 0)`` (into ``out`` where it fits: ``_out.py``)."""
    return xp.maximum(x, 0, out=out if fits(out, x.shape, x.dtype, x) else None)


def relu_backward(xp, g, y, out=None):
    """``g`` where ``y > 0`` (or NaN), 0 where ``y <= 0`` (``out`` is not used: ``where`` has none)."""
    return xp.where(y <= 0, g.dtype.type(0), g)
