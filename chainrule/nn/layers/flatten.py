"""``Flatten`` and ``Unflatten``: reshape layers for the boundary between conv and dense stacks."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

from ...ops.shape import flatten, unflatten
from ...tensor import Tensor
from ..module import Module


def _check_int(owner: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be an int, got {type(value).__name__} ({value!r})")
    return int(value)


class Flatten(Module):
    """Merge dimensions ``start_dim..end_dim`` into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = _check_int("Flatten", "start_dim", start_dim)
        self.end_dim = _check_int("Flatten", "end_dim", end_dim)

    def forward(self, input: Tensor) -> Tensor:
        n = max(input.ndim, 1)
        if not (-n <= self.start_dim < n and -n <= self.end_dim < n):
            raise IndexError(
                f"{self!r}: dimensions out of range for an input of shape {list(input.shape)} "
                f"({input.ndim}-d)")
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (one entry may be -1): (N, 12) -> (N, 3, 4)."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]):
        super().__init__()
        self.dim = _check_int("Unflatten", "dim", dim)
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(
                f"unflattened_size must be a tuple of ints, but found type {type(unflattened_size).__name__}")
        for i, s in enumerate(unflattened_size):
            if isinstance(s, bool) or not isinstance(s, numbers.Integral):
                raise TypeError(
                    f"unflattened_size must be tuple of ints, but found element of type {type(s).__name__} at pos {i}")
        if sum(1 for s in unflattened_size if s == -1) > 1:
            raise ValueError(f"Unflatten: only one entry of unflattened_size may be -1, got {tuple(unflattened_size)}")
        if any(s < -1 for s in unflattened_size):
            raise ValueError(f"Unflatten: sizes must be non-negative (or -1), got {tuple(unflattened_size)}")
        self.unflattened_size = unflattened_size  # kept as given (a list prints as a list, as in PyTorch)

    def forward(self, input: Tensor) -> Tensor:
        return unflatten(input, self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


__all__ = ["Flatten", "Unflatten"]
