"""PyTorch's legacy tensor types: ``FloatTensor``, ``LongTensor`` ... and ``set_default_tensor_type``.

Older textbook code writes ``torch.FloatTensor(2, 3)`` (uninitialised), ``torch.LongTensor([1, 2])``
(data), ``isinstance(x, torch.FloatTensor)`` (true exactly for float32 tensors) and
``x.type(torch.DoubleTensor)``. Each legacy type here is a class whose call makes a chainrule
``Tensor`` of its dtype and whose ``isinstance`` checks the dtype, as PyTorch's do.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from . import _factory, backend
from .tensor import Tensor

_NAMES = {"FloatTensor": "float32", "DoubleTensor": "float64", "HalfTensor": "float16", "ByteTensor": "uint8",
          "CharTensor": "int8", "ShortTensor": "int16", "IntTensor": "int32", "LongTensor": "int64",
          "BoolTensor": "bool"}


class _LegacyTensorType(type):
    """Metaclass: ``isinstance(x, FloatTensor)`` is ``x.dtype is float32``; the class prints as PyTorch's."""

    dtype: backend.dtype

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype

    def __repr__(cls) -> str:
        return f"<class 'chainrule.{cls.__name__}'>"


def _new(cls, *args: Any, device: Any = None):
    """``T(*sizes)``: uninitialised (zeros here); ``T(sequence)``: the data; ``T()``: empty; ``T(tensor)``:
    an alias of a tensor of this type (same memory)."""
    backend.check_device(device)
    dt = cls.dtype
    if not args:
        return Tensor._make(np.empty((0,), dtype=dt.np))
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
        return Tensor._make(np.zeros(tuple(int(a) for a in args), dtype=dt.np))
    if len(args) == 1 and isinstance(args[0], Tensor):
        if args[0].dtype is not dt:
            raise TypeError(f"expected {cls.__name__} (dtype {dt}), got a tensor of dtype {args[0].dtype}")
        return args[0].view(tuple(args[0].shape))
    if len(args) == 1:
        return _factory.tensor(args[0], dtype=dt)
    raise TypeError(f"{cls.__name__}() takes sizes or one sequence of data, got {args!r}")


def _make(name: str, dtype_name: str) -> type:
    return _LegacyTensorType(name, (), {"dtype": backend._dtype_by_name(dtype_name), "is_cuda": False,
                                        "__new__": _new, "__module__": "chainrule",
                                        "__doc__": f"Legacy type of {dtype_name} tensors (``isinstance`` checks "
                                                   f"the dtype; calling it makes one)."})


FloatTensor = _make("FloatTensor", "float32")
DoubleTensor = _make("DoubleTensor", "float64")
HalfTensor = _make("HalfTensor", "float16")
ByteTensor = _make("ByteTensor", "uint8")
CharTensor = _make("CharTensor", "int8")
ShortTensor = _make("ShortTensor", "int16")
IntTensor = _make("IntTensor", "int32")
LongTensor = _make("LongTensor", "int64")
BoolTensor = _make("BoolTensor", "bool")
TYPES = {t.__name__: t for t in (FloatTensor, DoubleTensor, HalfTensor, ByteTensor, CharTensor, ShortTensor,
                                  IntTensor, LongTensor, BoolTensor)}


def legacy_dtype(t: Any) -> backend.dtype | None:
    """The dtype of a legacy type or of its name (``'torch.FloatTensor'``), else None."""
    if isinstance(t, _LegacyTensorType):
        return t.dtype
    if isinstance(t, str):
        module, _, short = t.rpartition(".")
        if module in ("chainrule", "torch") and short in _NAMES:
            return backend._dtype_by_name(_NAMES[short])
    return None


def set_default_tensor_type(t: Any) -> None:
    """Deprecated: set the default floating dtype from a legacy type (``DoubleTensor``) or its name."""
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.", UserWarning,
                  stacklevel=2)
    dt = legacy_dtype(t)
    if dt is None:
        raise TypeError(f"invalid type: '{t}'")
    if not dt.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    backend.set_default_dtype(dt)


__all__ = list(TYPES) + ["set_default_tensor_type"]
