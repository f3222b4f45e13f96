"""Tensor factory methods: ``new_zeros``, ``new_ones``, ``new_empty``, ``new_full``, ``new_tensor``
and ``Tensor.type``.

The ``new_*`` methods make a fresh tensor that takes its dtype (and device) from ``self`` unless
told otherwise; they are Tensor methods only, as in PyTorch, so ``__all__`` is empty.
"""

from __future__ import annotations

from typing import Any

from .. import _factory, backend
from .._legacy_types import _LegacyTensorType
from ..tensor import Tensor
from ._util import TORCH_TYPE_NAMES
from .shape import to

# PyTorch's legacy tensor-type names, ``torch.FloatTensor`` and friends, by NumPy dtype name
_TYPE_NAMES = {k: v + "Tensor" for k, v in TORCH_TYPE_NAMES.items()}
_BY_TYPE_NAME = {v: k for k, v in _TYPE_NAMES.items()}


def _dtype(self: Tensor, dtype: Any) -> Any:
    return self.dtype if dtype is None else dtype


def new_zeros(self: Tensor, *size, dtype=None, device=None, requires_grad: bool = False,
              layout=None, pin_memory: bool = False) -> Tensor:
    """Zeros of ``size`` with ``self``'s dtype unless ``dtype`` is given."""
    return _factory.zeros(*size, dtype=_dtype(self, dtype), device=device, requires_grad=requires_grad)


def new_ones(self: Tensor, *size, dtype=None, device=None, requires_grad: bool = False,
              layout=None, pin_memory: bool = False) -> Tensor:
    """Ones of ``size`` with ``self``'s dtype unless ``dtype`` is given."""
    return _factory.ones(*size, dtype=_dtype(self, dtype), device=device, requires_grad=requires_grad)


def new_empty(self: Tensor, *size, dtype=None, device=None, requires_grad: bool = False,
              layout=None, pin_memory: bool = False) -> Tensor:
    """An uninitialised tensor of ``size`` with ``self``'s dtype unless ``dtype`` is given."""
    return _factory.empty(*size, dtype=_dtype(self, dtype), device=device, requires_grad=requires_grad)


def new_full(self: Tensor, size, fill_value, *, dtype=None, device=None, requires_grad: bool = False,
              layout=None, pin_memory: bool = False) -> Tensor:
    """``fill_value`` everywhere, shape ``size``, ``self``'s dtype unless ``dtype`` is given."""
    return _factory.full(size, fill_value, dtype=_dtype(self, dtype), device=device, requires_grad=requires_grad)


def new_tensor(self: Tensor, data, *, dtype=None, device=None, requires_grad: bool = False,
              layout=None, pin_memory: bool = False) -> Tensor:
    """A copy of ``data`` (a list, array or tensor) as a leaf with ``self``'s dtype unless given."""
    if isinstance(data, Tensor):
        data = data._data.copy()
    return _factory.tensor(data, dtype=_dtype(self, dtype), device=device, requires_grad=requires_grad)


def type(self: Tensor, dtype=None, non_blocking: bool = False, **kwargs):  # noqa: A001
    """No ``dtype``: the type name, e.g. ``'chainrule.FloatTensor'``. With one: ``self`` cast to it.

    ``dtype`` may be a dtype or a type name (``'chainrule.FloatTensor'``, ``'torch.LongTensor'``).
    Casting to the dtype ``self`` already has returns ``self`` (PyTorch does the same).
    """
    if dtype is None:
        name = _TYPE_NAMES.get(self._data.dtype.name)
        if name is None:
            raise TypeError(f"type(): no legacy tensor type name for dtype {self.dtype}")
        return f"chainrule.{name}"

    if isinstance(dtype, _LegacyTensorType):  # x.type(chainrule.DoubleTensor)
        dtype = dtype.dtype
    if isinstance(dtype, str) and "." in dtype:
        module, _, short = dtype.rpartition(".")
        if module not in ("chainrule", "torch") or short not in _BY_TYPE_NAME:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = _BY_TYPE_NAME[short]
    target = backend.to_dtype(dtype)
    if target.np == self._data.dtype:
        return self
    return to(self, target)


__all__: list[str] = []

TENSOR_METHODS = ["new_zeros", "new_ones", "new_empty", "new_full", "new_tensor", "type"]
