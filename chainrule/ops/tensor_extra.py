"""Tensor methods and properties PyTorch code uses that are not operators of their own: ``char``,
``H``/``mH``, ``nbytes``/``itemsize``, ``layout``/``is_sparse``/``get_device``, ``where`` (method
form), the in-place shape changes (``unsqueeze_``, ``squeeze_``, ``t_``, ``transpose_``), ``square_``,
``resize_``/``resize_as_``, ``apply_``, and the predicates ``is_complex``/``is_nonzero``/``is_same_size``
(also functions, with ``is_floating_point``).

The in-place shape changes rebind the tensor to the reshaped result: when the tensor is in a
graph the change is recorded (the tensor takes the new node as its ``grad_fn``), as in PyTorch.
"""

from __future__ import annotations

import builtins
import math
import numbers
import warnings

import numpy as np

from .. import _dtype_info, _factory, backend
from .._legacy_types import _new
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from ._util import TORCH_TYPE_NAMES, check_tensor
from .elementwise import square
from .elementwise import where as _where
from .inplace import _LEAF_MSG, _apply, fill_
from .shape import _size_arg, broadcast_to, squeeze, t, transpose, unsqueeze


def char(self: Tensor, memory_format=None) -> Tensor:
    """``self.to(int8)``."""
    return self.to(backend.int8)


def _H(self: Tensor) -> Tensor:  # noqa: N802
    if self.ndim == 0:
        warnings.warn("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().", UserWarning, stacklevel=2)
        return self
    if self.ndim != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.ndim}-D tensor.")
    return transpose(self, 0, 1)


def _mH(self: Tensor) -> Tensor:  # noqa: N802
    if self.ndim < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got {self.ndim}-D tensor.")
    return transpose(self, -2, -1)


H = property(_H, doc="The conjugate transpose of a matrix (the transpose: chainrule's tensors are real).")
mH = property(_mH, doc="The conjugate transpose of the last two dimensions (``mT`` for real tensors).")
def _nbytes(self: Tensor) -> int:
    """Bytes of the elements: numel * itemsize."""
    return int(self._data.size * self._data.itemsize)


def _itemsize(self: Tensor) -> int:
    """Bytes per element."""
    return int(self._data.itemsize)


def _is_sparse(self: Tensor) -> bool:
    """False: chainrule's tensors are dense."""
    return False


def _layout(self: Tensor) -> _dtype_info.layout:
    """``chainrule.strided``: chainrule's one layout."""
    return _dtype_info.strided


nbytes, itemsize, is_sparse, layout = property(_nbytes), property(_itemsize), property(_is_sparse), property(_layout)


def get_device(self: Tensor) -> int:
    """The device index: -1 for a CPU tensor (PyTorch's convention)."""
    check_tensor(self, "get_device")
    return -1


def where_method(self: Tensor, condition: Tensor, other) -> Tensor:
    """``self.where(condition, y)`` is ``where(condition, self, y)``."""
    return _where(condition, self, other)


def is_complex(input: Tensor) -> bool:
    """False: chainrule has no complex dtypes."""
    check_tensor(input, "is_complex")
    return False


def is_floating_point(input: Tensor) -> bool:
    """Whether ``input``'s dtype is a floating-point type."""
    check_tensor(input, "is_floating_point")
    return input.dtype.is_floating_point


def is_nonzero(input: Tensor) -> bool:
    """Whether a one-element tensor is non-zero (an error for any other size)."""
    check_tensor(input, "is_nonzero")
    n = input.numel()
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input)  # Tensor.__bool__: a value read into Python, which a compiled graph guards


def is_same_size(input: Tensor, other: Tensor) -> bool:
    """Whether the two shapes are equal."""
    check_tensor(input, "is_same_size")
    check_tensor(other, "is_same_size", "other")
    return tuple(input.shape) == tuple(other.shape)


# ---- in-place changes of shape ---------------------------------------------------------------------
def _rebind(self: Tensor, fn) -> Tensor:
    """Give ``self`` the result of the view op ``fn`` (recorded when ``self`` is in a graph)."""
    if is_grad_enabled() and self._requires_grad:
        if self.grad_fn is None:
            raise RuntimeError(_LEAF_MSG)
        src = Tensor._make(self._data, True, self.grad_fn, self._output_nr, self._version)
        out = fn(src)
        self._data, self.grad_fn, self._output_nr = out._data, out.grad_fn, out._output_nr
    else:
        self._data = fn(Tensor._make(self._data))._data
    self._bump_version()
    return self


def unsqueeze_(self: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size one at ``dim``, in place."""
    out = _rebind(self, lambda s: unsqueeze(s, dim))
    if out.grad_fn is not None:
        out.grad_fn._renamed = "UnsqueezeBackward1"
    return out


def squeeze_(self: Tensor, dim=None) -> Tensor:
    """Remove dimensions of size one (or ``dim`` if it has size one), in place."""
    return _rebind(self, lambda s: squeeze(s, dim))


def t_(self: Tensor) -> Tensor:
    """Transpose a matrix (at most 2-d), in place."""
    if self.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
    out = _rebind(self, t)
    if out.grad_fn is not None:
        out.grad_fn._renamed = "TBackward1"
    return out


def transpose_(self: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap dimensions ``dim0`` and ``dim1``, in place."""
    out = _rebind(self, lambda s: transpose(s, dim0, dim1))
    if out.grad_fn is not None:
        out.grad_fn._renamed = "TransposeBackward1"
    return out


def square_(self: Tensor) -> Tensor:
    """``self * self``, in place."""
    return _apply(self, square)


def resize_(self: Tensor, *sizes, memory_format=None) -> Tensor:
    """Give the tensor the shape ``sizes``: the first elements (row-major) are kept, new ones are
    zero (PyTorch leaves them uninitialised). Not allowed on a tensor that requires grad."""
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    shape = _size_arg(sizes)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
    n = math.prod(shape)
    old = self._data
    if n <= old.size and old.flags.c_contiguous:
        new = old.reshape(-1)[:n].reshape(shape)  # shares memory, as PyTorch's shrink does
    else:
        new = np.zeros(n, dtype=old.dtype)
        k = min(n, old.size)
        new[:k] = old.reshape(-1)[:k]
        new = new.reshape(shape)
    self._data = new
    self._bump_version()
    return self


def resize_as_(self: Tensor, the_template: Tensor, *, memory_format=None) -> Tensor:
    """``self.resize_(the_template.shape)``."""
    check_tensor(the_template, "resize_as_", "the_template")
    return resize_(self, tuple(the_template.shape))


def apply_(self: Tensor, callable) -> Tensor:  # noqa: A002 (PyTorch's name)
    """Replace every element ``x`` by ``callable(x)`` (a Python number function), in place; CPU only
    and outside autograd, as in PyTorch."""
    if self._requires_grad:
        raise RuntimeError("Can't call apply_() on Variable that requires grad. Use var.detach().apply_() instead.")
    if not builtins.callable(callable):
        raise TypeError(f"apply_(): argument 'callable' must be callable, not {type(callable).__name__}")
    data = self._data
    flat = data.reshape(-1)
    values = [callable(v.item()) for v in flat]
    for v in values:
        if not isinstance(v, (numbers.Number, np.generic)):
            raise TypeError(f"apply_(): the function must return a number, got {type(v).__name__}")
    data[...] = np.asarray(values, dtype=np.float64 if data.dtype.kind == "f" else None).astype(
        data.dtype).reshape(data.shape)
    self._bump_version()
    return self


def map_(self: Tensor, tensor: Tensor, callable) -> Tensor:  # noqa: A002 (PyTorch's name)
    """``self[i] = callable(self[i], tensor[i])`` for every element (``tensor`` broadcast to
    ``self``), in place; CPU only and outside autograd, as PyTorch's."""
    check_tensor(tensor, "map_", "tensor")
    if self._requires_grad or tensor._requires_grad:
        raise RuntimeError("Can't call map_() on Variable that requires grad. Use var.detach().map_() instead.")
    try:
        other = np.broadcast_to(tensor._data, self._data.shape)
    except ValueError:
        broadcast_to(tensor, tuple(self.shape))  # raises PyTorch's expand error
    values = [callable(a.item(), b.item()) for a, b in zip(self._data.reshape(-1), other.reshape(-1))]
    self._data[...] = np.asarray(values, dtype=np.float64 if self._data.dtype.kind == "f" else None).astype(
        self._data.dtype).reshape(self._data.shape)
    self._bump_version()
    return self


def new(self: Tensor, *args, device=None) -> Tensor:
    """Legacy constructor with ``self``'s dtype: ``x.new(2, 3)`` (uninitialised: zeros here),
    ``x.new([1, 2])`` (data), ``x.new()`` (empty), ``x.new(tensor)`` (an alias of a tensor of this dtype)."""
    class _Spec:
        dtype = self.dtype

    if len(args) == 1 and isinstance(args[0], tuple) and all(isinstance(a, int) for a in args[0]):
        args = tuple(args[0])  # x.new(torch.Size([2, 2]))
    return _new(_Spec, *args, device=device)


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """``nonzero(input)`` cut or padded (with rows of ``fill_value``) to exactly ``size`` rows."""
    check_tensor(input, "nonzero_static")
    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, but got size: {size}")
    coords = np.argwhere(input._data)[:size]
    out = np.full((int(size), input.ndim), fill_value, dtype=np.int64)
    out[: len(coords)] = coords
    return Tensor._make(out)


def is_storage(obj) -> bool:
    """False: chainrule exposes no storage objects."""
    return False


# ---- real-valued stand-ins of the complex-number API, and other predicates ------------------------------
def conj(input: Tensor) -> Tensor:
    """The complex conjugate: ``input`` itself for real tensors (as PyTorch returns for them)."""
    return check_tensor(input, "conj")


def resolve_conj(input: Tensor) -> Tensor:
    """``input`` with a lazy conjugation materialised: ``input`` itself here (nothing is lazy)."""
    return check_tensor(input, "resolve_conj")


def resolve_neg(input: Tensor) -> Tensor:
    """``input`` with a lazy negation materialised: ``input`` itself here (nothing is lazy)."""
    return check_tensor(input, "resolve_neg")


def is_conj(input: Tensor) -> bool:
    """False: no tensor carries a lazy conjugation."""
    check_tensor(input, "is_conj")
    return False


def is_neg(input: Tensor) -> bool:
    """False: no tensor carries a lazy negation."""
    check_tensor(input, "is_neg")
    return False


def real(input: Tensor) -> Tensor:
    """The real part: ``input`` itself for real tensors."""
    return check_tensor(input, "real")


def imag(input: Tensor) -> Tensor:
    """The imaginary part: an error for real tensors, as in PyTorch."""
    check_tensor(input, "imag")
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def is_signed(input: Tensor) -> bool:
    """Whether the dtype holds negative numbers (floats and signed integers; not bool or uint8)."""
    check_tensor(input, "is_signed")
    return input.dtype.is_signed


def is_inference(input: Tensor) -> bool:
    """False: chainrule's inference_mode makes ordinary tensors (PyTorch's inference tensors are
    a separate kind)."""
    check_tensor(input, "is_inference")
    return False


def storage_offset(self: Tensor) -> int:
    """Where this tensor's first element sits in the memory it views (the array owning that
    memory), in elements; 0 for a tensor owning its memory."""
    owner = self._data
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    if owner is self._data:
        return 0
    start = self._data.__array_interface__["data"][0]
    return (start - owner.__array_interface__["data"][0]) // self._data.itemsize


def pin_memory(self: Tensor, device=None) -> Tensor:
    """``self``: page-locked memory only matters for copies to a GPU, which chainrule does not make."""
    return self


def is_pinned(self: Tensor, device=None) -> bool:
    """False (see ``pin_memory``)."""
    return False


def detach(input: Tensor) -> Tensor:
    """``input.detach()``."""
    return check_tensor(input, "detach").detach()


def fill(input: Tensor, value) -> Tensor:
    """A new tensor of ``input``'s shape and dtype holding ``value`` everywhere."""
    return fill_(check_tensor(input, "fill").clone(), value)


def zero_(input: Tensor) -> Tensor:
    """``input.zero_()``."""
    return check_tensor(input, "zero_").zero_()


def asarray(obj, *, dtype=None, device=None, copy: bool | None = None, requires_grad: bool = False) -> Tensor:
    """``obj`` as a tensor, sharing memory with a tensor or NumPy array when the dtype allows
    (``copy=True`` always copies; ``copy=False`` refuses a conversion that would copy)."""
    if copy is False and dtype is not None and isinstance(obj, (Tensor, np.ndarray)):
        have = obj.dtype if isinstance(obj, Tensor) else backend.from_numpy_dtype(obj.dtype)
        want = backend.to_dtype(dtype)
        if have is not want:
            raise ValueError(f"can't alias tensor with dtype '{TORCH_TYPE_NAMES[have.name]}' into dtype "
                             f"'{TORCH_TYPE_NAMES[want.name]}'.")
    out = _factory.as_tensor(obj, dtype=dtype, device=device)
    if copy:
        out = Tensor._make(out._data.copy())
    if requires_grad:
        if out is obj:
            out = out.detach()
        out.requires_grad_(True)
    return out


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
                  pin_memory: bool = False) -> Tensor:
    """An uninitialised tensor of ``size`` whose elements are ``stride`` elements apart."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: {list(size)}")
    dt = np.dtype(_factory._dt(dtype))
    need = 1 + sum((n - 1) * st for n, st in zip(size, stride)) if all(size) else 0
    buffer = np.zeros(max(need, 0), dtype=dt)
    data = np.lib.stride_tricks.as_strided(buffer, shape=size, strides=tuple(st * dt.itemsize for st in stride))
    return _factory._finish(data, requires_grad, device)


__all__ = ["is_complex", "is_floating_point", "is_nonzero", "is_same_size", "conj", "resolve_conj", "resolve_neg",
           "is_conj", "is_neg", "real", "imag", "is_signed", "is_inference", "detach", "fill", "zero_",
           "empty_strided", "get_device", "asarray", "nonzero_static", "is_storage"]

TENSOR_METHODS = ["char", "get_device", "where", "conj", "resolve_conj", "resolve_neg", "is_conj", "is_neg",
                  "is_signed", "is_inference", "storage_offset", "pin_memory", "is_pinned", "map_", "new",
                  "nonzero_static",
                  "is_complex", "is_nonzero", "is_same_size", "unsqueeze_", "squeeze_", "t_", "transpose_",
                  "square_", "resize_", "resize_as_", "apply_"]

where = where_method  # the method's name; the function ``where`` stays elementwise.where

# properties are attached here (ops/__init__ registers callables only)
PROPERTIES = {"H": H, "mH": mH, "nbytes": nbytes, "itemsize": itemsize, "is_sparse": is_sparse, "layout": layout,
              "real": property(real, doc="The real part: the tensor itself (chainrule's tensors are real)."),
              "imag": property(imag, doc="The imaginary part: an error for real tensors, as in PyTorch."),
              "is_cpu": property(lambda self: True, doc="True: chainrule's tensors live in CPU memory."),
              "is_quantized": property(lambda self: False, doc="False: chainrule has no quantized tensors."),
              "is_meta": property(lambda self: False, doc="False: chainrule has no meta tensors.")}
for _name, _prop in PROPERTIES.items():
    setattr(Tensor, _name, _prop)
