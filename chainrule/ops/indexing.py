"""Indexing: ``x[index]`` with a scatter-add gradient, and index normalisation for ``x[index] = v``."""

from __future__ import annotations

import numpy as np

from ..autograd.function import FunctionNode
from ..tensor import Tensor


def normalize_index(t: Tensor, index):
    """Turn an index with Tensors in it into one NumPy understands, checking bounds and dtypes."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for it in items:
        if isinstance(it, Tensor):
            arr = it._data
            if arr.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(arr)
        elif isinstance(it, (list,)):
            arr = np.asarray(it)
            if arr.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(arr)
        else:
            out.append(it)
    return tuple(out) if isinstance(index, tuple) or len(out) != 1 else out[0]


def _is_basic(idx) -> bool:
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items)


class GetItem(FunctionNode):
    def __init__(self, index):
        self.index = index
        self._is_view = _is_basic(index)

    def forward(self, x):
        self.in_shape = x.shape
        self.in_dtype = x.dtype
        try:
            return x[self.index]
        except IndexError as e:
            raise IndexError(f"{e} (indexing a tensor of shape {list(x.shape)})") from None

    def backward(self, gy):
        return IndexAddBackward(self.index, self.in_shape).apply(gy)


class IndexAddBackward(FunctionNode):
    """Scatter-add ``g`` into zeros of the input's shape at ``index`` (the adjoint of indexing)."""

    def __init__(self, index, shape):
        self.index, self.shape = index, shape

    def forward(self, g):
        out = self.xp.zeros(self.shape, dtype=g.dtype)
        if _is_basic(self.index):
            out[self.index] = g
        else:
            # repeated integer indices must add up, which plain assignment would not do
            self.xp.add.at(out, self.index, g)
        return out

    def backward(self, ggx):
        return GetItem(self.index).apply(ggx)


def getitem(input: Tensor, index) -> Tensor:
    """``x[index]`` with ints, slices, None, Ellipsis, and bool or integer tensors/arrays."""
    idx = normalize_index(input, index)
    if input._data.ndim == 0 and not (idx == () or idx is Ellipsis or idx is None):
        if not (isinstance(idx, tuple) and all(i is None or i is Ellipsis for i in idx)):
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` to convert a 0-dim tensor to a number")
    return GetItem(idx).apply(input)


__all__: list[str] = []

TENSOR_METHODS: list[str] = []
