"""Adaptive gradient clipping (AGC), the stabiliser of normalizer-free networks (Brock et al., 2021).

Each unit's gradient is clipped relative to the size of its weights rather than to a fixed
threshold: for every output unit i (a row of a Linear weight, a filter of a convolution, one
entry of a bias or any 1-d parameter)

    g_i <- g_i * min(1, clipping * max(||w_i||, eps) / ||g_i||)      (Frobenius norms).

``eps`` keeps freshly zero-initialised weights (biases, gains) from freezing. The paper leaves
the final classifier layer unclipped: pass the parameters to clip accordingly.
"""

from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...ops.elementwise import abs as _abs
from ...ops.elementwise import clamp, clamp_min
from ...ops.reduction import norm
from ...tensor import Tensor
from .clip_grad import TensorOrTensors, _as_list


def unitwise_norm(x: Tensor) -> Tensor:
    """Norm of each output unit, kept broadcastable to ``x``: |x| element-wise for scalars and
    vectors, the norm over all axes but the first (output) axis otherwise."""
    if x.ndim <= 1:
        return _abs(x)
    return norm(x, 2, dim=tuple(range(1, x.ndim)), keepdim=True)


def adaptive_clip_grad_(parameters: TensorOrTensors, clipping: float = 0.01, eps: float = 1e-3) -> None:
    """Clip ``p.grad`` in place, unit by unit, to at most ``clipping * max(||w||, eps)``."""
    if clipping <= 0:
        raise ValueError(f"adaptive_clip_grad_: clipping must be positive, got {clipping}")
    if eps < 0:
        raise ValueError(f"adaptive_clip_grad_: eps must be non-negative, got {eps}")
    with no_grad():
        for p in _as_list(parameters):
            g = p.grad
            if g is None:
                continue
            max_norm = clamp_min(unitwise_norm(p.detach()), eps) * clipping
            # the 1e-6 floor only guards the division: max_norm >= eps * clipping stays above it
            # for the defaults, so a zero gradient is left as it is
            coef = clamp(max_norm / clamp_min(unitwise_norm(g), 1e-6), max=1.0)
            g.mul_(coef.to(g.dtype))


__all__ = ["adaptive_clip_grad_", "unitwise_norm"]
