"""chainrule's operators, one module per family, and their registration as Tensor methods.

Each family module lists its public functions in ``__all__`` (exported as ``chainrule.<name>``)
and the subset that are also Tensor methods in ``TENSOR_METHODS``. Python operators (``+``,
``@``, ``[]`` ...) and in-place methods are attached here, so ``tensor.py`` stays free of
operator code and imports keep pointing one way.
"""

from __future__ import annotations

from types import ModuleType

from .. import backend
from ..tensor import Tensor
from ._keywords import AXIS_FUNCTIONS, AXIS_METHODS, OUT_RULES, with_keywords
from . import (
    activation, compare, conv, distance, dropout, elementwise, factory_methods, fold, grid, indexing, inplace, join,
    linalg, linear, math_extra, normalization, pad, pooling, random, reduction, resample, scatter, shape, softmax,
    sorting,
)
from . import math_misc, searching, special_math, statistics
from . import index_extra, inplace_extra, products, random_extra, reshaping, tensor_extra
from . import linalg_composite
from . import attention

FAMILIES: tuple[ModuleType, ...] = (elementwise, activation, compare, reduction, softmax, shape, join, pad, indexing, scatter, linalg, linear,
            conv, fold, pooling, normalization, dropout, sorting, math_extra, factory_methods, distance, resample,
            grid, random, special_math, statistics, searching, math_misc)
FAMILIES += (reshaping, index_extra, products, random_extra, tensor_extra, inplace_extra)  # PyTorch name extras
FAMILIES += (linalg_composite,)  # chainrule.linalg's top-level names (det, svd ...)
FAMILIES += (attention,)  # nn.functional only: no top-level names or methods

FUNCTIONS: dict = {}
for _mod in FAMILIES:
    for _name in _mod.__all__:
        if _name in FUNCTIONS and FUNCTIONS[_name] is not getattr(_mod, _name):
            raise ImportError(f"chainrule.{_name} is exported by two operator families")
        FUNCTIONS[_name] = getattr(_mod, _name)
# PyTorch's generic keywords (out=, axis=, keepdims=) on exactly the functions that take them
FUNCTIONS = {name: with_keywords(fn, name, OUT_RULES.get(name), name in AXIS_FUNCTIONS)
             for name, fn in FUNCTIONS.items()}


def _rev(fn):
    return lambda self, other: fn(other, self)


_E = elementwise
_C = compare
_DUNDERS = {
    "__add__": _E.add, "__radd__": _rev(_E.add),
    "__sub__": _E.sub, "__rsub__": _rev(_E.sub),
    "__mul__": _E.mul, "__rmul__": _rev(_E.mul),
    "__truediv__": _E.div, "__rtruediv__": _rev(_E.div),
    "__floordiv__": _E.floor_divide, "__rfloordiv__": _rev(_E.floor_divide),
    "__mod__": _E.remainder, "__rmod__": _rev(_E.remainder),
    "__pow__": _E.pow, "__rpow__": _rev(_E.pow),
    "__matmul__": linalg.matmul, "__rmatmul__": _rev(linalg.matmul),
    "__neg__": _E.neg, "__pos__": lambda self: self, "__abs__": _E.abs,
    "__eq__": _C.eq, "__ne__": _C.ne, "__lt__": _C.lt, "__le__": _C.le, "__gt__": _C.gt, "__ge__": _C.ge,
    "__and__": _C.bitwise_and, "__or__": _C.bitwise_or, "__xor__": _C.bitwise_xor,
    "__rand__": _rev(_C.bitwise_and), "__ror__": _rev(_C.bitwise_or), "__rxor__": _rev(_C.bitwise_xor),
    "__invert__": _C.bitwise_not,
    "__iadd__": inplace.add_, "__isub__": inplace.sub_, "__imul__": inplace.mul_, "__itruediv__": inplace.div_,
    "__getitem__": indexing.getitem, "__setitem__": index_extra.setitem,
    # dtype shorthands
    "float": lambda self: shape.to(self, backend.float32),
    "double": lambda self: shape.to(self, backend.float64),
    "half": lambda self: shape.to(self, backend.float16),
    "long": lambda self: shape.to(self, backend.int64),
    "int": lambda self: shape.to(self, backend.int32),
    "short": lambda self: shape.to(self, backend.int16),
    "bool": lambda self: shape.to(self, backend.bool_),
    "byte": lambda self: shape.to(self, backend.uint8),
    "cpu": lambda self, memory_format=None: self,
    "cuda": shape.cuda,
}


def _register() -> None:
    for mod in FAMILIES:
        for name in mod.TENSOR_METHODS:
            setattr(Tensor, name, with_keywords(getattr(mod, name), name, aliases=name in AXIS_METHODS))
    for name, fn in inplace.METHODS.items():
        setattr(Tensor, name, fn)
    for mod in FAMILIES:  # methods whose function differs from the family's (e.g. x.polygamma(n))
        for name, fn in getattr(mod, "EXTRA_METHODS", {}).items():
            setattr(Tensor, name, fn)
    for name, fn in _DUNDERS.items():
        setattr(Tensor, name, fn)
    setattr(Tensor, "__hash__", object.__hash__)  # noqa: B010 (__eq__ is element-wise; tensors hash by identity)


_register()
