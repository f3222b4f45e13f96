"""Grids and repetition: ``meshgrid`` and ``repeat_interleave``.

Both are built from differentiable operators (reshape + expand, index_select), so their
gradients (a sum over the broadcast axes, a scatter-add over the repeated slices) and second
derivatives come from those operators.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from ..tensor import Tensor
from ._util import check_tensor, torch_type_name, wrap_dim
from .scatter import index_select
from .shape import contiguous, expand, reshape, unsqueeze, view


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids from N 0-d/1-d tensors: output i varies along axis i (``'ij'``).

    ``indexing='xy'`` swaps the roles of the first two axes (Cartesian, as NumPy's default): output 0
    varies along axis 1 and output 1 along axis 0.
    Without ``indexing`` PyTorch uses ``'ij'`` and warns that the argument will become required.
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        check_tensor(t, "meshgrid", "tensors")
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got a tensor of "
                               f"shape {list(t.shape)}")
    if any(t.dtype is not tensors[0].dtype for t in tensors):
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    swap = indexing == "xy" and len(tensors) >= 2
    if swap:
        tensors = (tensors[1], tensors[0]) + tuple(tensors[2:])
    sizes = tuple(t.numel() for t in tensors)
    n = len(tensors)
    grids = [expand(reshape(t, tuple(-1 if j == i else 1 for j in range(n))), *sizes)
             for i, t in enumerate(tensors)]
    if swap:  # the grids of the first two tensors, back in the caller's order
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def _repeat_counts(repeats, size: int, dim_text: str) -> np.ndarray:
    """``repeats`` (an int, a 0-d or 1-d integer tensor) as one count per slice."""
    if isinstance(repeats, Tensor):
        if repeats.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if repeats._data.dtype.kind not in "iu":
            raise RuntimeError(f"repeat_interleave: repeats must be an integer tensor, got {torch_type_name(repeats)}")
        counts = repeats._data.astype(np.int64).reshape(-1)
        if repeats.ndim == 0 or counts.size == 1:
            counts = np.full(size, counts[0] if counts.size else 0, dtype=np.int64)
        elif counts.size != size:
            raise RuntimeError("repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {counts.size} and input.size({dim_text}) = {size}")
        if (counts < 0).any():
            raise RuntimeError("repeats can not be negative")
        return counts
    if isinstance(repeats, bool) or not isinstance(repeats, numbers.Integral):
        raise TypeError(f"repeat_interleave(): argument 'repeats' must be Tensor or int, not {type(repeats).__name__}")
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    return np.full(size, int(repeats), dtype=np.int64)


def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *, output_size: int | None = None) -> Tensor:
    """Each slice of ``input`` along ``dim`` repeated ``repeats[i]`` times (``dim=None``: flattened).

    ``repeat_interleave(repeats)`` alone (a 1-d integer tensor) gives ``i`` repeated ``repeats[i]``
    times. ``output_size`` is the total length along ``dim``, checked when given.
    """
    check_tensor(input, "repeat_interleave")
    if repeats is None:  # the single-tensor overload: input holds the counts
        if input.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if input._data.dtype.kind not in "iu":
            raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for '{torch_type_name(input)}'")
        counts = _repeat_counts(input, input.numel(), "0")
        total = int(counts.sum())
        if output_size is not None and output_size != total:
            raise RuntimeError("allocated size does not match required size")
        return Tensor._make(np.repeat(np.arange(counts.size, dtype=np.int64), counts))
    if dim is None:
        input, d = reshape(input, (-1,)), 0
    else:
        d = wrap_dim(dim, max(input.ndim, 1))
        if input.ndim == 0:
            input = reshape(input, (1,))
    size = input.shape[d]
    counts = _repeat_counts(repeats, size, str(d))
    total = int(counts.sum())
    if output_size is not None and output_size != total:
        if isinstance(repeats, Tensor) and repeats.ndim == 1 and repeats.numel() > 1:
            raise RuntimeError("allocated size does not match required size")
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {total} but got {output_size}")
    if not isinstance(repeats, Tensor):  # PyTorch's int path: a copy of an expanded view, so a ViewBackward0
        shape = tuple(input.shape)
        wide = expand(unsqueeze(input, d + 1), *shape[:d + 1], int(repeats), *shape[d + 1:])
        return view(contiguous(wide), *shape[:d], total, *shape[d + 1:])
    index = Tensor._make(np.repeat(np.arange(size, dtype=np.int64), counts))
    return index_select(input, d, index)


__all__ = ["meshgrid", "repeat_interleave"]

TENSOR_METHODS = ["repeat_interleave"]
