"""Type information and process settings under PyTorch's names: ``finfo``/``iinfo``,
``promote_types``/``result_type``/``can_cast``, ``typename``, the layout and memory-format
constants (``strided``, ``contiguous_format``, ``channels_last`` ...), interop threads and the
float32 matmul precision setting.

chainrule computes on NumPy's CPU kernels: there is one layout (strided), memory formats are
accepted and ignored where PyTorch takes them, the interop thread count is only recorded, and the
matmul precision setting is recorded and validated but every float32 matmul runs at 'highest'.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from . import backend
from .tensor import Tensor

__all__ = ["finfo", "iinfo", "promote_types", "result_type", "can_cast", "typename", "layout", "memory_format",
           "strided", "sparse_coo", "contiguous_format", "preserve_format", "channels_last", "channels_last_3d",
           "get_num_interop_threads", "set_num_interop_threads", "get_float32_matmul_precision",
           "set_float32_matmul_precision", "pi", "e", "inf", "nan", "newaxis"]

pi, e, inf, nan = math.pi, math.e, math.inf, math.nan  # PyTorch's constants (torch.pi ...)
newaxis = None  # x[:, chainrule.newaxis] inserts a dimension, as None does


def _dtype_arg(d: Any, fn: str, arg: str = "type", pos: int = 1) -> backend.dtype:
    if not isinstance(d, backend.dtype):
        raise TypeError(f"{fn}(): argument '{arg}' (position {pos}) must be chainrule.dtype, not {type(d).__name__}")
    return d


def _g(x: float) -> str:
    return f"{x:g}"


class finfo:
    """Machine limits of a floating-point dtype: ``bits``, ``eps`` (1.0's spacing), ``max``,
    ``min``, ``tiny`` = ``smallest_normal``, ``resolution`` (10**-precision), ``dtype`` (its name)."""

    def __init__(self, type: backend.dtype | None = None):  # noqa: A002 (PyTorch's name)
        d = backend.get_default_dtype() if type is None else _dtype_arg(type, "finfo")
        if not d.is_floating_point:
            raise TypeError("chainrule.finfo() requires a floating point input type. Use chainrule.iinfo to handle "
                            "'chainrule.finfo'")
        info = np.finfo(d.np)
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)
        self.dtype = d.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self) -> int:
        return hash(("finfo", self.dtype))

    def __repr__(self) -> str:
        return (f"finfo(resolution={_g(self.resolution)}, min={_g(self.min)}, max={_g(self.max)}, eps={_g(self.eps)}, "
                f"smallest_normal={_g(self.smallest_normal)}, tiny={_g(self.tiny)}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype: ``bits``, ``max``, ``min`` (Python ints), ``dtype`` (its name)."""

    def __init__(self, type: backend.dtype):  # noqa: A002 (PyTorch's name)
        d = _dtype_arg(type, "iinfo")
        if d is backend.bool_:
            raise TypeError("chainrule.bool is not supported by chainrule.iinfo")
        if d.category != 1:
            raise TypeError("chainrule.iinfo() requires an integer input type. Use chainrule.finfo to handle "
                            "'chainrule.iinfo'")
        info = np.iinfo(d.np)
        self.bits, self.max, self.min, self.dtype = int(info.bits), int(info.max), int(info.min), d.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self) -> int:
        return hash(("iinfo", self.dtype))

    def __repr__(self) -> str:
        return f"iinfo(min={_g(self.min)}, max={_g(self.max)}, dtype={self.dtype})"


def promote_types(type1: backend.dtype, type2: backend.dtype) -> backend.dtype:
    """The smallest dtype both ``type1`` and ``type2`` convert to without loss of category."""
    _dtype_arg(type1, "promote_types", "type1", 1)
    _dtype_arg(type2, "promote_types", "type2", 2)
    return backend.promote_types(type1, type2)


def result_type(tensor, other) -> backend.dtype:
    """The dtype of an arithmetic operation on ``tensor`` and ``other`` (tensors or numbers),
    by PyTorch's promotion rules (dimensioned tensors > 0-d tensors > Python numbers)."""
    for name, v in (("tensor", tensor), ("other", other)):
        if not isinstance(v, (Tensor, numbers.Number)):
            raise TypeError(f"result_type(): argument '{name}' must be Tensor or Number, not {type(v).__name__}")
    if not isinstance(tensor, Tensor) and not isinstance(other, Tensor):
        # two numbers: as two 0-d tensors of their default dtypes
        return backend.promote_types(backend.scalar_dtype(tensor), backend.scalar_dtype(other))
    return backend.result_type(tensor, other)


def can_cast(from_: backend.dtype, to: backend.dtype) -> bool:
    """Whether PyTorch's casting rules allow ``from_`` -> ``to`` in an operation: no step down in
    category (float -> integer, integer -> bool); within a category any size is allowed."""
    _dtype_arg(from_, "can_cast", "from_", 1)
    _dtype_arg(to, "can_cast", "to", 2)
    return from_.category <= to.category


_LEGACY_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
                 "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def typename(obj: Any) -> str:
    """PyTorch's type name: ``'chainrule.FloatTensor'`` for a float32 tensor, else the qualified
    class name (``'int'``, ``'chainrule.nn.modules.linear.Linear'``)."""
    if isinstance(obj, Tensor):
        return f"chainrule.{_LEGACY_NAMES[obj.dtype.name]}Tensor"
    cls = type(obj)
    module = cls.__module__
    if module in ("builtins", "__builtin__"):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


# ---- layouts and memory formats ---------------------------------------------------------------------
class layout:
    """How a tensor's elements are stored; chainrule has only ``strided`` (dense) tensors."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"chainrule.{self.name}"

    def __reduce__(self):
        return (_layout_by_name, (self.name,))


class memory_format:
    """A requested element order (``contiguous_format``, ``channels_last`` ...); accepted by the
    ``memory_format=`` keywords and ignored: chainrule keeps NumPy's own order."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"chainrule.{self.name}"

    def __reduce__(self):
        return (_format_by_name, (self.name,))


strided = layout("strided")
sparse_coo = layout("sparse_coo")
contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
_LAYOUTS = {x.name: x for x in (strided, sparse_coo)}
_FORMATS = {x.name: x for x in (contiguous_format, preserve_format, channels_last, channels_last_3d)}


def _layout_by_name(name: str) -> layout:
    return _LAYOUTS[name]


def _format_by_name(name: str) -> memory_format:
    return _FORMATS[name]


# ---- process settings ----------------------------------------------------------------------------------
_interop_threads = 1
_matmul_precision = "highest"


def get_num_interop_threads() -> int:
    """The inter-op thread count last set (chainrule runs operators one after another: recorded only)."""
    return _interop_threads


def set_num_interop_threads(num: int) -> None:
    """Record the inter-op thread count (a positive integer), as PyTorch's setting."""
    global _interop_threads
    if isinstance(num, bool) or not isinstance(num, numbers.Integral) or num < 1:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    _interop_threads = int(num)


def get_float32_matmul_precision() -> str:
    """The float32 matmul precision setting: 'highest' (default), 'high' or 'medium'."""
    return _matmul_precision


def set_float32_matmul_precision(precision: str) -> None:
    """Record the float32 matmul precision ('highest', 'high' or 'medium'); any other value warns
    and has no effect, as in PyTorch. NumPy's float32 GEMM is always full precision ('highest')."""
    global _matmul_precision
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "set_float32_matmul_precision call has no effect.", UserWarning, stacklevel=2)
        return
    _matmul_precision = precision
