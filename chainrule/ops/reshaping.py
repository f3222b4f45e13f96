"""Shape and layout functions PyTorch code reaches for: ``atleast_*d``, ``tensor_split`` and the
``h/v/dsplit`` family, ``rot90``, diagonals (``diag``, ``diagonal``, ``diag_embed``, ``diagflat``),
``cartesian_prod``/``combinations``, ``vander``, ``block_diag``, ``diff``, ``unfold`` (windows),
``as_strided`` and index grids (``tril_indices``, ``unravel_index``, ``range``).

Most are compositions of differentiable operators (slicing, flips, gathers), so first and
second derivatives come from those; ``diagonal``/``diag_embed`` are one adjoint pair of nodes.
``diagonal``, the splits, ``unfold`` and ``as_strided`` (of a contiguous tensor) return views
sharing the input's memory, as PyTorch's do; ``as_strided`` of a non-contiguous tensor copies.
"""

from __future__ import annotations

import itertools
import math
import numbers
import warnings

import numpy as np

from .. import _factory, backend
from ..autograd.function import FunctionNode, named_output
from ..kernels.tables import size_only
from ..tensor import Size, Tensor
from ._util import TORCH_TYPE_NAMES, check_tensor, torch_type_name, wrap_dim
from .elementwise import sub
from .indexing import GetItem, IndexAccumulate
from .join import cat, chunk, split, stack
from .shape import broadcast_to, flip, reshape, sum_to, transpose, unsqueeze
from .sorting import cumprod

_irange = range  # the builtin: this module's ``range`` is PyTorch's


# ---- atleast / column_stack ------------------------------------------------------------------
def _atleast(t: Tensor, n: int) -> Tensor:
    """``t`` with at least ``n`` dims: 0-d reshaped, else unsqueezed (PyTorch's node for each)."""
    nd = t.ndim
    if nd >= n:
        return t
    if nd == 0:
        return reshape(t, (1,) * n)
    if n == 3 and nd == 2:
        return unsqueeze(t, -1)
    if n == 3:
        return unsqueeze(unsqueeze(t, 0), -1)
    return unsqueeze(t, 0)


def _atleast_n(tensors: tuple, n: int, op: str):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(_atleast_n(tuple(tensors[0]), n, op))
    if len(tensors) == 1:
        return _atleast(check_tensor(tensors[0], op, "tensors"), n)
    return tuple(_atleast(check_tensor(t, op, "tensors"), n) for t in tensors)


def atleast_1d(*tensors):
    """Each tensor viewed with at least one dimension (0-d -> shape (1,)); one tensor in, one out."""
    return _atleast_n(tensors, 1, "atleast_1d")


def atleast_2d(*tensors):
    """Each tensor with at least two dimensions: 0-d -> (1, 1), (n,) -> (1, n)."""
    return _atleast_n(tensors, 2, "atleast_2d")


def atleast_3d(*tensors):
    """At least three dimensions: 0-d -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    return _atleast_n(tensors, 3, "atleast_3d")


def column_stack(tensors) -> Tensor:
    """Stack as columns: 0-d and 1-d tensors become (n, 1) columns, then ``hstack``."""
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"column_stack(): argument 'tensors' must be tuple of Tensors, not {type(tensors).__name__}")
    if not tensors:
        raise RuntimeError("column_stack expects a non-empty TensorList")
    cols = [reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in tensors]
    return cat(cols, 1)


# ---- splits ------------------------------------------------------------------------------------
def _slice(input: Tensor, d: int, start, stop) -> Tensor:
    return GetItem((slice(None),) * d + (slice(start, stop),)).apply(input)


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Split into ``sections`` nearly equal parts (the first ``n % sections`` one longer), or at
    the given indices along ``dim``; a 0-d integer tensor counts as sections, a 1-d one as indices."""
    check_tensor(input, "tensor_split")
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = wrap_dim(dim, input.ndim)
    n = input.shape[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios.dtype is not backend.int64:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                               f"{torch_type_name(ios)}")
        if ios.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {ios.ndim} dims")
        ios = int(ios.item()) if ios.ndim == 0 else [int(i) for i in ios.tolist()]
    if isinstance(ios, numbers.Integral) and not isinstance(ios, bool):
        sections = int(ios)
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        q, r = divmod(n, sections)
        bounds, start = [], 0
        for k in _irange(sections):
            stop = start + q + (1 if k < r else 0)
            bounds.append((start, stop))
            start = stop
    elif isinstance(ios, (list, tuple)):
        # consecutive Python slices [prev:i] (negative and too large indices as in Python)
        cuts = [int(i) for i in ios]
        bounds = list(zip([0] + cuts, cuts + [None]))
    else:
        raise TypeError("tensor_split(): argument 'indices_or_sections' must be int, a sequence of ints or a Tensor, "
                        f"not {type(ios).__name__}")
    return tuple(_slice(input, d, a, b) for a, b in bounds)


def _hvd_split(input: Tensor, sections, dim: int, op: str, min_dims: int) -> tuple:
    check_tensor(input, op)
    if input.ndim < min_dims:
        raise RuntimeError(f"torch.{op} requires a tensor with at least {min_dims} dimension, but got a tensor with "
                           f"{input.ndim} dimensions!")
    if isinstance(sections, numbers.Integral) and not isinstance(sections, bool):
        n = input.shape[dim]
        if sections == 0 or n % sections:
            raise RuntimeError(f"torch.{op} attempted to split along dimension {dim}, but the size of the dimension "
                               f"{n} is not divisible by the split_size {sections}!")
    return tensor_split(input, sections, dim)


def hsplit(input: Tensor, indices_or_sections) -> tuple:
    """``tensor_split`` along dim 1 (dim 0 for 1-d input); an int must divide the size evenly."""
    dim = 0 if isinstance(input, Tensor) and input.ndim == 1 else 1
    return _hvd_split(input, indices_or_sections, dim, "hsplit", 1)


def vsplit(input: Tensor, indices_or_sections) -> tuple:
    """``tensor_split`` along dim 0 of a tensor with at least two dimensions."""
    return _hvd_split(input, indices_or_sections, 0, "vsplit", 2)


def dsplit(input: Tensor, indices_or_sections) -> tuple:
    """``tensor_split`` along dim 2 of a tensor with at least three dimensions."""
    return _hvd_split(input, indices_or_sections, 2, "dsplit", 3)


# ---- rot90 -------------------------------------------------------------------------------------
@named_output("Rot90Backward0")
def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by ``k`` quarter turns in the plane ``dims``, from the first axis towards the second."""
    check_tensor(input, "rot90")
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = wrap_dim(dims[0], input.ndim), wrap_dim(dims[1], input.ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k = int(k) % 4
    if k == 1:
        return transpose(flip(input, [d1]), d0, d1)
    if k == 2:
        return flip(input, [d0, d1])
    if k == 3:
        return transpose(flip(input, [d0]), d0, d1)
    return input.clone()


# ---- diagonals -----------------------------------------------------------------------------------
def _diag_index(shape: tuple, offset: int, d1: int, d2: int):
    """(moved-axes order, row index, column index) of the diagonal ``offset`` of dims (d1, d2)."""
    n1, n2 = shape[d1], shape[d2]
    if offset >= 0:
        length = max(min(n1, n2 - offset), 0)
        rows, cols = np.arange(length), np.arange(length) + offset
    else:
        length = max(min(n1 + offset, n2), 0)
        rows, cols = np.arange(length) - offset, np.arange(length)
    return rows, cols


def _strided_view(xp, base, shape: tuple, strides: tuple, writeable: bool):
    return xp.lib.stride_tricks.as_strided(base, shape=shape, strides=strides, writeable=writeable)


class Diagonal(FunctionNode):
    """``y[..., i] = x[..., i, i + offset]`` over dims (dim1, dim2), the diagonal axis last: a
    view sharing ``x``'s memory (writing into it writes into ``x``, as in PyTorch)."""

    torch_name = "DiagonalBackward0"
    _is_view = True

    def __init__(self, offset: int, dim1: int, dim2: int, copy: bool = False):
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2
        if copy:
            self._is_view = False

    def forward(self, x):
        self.in_shape = x.shape
        if not self._is_view:
            return self.xp.diagonal(x, self.offset, self.dim1, self.dim2).copy()
        moved = self.xp.moveaxis(x, (self.dim1, self.dim2), (-2, -1))
        rows, cols = _diag_index(x.shape, self.offset, self.dim1, self.dim2)
        r0, c0 = (int(rows[0]), int(cols[0])) if len(rows) else (0, 0)
        start = moved[..., r0:, c0:] if len(rows) else moved[..., :0, :0]
        st = moved.strides
        return _strided_view(self.xp, start, moved.shape[:-2] + (len(rows),), st[:-2] + (st[-2] + st[-1],),
                             x.flags.writeable)

    def backward(self, gy):
        return DiagonalFill(self.in_shape, self.offset, self.dim1, self.dim2).apply(gy)


class DiagonalFill(FunctionNode):
    """``z = zeros(shape); diagonal(z, offset, dim1, dim2) = g`` (``diag_embed``; adjoint of ``Diagonal``)."""

    torch_name = "DiagEmbedBackward0"

    def __init__(self, shape: tuple, offset: int, dim1: int, dim2: int):
        self.shape, self.offset, self.dim1, self.dim2 = tuple(shape), offset, dim1, dim2

    def forward(self, g):
        out = self.xp.zeros(self.shape, dtype=g.dtype)
        rows, cols = _diag_index(self.shape, self.offset, self.dim1, self.dim2)
        self.xp.moveaxis(out, (self.dim1, self.dim2), (-2, -1))[..., rows, cols] = g
        return out

    def backward(self, gz):
        return Diagonal(self.offset, self.dim1, self.dim2).apply(gz)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal ``offset`` (above the main one when positive) of the planes (dim1, dim2), as a
    new last dimension. A copy here (a view in PyTorch)."""
    check_tensor(input, "diagonal")
    nd = input.ndim
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal(int(offset), d1, d2).apply(input)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """A tensor whose planes (dim1, dim2) hold the last dimension of ``input`` on diagonal ``offset``."""
    check_tensor(input, "diag_embed")
    nd = input.ndim + 1
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = (input.shape[-1] if input.ndim else 1) + abs(int(offset))
    rest = list(input.shape[:-1])
    shape = []
    for k in _irange(nd):
        shape.append(n if k in (d1, d2) else rest.pop(0))
    src = input if input.ndim else reshape(input, (1,))
    return DiagonalFill(tuple(shape), int(offset), d1, d2).apply(src)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: F811 (PyTorch's keyword name)
    """1-d input: the square matrix with ``input`` on diagonal ``diagonal``; 2-d input: that diagonal."""
    check_tensor(input, "diag")
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        out = Diagonal(int(diagonal), 0, 1, copy=True).apply(input)
        if out.grad_fn is not None:
            out.grad_fn._renamed = "DiagonalBackward0_copy"
        return out
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The flattened input on diagonal ``offset`` of a square matrix."""
    check_tensor(input, "diagflat")
    return diag_embed(reshape(input, (input.numel(),)), offset, 0, 1)


# ---- products of index sets ------------------------------------------------------------------------
def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every combination of one element per 1-d tensor, as rows (``itertools.product`` order)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for t in tensors:
        check_tensor(t, "cartesian_prod", "tensors")
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    shape = tuple(t.shape[0] for t in tensors)
    n = len(tensors)
    cols = []
    for k, t in enumerate(tensors):
        view = (1,) * k + (shape[k],) + (1,) * (n - k - 1)
        cols.append(reshape(broadcast_to(reshape(t, view), shape), (-1,)))
    return stack(cols, 1)


def _sized(t: Tensor) -> Tensor:
    """``t`` (zeros or ones of a shape the arguments' sizes give) marked ``size_only``: a constant
    of a graph capture."""
    size_only(t._data)
    return t


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """Rows of the length-``r`` combinations of a 1-d tensor's elements (``itertools`` order)."""
    check_tensor(input, "combinations")
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return Tensor._make(np.empty((0,), dtype=input._data.dtype))
    gen = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(gen(_irange(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    # the positions come from sizes alone: constants of a graph capture
    return stack([GetItem((size_only(idx[:, k]),)).apply(input) for k in _irange(r)], 1)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803
    """The Vandermonde matrix: column j is x**(N-1-j) (x**j when ``increasing``)."""
    check_tensor(x, "vander", "x")
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    dt = x.dtype if x.dtype.is_floating_point else backend.int64
    xs = x.to(dt)
    cols = [_sized(_factory.ones((x.shape[0], 1), dtype=dt))]
    if n > 1:
        cols.append(cumprod(broadcast_to(unsqueeze(xs, 1), (x.shape[0], n - 1)), 1))
    result = cat(cols, 1) if n > 0 else _factory.empty((x.shape[0], 0), dtype=dt)
    return result if increasing else flip(result, [1])


@named_output("BlockDiagBackward0")
def block_diag(*tensors: Tensor) -> Tensor:
    """The block-diagonal matrix of the inputs (0-d -> 1x1, 1-d -> one row), dtype promoted."""
    mats = []
    for k, t in enumerate(tensors):
        check_tensor(t, "block_diag", "tensors")
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {k} has "
                               f"{t.ndim} dimensions")
        mats.append(reshape(t, (1, t.numel())) if t.ndim < 2 else t)
    if not mats:
        return _factory.empty((1, 0))
    dt = backend.result_type(*mats)
    total = sum(m.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        r, c = m.shape
        parts = [_sized(_factory.zeros((r, left), dtype=dt)), m.to(dt),
                 _sized(_factory.zeros((r, total - left - c), dtype=dt))]
        rows.append(cat(parts, 1))
        left += c
    return cat(rows, 0)


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
         append: Tensor | None = None) -> Tensor:
    """The ``n``-th forward difference ``x[i+1] - x[i]`` along ``dim`` (after prepending/appending)."""
    check_tensor(input, "diff")
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = wrap_dim(dim, input.ndim)
    x = input
    if prepend is not None or append is not None:
        parts = [p for p in (prepend, x, append) if p is not None]
        if any(p.ndim != x.ndim for p in parts):
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
        x = cat(parts, d)
    for _ in _irange(n):
        m = x.shape[d]
        if m == 0:
            break
        x = sub(_slice(x, d, 1, m), _slice(x, d, 0, m - 1)) if x.dtype is not backend.bool_ else \
            _slice(x, d, 1, m) ^ _slice(x, d, 0, m - 1)
    return x


# ---- windows and strides -----------------------------------------------------------------------------
class Unfold(FunctionNode):
    """The windows ``x[..., i*step : i*step + size, ...]`` along ``dim`` as a strided view (the
    window elements last). Backward adds each window's gradient back, at window positions
    computed from sizes alone (marked ``size_only``: a constant of a recorded backward schedule)."""

    torch_name = "UnfoldBackward0"
    _is_view = True

    def __init__(self, dim: int, size: int, step: int):
        self.dim, self.size, self.step = dim, size, step

    def forward(self, x):
        d, n = self.dim, x.shape[self.dim]
        self.in_shape = x.shape
        windows = (n - self.size) // self.step + 1
        st = x.strides
        shape = x.shape[:d] + (windows,) + x.shape[d + 1:] + (self.size,)
        strides = st[:d] + (st[d] * self.step,) + st[d + 1:] + (st[d],)
        return _strided_view(self.xp, x, shape, strides, x.flags.writeable)

    def backward(self, gy):
        d = self.dim
        n = self.in_shape[d]
        windows = (n - self.size) // self.step + 1
        idx = size_only(np.arange(windows)[:, None] * self.step + np.arange(self.size)[None, :])
        g = gy.movedim(-1, d + 1) if d + 1 != gy.ndim - 1 else gy  # [..., windows, size, ...]
        return IndexAccumulate((slice(None),) * d + (idx,), self.in_shape).apply(g)


def unfold(self: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Every window of ``size`` elements, ``step`` apart, along ``dimension``; the windows
    replace that dimension and the window elements form a new last dimension. A view of
    ``self``, as in PyTorch (overlapping windows share elements)."""
    nd = self.ndim
    d = wrap_dim(dimension, max(nd, 1))
    n = self.shape[d] if nd else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if nd == 0:
        return reshape(Unfold(0, size, step).apply(reshape(self, (1,))), (size,))
    return Unfold(d, int(size), int(step)).apply(self)


class AsStrided(FunctionNode):
    """``y[i, j, ...] = flat(x)[offset + i * stride[0] + j * stride[1] + ...]``: a view of a
    contiguous ``x`` (a copy otherwise); backward adds the gradient back at those positions."""

    torch_name = "AsStridedBackward0"

    def __init__(self, flat_index: np.ndarray, size: tuple, stride: tuple, offset: int, view: bool):
        self.flat_index, self.size, self.stride, self.offset = flat_index, size, stride, offset
        self._is_view = view

    def forward(self, x):
        self.in_shape = x.shape
        if self._is_view:
            item = x.itemsize
            base = x.reshape(-1)[self.offset:]
            return _strided_view(self.xp, base, self.size, tuple(s * item for s in self.stride), x.flags.writeable)
        return x.reshape(-1)[self.flat_index]

    def backward(self, gy):
        flat = IndexAccumulate((self.flat_index,), (int(np.prod(self.in_shape)),)).apply(gy)
        return reshape(flat, self.in_shape)


def as_strided(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """Elements of ``input`` read with the given strides, counted in elements over the
    tensor's row-major (contiguous) order: a view when ``input`` is contiguous (as PyTorch's,
    whose strides address the storage), a copy otherwise."""
    check_tensor(input, "as_strided")
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: {list(stride)}")
    off = 0 if storage_offset is None else int(storage_offset)
    flat = np.full(size, off, dtype=np.int64)
    for k, (n, st) in enumerate(zip(size, stride)):
        flat = flat + (np.arange(n) * st).reshape((1,) * k + (n,) + (1,) * (len(size) - k - 1))
    need = (int(flat.max()) + 1) if flat.size else 0
    if need > input.numel():
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {off}, and "
                           f"itemsize {input.element_size()} requiring a storage size of {need * input.element_size()} "
                           f"are out of bounds for storage of size {input.numel() * input.element_size()}")
    view = bool(input._data.flags.c_contiguous) and need > 0
    return AsStrided(size_only(flat), size, stride, off, view).apply(input)  # from sizes alone


@named_output("NarrowCopyBackward0")
def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``narrow(input, dim, start, length)`` as a new tensor."""
    return check_tensor(input, "narrow_copy").narrow(dim, start, length).clone()


def reshape_as(self: Tensor, other: Tensor) -> Tensor:
    """``self.reshape(other.shape)``."""
    return reshape(self, tuple(check_tensor(other, "reshape_as", "other").shape))


def sum_to_size(self: Tensor, *size) -> Tensor:
    """Sum ``self`` down to ``size`` (which must broadcast to ``self``'s shape)."""
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = tuple(size[0])
    size = tuple(int(s) for s in size)
    shp = tuple(self.shape)
    ok = len(size) <= len(shp) and all(s == 1 or s == t for s, t in zip(size[::-1], shp[::-1]))
    if not ok:
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shp)}}}.")
    if size == shp:
        return self
    out = sum_to(self, size)
    if out.grad_fn is not None:
        out.grad_fn._renamed = "SumBackward1"
    return out


# ---- index grids (no gradient) -------------------------------------------------------------------------
def _tri_indices(row: int, col: int, offset: int, dtype, lower: bool, op: str, device) -> Tensor:
    backend.check_device(device)
    dt = backend.int64 if dtype is None else backend.to_dtype(dtype)
    if dt.category != 1:
        raise NotImplementedError(f"\"{op}\" not implemented for '{TORCH_TYPE_NAMES[dt.name]}'")
    if row < 0 or col < 0:
        raise RuntimeError(f"row must be non-negative, got{row}" if row < 0 else f"col must be non-negative, got{col}")
    i, j = (np.tril_indices if lower else np.triu_indices)(row, offset, col)
    return Tensor._make(np.stack([i, j]).astype(dt.np).reshape(2, -1))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The 2 x N coordinates of the lower triangle (on and below diagonal ``offset``), row-major."""
    return _tri_indices(row, col, offset, dtype, True, "tril_indices", device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The 2 x N coordinates of the upper triangle (on and above diagonal ``offset``), row-major."""
    return _tri_indices(row, col, offset, dtype, False, "triu_indices", device)


def unravel_index(indices, shape) -> tuple:
    """The coordinates of flat (row-major) ``indices`` in a tensor of ``shape``: one int64 tensor per dim."""
    if isinstance(shape, numbers.Integral):
        shape = (int(shape),)
    shape = tuple(int(s) for s in shape)
    if isinstance(indices, Tensor):
        if indices.dtype.category != 1:
            raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}".replace(
                "chainrule.", "torch."))
        idx = indices._data.astype(np.int64)
    elif isinstance(indices, numbers.Integral) and not isinstance(indices, bool):
        idx = np.asarray(int(indices), dtype=np.int64)
    else:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {type(indices).__name__}")
    if any(s < 0 for s in shape):
        raise ValueError("'shape' cannot have negative values, but got " + str(shape))
    total = math.prod(shape)
    idx = idx % total if total else idx  # PyTorch reduces every coordinate modulo its size
    coords = np.unravel_index(idx, shape) if shape else ()
    return tuple(Tensor._make(np.asarray(c, dtype=np.int64)) for c in coords)


def broadcast_shapes(*shapes) -> Size:
    """The shape that tensors of all the given shapes broadcast to."""
    norm = []
    for s in shapes:
        if isinstance(s, numbers.Integral):
            s = (int(s),)
        if any(int(d) < 0 for d in s):
            raise RuntimeError(f"Trying to create tensor with negative dimension {min(int(d) for d in s)}: {list(s)}")
        norm.append(tuple(int(d) for d in s))
    result: list = []
    for k, s in enumerate(norm):
        if len(s) > len(result):
            result = [1] * (len(s) - len(result)) + result
        for j in _irange(1, len(s) + 1):
            a, b = result[-j], s[-j]
            if a != b and a != 1 and b != 1:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {b} at {-j}! Mismatching argument "
                                   f"at index {k} had {s}; but expected shape should be broadcastable to {result}")
            if a == 1:
                result[-j] = b
    return Size(result)


def _range(start=0, end=None, step=1, *, dtype=None, layout=None, device=None,  # noqa: A001
          requires_grad: bool = False) -> Tensor:
    """Deprecated: ``start, start + step, ...`` up to and including ``end``; use ``arange``."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                  "[start, end).", UserWarning, stacklevel=2)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and start > end) or (step < 0 and start < end):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    dt = backend.get_default_dtype() if dtype is None else backend.to_dtype(dtype)
    if dt is backend.bool_:
        raise NotImplementedError("\"range_cpu\" not implemented for 'Bool'")
    n = int(math.floor((end - start) / step)) + 1
    values = (start + np.arange(n, dtype=np.float64) * step).astype(dt.np)
    return _factory._finish(values, requires_grad, device)


def _renamed_outputs(outs: tuple, name: str) -> tuple:
    for o in outs:
        if o.grad_fn is not None:
            o.grad_fn._renamed = name
    return outs


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """Split into parts of the given sizes along ``dim`` (they must add up to its size)."""
    check_tensor(input, "split_with_sizes")
    sizes = [int(s) for s in split_sizes]
    d = wrap_dim(dim, max(input.ndim, 1))
    if sum(sizes) != input.shape[d]:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {input.shape[d]} (input tensor's "
                           f"size at dimension {d}), but got split_sizes={sizes}")
    return _renamed_outputs(split(input, sizes, d), "SplitWithSizesBackward0")


def unsafe_split(input: Tensor, split_size: int, dim: int = 0) -> tuple:
    """``split`` (PyTorch's variant without view tracking; the same here)."""
    return _renamed_outputs(split(check_tensor(input, "unsafe_split"), int(split_size), dim), "UnsafeSplitBackward0")


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """``chunk`` (PyTorch's variant without view tracking; the same here)."""
    return _renamed_outputs(chunk(check_tensor(input, "unsafe_chunk"), chunks, dim), "UnsafeSplitBackward0")


range = _range  # noqa: A001 (PyTorch's name; this module uses _irange for the builtin)

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "column_stack", "tensor_split", "hsplit", "vsplit", "dsplit",
           "rot90", "diagonal", "diag_embed", "diag", "diagflat", "cartesian_prod", "combinations", "vander",
           "block_diag", "diff", "as_strided", "narrow_copy", "tril_indices", "triu_indices", "unravel_index",
           "broadcast_shapes", "range", "split_with_sizes", "unsafe_split", "unsafe_chunk"]

TENSOR_METHODS = ["split_with_sizes", "unsafe_split", "unsafe_chunk", "tensor_split", "hsplit", "vsplit", "dsplit", "rot90", "diagonal", "diag_embed", "diag", "diagflat",
                  "diff", "as_strided", "narrow_copy", "unfold", "reshape_as", "sum_to_size"]
