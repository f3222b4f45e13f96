"""Shape operators: broadcasting and its inverse, casts, reshapes and axis permutations.

``sum_to`` is the adjoint of ``broadcast_to``; the engine uses it to undo broadcasting once for
every binary operator.
"""

from __future__ import annotations

import numbers

from .. import backend
from ..autograd.function import FunctionNode
from ..tensor import Tensor
from ._util import broadcast_shapes, wrap_dim


class SumTo(FunctionNode):
    """Sum a broadcast array back to ``shape`` (the adjoint of broadcasting)."""

    def __init__(self, shape: tuple):
        self.shape = tuple(shape)

    def forward(self, x):
        shape = self.shape
        lead = x.ndim - len(shape)
        if lead < 0:
            raise ValueError("cannot sum to a larger rank")
        axes = tuple(range(lead)) + tuple(
            lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1)
        for i, s in enumerate(shape):
            if s != 1 and x.shape[lead + i] != s:
                raise ValueError(f"cannot sum {x.shape} to {shape}")
        y = x.sum(axis=axes, keepdims=True) if axes else x
        if lead:
            y = y.reshape(shape)
        return y

    def backward(self, gy):
        return broadcast_to(gy, self.in_shape)

    def apply(self, x):
        self.in_shape = x._data.shape
        return super().apply(x)


class BroadcastTo(FunctionNode):
    _is_view = True

    def __init__(self, shape: tuple):
        self.shape = tuple(shape)

    def forward(self, x):
        self.in_shape = x.shape
        return self.xp.broadcast_to(x, self.shape)

    def backward(self, gy):
        return sum_to(gy, self.in_shape)


def sum_to(input: Tensor, shape) -> Tensor:
    """Sum ``input`` over the axes along which ``shape`` was broadcast to reach it."""
    shape = tuple(shape)
    if input._data.shape == shape:
        return input
    return SumTo(shape).apply(input)


def broadcast_to(input: Tensor, size) -> Tensor:
    """A read-only broadcast view of ``input`` with shape ``size`` (-1 keeps a dimension)."""
    size = _size_arg((size,))
    nd = input._data.ndim
    if len(size) < nd:
        raise RuntimeError(
            f"the number of sizes provided ({len(size)}) must be greater or equal to the number of "
            f"dimensions in the tensor ({nd})")
    lead = len(size) - nd
    target = tuple(
        (input._data.shape[i - lead] if (s == -1 and i >= lead) else s) for i, s in enumerate(size))
    for i in range(nd):
        s_in, s_out = input._data.shape[i], target[lead + i]
        if s_in != s_out and s_in != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({s_out}) must match the existing size ({s_in}) at "
                f"non-singleton dimension {lead + i}.  Target sizes: {list(size)}.  Tensor sizes: "
                f"{list(input._data.shape)}")
    if target == input._data.shape:
        return input
    return BroadcastTo(target).apply(input)


def expand(input: Tensor, *sizes) -> Tensor:
    """``broadcast_to`` with PyTorch's varargs form (``x.expand(3, -1)``)."""
    return broadcast_to(input, _size_arg(sizes))


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return broadcast_to(input, other.shape)


def broadcast_tensors(*tensors: Tensor) -> tuple:
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(broadcast_to(t, shape) for t in tensors)


class Cast(FunctionNode):
    def __init__(self, dtype: backend.dtype):
        self.dtype = dtype

    def forward(self, x):
        self.in_dtype = backend.from_numpy_dtype(x.dtype)
        return x.astype(self.dtype.np)

    def backward(self, gy):
        return gy.to(self.in_dtype)


def to(input: Tensor, *args, dtype=None, device=None, copy: bool = False, non_blocking: bool = False) -> Tensor:
    """Convert dtype and/or device: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)``.

    A floating-point to floating-point cast is differentiable; the gradient is cast back.
    """
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, backend.dtype) or (not isinstance(a, (str, backend.device)) and a is not None):
            dtype = a
        else:
            device = a
    backend.check_device(device)
    if dtype is None:
        return input.clone() if copy else input
    dt = backend.to_dtype(dtype)
    if dt.np == input._data.dtype:
        return input.clone() if copy else input
    if input.requires_grad and dt.is_floating_point:
        return Cast(dt).apply(input)
    return Tensor._make(input._data.astype(dt.np))


def type_as(input: Tensor, other: Tensor) -> Tensor:
    return to(input, other.dtype)


def _size_arg(sizes: tuple) -> tuple:
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    out = []
    for s in sizes:
        if isinstance(s, Tensor):
            s = s.item()
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):
            raise TypeError(f"sizes must be ints, got {type(s).__name__} ({s!r})")
        out.append(int(s))
    return tuple(out)


class Reshape(FunctionNode):
    _is_view = True

    def __init__(self, shape: tuple):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, gy):
        return reshape(gy, self.in_shape)


def _infer_shape(shape: tuple, numel: int, in_shape) -> tuple:
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if any(s < -1 for s in shape):
        raise RuntimeError(f"invalid shape dimension {min(shape)}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel} (input shape {list(in_shape)})")
    return shape


def reshape(input: Tensor, *shape) -> Tensor:
    """Same elements, new shape (one -1 is inferred); a view when the memory layout allows."""
    shape = _infer_shape(_size_arg(shape), input._data.size, input._data.shape)
    if shape == input._data.shape:
        return input
    return Reshape(shape).apply(input)


def view(input: Tensor, *shape) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], backend.dtype):
        raise NotImplementedError("view(dtype) reinterpretation is not supported")
    return reshape(input, *shape)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, other.shape)


class Permute(FunctionNode):
    _is_view = True

    def __init__(self, dims: tuple):
        self.dims = dims

    def forward(self, x):
        return x.transpose(self.dims)

    def backward(self, gy):
        inv = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inv[d] = i
        return Permute(tuple(inv)).apply(gy)


def permute(input: Tensor, *dims) -> Tensor:
    """Reorder the axes: output axis i is input axis dims[i]."""
    dims = _size_arg(dims)
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(
            f"permute(): number of dimensions in the tensor input does not match the length of "
            f"the desired ordering of dimensions i.e. input.dim() = {nd} is not equal to len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, nd) for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError(f"permute(): duplicate dims are not allowed, got {list(dims)}")
    if dims == tuple(range(nd)):
        return input
    return Permute(dims).apply(input)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two axes (a view)."""
    nd = input._data.ndim
    if nd == 0:
        return input
    d0, d1 = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
    if d0 == d1:
        return input
    dims = list(range(nd))
    dims[d0], dims[d1] = d1, d0
    return Permute(tuple(dims)).apply(input)


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Transpose of a tensor with at most 2 dimensions."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return transpose(input, 0, 1) if input._data.ndim == 2 else input


def adjoint(input: Tensor) -> Tensor:
    return transpose(input, -2, -1)


class Clone(FunctionNode):
    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return gy


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy with its own memory; gradients pass through unchanged."""
    return Clone().apply(input)


def contiguous(input: Tensor, memory_format=None) -> Tensor:
    """``input`` itself when C-contiguous, else a contiguous copy."""
    if input._data.flags.c_contiguous:
        return input
    return Clone().apply(input)


__all__ = ["sum_to", "broadcast_to", "expand", "expand_as", "broadcast_tensors", "to", "type_as", "reshape", "view", "view_as", "permute", "transpose", "swapaxes", "swapdims", "t", "adjoint", "clone", "contiguous"]

TENSOR_METHODS = ["sum_to", "broadcast_to", "expand", "expand_as", "to", "type_as", "reshape", "view", "view_as", "permute", "transpose", "swapaxes", "swapdims", "t", "adjoint", "clone", "contiguous"]
