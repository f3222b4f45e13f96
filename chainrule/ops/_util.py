"""Small helpers shared by the operator families: operand coercion and dimension arguments."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from .. import backend
from .._factory import tensor
from ..autograd import capture
from ..autograd.function import FunctionNode
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor, _wrap_dim


def to_tensor(x, dtype: backend.dtype | None = None) -> Tensor:
    """A constant Tensor from a number or array (Tensors pass through, cast when ``dtype`` differs)."""
    if isinstance(x, Tensor):
        if dtype is not None and x._data.dtype != dtype.np:
            return x.to(dtype)
        return x
    if isinstance(x, (numbers.Number, np.generic, np.ndarray)):
        if dtype is None:
            dtype = backend.result_type(x) if not isinstance(x, np.ndarray) else backend.from_numpy_dtype(x.dtype)
        t = Tensor._make(np.asarray(x, dtype=dtype.np))
        if not isinstance(x, np.ndarray):  # a Python or NumPy number: a literal of the caller's code
            capture.literal(t)
        return t
    if isinstance(x, (list, tuple)):
        return tensor(x, dtype=dtype)
    raise TypeError(f"expected a Tensor or a number, got {type(x).__name__}")


def binary_operands(a, b) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors of their promoted dtype (PyTorch's promotion rules)."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            if a._data.dtype is b._data.dtype:
                return a, b
        elif type(b) is float and a._data.dtype.kind == "f":  # tensor op Python float: keeps a's dtype
            return a, capture.literal(Tensor._make(np.array(b, dtype=a._data.dtype)))
    elif type(a) is float and isinstance(b, Tensor) and b._data.dtype.kind == "f":
        return capture.literal(Tensor._make(np.array(a, dtype=b._data.dtype))), b
    if not isinstance(a, (Tensor, numbers.Number, np.generic)):
        a = to_tensor(a)
    if not isinstance(b, (Tensor, numbers.Number, np.generic)):
        b = to_tensor(b)
    dt = backend.result_type(a, b)
    return to_tensor(a, dt), to_tensor(b, dt)


def float_operand(x: Tensor, op: str) -> Tensor:
    """Integer/bool inputs of floating-point functions are promoted to the default float dtype."""
    if not isinstance(x, Tensor):
        x = to_tensor(x)
    if x._data.dtype.kind != "f":
        return x.to(backend.get_default_dtype())
    return x


# PyTorch's legacy type names (``FloatTensor`` less its suffix), as its error messages spell dtypes
TORCH_TYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
                    "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def torch_type_name(t: Tensor) -> str:
    return TORCH_TYPE_NAMES.get(t.dtype.name, t.dtype.name)


class NoGradUnary(FunctionNode):
    """The array module's ``ufunc`` of a tensor, applied under ``no_grad``: a result without
    gradient. A node (rather than a raw-array helper) so that a graph capture sees the value."""

    def __init__(self, ufunc: str):
        self.ufunc = ufunc

    def forward(self, x):
        return self.xp.asarray(getattr(self.xp, self.ufunc)(x))  # ufuncs give scalars for 0-d

    def backward(self, gy):  # pragma: no cover - applied under no_grad: never in a graph
        return None


def no_grad_unary(ufunc: str, name: str, doc: str):
    """A function applying the array module's ``ufunc`` to a tensor's data: a result without gradient."""

    def fn(input: Tensor) -> Tensor:
        with no_grad():
            return NoGradUnary(ufunc).apply(input)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def require_float(x: Tensor, op: str) -> None:
    if x._data.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point tensor, got {x.dtype}")


def check_tensor(x, op: str, name: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x


def wrap_dim(dim: int | numbers.Integral, ndim: int) -> int:
    if isinstance(dim, bool) or not isinstance(dim, (numbers.Integral,)):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    return _wrap_dim(int(dim), ndim)


def wrap_dims(dim, ndim: int) -> tuple[int, ...]:
    """Normalise ``dim`` (None, an int or a sequence) to a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, Sequence) and not isinstance(dim, str):
        dims = tuple(wrap_dim(d, ndim) for d in dim)
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"dim {tuple(dim)} appears multiple times in the list of dims")
        if not dims:
            return tuple(range(ndim))
        return tuple(sorted(dims))
    return (wrap_dim(dim, ndim),)


def broadcast_shapes(*shapes) -> tuple[int, ...]:
    """The broadcast of several shapes, or an error that names them all."""
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(
            "shapes cannot be broadcast together: "
            + " and ".join(str(list(s)) for s in shapes)
            + " (sizes must be equal or 1 in each trailing dimension)") from None


def broadcast_error(a, b) -> RuntimeError:
    """PyTorch's message for two arrays whose shapes do not broadcast, naming the first bad dimension."""
    sa, sb = a.shape, b.shape
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + tuple(sa), (1,) * (n - len(sb)) + tuple(sb)
    for d in range(n - 1, -1, -1):
        if pa[d] != pb[d] and pa[d] != 1 and pb[d] != 1:
            return RuntimeError(
                f"The size of tensor a ({pa[d]}) must match the size of tensor b ({pb[d]}) at "
                f"non-singleton dimension {d} (shapes {list(sa)} and {list(sb)})")
    return RuntimeError(f"shapes {list(sa)} and {list(sb)} cannot be broadcast together")
