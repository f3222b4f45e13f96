"""In-place tensor methods (``add_``, ``mul_``, ``zero_``, ``uniform_`` ...).

Rules, as in PyTorch:

* a leaf that requires grad may be modified in place only under ``no_grad`` (optimisers and
  initialisers work that way);
* every in-place write bumps the tensor's version counter (shared with its views), so a node
  that saved the old values raises at backward instead of using the new ones;
* on a non-leaf that is part of a graph, the operation is recorded: the tensor takes the new
  node as its ``grad_fn`` (PyTorch's "rebase"), so ``out += identity`` works in a ResNet;
* on a view (``x[i]``, ``x.t()``, ``x.view(-1)[1:3]``, ``x.diagonal()`` ...), the recorded write is one
  into its base (PyTorch's ``CopySlices``): at the view's index where indexing made it, at the positions
  its memory addresses otherwise (``_positions_index``); a view that repeats an element (``expand``)
  and a piece of ``split`` / ``unbind`` raise PyTorch's errors.

The writes themselves (``_ufunc_into``, ``_store``, ``_snapshot``, ``_rebase``, ``_fill``) run
through ``autograd.capture.effect``, so ``chainrule.compile`` records them as steps of its graph and
repeats them on replay; the arithmetic around them runs through operators as usual.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd import capture
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..kernels.tables import size_only
from ..tensor import Tensor
from . import elementwise as E
from ._keywords import with_keywords
from .activation import relu
from .indexing import GetItem, SetItem
from .scatter import index_add, scatter, scatter_add
from .shape import broadcast_to
from .shape import broadcast_to as _expand

_LEAF_MSG = "a leaf Variable that requires grad is being used in an in-place operation."
_OVERLAP_MSG = ("unsupported operation: more than one element of the written-to tensor refers to a single memory "
                "location. Please clone() the tensor before performing the operation.")


def _check_leaf(t: Tensor) -> bool:
    """Raise for a grad-requiring leaf under grad mode; return whether the write is recorded."""
    if not is_grad_enabled():
        return False
    if t._requires_grad and t.grad_fn is None:
        raise RuntimeError(_LEAF_MSG)
    return True


def _write(t: Tensor, value) -> None:
    """Store ``value`` (array or number) into ``t``'s memory, with the broadcast/dtype checks."""
    data = t._data
    if isinstance(value, np.ndarray) or hasattr(value, "shape"):
        if value.dtype.kind == "f" and data.dtype.kind in "biu":
            raise RuntimeError(
                f"result type {backend.from_numpy_dtype(value.dtype)} can't be cast to the desired output "
                f"type {t.dtype}")
        if value.shape != data.shape:
            try:
                out_shape = np.broadcast_shapes(value.shape, data.shape)
            except ValueError:
                out_shape = None
            if out_shape != data.shape:
                raise RuntimeError(
                    f"output with shape {list(data.shape)} doesn't match the broadcast shape "
                    f"{list(out_shape) if out_shape else list(value.shape)}")
    if not data.flags.writeable:
        if any(s == 0 and n > 1 for n, s in zip(data.shape, data.strides)):  # expand, broadcast_to
            raise RuntimeError(_OVERLAP_MSG)
        raise RuntimeError(
            "unsupported operation: the tensor is a read-only view (e.g. made by expand/broadcast_to); "
            "call .clone() before modifying it in place")
    data[...] = value
    t._bump_version()


def _apply(t: Tensor, result_fn, *others, saves_self: bool = True) -> Tensor:
    """Run ``result_fn(t, *others)`` out of place and make ``t`` hold (and, if recorded, be) the result."""
    recorded = _check_leaf(t) and (
        t._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others))
    if not recorded:
        with no_grad():
            result = result_fn(t, *others)
        capture.effect(_store, t, result)
        return t
    if t._base is not None:
        if t._view_index is not None:  # x[i].add_(v), x[i] += v: recorded as a write into x
            _check_leaf_base(t._base)
            return _through_view(t, t._base, t._view_index, result_fn, others, saves_self)
        # any other view (x.t(), x.view(-1)[1:3], x[0][1:] ...): the same write, at the positions of
        # the base that the view's memory addresses
        fn = t.grad_fn
        if fn is not None and fn._is_view and fn._n_out > 1:  # a piece of split, chunk, unbind
            raise RuntimeError(
                f"Output {t._output_nr} of {fn.name().removesuffix('Backward0')} is a view and is being modified "
                "inplace. This view is the output of a function that returns multiple views. Such functions do not "
                "allow the output views to be modified inplace. You should replace the inplace operation by an "
                "out-of-place one.")
        _check_leaf_base(t._base)
        index = _positions_index(t, t._base)
        # (the view's old values are gathered by advanced indexing, a copy already, unless the base is 0-d)
        return _through_view(t, t._base, index, result_fn, others, saves_self and t._base._data.ndim == 0)
    # the node of the result may save its input: give it a snapshot, not memory we overwrite
    src = capture.effect(_snapshot, t, saves_self)
    others = tuple(src if o is t else o for o in others)  # x.mul_(x) reads the old x twice
    result = result_fn(src, *others)
    capture.effect(_rebase, t, result)
    return t


def _check_leaf_base(base: Tensor) -> None:
    if base._requires_grad and base.grad_fn is None:
        if getattr(base, "_compiled_intermediate", False):  # set by compiler/flat.py
            raise RuntimeError(
                "in-place modification of a view returned by a compiled function, of a value computed inside the "
                "call that requires grad, is not supported (that value is not a tensor of the graph outside the "
                "call); clone() the output before writing into it")
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")


def _address(a) -> int:
    """The address of the first element of the array ``a`` (NumPy or CuPy)."""
    return a.ctypes.data if isinstance(a, np.ndarray) else a.data.ptr


def _span(a) -> tuple[int, int]:
    """The byte offsets, from ``a``'s first element, of the lowest and the highest element of ``a``."""
    lo = hi = 0
    for n, s in zip(a.shape, a.strides):
        if s < 0:
            lo += s * (n - 1)
        else:
            hi += s * (n - 1)
    return lo, hi


def _view_positions(v, b) -> np.ndarray | None:
    """For each element of the array ``v``, a view of the array ``b``'s memory, the flat (C-order)
    position of the element of ``b`` it is: ``b``'s own layout filled with ``arange`` and read through
    ``v``'s offset and strides. None where ``v``'s elements are not elements of ``b``."""
    size = b.itemsize
    if v.size == 0:
        return None if b.ndim == 0 else np.zeros(v.shape, np.int64)
    if v.itemsize != size or b.size == 0 or any(s % size for s in v.strides + b.strides):
        return None
    b_lo, b_hi = _span(b)
    v_lo, v_hi = _span(v)
    start = _address(b) + b_lo  # the lowest byte of b's memory, and of the buffer standing for it
    first = _address(v) - start  # v's first element
    if first + v_lo < 0 or first + v_hi > b_hi - b_lo or first % size:
        return None
    as_strided = np.lib.stride_tricks.as_strided
    if b.flags.c_contiguous:  # the common case: b's memory holds its elements in order
        buf = np.arange(b.size)
    else:
        if not _strides_separate(b):  # b repeats elements itself: no position for them
            return None
        buf = np.full((b_hi - b_lo) // size + 1, -1, np.int64)
        as_strided(buf[-b_lo // size:], b.shape, tuple(s // size * buf.itemsize for s in b.strides))[...] = \
            np.arange(b.size).reshape(b.shape)
    pos = as_strided(buf[first // size:], v.shape, tuple(s // size * buf.itemsize for s in v.strides)).copy()
    return None if not b.flags.c_contiguous and (pos < 0).any() else pos


def _strides_separate(a) -> bool:
    """Whether no two elements of ``a`` can share memory by its strides alone: sorted by their size,
    each stride steps over all the memory the dimensions with smaller strides span (the usual case)."""
    span = a.itemsize
    for s, n in sorted((abs(s), n) for n, s in zip(a.shape, a.strides) if n > 1):
        if s < span:
            return False
        span = s * (n - 1) + span
    return True


def _positions_index(t: Tensor, base: Tensor) -> tuple:
    """The advanced index of ``base`` at which the view ``t``'s elements lie (arrays of ``t``'s shape,
    marked as built from sizes: ``chainrule.compile`` keeps them as constants of its graph); raises
    where ``t``'s memory is not made of elements of ``base`` or repeats one (expand)."""
    v, b = t._data, base._data
    pos = _view_positions(v, b)
    if pos is None:
        raise RuntimeError(
            f"in-place modification of a view {'of a tensor' if base._requires_grad else 'with a value'} that "
            "requires grad is not supported where the view's memory is not made of its base's elements (e.g. "
            "after the base's .data was replaced); use the out-of-place operation instead")
    if not b.flags.writeable:
        raise RuntimeError("unsupported operation: the tensor is a read-only view; call .clone() before modifying "
                           "it in place")
    if pos.size > 1 and not _strides_separate(v):
        seen = np.zeros(b.size, np.bool_)
        seen[pos.reshape(-1)] = True
        if np.count_nonzero(seen) != pos.size:
            raise RuntimeError(_OVERLAP_MSG)
    if b.ndim == 0:  # a view of a 0-d tensor: that one element, with dimensions of size 1 added
        return (None,) * v.ndim
    xp = backend.array_module(v)
    return tuple(size_only(i if xp is np else xp.asarray(i)) for i in np.unravel_index(pos, b.shape))


def _through_view(t: Tensor, base: Tensor, index, result_fn, others: tuple, saves_self: bool) -> Tensor:
    """An in-place write into ``t = base[index]`` recorded as PyTorch's CopySlices records it: ``base``
    becomes ``SetItem`` of its old value with the result written at ``index``, and ``t`` the view
    ``base[index]`` of that (the memory of both is written once, through the base)."""
    src = capture.effect(_snapshot, base, False)  # the base in its graph (SetItem writes into its memory)
    old = GetItem(index).apply(src)
    if saves_self:  # the operator may save the view's old values: a copy of them, not of the base
        old = old.clone()
    result = result_fn(old, *tuple(old if o is t else o for o in others))
    if result._data.shape != t._data.shape:  # as the write into t would refuse it
        raise RuntimeError(f"output with shape {list(t.shape)} doesn't match the broadcast shape "
                           f"{list(result.shape)}")
    if result._data.dtype != t._data.dtype:  # as the write into t would cast (integer views stay integral)
        result = result.to(t.dtype)
    capture.effect(_rebase, base, SetItem(index, False).apply(src, result))
    capture.effect(_refresh_view, t, GetItem(index).apply(base))
    return t


def _refresh_view(t: Tensor, view: Tensor) -> None:
    """``t`` (a view whose memory was just written through its base) takes the history of ``view``."""
    t.grad_fn = view.grad_fn
    t._output_nr = view._output_nr
    t._requires_grad = view._requires_grad


def _store(t: Tensor, result: Tensor) -> None:
    """``t``'s memory <- ``result``'s values (a write outside the graph)."""
    _write(t, result._data)


def _snapshot(t: Tensor, copy: bool) -> Tensor:
    """A tensor standing for ``t`` as it is now, in the graph where ``t`` is (its values copied when
    the operator about to run saves them)."""
    return Tensor._make(t._data.copy() if copy else t._data, t._requires_grad, t.grad_fn, t._output_nr)


def _rebase(t: Tensor, result: Tensor) -> None:
    """``t`` becomes ``result``: its values written into ``t``'s memory (unless ``result`` was written
    there already: ``SetItem``), its node ``t``'s ``grad_fn``."""
    if result._data is t._data:
        t._bump_version()
    else:
        _write(t, result._data)
    t.grad_fn = result.grad_fn
    t._output_nr = result._output_nr
    t._requires_grad = result._requires_grad


# the arguments each write only reads (``capture.effect``): a compiled graph that writes into a
# value of its own reading an argument of the call still runs flat
_store.reads_only = _rebase.reads_only = (1,)  # type: ignore[attr-defined]
_refresh_view.reads_only = (1,)  # type: ignore[attr-defined]


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _fast_ufunc(t: Tensor, ufunc, other) -> bool:
    """``t = ufunc(t, other)`` straight into t's memory when nothing is recorded (optimiser path)."""
    if is_grad_enabled() and (t._requires_grad or (isinstance(other, Tensor) and other._requires_grad)):
        return False
    data = t._data
    b = _raw(other)
    if isinstance(b, numbers.Number):
        if data.dtype.kind != "f" and isinstance(b, float):
            raise RuntimeError(f"result type Float can't be cast to the desired output type {t.dtype}")
    elif b.dtype.kind == "f" and data.dtype.kind != "f":
        raise RuntimeError(f"result type {backend.from_numpy_dtype(b.dtype)} can't be cast to the desired "
                           f"output type {t.dtype}")
    if not data.flags.writeable:
        return False
    capture.effect(_ufunc_into, t, ufunc, other)
    return True


def _ufunc_into(t: Tensor, ufunc, other) -> None:
    """``t = ufunc(t, other)`` in ``t``'s memory, cast to its dtype."""
    data = t._data
    b = _raw(other)
    try:
        ufunc(data, b, out=data, casting="unsafe")
    except ValueError:
        raise RuntimeError(
            f"output with shape {list(data.shape)} doesn't match the broadcast shape "
            f"{list(np.broadcast_shapes(data.shape, np.shape(b)))}") from None
    t._bump_version()


_ufunc_into.reads_only = (2,)  # type: ignore[attr-defined]


def _scaled(other, alpha):
    """``other * alpha``, on raw data unless ``other`` is in the graph (the optimisers' path)."""
    if isinstance(other, Tensor) and other._requires_grad:
        return other * alpha
    return _raw(other) * alpha


def add_(self: Tensor, other, *, alpha=1) -> Tensor:
    if alpha != 1:
        other = _scaled(other, alpha)
    if _fast_ufunc(self, np.add, other):
        return self
    return _apply(self, E.add, other, saves_self=False)


def sub_(self: Tensor, other, *, alpha=1) -> Tensor:
    if alpha != 1:
        other = _scaled(other, alpha)
    if _fast_ufunc(self, np.subtract, other):
        return self
    return _apply(self, E.sub, other, saves_self=False)


def mul_(self: Tensor, other) -> Tensor:
    if _fast_ufunc(self, np.multiply, other):
        return self
    return _apply(self, E.mul, other)


def div_(self: Tensor, other, *, rounding_mode=None) -> Tensor:
    if rounding_mode is None and self._data.dtype.kind == "f" and _fast_ufunc(self, np.true_divide, other):
        return self
    return _apply(self, lambda a, b: E.div(a, b, rounding_mode=rounding_mode), other)


def pow_(self: Tensor, exponent) -> Tensor:
    return _apply(self, E.pow, exponent)


def addcmul_(self: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """self += value * tensor1 * tensor2"""
    return _apply(self, lambda s, a, b: s + a * b * value, tensor1, tensor2, saves_self=False)


def addcdiv_(self: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """self += value * tensor1 / tensor2"""
    return _apply(self, lambda s, a, b: s + a / b * value, tensor1, tensor2, saves_self=False)


def lerp_(self: Tensor, end: Tensor, weight) -> Tensor:
    """self += weight * (end - self)"""
    return _apply(self, lambda s, e: s + (e - s) * weight, end)


def clamp_(self: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    return _apply(self, lambda s: E.clamp(s, min, max))


clip_ = clamp_


def clamp_min_(self: Tensor, min) -> Tensor:  # noqa: A002
    return clamp_(self, min=min)


def clamp_max_(self: Tensor, max) -> Tensor:  # noqa: A002
    return clamp_(self, max=max)


def masked_fill_(self: Tensor, mask: Tensor, value) -> Tensor:
    if mask.dtype is not backend.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {mask.dtype}")
    return _apply(self, lambda s: E.where(mask, value, s), saves_self=False)


def _unary_(name: str, fn):
    def method(self: Tensor) -> Tensor:
        return _apply(self, fn)

    method.__name__ = name
    method.__doc__ = f"In-place ``{name[:-1]}``."
    return method


relu_ = _unary_("relu_", relu)
sigmoid_ = _unary_("sigmoid_", E.sigmoid)
tanh_ = _unary_("tanh_", E.tanh)
exp_ = _unary_("exp_", E.exp)
log_ = _unary_("log_", E.log)
sqrt_ = _unary_("sqrt_", E.sqrt)
neg_ = _unary_("neg_", E.neg)
abs_ = _unary_("abs_", E.abs)
sign_ = _unary_("sign_", E.sign)
floor_ = _unary_("floor_", E.floor)
round_ = _unary_("round_", E.round)


def zero_(self: Tensor) -> Tensor:
    """Fill with zeros."""
    return fill_(self, 0)


def fill_(self: Tensor, value) -> Tensor:
    """Fill with one value (a number or a one-element tensor)."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} dimensions.")
        if value._requires_grad and is_grad_enabled():
            return _apply(self, lambda s, v: broadcast_to(v.reshape(()), s.shape) + s * 0.0, value)
        value = value.item()
    if _check_leaf(self) and self._requires_grad:
        return _apply(self, lambda s: s * 0.0 + value, saves_self=False)
    capture.effect(_write, self, value)
    return self


def copy_(self: Tensor, src, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` (broadcast, cast to this dtype) into this tensor's memory."""
    if not isinstance(src, Tensor):
        src = Tensor._make(np.asarray(src))
    recorded = _check_leaf(self) and (self._requires_grad or src._requires_grad)
    if not recorded:
        capture.effect(_copy_into, self, src)
        return self
    return _apply(self, lambda s, v: broadcast_to(v.to(s.dtype), s.shape).clone(), src, saves_self=False)


def _copy_into(t: Tensor, src: Tensor) -> None:
    """``t``'s memory <- ``src``'s values (floats cast to an integer ``t`` silently, as PyTorch)."""
    value = src._data
    if value.dtype.kind == "f" and t._data.dtype.kind in "biu":
        value = value.astype(t._data.dtype)
    _write(t, value)


_copy_into.reads_only = _write.reads_only = (1,)  # type: ignore[attr-defined]


def _random_(self: Tensor, draw) -> Tensor:
    if _check_leaf(self) and self._requires_grad:
        raise RuntimeError(_LEAF_MSG)
    _write(self, draw(self._data.shape).astype(self._data.dtype, copy=False))
    return self


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator=None) -> Tensor:
    """Fill with samples of U(a, b)."""
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    return _random_(self, lambda s: backend.rng(generator).uniform(a, b, size=s))


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    """Fill with samples of N(mean, std^2)."""
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _random_(self, lambda s: backend.rng(generator).normal(mean, std, size=s))


def bernoulli_(self: Tensor, p: float = 0.5, *, generator=None) -> Tensor:
    """Fill with 1 with probability ``p`` (a number, or a tensor broadcast to this shape) and 0 otherwise."""
    if isinstance(p, Tensor):
        prob = p._data
        if prob.size and not ((prob >= 0) & (prob <= 1)).all():
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message "
                               "be improved?  If so, please report an enhancement request to PyTorch.)")
        shape = self._data.shape
        try:
            prob = np.broadcast_to(prob, shape)
        except ValueError:
            _expand(p, shape)  # raises PyTorch's expand error
        return _random_(self, lambda s: backend.rng(generator).random(s) < prob)
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    return _random_(self, lambda s: backend.rng(generator).random(s) < p)


def exponential_(self: Tensor, lambd: float = 1.0, *, generator=None) -> Tensor:
    """Fill with samples of Exp(lambd) (mean 1 / lambd)."""
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    return _random_(self, lambda s: backend.rng(generator).exponential(1.0 / lambd, size=s))


def random_(self: Tensor, low: int = 0, high: int | None = None, *, generator=None) -> Tensor:
    if high is None:
        low, high = 0, low if low else 2**31
    return _random_(self, lambda s: backend.rng(generator).integers(low, high, size=s))


def scatter_(self: Tensor, dim: int, index: Tensor, src=None, *, value=None) -> Tensor:
    """``scatter`` into ``self`` (``src`` a tensor, or ``value`` a number)."""
    if isinstance(src, Tensor):
        return _apply(self, lambda s, v: scatter(s, dim, index, v), src, saves_self=False)
    return _apply(self, lambda s: scatter(s, dim, index, src, value=value), saves_self=False)


def scatter_add_(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """``scatter_add`` into ``self``."""
    return _apply(self, lambda s, v: scatter_add(s, dim, index, v), src, saves_self=False)


def index_add_(self: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """``index_add`` into ``self``: ``self[..., index[i], ...] += alpha * source[..., i, ...]``."""
    return _apply(self, lambda s, v: index_add(s, dim, index, v, alpha=alpha), source, saves_self=False)


# axis= for dim=, as their out-of-place forms take it (NumPy's spelling, PyTorch accepts both)
scatter_ = with_keywords(scatter_, "scatter_", aliases=True)
scatter_add_ = with_keywords(scatter_add_, "scatter_add_", aliases=True)
index_add_ = with_keywords(index_add_, "index_add_", aliases=True)


METHODS = {
    name: obj for name, obj in dict(globals()).items()
    if name.endswith("_") and not name.startswith("_") and callable(obj)
}
