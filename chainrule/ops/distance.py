"""Distances and normalisation along a dimension: ``normalize``, ``cosine_similarity``,
``pairwise_distance`` (PyTorch's ``torch.nn.functional`` names).

All three are compositions of the norm, clamp and arithmetic operators, so their gradients (and
second derivatives) come from those operators.
"""

from __future__ import annotations

import numbers

from ..tensor import Tensor
from ._util import check_tensor, float_operand, wrap_dim
from .elementwise import clamp_min
from .reduction import norm
from .reduction import sum as _sum
from .shape import broadcast_tensors


def _check_p(p, op: str) -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{op}(): argument 'p' must be a number, not {type(p).__name__}")
    return float(p)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """x / max(||x||_p, eps), the norm taken along ``dim`` (unit vectors along ``dim``)."""
    if out is not None:
        raise NotImplementedError("normalize(): the out= argument is not supported")
    x = float_operand(check_tensor(input, "normalize"), "normalize")
    p = _check_p(p, "normalize")
    if x.ndim == 0:
        wrap_dim(dim, 1)
        return x / clamp_min(norm(x, p), eps)
    d = wrap_dim(dim, x.ndim)
    return x / clamp_min(norm(x, p, d, keepdim=True), eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 x2) / (max(||x1||, eps) max(||x2||, eps)) along ``dim`` (inputs broadcast together).

    Each vector is divided by its clamped norm before the dot product, as PyTorch does, so large
    inputs do not overflow the product of norms.
    """
    a = float_operand(check_tensor(x1, "cosine_similarity", "x1"), "cosine_similarity")
    b = float_operand(check_tensor(x2, "cosine_similarity", "x2"), "cosine_similarity")
    a, b = broadcast_tensors(a, b)
    nd = max(a.ndim, 1)
    d = wrap_dim(dim, nd)
    if a.ndim == 0:
        a, b = a.reshape(1), b.reshape(1)
    an = a / clamp_min(norm(a, 2, d, keepdim=True), eps)
    bn = b / clamp_min(norm(b, 2, d, keepdim=True), eps)
    return _sum(an * bn, d)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dimension (``eps`` keeps the gradient finite at x1 = x2)."""
    a = check_tensor(x1, "pairwise_distance", "x1")
    b = check_tensor(x2, "pairwise_distance", "x2")
    p = _check_p(p, "pairwise_distance")
    diff = a - b + eps
    if diff.ndim == 0:
        return norm(diff, p)
    return norm(diff, p, -1, keepdim=keepdim)


__all__ = ["cosine_similarity", "pairwise_distance"]  # normalize lives only in nn.functional

TENSOR_METHODS: list[str] = []
