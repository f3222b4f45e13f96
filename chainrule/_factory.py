"""Tensor creation with PyTorch's names and calling conventions.

``zeros(2, 3)``, ``zeros((2, 3))`` and ``zeros(size=(2, 3))`` all work; Python floats become the
default float dtype (float32), Python ints int64, and a NumPy array keeps its dtype. With
``out=t`` a factory fills ``t`` (resized silently) in ``t``'s dtype and returns it, as PyTorch does.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import backend
from ._dlpack import array_from_dlpack, is_dlpack_producer
from .backend import Generator, check_device, get_default_dtype, rng, to_dtype
from .tensor import Tensor


def _sizes(size: tuple) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], Sequence) and not isinstance(size[0], str):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = s.item()
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):
            raise TypeError(f"size must be a sequence of ints, got {type(s).__name__} ({s!r})")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _type_name(dt: np.dtype) -> str:
    """PyTorch's name of a dtype in its messages (``Long``, ``Float`` ...)."""
    from .ops._util import TORCH_TYPE_NAMES  # on use: ops imports autograd, whose engine imports this module

    return TORCH_TYPE_NAMES.get(np.dtype(dt).name, np.dtype(dt).name)


def _size_args(shape: tuple, size: Any, name: str) -> tuple[int, ...]:
    """The size given either positionally (``zeros(2, 3)``, ``zeros((2, 3))``) or as ``size=``."""
    if size is not None:
        if shape:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        shape = (size,)
    return _sizes(shape)


def _out(out: Any, name: str, dtype: Any, make) -> Tensor:
    """``out=`` of a factory: ``make(dtype)`` in ``out``'s dtype, written into ``out``."""
    from .ops._keywords import factory_out  # imported on use: ops sits above this module

    return factory_out(out, name, dtype, make)


def _finish(data: np.ndarray, requires_grad: bool, device: Any = None, literal: bool = False) -> Tensor:
    """The new tensor; ``literal``: its values come from the caller's numbers, arrays and sizes
    alone (not from other tensors' data, not random), so a graph capture keeps it as a constant."""
    check_device(device)
    t = Tensor._make(data)
    if requires_grad:
        t.requires_grad = True  # validates the dtype
    if literal and not requires_grad:
        from .autograd import capture  # on use: autograd imports this module

        capture.literal(t)
    return t


def _infer_dtype(data: Any) -> np.dtype:
    """The dtype PyTorch gives nested Python data: bool < int64 < default float."""
    kinds = set()

    def walk(x):
        if isinstance(x, Tensor):
            kinds.add(x._data.dtype.kind)
        elif isinstance(x, np.ndarray | np.generic):
            kinds.add(x.dtype.kind)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)
        elif isinstance(x, bool):
            kinds.add("b")
        elif isinstance(x, numbers.Integral):
            kinds.add("i")
        elif isinstance(x, numbers.Real):
            kinds.add("f")
        else:
            raise TypeError(f"Could not infer dtype of {type(x).__name__}")

    walk(data)
    if "f" in kinds:
        return get_default_dtype().np
    if "i" in kinds or "u" in kinds:
        return np.dtype(np.int64)
    if "b" in kinds:
        return np.dtype(np.bool_)
    return get_default_dtype().np


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested sequences, NumPy arrays, numbers, tensors,
    any DLPack producer such as a PyTorch tensor)."""
    if isinstance(data, Tensor):
        arr = data._data.copy()
    elif isinstance(data, np.ndarray):
        arr = data.copy()
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"can't convert np.ndarray of type {arr.dtype}")
    elif is_dlpack_producer(data):  # a PyTorch/CuPy/JAX array: its values, copied
        arr = array_from_dlpack(data).copy()
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
            data = [d.detach().numpy() if isinstance(d, Tensor) else d for d in data]
        # Python floats become the default dtype here, not NumPy's float64
        arr = np.array(data, dtype=_infer_dtype(data) if dtype is None else to_dtype(dtype).np)
    if dtype is not None:
        arr = arr.astype(to_dtype(dtype).np, copy=False)
    backend.from_numpy_dtype(arr.dtype)  # rejects unsupported dtypes
    # the code's numbers and NumPy arrays are constants of a captured graph; another framework's
    # tensor (a DLPack producer) or one of ours holds data
    code = isinstance(data, np.ndarray) or not (isinstance(data, Tensor) or is_dlpack_producer(data))
    return _finish(arr, requires_grad, device, literal=code)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array, tensor or DLPack producer (a PyTorch
    tensor) when the dtype allows."""
    if isinstance(data, Tensor):
        return data if dtype is None or to_dtype(dtype) is data.dtype else data.to(to_dtype(dtype))
    if isinstance(data, np.ndarray):
        arr = data if dtype is None else data.astype(to_dtype(dtype).np, copy=False)
        backend.from_numpy_dtype(arr.dtype)
        return _finish(arr, False, device)
    if is_dlpack_producer(data):  # shares memory with a PyTorch/CuPy/JAX array
        return as_tensor(array_from_dlpack(data), dtype=dtype, device=device)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (writes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    backend.from_numpy_dtype(array.dtype)
    return Tensor._make(array)


def _dt(dtype: Any, default=None) -> np.dtype:
    if dtype is None:
        return (default or get_default_dtype()).np
    return to_dtype(dtype).np


def zeros(*shape, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False) -> Tensor:
    """A tensor of ``size`` (ints, one sequence, or ``size=``) of zeros."""
    shape = _size_args(shape, size, "zeros")
    if out is not None:
        return _out(out, "zeros", dtype, lambda dt: zeros(shape, dtype=dt))
    return _finish(np.zeros(shape, dtype=_dt(dtype)), requires_grad, device, literal=True)


def ones(*shape, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False) -> Tensor:
    """A tensor of ``size`` (ints, one sequence, or ``size=``) of ones."""
    shape = _size_args(shape, size, "ones")
    if out is not None:
        return _out(out, "ones", dtype, lambda dt: ones(shape, dtype=dt))
    return _finish(np.ones(shape, dtype=_dt(dtype)), requires_grad, device, literal=True)


def empty(*shape, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None) -> Tensor:
    """A tensor of ``size`` (ints, one sequence, or ``size=``) with uninitialised values."""
    shape = _size_args(shape, size, "empty")
    if out is not None:
        return _out(out, "empty", dtype, lambda dt: empty(shape, dtype=dt))
    return _finish(np.empty(shape, dtype=_dt(dtype)), requires_grad, device, literal=True)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    """``fill_value`` everywhere; the dtype is that of the value (bool, int64 or the default float)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if out is not None:
        return _out(out, "full", dtype, lambda dt: full(size, fill_value, dtype=dt))
    if dtype is None:
        dtype = backend.scalar_dtype(fill_value)
    return _finish(np.full(_sizes((size,)), fill_value, dtype=_dt(dtype)), requires_grad, device, literal=True)


def _like(t: Tensor, dtype) -> np.dtype:
    return t._data.dtype if dtype is None else to_dtype(dtype).np


def zeros_like(input: Tensor, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    return _finish(np.zeros(input.shape, dtype=_like(input, dtype)), requires_grad, device or input.device, True)


def ones_like(input: Tensor, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    return _finish(np.ones(input.shape, dtype=_like(input, dtype)), requires_grad, device or input.device, True)


def empty_like(input: Tensor, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    return _finish(np.empty(input.shape, dtype=_like(input, dtype)), requires_grad, device or input.device, True)


def full_like(input: Tensor, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    return _finish(np.full(input.shape, fill_value, dtype=_like(input, dtype)), requires_grad,
                   device or input.device, True)


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    """Values from ``start`` (inclusive) to ``end`` (exclusive) by ``step``; int64 if all are ints."""
    if out is not None:
        return _out(out, "arange", dtype, lambda dt: _arange_for_out(out, start, end, step, dt))
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if vals[2] == 0:
        raise RuntimeError("step must be nonzero")
    if (vals[1] - vals[0]) * vals[2] < 0:
        raise RuntimeError(
            f"upper bound and larger bound inconsistent with step sign: start={vals[0]}, end={vals[1]}, step={vals[2]}")
    if dtype is None:
        is_int = all(isinstance(v, numbers.Integral) for v in vals)
        dtype = backend.int64 if is_int else get_default_dtype()
    dt = to_dtype(dtype)
    if dt.category == 1:
        data = np.arange(vals[0], vals[1], vals[2]).astype(dt.np)
    else:  # start + step * i in float64, as PyTorch computes it, then cast
        n = max(0, math.ceil((vals[1] - vals[0]) / vals[2]))
        data = (vals[0] + vals[2] * np.arange(n, dtype=np.float64)).astype(dt.np)
    return _finish(data, requires_grad, device, literal=True)


def _arange_for_out(out: Tensor, start, end, step, dtype) -> Tensor:
    """``arange`` for ``out=``, with PyTorch's warning when a non-empty ``out`` has another length."""
    result = arange(start, end, step, dtype=dtype)
    n, have = result.numel(), out.numel()
    if have not in (0, n):
        warnings.warn(
            f"The number of elements in the out tensor of shape {list(out.shape)} is {have} which does not match the "
            f"computed number of elements {n}. Note that this may occur as a result of rounding error. The out tensor "
            f"will be resized to a tensor of shape ({n},).", UserWarning, stacklevel=4)
    return result


def linspace(start, end, steps: int, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if out is not None:
        return _out(out, "linspace", dtype, lambda dt: linspace(start, end, steps, dtype=dt))
    if not isinstance(steps, numbers.Integral) or steps < 0:
        raise RuntimeError(f"number of steps must be non-negative, got {steps}")
    return _finish(np.linspace(start, end, int(steps), dtype=np.float64).astype(_dt(dtype)), requires_grad, device,
                   literal=True)


def logspace(start, end, steps: int, base: float = 10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """``base ** linspace(start, end, steps)``."""
    if out is not None:
        return _out(out, "logspace", dtype, lambda dt: logspace(start, end, steps, base, dtype=dt))
    return _finish(np.logspace(start, end, int(steps), base=base).astype(_dt(dtype)), requires_grad, device,
                   literal=True)


def eye(n: int, m: int | None = None, *, out=None, dtype=None, layout=None, device=None,
        requires_grad=False) -> Tensor:
    """The ``n`` x ``m`` identity matrix."""
    if out is not None:
        return _out(out, "eye", dtype, lambda dt: eye(n, m, dtype=dt))
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"n and m must be non-negative, got n={n}, m={m}")
    return _finish(np.eye(n, n if m is None else m, dtype=_dt(dtype)), requires_grad, device, literal=True)


def draw(kind: str, shape: tuple, dtype: np.dtype, generator: Any, params: tuple = ()) -> np.ndarray:
    """One sample of ``kind``: 'rand' (uniform [0, 1)), 'randn' (standard normal), 'randint'
    (``params`` = (low, high)), 'randperm' (``params`` = (n,)) or 'normal' (``params`` = (mean,
    std)); drawn in float64 or int64 from ``generator`` (the default one when None), then cast."""
    g = rng(generator)
    out: np.ndarray
    if kind == "rand":
        out = g.random(shape, dtype=np.float64)
    elif kind == "randn":
        out = g.standard_normal(shape)
    elif kind == "randint":
        out = g.integers(params[0], params[1], size=shape, dtype=np.int64)
    elif kind == "randperm":
        out = g.permutation(params[0])
    elif kind == "normal":
        out = params[0] + params[1] * g.standard_normal(shape)
    else:
        raise ValueError(f"unknown draw {kind!r}")
    return out.astype(dtype)


def sample(kind: str, shape: tuple, dtype: np.dtype, generator: Any, params: tuple, requires_grad: bool,
           device: Any) -> Tensor:
    """The tensor of a ``draw``; inside a graph capture made by the ``Draw`` operator, which a
    replay runs again (a new sample per call, as eager draws)."""
    from .autograd import capture  # on use: autograd imports this module

    if capture.active() is not None and capture.depth() == 0 and not requires_grad:
        from .ops.draw import Draw  # on use: ops sits above this module

        check_device(device)
        return Draw(kind, shape, np.dtype(dtype), generator, params).apply()
    return _finish(draw(kind, shape, dtype, generator, params), requires_grad, device)


def rand(*shape, size=None, generator: Generator | None = None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False) -> Tensor:
    """Uniform samples on [0, 1)."""
    shape = _size_args(shape, size, "rand")
    if out is not None:
        return _out(out, "rand", dtype, lambda dt: rand(shape, generator=generator, dtype=dt))
    return sample("rand", shape, _dt(dtype), generator, (), requires_grad, device)


def randn(*shape, size=None, generator: Generator | None = None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False) -> Tensor:
    """Standard normal samples."""
    shape = _size_args(shape, size, "randn")
    if out is not None:
        return _out(out, "randn", dtype, lambda dt: randn(shape, generator=generator, dtype=dt))
    dt = _dt(dtype)
    if np.dtype(dt).kind != "f":
        raise NotImplementedError(f'"normal_kernel_cpu" not implemented for \'{_type_name(dt)}\'')
    return sample("randn", shape, dt, generator, (), requires_grad, device)


def randint(low=None, high=None, size=None, generator: Generator | None = None, *, out=None, dtype=None,
            layout=None, device=None, requires_grad=False) -> Tensor:
    """Integers uniform on [low, high); ``randint(high, size)`` starts at 0."""
    if out is not None:
        return _out(out, "randint", dtype,
                    lambda dt: randint(low, high, size, generator=generator, dtype=dt))
    if low is None:
        if high is None:
            raise TypeError("randint() missing required argument 'high'")
        low = 0
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    return sample("randint", _sizes((size,)), _dt(dtype, backend.int64), generator, (low, high), requires_grad,
                  device)


def randperm(n: int, generator: Generator | None = None, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False) -> Tensor:
    """A random permutation of ``0 .. n-1``."""
    if out is not None:
        return _out(out, "randperm", dtype, lambda dt: randperm(n, generator, dtype=dt))
    return sample("randperm", (int(n),), _dt(dtype, backend.int64), generator, (int(n),), False, device)


def rand_like(input: Tensor, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    """Uniform samples on [0, 1) with ``input``'s shape and (unless given) dtype."""
    return rand(*input.shape, generator=generator, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input: Tensor, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    """Standard normal samples with ``input``'s shape and (unless given) dtype."""
    return randn(*input.shape, generator=generator, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def randint_like(input: Tensor, low=0, high=None, *, generator=None, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None) -> Tensor:
    """Integers uniform on [low, high) with ``input``'s shape; ``randint_like(x, high)`` starts at 0."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), generator=generator, dtype=dtype or input.dtype,
                   device=device or input.device, requires_grad=requires_grad)


def scalar_tensor(value, dtype=None) -> Tensor:
    """A 0-d tensor of the default float dtype unless ``dtype`` is given (also for ints, as PyTorch)."""
    return tensor(value, dtype=get_default_dtype() if dtype is None else dtype)
