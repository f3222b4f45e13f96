"""Indexing with PyTorch's rules: ``x[index]``, masks, ``nonzero``, ``narrow``/``select``/``take``.

``x[index]`` (``GetItem``) and its adjoint ``IndexAccumulate`` (scatter-add the gradient into
zeros at the same index, so repeated indices add up) are each other's backward.

PyTorch and NumPy agree on indexing except in one place: PyTorch applies integers first, as
``select``, so in ``x[0, :, idx]`` the integer does not count as an advanced index and ``idx``
keeps its place (result ``[3, 2]`` for a ``[2, 3, 4]`` tensor, where NumPy gives ``[2, 3]``).
``normalize_index`` rewrites such an index into one that NumPy evaluates with PyTorch's result
layout, so that reads (``x[i]``) and writes (``x[i] = v``) share one definition.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd.function import FunctionNode, named_output
from ..kernels.tables import size_only
from ..tensor import Tensor
from ._util import broadcast_shapes, to_tensor, wrap_dim
from .elementwise import where
from .shape import broadcast_to, reshape, sum_to

_INDEX_TYPES_MSG = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                    "valid indices (got {})")
_FLOAT_INDEX_MSG = "tensors used as indices must be long, int, byte or bool tensors"


def scatter_add_into(xp, out, index, values) -> None:
    """``out[index] += values`` where repeated positions in ``index`` all add up (unbuffered)."""
    if xp is np:
        np.add.at(out, index, values)
    else:  # CuPy spells NumPy's ufunc.at as cupyx.scatter_add
        import cupyx

        cupyx.scatter_add(out, index, values)


# ---- index normalisation -----------------------------------------------------------------------
def _index_array(value) -> np.ndarray:
    """An index given as a Tensor, list or array: a bool mask or an integer array."""
    arr = value._data if isinstance(value, Tensor) else value
    if not hasattr(arr, "dtype"):
        arr = np.asarray(arr)
        if arr.size == 0 and arr.dtype.kind == "f":  # [] is an empty integer index
            arr = arr.astype(np.int64)
    if arr.dtype == np.uint8:  # PyTorch's legacy byte masks
        arr = arr.astype(bool)
    if arr.dtype.kind not in "biu":
        raise IndexError(_FLOAT_INDEX_MSG)
    return arr


def _item(it):
    """One index item as an int, a slice, None, Ellipsis or an array."""
    if it is None or it is Ellipsis:
        return it
    if isinstance(it, (bool, np.bool_)):
        return np.asarray(bool(it))
    if isinstance(it, numbers.Integral):
        return int(it)
    if isinstance(it, slice):
        if it.step is not None and int(it.step) <= 0:
            raise ValueError("step must be greater than zero")
        return it
    if isinstance(it, Tensor) and it._data.ndim == 0 and it._data.dtype.kind in "iu":
        # a 0-d integer tensor indexes like an int (PyTorch's select); read with int(), which a
        # compiled graph guards (a replay with another index records anew)
        return int(it)
    if isinstance(it, (Tensor, list, tuple, np.ndarray)) or hasattr(it, "__array_interface__"):
        return _index_array(it)
    raise IndexError(_INDEX_TYPES_MSG.format(type(it).__name__))


def _dims_used(it) -> int:
    if it is None or it is Ellipsis:
        return 0
    if isinstance(it, (int, slice)):
        return 1
    return it.ndim if it.dtype == np.bool_ else 1


def _expand(index, shape: tuple) -> list:
    """Items with the Ellipsis spelled out, bounds checked, masks replaced by their coordinates.

    Each entry is ``(kind, value, dim)`` with kind one of 'int', 'slice', 'none', 'adv' and
    'bool0' (a 0-d bool, which adds a dimension of size 1 or 0 as in NumPy).
    """
    raw = index if isinstance(index, tuple) else (index,)
    items = [_item(it) for it in raw]
    nd = len(shape)
    used = sum(_dims_used(it) for it in items)
    if sum(it is Ellipsis for it in items) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if used > nd:
        if nd == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python to convert "
                             "a 0-dim tensor to a number")
        raise IndexError(f"too many indices for tensor of dimension {nd}")
    out: list = []
    d = 0
    for it in items:
        if it is Ellipsis:
            for _ in range(nd - used):
                out.append(("slice", slice(None), d))
                d += 1
        elif it is None:
            out.append(("none", None, d))
        elif isinstance(it, int):
            n = shape[d]
            if not -n <= it < n:
                raise IndexError(f"index {it} is out of bounds for dimension {d} with size {n}")
            out.append(("int", it, d))
            d += 1
        elif isinstance(it, slice):
            out.append(("slice", it, d))
            d += 1
        elif it.dtype == np.bool_ and it.ndim == 0:
            out.append(("bool0", it, d))
        elif it.dtype == np.bool_:
            for j in range(it.ndim):
                if it.shape[j] != shape[d + j]:
                    raise IndexError(
                        f"The shape of the mask {list(it.shape)} at index {j} does not match the shape "
                        f"of the indexed tensor {list(shape)} at index {d + j}")
            for coords in backend.array_module(it).nonzero(it):
                out.append(("adv", coords, d))
                d += 1
        else:
            n = shape[d]
            if it.size:
                hi, lo = int(it.max()), int(it.min())
                if hi >= n or lo < -n:
                    raise IndexError(
                        f"index {hi if hi >= n else lo} is out of bounds for dimension {d} with size {n}")
            out.append(("adv", it, d))
            d += 1
    return out


def _adjacent(kinds: list, group: set) -> bool:
    """Whether the items whose kind is in ``group`` follow each other without a slice/None between."""
    pos = [i for i, k in enumerate(kinds) if k in group]
    return all(kinds[i] not in ("slice", "none") for i in range(pos[0], pos[-1] + 1))


def _torch_layout(items: list, shape: tuple) -> list:
    """Rewrite the span from the first int/advanced item to the last as one advanced block.

    Slices in the span become ``arange`` arrays and Nones become size-1 axes of the broadcast
    layout, placed before or after the advanced dimensions as PyTorch places them.
    """
    kinds = [k for k, _, _ in items]
    span = [i for i, k in enumerate(kinds) if k in ("int", "adv")]
    first, last = span[0], span[-1]
    adv = [i for i, k in enumerate(kinds) if k == "adv"]
    bshape = tuple(np.broadcast_shapes(*(items[i][1].shape for i in adv)))
    k_before = sum(1 for i in range(first, adv[0]) if kinds[i] in ("slice", "none"))
    k_after = sum(1 for i in range(adv[-1] + 1, last + 1) if kinds[i] in ("slice", "none"))
    ndim = k_before + len(bshape) + k_after
    xp = backend.array_module(*(items[i][1] for i in adv))
    block: list = []
    q = 0
    for kind, v, d in items[first:last + 1]:
        if kind == "int":
            block.append(v)
        elif kind == "adv":
            lay = (1,) * k_before + bshape + (1,) * k_after
            block.append(xp.broadcast_to(v, bshape).reshape(lay))
        else:
            pos = q if q < k_before else q + len(bshape)
            q += 1
            if kind == "slice":
                r = xp.arange(*v.indices(shape[d]))
                r_lay = [1] * ndim
                r_lay[pos] = r.shape[0]
                block.append(r.reshape(r_lay))
    return [v for _, v, _ in items[:first]] + block + [v for _, v, _ in items[last + 1:]]


def normalize_index(t: Tensor, index):
    """The NumPy index that selects what PyTorch's ``t[index]`` selects, in PyTorch's layout.

    Checks bounds (``index 5 is out of bounds for dimension 0 with size 3``), index dtypes and mask
    shapes; masks are replaced by the coordinates of their True elements.
    """
    shape = t._data.shape
    items = _expand(index, shape)
    kinds = [k for k, _, _ in items]
    xp = backend.array_module(t._data)
    if xp is not np:
        items = [(k, xp.asarray(v) if k == "adv" else v, d) for k, v, d in items]
    if "adv" in kinds and "bool0" not in kinds:
        ints_and_adv = {"int", "adv"}
        if _adjacent(kinds, {"adv"}) and not _adjacent(kinds, ints_and_adv):
            return _constants_of_code(index, tuple(_torch_layout(items, shape)))
    return _constants_of_code(index, tuple(v for _, v, _ in items))


def _from_code(it) -> bool:
    """Whether an index item is made of the code's Python numbers alone (``[0, 2]``, ``1:3``)."""
    if isinstance(it, (list, tuple)):
        return all(_from_code(v) for v in it)
    return it is None or it is Ellipsis or isinstance(it, (numbers.Number, slice))


def _constants_of_code(index, out: tuple) -> tuple:
    """``out``, its arrays marked ``size_only`` when ``index`` holds the code's numbers alone (a
    Python list such as ``x[[0, 2]]``): constants of a captured graph, as ``torch.tensor([0, 2])``
    is (a list passed as an argument is part of the compiled signature)."""
    if _from_code(index):
        for v in out:
            if hasattr(v, "dtype"):
                size_only(v)
    return out


def _is_basic(idx) -> bool:
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items)


def _getitem_name(index, shape: tuple) -> str:
    """PyTorch's node for ``x[index]``: the last of the select / slice / unsqueeze steps it takes
    from left to right (a slice over a whole axis is no step), or ``IndexBackward0``."""
    items = index if isinstance(index, tuple) else (index,)
    if not _is_basic(items):
        return "IndexBackward0"
    name, d = "SliceBackward0", 0
    for i in items:
        if i is None:
            name = "UnsqueezeBackward0"
        elif i is Ellipsis:
            d += len(shape) - sum(1 for j in items if j is not None and j is not Ellipsis)
        else:
            if not isinstance(i, slice):
                name = "SelectBackward0"
            elif i.indices(shape[d]) != (0, shape[d], 1):
                name = "SliceBackward0"
            d += 1
    return name


# ---- x[index] and its adjoint ------------------------------------------------------------------
class GetItem(FunctionNode):
    """``y = x[index]``: a view for basic indices (ints, slices, None), a copy otherwise."""

    @property
    def torch_name(self) -> str:
        return _getitem_name(self.index, self.in_shape)

    def __init__(self, index):
        self.index = index
        self._is_view = _is_basic(index)
        if self._is_view:
            self.view_index = index

    def forward(self, x):
        self.in_shape = x.shape
        return x[self.index]

    def backward(self, gy):
        return IndexAccumulate(self.index, self.in_shape).apply(gy)


class IndexAccumulate(FunctionNode):
    """``z = zeros(shape); z[index] += g`` with repeated positions adding up (adjoint of ``GetItem``)."""

    def __init__(self, index, shape: tuple):
        self.index, self.shape = index, shape

    def forward(self, g):
        out = self.xp.zeros(self.shape, dtype=g.dtype)
        if _is_basic(self.index):
            out[self.index] = g  # basic indices never repeat a position
        else:
            scatter_add_into(self.xp, out, self.index, g)
        return out

    def backward(self, ggx):
        return GetItem(self.index).apply(ggx)


class IndexPut(FunctionNode):
    """``out = input; out[indices] = values`` (``+=`` with ``accumulate``); values broadcast."""

    torch_name = "IndexPutBackward0"

    def __init__(self, index, accumulate: bool):
        self.index, self.accumulate = index, accumulate

    def forward(self, x, values):
        self.v_shape = values.shape
        out = x.copy()
        if self.accumulate:
            target = out[self.index]
            vals = np.broadcast_to(values, target.shape)

            scatter_add_into(self.xp, out, self.index, vals)
        else:
            out[self.index] = values
        return out

    def backward(self, gy):
        nx, nv = self.needs_input_grad
        gx = gv = None
        if nx:
            if self.accumulate:
                gx = gy
            else:
                zeros = Tensor._make(size_only(np.zeros(self.v_shape, dtype=gy._data.dtype)))
                gx = IndexPut(self.index, False).apply(gy, zeros)
        if nv:
            gv = sum_to(GetItem(self.index).apply(gy), self.v_shape)
        return gx, gv


class SetItem(IndexPut):
    """``IndexPut`` as index assignment records it (PyTorch's node there is ``CopySlices``), written
    into ``x``'s memory: its input is the tensor being assigned into, whose old values no node of
    this one reads (the backward needs neither ``x`` nor the output), and the caller makes the
    tensor this node's output (``ops/inplace._rebase``). Its backward is ``IndexPut``'s, whose own
    nodes copy as usual."""

    torch_name = "torch::autograd::CopySlices"  # PyTorch's name() of this C++ node

    def forward(self, x, values):
        self.v_shape = values.shape
        x[self.index] = values
        return x


def getitem(input: Tensor, index) -> Tensor:
    """``x[index]`` with ints, slices (positive steps), None, Ellipsis, bool masks and integer
    tensors/arrays/lists, combined as in PyTorch; the gradient scatter-adds into the input's shape."""
    return GetItem(normalize_index(input, index)).apply(input)


def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """The view ``input[..., start:start + length, ...]`` along ``dim`` (negative ``start`` wraps)."""
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, nd)
    n = input._data.shape[d]
    start, length = int(start), int(length)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return GetItem((slice(None),) * d + (slice(start, start + length),)).apply(input)


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The view ``input[..., index, ...]`` with dimension ``dim`` removed."""
    nd = input._data.ndim
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, nd)
    n = input._data.shape[d]
    index = int(index)
    if not -n <= index < n:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(input.shape)} at dimension {d}")
    return GetItem((slice(None),) * d + (index,)).apply(input)


@named_output("TakeBackward0")
def take(input: Tensor, index: Tensor) -> Tensor:
    """``input.flatten()[index]``: the result has the shape of ``index``."""
    idx = _index_array(index)
    if idx.dtype == np.bool_:
        raise IndexError("take(): Expected a long tensor for index, but got Bool")
    n = input._data.size
    if idx.size:
        hi, lo = int(idx.max()), int(idx.min())
        if hi >= n or lo < -n:
            raise IndexError(
                f"out of range: tried to access index {hi if hi >= n else lo} on a tensor of {n} elements.")
    return GetItem((idx,)).apply(reshape(input, (n,)))


# ---- masks ---------------------------------------------------------------------------------------
def _bool_mask(mask, op: str, what: str) -> Tensor:
    if not isinstance(mask, Tensor) or mask._data.dtype != np.bool_:
        got = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"{op} only supports boolean masks, but got {what} with dtype {got}")
    return mask


@named_output(lambda input, mask, value, **k: f"MaskedFillBackward{int(isinstance(value, Tensor))}")
def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """``value`` where ``mask`` is True, ``input`` elsewhere (out of place; broadcasts).

    ``value`` is a number or a 0-d tensor, cast to ``input``'s dtype; a 0-d tensor that requires
    grad receives the sum of the gradient over the filled positions.
    """
    _bool_mask(mask, "masked_fill_", "mask")
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value._data.ndim} dimension(s).")
        v = value if value._data.dtype == input._data.dtype else value.to(input.dtype)
    else:
        v = to_tensor(value, input.dtype)
    return where(mask, v, input)


@named_output("MaskedSelectBackward0")
def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of ``input`` where ``mask`` is True, as a 1-d tensor (both broadcast first)."""
    if not isinstance(mask, Tensor) or mask._data.dtype != np.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = broadcast_shapes(input._data.shape, mask._data.shape)
    xp = backend.array_module(mask._data)
    m = xp.broadcast_to(mask._data, shape)
    return getitem(broadcast_to(input, shape), Tensor._make(m))


def nonzero(input: Tensor, *, as_tuple: bool = False):
    """Coordinates of the non-zero elements: an ``[n, ndim]`` int64 tensor, or one 1-d tensor per
    dimension with ``as_tuple=True``. No gradient (the result is integer)."""
    data = input._data
    xp = backend.array_module(data)
    if data.ndim == 0:
        n = int(bool(data))
        if as_tuple:
            return (Tensor._make(xp.zeros((n,), dtype=np.int64)),)
        return Tensor._make(xp.zeros((n, 0), dtype=np.int64))
    coords = [c.astype(np.int64, copy=False) for c in xp.nonzero(data)]
    if as_tuple:
        return tuple(Tensor._make(c) for c in coords)
    return Tensor._make(xp.stack(coords, axis=1))


def argwhere(input: Tensor) -> Tensor:
    """``nonzero(input)``: one row of coordinates per non-zero element."""
    return nonzero(input)


class OneHot(FunctionNode):
    """int64 one-hot vectors of ``num_classes`` for class indices; checks their range in ``forward``,
    so a compiled graph checks every call's indices. No gradient (the input is integer)."""

    def __init__(self, num_classes: int):
        self.num_classes = num_classes

    def forward(self, data):
        if data.size and data.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if data.size and int(data.max()) >= self.num_classes:
            raise RuntimeError(f"Class values must be smaller than num_classes (got class {int(data.max())} "
                               f"and num_classes={self.num_classes}).")
        out = self.xp.zeros(data.shape + (self.num_classes,), dtype=np.int64)
        self.xp.put_along_axis(out, data.astype(np.int64)[..., None], 1, axis=-1)
        return out


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices of shape ``(*)`` to int64 one-hot vectors of shape ``(*, num_classes)``.

    ``num_classes=-1`` takes one more than the largest index (read from the data: under
    ``chainrule.compile`` a guard, so another largest index records anew). No gradient.
    """
    data = tensor._data
    if data.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot is only applicable to index tensor of type LongTensor, got {tensor.dtype}")
    if num_classes == -1:
        if not data.size:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        if data.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        num_classes = int(tensor.max()) + 1
    return OneHot(num_classes).apply(tensor)


__all__ = ["narrow", "select", "take", "masked_fill", "masked_select", "nonzero", "argwhere"]

TENSOR_METHODS = ["narrow", "select", "take", "masked_fill", "masked_select", "nonzero", "argwhere"]
