"""Argument normalisation and input checks shared by the convolution and pooling layers.

``_single/_pair/_triple`` turn ``3`` or ``(3, 5)`` into a tuple of 1/2/3 ints (PyTorch's
``torch.nn.modules.utils``), checking the length and the range so that a layer's constructor
says which argument is wrong.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

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


def check_spatial_input(module, input, dims: int, layout: str) -> bool:
    """Check that ``input`` is a (C, *spatial) or (N, C, *spatial) tensor; True when batched.

    ``layout`` names the axes for the message, e.g. ``"(N, C, H, W)"``.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"{module!r} expected a Tensor input, got {type(input).__name__}")
    nd = input.ndim
    if nd not in (dims + 1, dims + 2):
        raise RuntimeError(
            f"{module!r} expected a {dims + 1}-D (unbatched) or {dims + 2}-D (batched) input of shape "
            f"{layout}, got a {nd}-D input of shape {list(input.shape)}")
    return nd == dims + 2


def check_float_input(module, input: Tensor, weight: Tensor) -> None:
    if input.dtype != weight.dtype:
        raise RuntimeError(
            f"{module!r} has {weight.dtype} parameters but got a {input.dtype} input; convert one "
            f"of them (input.to({weight.dtype}) or module.to({input.dtype}))")
