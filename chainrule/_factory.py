"""Tensor creation with PyTorch's names and calling conventions.

``zeros(2, 3)`` and ``zeros((2, 3))`` both work; Python floats become the default float dtype
(float32), Python ints int64, and a NumPy array keeps its dtype.
"""

from __future__ import annotations

import math
import numbers
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


def _finish(data: np.ndarray, requires_grad: bool, device: Any = None) -> Tensor:
    check_device(device)
    t = Tensor._make(data)
    if requires_grad:
        t.requires_grad = True  # validates the dtype
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
    return _finish(arr, requires_grad, device)


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


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.zeros(_sizes(size), dtype=_dt(dtype)), requires_grad, device)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.ones(_sizes(size), dtype=_dt(dtype)), requires_grad, device)


def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.empty(_sizes(size), dtype=_dt(dtype)), requires_grad, device)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = backend.scalar_dtype(fill_value)
    return _finish(np.full(_sizes((size,)), fill_value, dtype=_dt(dtype)), requires_grad, device)


def _like(t: Tensor, dtype) -> np.dtype:
    return t._data.dtype if dtype is None else to_dtype(dtype).np


def zeros_like(input: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.zeros(input.shape, dtype=_like(input, dtype)), requires_grad, device)


def ones_like(input: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.ones(input.shape, dtype=_like(input, dtype)), requires_grad, device)


def empty_like(input: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.empty(input.shape, dtype=_like(input, dtype)), requires_grad, device)


def full_like(input: Tensor, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.full(input.shape, fill_value, dtype=_like(input, dtype)), requires_grad, device)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values from ``start`` (inclusive) to ``end`` (exclusive) by ``step``; int64 if all are ints."""
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
    return _finish(data, requires_grad, device)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad=False) -> Tensor:
    if not isinstance(steps, numbers.Integral) or steps < 0:
        raise RuntimeError(f"number of steps must be non-negative, got {steps}")
    return _finish(np.linspace(start, end, int(steps), dtype=np.float64).astype(_dt(dtype)), requires_grad, device)


def logspace(start, end, steps: int, base: float = 10.0, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.logspace(start, end, int(steps), base=base).astype(_dt(dtype)), requires_grad, device)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"n and m must be non-negative, got n={n}, m={m}")
    return _finish(np.eye(n, n if m is None else m, dtype=_dt(dtype)), requires_grad, device)


def rand(*size, generator: Generator | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform samples on [0, 1)."""
    dt = _dt(dtype)
    return _finish(rng(generator).random(_sizes(size), dtype=np.float64).astype(dt), requires_grad, device)


def randn(*size, generator: Generator | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples."""
    dt = _dt(dtype)
    return _finish(rng(generator).standard_normal(_sizes(size)).astype(dt), requires_grad, device)


def randint(low, high=None, size=None, generator: Generator | None = None, dtype=None, device=None,
            requires_grad=False) -> Tensor:
    """Integers uniform on [low, high); ``randint(high, size)`` starts at 0."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    data = rng(generator).integers(low, high, size=_sizes((size,)), dtype=np.int64)
    return _finish(data.astype(_dt(dtype, backend.int64)), requires_grad, device)


def randperm(n: int, generator: Generator | None = None, dtype=None, device=None) -> Tensor:
    return _finish(rng(generator).permutation(int(n)).astype(_dt(dtype, backend.int64)), False, device)


def rand_like(input: Tensor, dtype=None, generator=None) -> Tensor:
    return rand(*input.shape, generator=generator, dtype=dtype or input.dtype)


def randn_like(input: Tensor, dtype=None, generator=None) -> Tensor:
    return randn(*input.shape, generator=generator, dtype=dtype or input.dtype)


def randint_like(input: Tensor, low, high=None, dtype=None) -> Tensor:
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype)


def scalar_tensor(value, dtype=None) -> Tensor:
    """A 0-d tensor of the default float dtype unless ``dtype`` is given (also for ints, as PyTorch)."""
    return tensor(value, dtype=get_default_dtype() if dtype is None else dtype)
