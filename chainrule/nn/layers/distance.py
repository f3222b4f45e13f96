"""Distance layers: ``CosineSimilarity`` and ``PairwiseDistance`` over the functional operators."""

from __future__ import annotations

import numbers

from ...ops.distance import cosine_similarity, pairwise_distance
from ...tensor import Tensor
from ..module import Module
from ._utils import check_number


class CosineSimilarity(Module):
    """sum(x1 x2) / (max(||x1||, eps) max(||x2||, eps)) along ``dim``."""

    dim: int
    eps: float

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
            raise TypeError(f"CosineSimilarity: dim must be an int, got {dim!r}")
        self.dim, self.eps = int(dim), check_number("CosineSimilarity", "eps", eps)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return cosine_similarity(x1, x2, self.dim, self.eps)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, eps={self.eps}"


class PairwiseDistance(Module):
    """||x1 - x2 + eps||_p over the last dimension."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm = check_number("PairwiseDistance", "p", p)
        self.eps = check_number("PairwiseDistance", "eps", eps)
        self.keepdim = bool(keepdim)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)

    def extra_repr(self) -> str:
        return f"p={self.norm}, eps={self.eps}, keepdim={self.keepdim}"


__all__ = ["CosineSimilarity", "PairwiseDistance"]
