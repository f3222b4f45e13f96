"""Padding layers over ``F.pad``: zero, constant, reflection, replication and circular, 1/2/3-d.

``padding`` is an int (the same width on every side) or a tuple of ``2 * N`` widths ordered as
``F.pad`` wants them: (left, right) for 1-d, (left, right, top, bottom) for 2-d, and
(left, right, top, bottom, front, back) for 3-d.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

from ...ops.pad import pad
from ...tensor import Tensor
from ..module import Module
from ._utils import _ntuple


class _PadNd(Module):
    mode = "constant"
    dims = 1

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _ntuple(2 * self.dims)(padding, "padding", type(self).__name__)

    def _check(self, input: Tensor) -> None:
        nd, k = input.ndim, self.dims
        if nd not in (k + 1, k + 2):
            raise ValueError(
                f"{type(self).__name__}: expected {k + 1}D or {k + 2}D input (got {nd}D input of shape "
                f"{list(input.shape)})")

    def forward(self, input: Tensor) -> Tensor:
        self._check(input)
        return pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    value: float

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{type(self).__name__}: value must be a number, got {value!r}")
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dimension with ``value``: (C, W) or (N, C, W)."""

    dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last two dimensions with ``value``: (C, H, W) or (N, C, H, W)."""

    dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last three dimensions with ``value``: (C, D, H, W) or (N, C, D, H, W)."""

    dims = 3


if TYPE_CHECKING:
    _ZeroPadBase = _ConstantPadNd  # what the mixin is combined with; at run time it derives from object
else:
    _ZeroPadBase = object


class _ZeroPad(_ZeroPadBase):
    """``ConstantPad{n}d`` with ``value=0``, printed with the padding alone."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    extra_repr = _PadNd.extra_repr


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """Pads the last dimension with zeros."""


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """Pads the last two dimensions with zeros."""


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    """Pads the last three dimensions with zeros."""


class ReflectionPad1d(_PadNd):
    """Mirror padding without repeating the edge: [a b c] -> [c b | a b c | b a] for width 2."""

    mode, dims = "reflect", 1


class ReflectionPad2d(_PadNd):
    mode, dims = "reflect", 2
    __doc__ = ReflectionPad1d.__doc__


class ReflectionPad3d(_PadNd):
    mode, dims = "reflect", 3
    __doc__ = ReflectionPad1d.__doc__


class ReplicationPad1d(_PadNd):
    """Edge padding: the border value repeated, [a b c] -> [a a | a b c | c c] for width 2."""

    mode, dims = "replicate", 1


class ReplicationPad2d(_PadNd):
    mode, dims = "replicate", 2
    __doc__ = ReplicationPad1d.__doc__


class ReplicationPad3d(_PadNd):
    mode, dims = "replicate", 3
    __doc__ = ReplicationPad1d.__doc__


class CircularPad1d(_PadNd):
    """Periodic padding: the signal wraps around, [a b c] -> [b c | a b c | a b] for width 2."""

    mode, dims = "circular", 1


class CircularPad2d(_PadNd):
    mode, dims = "circular", 2
    __doc__ = CircularPad1d.__doc__


class CircularPad3d(_PadNd):
    mode, dims = "circular", 3
    __doc__ = CircularPad1d.__doc__


__all__ = [
    "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
    "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d",
]
