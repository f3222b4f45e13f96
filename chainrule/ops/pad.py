"""Padding, as ``torch.nn.functional.pad``: constant, reflect, replicate and circular modes.

``pad`` lists the widths of the last dimension first: ``(left, right, top, bottom, front, back)``.
Negative widths crop.

* constant: the adjoint of padding with widths ``p`` is padding with ``-p`` and value 0 (crop
  what was added, put zeros where something was cropped), so ``ConstantPad`` is its own backward.
* reflect/replicate/circular: each padded dimension is a gather ``y[j] = x[src[j]]`` with a fixed
  map ``src`` (reflect: ``-j`` / ``2(n-1)-j`` past the ends, replicate: clamp to the ends,
  circular: ``j mod n``). The adjoint folds the gradient back, adding every padded position into
  its source (``IndexPadFold``), whose own backward is the padding again.
"""

from __future__ import annotations

import numbers

from ..autograd.function import FunctionNode, named_output
from ..kernels.tables import pad_runs, pad_source_map, size_only
from ..tensor import Tensor

_MODES = ("constant", "reflect", "replicate", "circular")


class ConstantPad(FunctionNode):
    """Pad dimension ``d`` by ``widths[d] = (before, after)`` with ``value`` (negative: crop)."""

    torch_name = "ConstantPadNdBackward0"

    def __init__(self, widths: tuple, value):
        self.widths, self.value = widths, value

    def forward(self, x):
        crop = tuple(slice(max(-b, 0), n - max(-a, 0)) for n, (b, a) in zip(x.shape, self.widths))
        core = x[crop]
        shape = tuple(n + max(b, 0) + max(a, 0) for n, (b, a) in zip(core.shape, self.widths))
        out = self.xp.full(shape, self.value, dtype=x.dtype)
        out[tuple(slice(max(b, 0), max(b, 0) + n) for n, (b, _) in zip(core.shape, self.widths))] = core
        return out

    def backward(self, gy):
        return ConstantPad(tuple((-b, -a) for b, a in self.widths), 0).apply(gy)


class IndexPad(FunctionNode):
    """``y[.., j, ..] = x[.., maps[d][j], ..]`` along each padded dimension ``d``."""

    def __init__(self, maps: dict):
        self.maps = maps

    def forward(self, x):
        self.in_shape = x.shape
        xp = self.xp
        for d, src in self.maps.items():
            out = xp.empty(x.shape[:d] + (len(src),) + x.shape[d + 1:], dtype=x.dtype)
            o, xd = xp.moveaxis(out, d, 0), xp.moveaxis(x, d, 0)
            for p0, p1, s0, step in pad_runs(src):  # one slice copy per run of the map
                if step == 0:
                    o[p0:p1] = xd[s0]
                elif step == 1:
                    o[p0:p1] = xd[s0:s0 + p1 - p0]
                else:
                    o[p0:p1] = xd[s0 - (p1 - p0) + 1:s0 + 1][::-1]
            x = out
        return x

    def backward(self, gy):
        return IndexPadFold(self.maps, self.in_shape).apply(gy)


class IndexPadFold(FunctionNode):
    """Adjoint of ``IndexPad``: ``x[src[j]] += g[j]`` along each padded dimension."""

    def __init__(self, maps: dict, shape: tuple):
        self.maps, self.shape = maps, shape

    def forward(self, g):
        xp = self.xp
        for d, src in self.maps.items():
            shape = g.shape[:d] + (self.shape[d],) + g.shape[d + 1:]
            out = xp.zeros(shape, dtype=g.dtype)
            # with ``d`` moved to the front (views), the map addresses whole slices; the map is a
            # few runs of consecutive positions, each folded back with one slice addition
            o, gd = xp.moveaxis(out, d, 0), xp.moveaxis(g, d, 0)
            for p0, p1, s0, step in pad_runs(src):
                if step == 0:
                    o[s0] += gd[p0:p1].sum(axis=0)
                elif step == 1:
                    o[s0:s0 + p1 - p0] += gd[p0:p1]
                else:
                    o[s0 - (p1 - p0) + 1:s0 + 1] += gd[p0:p1][::-1]
            g = out
        return g

    def backward(self, ggx):
        return IndexPad(self.maps).apply(ggx)


def _check_widths(mode: str, shape: tuple, widths: tuple) -> None:
    for d, (b, a) in enumerate(widths):
        n = shape[d]
        if (b, a) == (0, 0):
            continue
        if n + b + a < 0 or (mode == "circular" and n - max(-b, 0) - max(-a, 0) < 0):
            raise RuntimeError(
                f"narrow(): length must be non-negative. (padding {(b, a)} leaves a negative size "
                f"at dimension {d} of input {list(shape)})")
        if mode == "reflect" and (b >= n or a >= n):
            raise RuntimeError(
                f"Argument #4: Padding size should be less than the corresponding input dimension, but "
                f"got: padding ({b}, {a}) at dimension {d} of input {list(shape)}")
        if mode == "circular" and (b > n or a > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")


def _pad_name(mode: str, n: int) -> str | None:
    """PyTorch's node for ``pad``: one per mode and rank (circular is a copy into slices there)."""
    kind = {"reflect": "Reflection", "replicate": "Replication"}.get(mode)
    return f"{kind}Pad{n}DBackward0" if kind else None


@named_output(lambda input, pad, mode="constant", *a, **k: _pad_name(mode, len(pad) // 2))
def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad (or, with negative widths, crop) the last ``len(pad) // 2`` dimensions of ``input``.

    ``pad = (left_last, right_last, left_second_last, ...)``. ``mode='constant'`` fills with
    ``value`` (default 0) and works for any number of dimensions; 'reflect' mirrors without
    repeating the edge (``[1, 2, 3] -> 3 2 | 1 2 3 | 2 1``), 'replicate' repeats the edge, and
    'circular' wraps around; those pad the last 1, 2 or 3 dimensions of a tensor with one or
    two more dimensions (batch and channels), as in PyTorch.
    """
    pad = tuple(int(p) for p in pad)
    nd = input._data.ndim
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > nd:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got "
            f"padding length {len(pad)} and input of dimension {nd}")
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    k = len(pad) // 2
    sides = [(0, 0)] * nd
    for i in range(k):
        sides[nd - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    widths = tuple(sides)
    shape = input._data.shape
    if mode == "constant":
        fill = 0 if value is None else value
        if not isinstance(fill, numbers.Number):
            raise TypeError(f"pad(): value must be a number, got {type(fill).__name__}")
        for d, (b, a) in enumerate(widths):
            if shape[d] + min(b, 0) + min(a, 0) < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
        if all(w == (0, 0) for w in widths):
            return input.clone()
        return ConstantPad(widths, input._data.dtype.type(fill)).apply(input)
    if value is not None:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if k not in (1, 2, 3) or nd not in (k + 1, k + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {nd}D input tensor.")
    if any(n == 0 for n in (shape[1:] if nd == k + 2 else shape)):  # only the batch may be empty
        raise RuntimeError(
            f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and other "
            f"non-zero dimensions for input, but got: {list(shape)}")
    _check_widths(mode, shape, widths)
    maps = {d: size_only(pad_source_map(mode, shape[d], b, a)) for d, (b, a) in enumerate(widths)
            if (b, a) != (0, 0)}
    if not maps:
        return input.clone()
    return IndexPad(maps).apply(input)


def constant_pad_nd(input: Tensor, pad, value=0) -> Tensor:
    """``pad(input, pad, 'constant', value)`` (PyTorch's ``torch.constant_pad_nd``)."""
    return _pad(input, pad, "constant", value)


_pad = pad  # ``constant_pad_nd``'s argument ``pad`` hides the function


__all__ = ["constant_pad_nd"]  # ``pad`` itself is exported by chainrule.nn.functional

TENSOR_METHODS: list[str] = []
