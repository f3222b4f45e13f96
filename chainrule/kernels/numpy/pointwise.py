"""ReLU forward and backward with array-module calls: the ``pointwise`` family's reference.

``relu(x) = maximum(x, 0)`` (NaN stays NaN); ``relu_backward(g, y) = g where y > 0, else 0``,
from ReLU's output ``y``: PyTorch's ``threshold_backward``, so a NaN output passes ``g`` and an
inactive position gives 0 even where ``g`` is NaN or infinite.
"""

from __future__ import annotations


def relu(xp, x):
    """``maximum(x, 0)``."""
    return xp.maximum(x, 0)


def relu_backward(xp, g, y):
    """``g`` where ``y > 0`` (or NaN), 0 where ``y <= 0``."""
    return xp.where(y <= 0, g.dtype.type(0), g)
