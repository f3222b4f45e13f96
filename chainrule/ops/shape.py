"""Shape operators: broadcasting and its inverse, casts, reshapes and axis permutations.

``sum_to`` is the adjoint of ``broadcast_to``; the engine uses it to undo broadcasting once for
every binary operator (both are defined in ``autograd/broadcast.py``, the core's own operators).
"""

from __future__ import annotations

import numbers

from .. import backend
from ..autograd.broadcast import BroadcastTo, SumTo, sum_to  # noqa: F401 (ops.shape.SumTo ...)
from ..autograd.broadcast import broadcast_to as _broadcast_to
from ..autograd.function import FunctionNode, named_output
from ..tensor import Tensor
from ._util import broadcast_shapes, wrap_dim


def broadcast_to(input: Tensor, size) -> Tensor:
    """A read-only broadcast view of ``input`` with shape ``size`` (-1 keeps a dimension)."""
    return _broadcast_to(input, _size_arg((size,)))


def expand(input: Tensor, *sizes) -> Tensor:
    """``broadcast_to`` with PyTorch's varargs form (``x.expand(3, -1)``)."""
    return broadcast_to(input, _size_arg(sizes))


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return broadcast_to(input, other.shape)


def broadcast_tensors(*tensors: Tensor) -> tuple:
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(broadcast_to(t, shape) for t in tensors)


class Cast(FunctionNode):
    torch_name = "ToCopyBackward0"

    def __init__(self, dtype: backend.dtype):
        self.dtype = dtype

    def forward(self, x):
        self.in_dtype = backend.from_numpy_dtype(x.dtype)
        return x.astype(self.dtype.np)

    def backward(self, gy):
        return gy.to(self.in_dtype)


def to(input: Tensor, *args, dtype=None, device=None, copy: bool = False, non_blocking: bool = False,
       memory_format=None) -> Tensor:
    """Convert dtype and/or device: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)``.

    A floating-point to floating-point cast is differentiable; the gradient is cast back (a cast
    to an integer or bool dtype gives no gradient).
    ``memory_format`` is accepted and ignored (chainrule keeps NumPy's element order).
    """
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, (str, backend.device)) or (isinstance(a, int) and not isinstance(a, bool)):
            device = a  # an int is an accelerator index, as in PyTorch
        elif a is not None:
            dtype = a
    if device is not None:
        backend.check_device(device)
    if dtype is None:
        return input.clone() if copy else input
    dt = backend.to_dtype(dtype)
    if dt.np == input._data.dtype:
        return input.clone() if copy else input
    return Cast(dt).apply(input)  # a node even without grad: a graph capture sees the value (x.float())


def cuda(input: Tensor, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
    """``Tensor.cuda()``: a copy on a CUDA device; raises until chainrule has a CUDA backend."""
    dev = backend.device("cuda", device) if device is None or isinstance(device, int) else backend.device(device)
    if dev.type != "cuda":
        raise RuntimeError("Invalid device, must be cuda device")
    backend.check_device(dev)
    return to(input, dev)


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
    """Same elements in a new shape; ``strict`` (``view``) refuses to copy, as PyTorch's ``view``."""

    @property
    def torch_name(self) -> str:  # a copy (non-contiguous input) is PyTorch's _unsafe_view
        return "ViewBackward0" if self._is_view else "UnsafeViewBackward0"

    def __init__(self, shape: tuple, strict: bool = False):
        self.shape = shape
        self.strict = strict

    def forward(self, x):
        self.in_shape = x.shape
        xp = self.xp
        if self.strict:
            self._is_view = True
            try:
                return xp.reshape(x, self.shape, copy=False)
            except ValueError:
                raise RuntimeError(
                    "view size is not compatible with input tensor's size and stride (at least one "
                    "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None
        y = x.reshape(self.shape)
        # a reshape of a non-contiguous array is a copy: then it is no view of the input
        self._is_view = bool(xp.may_share_memory(x, y))
        return y

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
    """``reshape`` that always shares memory with ``input`` (raises where that would need a copy)."""
    if len(shape) == 1 and isinstance(shape[0], backend.dtype):
        raise NotImplementedError("view(dtype) reinterpretation is not supported")
    shape = _infer_shape(_size_arg(shape), input._data.size, input._data.shape)
    if shape == input._data.shape:
        return input
    return Reshape(shape, strict=True).apply(input)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return view(input, other.shape)


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


@named_output("TransposeBackward0")
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


@named_output("TBackward0")
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


# ---- dimensions added, removed, merged or moved (views where the layout allows) -----------------
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one (a 0-d tensor becomes 1-d)."""
    shp = input._data.shape
    if not shp:
        return reshape(input, (1,))
    start, end = wrap_dim(start_dim, len(shp)), wrap_dim(end_dim, len(shp))
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    merged = 1
    for n in shp[start:end + 1]:
        merged *= n
    return reshape(input, shp[:start] + (merged,) + shp[end + 1:])


def ravel(input: Tensor) -> Tensor:
    """The elements as a 1-d tensor (a view when the layout allows)."""
    return flatten(input)


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one entry may be -1); the inverse of ``flatten``."""
    shp = input._data.shape
    d = wrap_dim(dim, len(shp))
    sizes = _size_arg((sizes,))
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = 1
    for n in sizes:
        if n != -1:
            known *= n
    bad = sizes.count(-1) > 1 or (
        (shp[d] % known if known else shp[d]) if -1 in sizes else known != shp[d])
    if bad:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
            f"({shp[d]}) in the input tensor")
    if -1 in sizes:
        sizes = tuple(shp[d] // known if n == -1 else n for n in sizes)
    return reshape(input, shp[:d] + sizes + shp[d + 1:])


def _squeeze_name(dim) -> str:
    """PyTorch's squeeze overloads: 0 without dim, 1 with one dim, 2 with a tuple of dims."""
    return f"SqueezeBackward{0 if dim is None else 2 if isinstance(dim, (tuple, list)) else 1}"


@named_output(lambda input, dim=None, **k: _squeeze_name(k.get("axis", dim)))
def squeeze(input: Tensor, dim=None) -> Tensor:
    """Drop dimensions of size 1: all of them, or those of ``dim`` (an int or a tuple) that have size 1."""
    shp = input._data.shape
    dims: range | list[int]
    if dim is None:
        dims = range(len(shp))
    elif isinstance(dim, (tuple, list)):
        dims = [wrap_dim(d, len(shp)) for d in dim]
    else:
        dims = [wrap_dim(dim, len(shp))]
    if not shp:
        return input
    drop = {d for d in dims if shp[d] == 1}
    return reshape(input, tuple(n for i, n in enumerate(shp) if i not in drop))


@named_output("UnsqueezeBackward0")
def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim`` (-1 appends one)."""
    shp = input._data.shape
    d = wrap_dim(dim, len(shp) + 1)
    return reshape(input, shp[:d] + (1,) + shp[d:])


def movedim(input: Tensor, source, destination) -> Tensor:
    """Move dimensions ``source`` to positions ``destination``; the others keep their order."""
    nd = input._data.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({src} dims) should contain the "
            f"same number of dims as destination ({dst} dims)")
    src = [wrap_dim(d, nd) for d in src]
    dst = [wrap_dim(d, nd) for d in dst]
    for name, ds in (("source", src), ("destination", dst)):
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({ds})")
    order = [d for d in range(nd) if d not in src]
    perm = [0] * nd
    placed = dict(zip(dst, src))
    rest = iter(order)
    for i in range(nd):
        perm[i] = placed[i] if i in placed else next(rest)
    return permute(input, perm)


moveaxis = movedim


# ---- copies in a new arrangement ---------------------------------------------------------------------
class Flip(FunctionNode):
    """Reverse the order of elements along ``dims``; its own adjoint."""

    def __init__(self, dims: tuple):
        self.dims = dims

    def forward(self, x):
        return self.xp.flip(x, self.dims).copy()  # PyTorch's flip copies; a view would alias x

    def backward(self, gy):
        return Flip(self.dims).apply(gy)


def flip(input: Tensor, *dims, **kwargs) -> Tensor:
    """``y[i] = x[n - 1 - i]`` along each dimension in ``dims`` (a copy)."""
    if "dims" in kwargs:
        dims = (kwargs.pop("dims"),)
    if kwargs:
        raise TypeError(f"flip() got unexpected keyword arguments {sorted(kwargs)}")
    nd = input._data.ndim
    ds = tuple(wrap_dim(d, nd) for d in _size_arg(dims))
    for d in ds:
        if ds.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    if not ds or nd == 0:
        return clone(input)
    return Flip(ds).apply(input)


def fliplr(input: Tensor) -> Tensor:
    """Reverse the columns (dimension 1)."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:
    """Reverse the rows (dimension 0)."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


class Roll(FunctionNode):
    """Cyclic shift, ``y[(i + s) mod n] = x[i]``; the adjoint is the opposite shift."""

    def __init__(self, shifts: tuple, dims: tuple):
        self.shifts, self.dims = shifts, dims

    def forward(self, x):
        return self.xp.roll(x, self.shifts, axis=self.dims)

    def backward(self, gy):
        return Roll(tuple(-s for s in self.shifts), self.dims).apply(gy)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements cyclically by ``shifts`` along ``dims`` (the flattened tensor when None)."""
    shifts = _size_arg((shifts,))
    if dims is None or (isinstance(dims, (tuple, list)) and len(dims) == 0):
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return reshape(Roll(shifts, (0,)).apply(flatten(input)), input._data.shape)
    dims = _size_arg((dims,))
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    dims = tuple(wrap_dim(d, input._data.ndim) for d in dims)
    return Roll(shifts, dims).apply(input)


class Repeat(FunctionNode):
    """Tile the input ``sizes[i]`` times along each dimension (missing leading dimensions are added)."""

    def __init__(self, sizes: tuple):
        self.sizes = sizes

    def forward(self, x):
        self.in_shape = x.shape
        return self.xp.tile(x, self.sizes)

    def backward(self, gy):
        # each input element appears once per tile: separate the tile index from the position
        # within a tile in every dimension, then sum over the tile indices (sum_to's 1s)
        shp = (1,) * (len(self.sizes) - len(self.in_shape)) + tuple(self.in_shape)
        split = tuple(v for r, n in zip(self.sizes, shp) for v in (r, n))
        target = tuple(v for n in shp for v in (1, n))
        return reshape(sum_to(reshape(gy, split), target), self.in_shape)


def repeat(input: Tensor, *sizes) -> Tensor:
    """PyTorch's ``Tensor.repeat``: ``sizes`` has at least ``input.dim()`` entries (a copy)."""
    sizes = _size_arg(sizes)
    if len(sizes) < input._data.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    shp = (1,) * (len(sizes) - input._data.ndim) + tuple(input._data.shape)
    if any(r < 0 for r in sizes):
        raise RuntimeError(
            f"Trying to create tensor with negative dimension "
            f"{min(r * n for r, n in zip(sizes, shp))}: {[r * n for r, n in zip(sizes, shp)]}")
    return Repeat(sizes).apply(input)


def tile(input: Tensor, dims) -> Tensor:
    """``repeat`` where ``dims`` may be shorter than ``input.dim()`` (then padded with leading 1s)."""
    dims = _size_arg((dims,))
    dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, dims)


class Tri(FunctionNode):
    """Keep the lower (``tril``) or upper (``triu``) triangle of the last two dims; self-adjoint mask."""

    @property
    def torch_name(self) -> str:
        return "TrilBackward0" if self.lower else "TriuBackward0"

    def __init__(self, lower: bool, diagonal: int):
        self.lower, self.diagonal = lower, diagonal

    def forward(self, x):
        xp = self.xp
        return xp.tril(x, self.diagonal) if self.lower else xp.triu(x, self.diagonal)

    def backward(self, gy):
        return Tri(self.lower, self.diagonal).apply(gy)


def _tri(input: Tensor, diagonal: int, lower: bool) -> Tensor:
    name = "tril" if lower else "triu"
    if input._data.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    return Tri(lower, int(diagonal)).apply(input)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """Zero the elements above diagonal ``diagonal`` (0 main, >0 above, <0 below)."""
    return _tri(input, diagonal, True)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """Zero the elements below diagonal ``diagonal``."""
    return _tri(input, diagonal, False)


__all__ = [
    "sum_to", "broadcast_to", "expand", "expand_as", "broadcast_tensors", "to", "type_as", "reshape", "view",
    "view_as", "permute", "transpose", "swapaxes", "swapdims", "t", "adjoint", "clone", "contiguous",
    "flatten", "ravel", "unflatten", "squeeze", "unsqueeze", "movedim", "moveaxis", "flip", "fliplr",
    "flipud", "roll", "tile", "tril", "triu",
]  # ``repeat`` is a Tensor method only, as in PyTorch

TENSOR_METHODS = [
    "sum_to", "broadcast_to", "expand", "expand_as", "to", "type_as", "reshape", "view", "view_as", "permute",
    "transpose", "swapaxes", "swapdims", "t", "adjoint", "clone", "contiguous", "flatten", "ravel",
    "unflatten", "squeeze", "unsqueeze", "movedim", "moveaxis", "flip", "fliplr", "flipud", "roll",
    "repeat", "tile", "tril", "triu",
]
