"""Joining and splitting: ``cat``/``stack`` and their adjoints ``split``/``chunk``/``unbind``.

``Cat`` and ``Split`` are each other's adjoint: the gradient of a concatenation is the incoming
gradient split into the pieces' extents, and the gradient of a split is the pieces' gradients
concatenated again. Both directions are operators, so double backward comes for free.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .. import backend
from ..autograd.function import FunctionNode, named_output
from ..kernels.tables import size_only
from ..tensor import Tensor
from ._util import wrap_dim
from .shape import reshape, unsqueeze


class Cat(FunctionNode):
    """``y = [x_1; x_2; ...]`` along ``dim``."""

    def __init__(self, dim: int):
        self.dim = dim

    def forward(self, *xs):
        self.sizes = tuple(x.shape[self.dim] for x in xs)
        return self.xp.concatenate(xs, axis=self.dim)

    def backward(self, gy):
        pieces = Split(self.dim, self.sizes).apply(gy)
        return tuple(g if need else None for g, need in zip(pieces, self.needs_input_grad))


class Split(FunctionNode):
    """Views of consecutive extents ``sizes`` along ``dim`` (``squeeze``: single slices, dim dropped)."""

    @property
    def torch_name(self) -> str:
        return "UnbindBackward0" if self.squeeze else "SplitBackward0"

    _is_view = True
    _materialize_grads = False  # unused pieces get their zeros in backward

    def __init__(self, dim: int, sizes: tuple, squeeze: bool = False):
        self.dim, self.sizes, self.squeeze = dim, sizes, squeeze

    def forward(self, x):
        lead = (slice(None),) * self.dim
        if self.squeeze:
            return tuple(x[lead + (i,)] for i in range(len(self.sizes)))
        out, start = [], 0
        for n in self.sizes:
            out.append(x[lead + (slice(start, start + n),)])
            start += n
        return tuple(out)

    def backward(self, *grads):
        if any(g is None for g in grads):  # unused pieces: zeros of the (shape, dtype) each output had
            meta = self._out_meta  # set for every node of several outputs
            assert meta is not None
            # built from sizes alone and marked so: a recorded backward schedule keeps them as constants
            grads = tuple(Tensor._make(size_only(self.xp.zeros(meta[j][0], dtype=meta[j][1].np))) if g is None
                          else g for j, g in enumerate(grads))
        if self.squeeze:
            return Cat(self.dim).apply(*(unsqueeze(g, self.dim) for g in grads))
        return Cat(self.dim).apply(*grads)


def _tensor_list(tensors, op: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, Sequence):
        raise TypeError(f"{op}(): argument 'tensors' must be a tuple or list of Tensors, "
                        f"not {type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected Tensor as element {i} in argument 'tensors', "
                            f"but got {type(t).__name__}")
    return list(tensors)


def _promote(tensors: list) -> list:
    dt = backend.result_type(*tensors)  # 0-d tensors, which rank lower there, are refused by cat
    return [t if t._data.dtype == dt.np else t.to(dt) for t in tensors]


def cat(tensors, dim: int = 0) -> Tensor:
    """Concatenate along an existing dimension ``dim``; dtypes are promoted to a common one.

    All shapes must agree except in ``dim``. As in PyTorch, 1-d empty tensors are skipped.
    """
    tensors = _tensor_list(tensors, "torch.cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    tensors = _promote(tensors)
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    kept = [i for i, t in enumerate(tensors) if t._data.shape != (0,)] or [0]
    ref = tensors[kept[0]]
    d = wrap_dim(dim, ref._data.ndim)
    for i in kept[1:]:
        t = tensors[i]
        if t._data.ndim != ref._data.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref._data.ndim} and {t._data.ndim}")
        for k, (a, b) in enumerate(zip(ref._data.shape, t._data.shape)):
            if k != d and a != b:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {a} but got "
                    f"size {b} for tensor number {i} in the list (shapes {list(ref.shape)} and "
                    f"{list(t.shape)})")
    return Cat(d).apply(*(tensors[i] for i in kept))


concat = concatenate = cat


@named_output("StackBackward0")
def stack(tensors, dim: int = 0) -> Tensor:
    """Join tensors of equal shape along a new dimension ``dim``."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    first = tensors[0]._data.shape
    for i, t in enumerate(tensors[1:], 1):
        if t._data.shape != first:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 and "
                f"{list(t.shape)} at entry {i}")
    d = wrap_dim(dim, len(first) + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


def _atleast(t: Tensor, n: int) -> Tensor:
    shp = t._data.shape
    if len(shp) >= n:
        return t
    if n == 3 and len(shp) == 2:
        return reshape(t, shp + (1,))
    if n == 3 and len(shp) == 1:
        return reshape(t, (1,) + shp + (1,))
    return reshape(t, (1,) * (n - len(shp)) + shp)


def hstack(tensors) -> Tensor:
    """Concatenate column-wise: along dim 1, or dim 0 for 1-d tensors."""
    ts = [_atleast(t, 1) for t in _tensor_list(tensors, "hstack")]
    return cat(ts, 0 if ts and ts[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Concatenate row-wise (1-d tensors become rows)."""
    return cat([_atleast(t, 2) for t in _tensor_list(tensors, "vstack")], 0)


row_stack = vstack


def dstack(tensors) -> Tensor:
    """Concatenate depth-wise, along dim 2 (tensors are made at least 3-d first)."""
    return cat([_atleast(t, 3) for t in _tensor_list(tensors, "dstack")], 2)


def _split_sizes(n: int, split_size_or_sections, dim: int) -> tuple:
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = tuple(int(s) for s in split_size_or_sections)
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                f"dimension {dim}), but got split_sizes={list(sizes)}")
        return sizes
    size = int(split_size_or_sections)
    if size < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
    if size == 0:
        if n != 0:
            raise RuntimeError(
                f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        return (0,)
    if n == 0:
        return (0,)
    return (size,) * (n // size) + ((n % size,) if n % size else ())


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Views of ``tensor`` along ``dim``: pieces of ``split_size`` (the last may be smaller), or of
    the given section sizes when a list is passed."""
    d = wrap_dim(dim, tensor._data.ndim)
    if tensor._data.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    return Split(d, _split_sizes(tensor._data.shape[d], split_size_or_sections, d)).apply(tensor)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` pieces of ``ceil(n / chunks)`` elements (fewer pieces if n runs out)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = wrap_dim(dim, input._data.ndim)
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    n = input._data.shape[d]
    if n == 0:
        return Split(d, (0,) * chunks).apply(input)
    return split(input, math.ceil(n / chunks), d)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices ``input[..., i, ...]`` along ``dim`` (views with that dimension removed)."""
    if input._data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, input._data.ndim)
    return Split(d, (1,) * input._data.shape[d], squeeze=True).apply(input)


__all__ = ["cat", "concat", "concatenate", "stack", "hstack", "vstack", "row_stack", "dstack", "split", "chunk",
           "unbind"]

TENSOR_METHODS = ["split", "chunk", "unbind"]
