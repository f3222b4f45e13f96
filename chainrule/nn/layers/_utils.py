"""Argument normalisation and input checks shared by the layers (convolution, pooling ...).

``_single/_pair/_triple`` turn ``3`` or ``(3, 5)`` into a tuple of 1/2/3 ints (PyTorch's
``torch.nn.modules.utils``), checking the length and the range so that a layer's constructor
says which argument is wrong.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

from ... import backend
from ...tensor import Tensor


def _ntuple(n: int):
    def parse(x, name: str = "argument", owner: str = "", minimum: int | None = None) -> tuple[int, ...]:
        where = f"{owner}: " if owner else ""
        if isinstance(x, Iterable) and not isinstance(x, str):
            values = tuple(x)
            if len(values) != n:
                raise ValueError(f"{where}{name} must be an int or a tuple of {n} ints, got {x!r}")
        else:
            values = (x,) * n
        for v in values:
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"{where}{name} must be an int or a tuple of {n} ints, got {x!r}")
        values = tuple(int(v) for v in values)
        if minimum is not None and any(v < minimum for v in values):
            kind = "positive" if minimum == 1 else "non-negative"
            raise ValueError(f"{where}{name} must be {kind}, got {x!r}")
        return values

    parse.__name__ = {1: "_single", 2: "_pair", 3: "_triple"}.get(n, f"_ntuple{n}")
    return parse


_single = _ntuple(1)
_pair = _ntuple(2)
_triple = _ntuple(3)
NTUPLE = {1: _single, 2: _pair, 3: _triple}


_LAYOUTS = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}


def check_number(owner: str, name: str, value: Any) -> float:
    """A real number (not a bool) as a float, or a TypeError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {type(value).__name__} ({value!r})")
    return float(value)


def check_float_dtype(owner: str, dtype: Any) -> backend.dtype | None:
    """The parameters' dtype (None: the default), which must be floating point."""
    if dtype is None:
        return None
    dt = backend.to_dtype(dtype)
    if not dt.is_floating_point:
        raise TypeError(f"{owner}: parameters must have a floating-point dtype, got {dt}")
    return dt


def check_spatial_input(module, input, dims: int) -> None:
    """Check that ``input`` is a (C, *spatial) or (N, C, *spatial) tensor (the ``F.*`` operators
    take both)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{module!r} expected a Tensor input, got {type(input).__name__}")
    nd = input.ndim
    if nd not in (dims + 1, dims + 2):
        raise RuntimeError(
            f"{module!r} expected a {dims + 1}-D (unbatched) or {dims + 2}-D (batched) input of shape "
            f"{_LAYOUTS[dims]}, got a {nd}-D input of shape {list(input.shape)}")


def check_float_input(module, input: Tensor, weight: Tensor) -> None:
    if input.dtype != weight.dtype:
        raise RuntimeError(
            f"{module!r} has {weight.dtype} parameters but got a {input.dtype} input; convert one "
            f"of them (input.to({weight.dtype}) or module.to({input.dtype}))")
