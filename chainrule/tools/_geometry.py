"""Receptive-field arithmetic shared by ``summary`` and ``receptive_field``.

A unit of a feature map "sees" a window of the input. Along one spatial axis, for a stack of
window layers (convolutions and pools), three numbers describe every unit of a map at once:

* ``size`` (r): how many input positions the field of one unit spans;
* ``jump`` (j): the distance, in input positions, between the fields of neighbouring units;
* ``start``: the centre of the first unit's field, in input index coordinates (position 0 is
  the centre of the first input element, so the input itself has r = 1, j = 1, start = 0).

A window layer with kernel k, stride s, padding p (in front) and dilation d maps them as

    k_eff = d (k - 1) + 1
    r_out = r_in + (k_eff - 1) j_in
    j_out = j_in s
    start_out = start_in + ((k_eff - 1) / 2 - p) j_in

Layers that act element-wise in space (activations, normalisation, dropout, channel mixing)
keep the field. Where two maps are joined element-wise (a residual ``out + identity``), the field
of a unit is the union of the fields of its operands; ``union`` takes the hull of the first
units' intervals and the finest jump (a broadcast 1x1 map, e.g. a global gate, has a coarse jump
and a field covering the whole input, and does not make neighbouring units further apart).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def _num(x: float) -> int | float:
    """An integral value as int (sizes and jumps are integers for ordinary stacks)."""
    return int(x) if float(x).is_integer() else float(x)


@dataclass(frozen=True)
class Field:
    """Receptive field of the units of a feature map: one value per spatial axis in each tuple.

    ``shape`` is the spatial shape of the map it describes; it is used to notice operations
    whose geometry chainrule cannot follow (the map then has another shape than predicted).
    """

    size: tuple
    jump: tuple
    start: tuple
    shape: tuple

    @property
    def ndim(self) -> int:
        return len(self.size)


class _Marker:
    def __init__(self, name: str):
        self._name = name

    def __repr__(self) -> str:
        return self._name


# a tensor that does not depend on the input (a parameter, a constant): ignored by joins
NO_FIELD = _Marker("NO_FIELD")
# a tensor produced by an operation whose spatial geometry is not known: poisons what follows
UNKNOWN = _Marker("UNKNOWN")


def identity(shape: tuple) -> Field:
    """The input map itself: every unit sees one input position, its own."""
    n = len(shape)
    return Field((1,) * n, (1,) * n, (0.0,) * n, tuple(shape))


def window(field, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, out_shape: tuple):
    """The field after a window layer (convolution or pooling) applied to a map with ``field``."""
    if not isinstance(field, Field):
        return field
    if not len(kernel) == len(stride) == len(padding) == len(dilation) == field.ndim:
        return UNKNOWN
    size, jump, start = [], [], []
    for r, j, st, k, s, p, d in zip(field.size, field.jump, field.start, kernel, stride, padding, dilation):
        k_eff = d * (k - 1) + 1
        size.append(_num(r + (k_eff - 1) * j))
        jump.append(_num(j * s))
        start.append(float(st + ((k_eff - 1) / 2 - p) * j))
    return Field(tuple(size), tuple(jump), tuple(start), tuple(out_shape))


def adaptive(field, out_shape: tuple):
    """The field after adaptive pooling to ``out_shape``.

    Output cell i of an axis of length L pools input cells [floor(i L / o), ceil((i + 1) L / o)).
    When o divides L this is a window layer with k = s = L / o (exact; o = 1 is global pooling).
    Otherwise the windows differ in length and spacing: ``size`` is that of the longest window,
    ``jump`` the mean spacing L / o (a fraction) and ``start`` the centre of the first window.
    """
    if not isinstance(field, Field):
        return field
    if len(out_shape) != field.ndim:
        return UNKNOWN
    size, jump, start = [], [], []
    for r, j, st, length, o in zip(field.size, field.jump, field.start, field.shape, out_shape):
        longest = max(-(-(i + 1) * length // o) - (i * length) // o for i in range(o))
        first = -(-length // o)
        size.append(_num(r + (longest - 1) * j))
        jump.append(_num(j * length / o))
        start.append(float(st + (first - 1) / 2 * j))
    return Field(tuple(size), tuple(jump), tuple(start), tuple(out_shape))


def union(fields: list):
    """The field of a unit computed element-wise from several maps (broadcasting allowed)."""
    known = [f for f in fields if f is not NO_FIELD]
    if not known:
        return NO_FIELD
    if any(f is UNKNOWN for f in known):
        return UNKNOWN
    if len(known) == 1:
        return known[0]
    if len({f.ndim for f in known}) != 1:
        return UNKNOWN
    try:
        shape = _broadcast([f.shape for f in known])
    except ValueError:
        return UNKNOWN
    size, jump, start = [], [], []
    for axis in range(known[0].ndim):
        lo = min(f.start[axis] - (f.size[axis] - 1) / 2 for f in known)
        hi = max(f.start[axis] + (f.size[axis] - 1) / 2 for f in known)
        size.append(_num(hi - lo + 1))
        jump.append(min(f.jump[axis] for f in known))
        start.append(float((lo + hi) / 2))
    return Field(tuple(size), tuple(jump), tuple(start), shape)


def _broadcast(shapes: list) -> tuple:
    out = []
    for dims in zip(*shapes):
        big = {d for d in dims if d != 1}
        if len(big) > 1:
            raise ValueError(f"shapes {shapes} do not broadcast")
        out.append(big.pop() if big else 1)
    return tuple(out)


def with_shape(field, shape: tuple):
    """``field`` if it describes a map of spatial ``shape``, else UNKNOWN (an op it missed)."""
    if isinstance(field, Field) and tuple(field.shape) != tuple(shape):
        return UNKNOWN
    return field


def same_padding(kernel: tuple, dilation: tuple) -> tuple:
    """Front padding of ``padding='same'``: floor(d (k - 1) / 2) (an odd total pads one more at the back)."""
    return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))


def prod(values) -> int:
    return math.prod(int(v) for v in values)
