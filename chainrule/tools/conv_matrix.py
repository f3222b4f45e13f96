"""``conv_matrix(conv, input_shape)``: a convolution written out as the matrix it multiplies by.

A convolution is linear in its input, so for one sample ``x`` of shape (C_in, *S_in)

    conv(x).flatten() == M @ x.flatten() + b,    b = bias repeated prod(S_out) times per channel

with ``M`` of shape (C_out * prod(S_out), C_in * prod(S_in)). Entry
``M[(o, q), (g * C_in/groups + c, q * stride - pad + t * dilation)] = weight[o, c, t]`` for every
output channel o (of group g), output position q, input channel c of that group and kernel
offset t whose input position falls inside the input (zero padding: taps on padding vanish).
The same weight's transposed convolution (same stride, padding, dilation, groups and the
``output_padding`` that restores S_in) is multiplication by ``M.T``.

``M`` is built by index arithmetic: one (row, column, weight index) triple per tap, over all
(o, c, q, t) at once, without running the convolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import backend
from ..autograd.grad_mode import no_grad
from ..nn import Conv1d, Conv2d, Conv3d
from ..ops.conv import ntuple
from ..tensor import Tensor

_CONVS = (Conv1d, Conv2d, Conv3d)
_MODES = ("zeros", "reflect", "replicate", "circular")
DENSE_LIMIT = 1 << 24  # elements; larger matrices come back in coordinate form unless sparse=False


@dataclass(frozen=True)
class SparseMatrix:
    """A matrix in coordinate form: ``M[rows[i], cols[i]] = values[i]`` (positions absent are 0)."""

    rows: Tensor  # int64
    cols: Tensor  # int64
    values: Tensor
    shape: tuple

    def to_dense(self) -> Tensor:
        xp = backend.array_module(self.values._data)
        m = xp.zeros(self.shape, dtype=self.values._data.dtype)
        # circular/reflect padding can send two taps of one output to the same input: add them
        xp.add.at(m, (self.rows._data, self.cols._data), self.values._data)
        return Tensor._make(m)

    def matvec(self, x: Tensor) -> Tensor:
        """``M @ x`` for a vector ``x`` of length shape[1]."""
        xp = backend.array_module(self.values._data)
        y = xp.zeros(self.shape[0], dtype=self.values._data.dtype)
        xp.add.at(y, self.rows._data, self.values._data * x._data.reshape(-1)[self.cols._data])
        return Tensor._make(y)


def _ntuple(value: Any, n: int, name: str) -> tuple:
    """The convolution's own argument parsing (``ops.conv.ntuple``), reported as a ValueError."""
    try:
        return ntuple(value, n, name, "conv_matrix")
    except TypeError as e:
        raise ValueError(str(e)) from None


def _resolve_padding(padding: Any, kernel: tuple, dilation: tuple, n: int) -> tuple[tuple, tuple]:
    """(front, back) padding per axis; 'same' puts the odd extra element at the back (PyTorch)."""
    if padding == "valid":
        return (0,) * n, (0,) * n
    if padding == "same":
        total = tuple(d * (k - 1) for k, d in zip(kernel, dilation))
        return tuple(t // 2 for t in total), tuple(t - t // 2 for t in total)
    pad = _ntuple(padding, n, "padding")
    if any(p < 0 for p in pad):
        raise ValueError(f"conv_matrix: padding must be non-negative, got {padding!r}")
    return pad, pad


def _source(pos: np.ndarray, size: int, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Input index read at padded position ``pos`` (may be out of range) and whether it exists."""
    inside = (pos >= 0) & (pos < size)
    if mode == "zeros":
        return np.clip(pos, 0, size - 1), inside
    if mode == "replicate":
        return np.clip(pos, 0, size - 1), np.ones_like(inside)
    if mode == "circular":
        return np.mod(pos, size), np.ones_like(inside)
    period = 2 * (size - 1)  # reflect: ... 2 1 | 0 1 2 ... L-1 | L-2 ...
    folded = np.mod(pos, period) if period else np.zeros_like(pos)
    return np.where(folded < size, folded, period - folded), np.ones_like(inside)


def conv_matrix(conv: Any, input_shape, *, stride=1, padding=0, dilation=1, groups: int = 1,
                padding_mode: str = "zeros", sparse: bool | None = None):
    """The matrix ``M`` with ``conv(x).flatten() == M @ x.flatten() + bias`` for one sample.

    ``conv`` is a ``Conv1d/2d/3d`` module (its hyper-parameters are used; a module with a
    ``standardized_weight()``, e.g. ``WSConv2d``, contributes the weight it convolves with) or a
    raw weight tensor of shape (C_out, C_in / groups, *kernel) with ``stride``, ``padding``,
    ``dilation``, ``groups`` and ``padding_mode`` given here. ``input_shape`` is one sample's
    shape without the batch dimension, e.g. ``(C, H, W)``.

    Returns a dense ``Tensor`` of shape (C_out * prod(S_out), C_in * prod(S_in)), or with
    ``sparse=True`` a ``SparseMatrix`` (rows, cols, values, shape); the default ``sparse=None``
    is dense up to 2**24 elements and sparse beyond. With zero padding, the transposed
    convolution with the same weight is ``M.T``. The result is not attached to the graph.

    Example: a 3x3 input x1..x9 (row-major) and a 2x2 kernel [[w1, w2], [w3, w4]], no padding,
    stride 1, give a 2x2 output y1..y4 and::

        y1 = w1 x1 + w2 x2 + w3 x4 + w4 x5        [[w1 w2 0  w3 w4 0  0  0  0 ]
        y2 = w1 x2 + w2 x3 + w3 x5 + w4 x6    M =  [0  w1 w2 0  w3 w4 0  0  0 ]
        y3 = w1 x4 + w2 x5 + w3 x7 + w4 x8         [0  0  0  w1 w2 0  w3 w4 0 ]
        y4 = w1 x5 + w2 x6 + w3 x8 + w4 x9         [0  0  0  0  w1 w2 0  w3 w4]]

    each row the kernel laid out along the flattened input and shifted by one position per
    output step (by a whole input row at the end of an output row): a doubly block-Toeplitz,
    mostly-zero matrix.
    """
    if isinstance(conv, _CONVS):
        with no_grad():
            weight = conv.standardized_weight() if hasattr(conv, "standardized_weight") else conv.weight
        n = conv.weight.ndim - 2
        stride, dilation, groups = tuple(conv.stride), tuple(conv.dilation), conv.groups
        padding, padding_mode = conv.padding, conv.padding_mode
    elif isinstance(conv, Tensor):
        weight = conv
        n = weight.ndim - 2
        if n < 1:
            raise ValueError(f"conv_matrix: a weight of shape (C_out, C_in / groups, *kernel) with 1 to 3 "
                             f"kernel axes is expected, got shape {tuple(weight.shape)}")
        stride, dilation = _ntuple(stride, n, "stride"), _ntuple(dilation, n, "dilation")
    else:
        raise TypeError(f"conv_matrix expects a Conv1d/Conv2d/Conv3d module or a weight Tensor, "
                        f"got {type(conv).__name__}")
    if padding_mode not in _MODES:
        raise ValueError(f"conv_matrix: padding_mode must be one of {_MODES}, got {padding_mode!r}")
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise ValueError(f"conv_matrix: stride and dilation must be positive, got stride={stride}, "
                         f"dilation={dilation}")
    c_out, c_in_g, *kernel = (int(s) for s in weight.shape)
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1 or c_out % groups:
        raise ValueError(f"conv_matrix: groups must be a positive int dividing C_out={c_out}, got {groups!r}")
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != n + 1:
        raise ValueError(f"conv_matrix: input_shape must be one sample's shape (C, *spatial) with {n} "
                         f"spatial axes, without the batch dimension; got {tuple(input_shape)}")
    c_in, *size = shape
    if c_in != c_in_g * groups:
        raise ValueError(f"conv_matrix: the weight expects {c_in_g * groups} input channels "
                         f"({c_in_g} per group x {groups} groups), input_shape has {c_in}")
    front, back = _resolve_padding(padding, tuple(kernel), dilation, n)
    out = [(L + f + b - d * (k - 1) - 1) // s + 1
           for L, f, b, k, s, d in zip(size, front, back, kernel, stride, dilation)]
    if any(o < 1 for o in out):
        raise ValueError(f"conv_matrix: input_shape {shape} is smaller than the dilated kernel "
                         f"(output size would be {tuple(out)})")
    if padding_mode == "reflect" and any(f >= L or b >= L for f, b, L in zip(front, back, size)):
        raise ValueError("conv_matrix: reflect padding must be smaller than the input size")

    rows_total, cols_total = c_out * int(np.prod(out)), c_in * int(np.prod(size))
    rows, cols, widx = _triples(c_out, c_in_g, groups, tuple(kernel), tuple(size), tuple(out), stride,
                                front, dilation, padding_mode)
    xp = backend.array_module(weight._data)
    values = weight._data.reshape(-1)[xp.asarray(widx)]
    rows_t = Tensor._make(xp.asarray(rows))
    cols_t = Tensor._make(xp.asarray(cols))
    result = SparseMatrix(rows_t, cols_t, Tensor._make(values), (rows_total, cols_total))
    if sparse is None:
        sparse = rows_total * cols_total > DENSE_LIMIT
    return result if sparse else result.to_dense()


def _triples(c_out: int, c_in_g: int, groups: int, kernel: tuple, size: tuple, out: tuple,
             stride: tuple, front: tuple, dilation: tuple, mode: str):
    """(row, column, flat weight index) of every tap that lands on an input element.

    Axes of the index grid: (o, c, q_1 .. q_n, t_1 .. t_n) for output channel o, input channel
    c within the group, output position q and kernel offset t.
    """
    n = len(kernel)
    grid_rank = 2 + 2 * n

    def along(values: np.ndarray, axis: int) -> np.ndarray:
        shape = [1] * grid_rank
        shape[axis] = values.shape[0]
        return values.reshape(shape)

    o = along(np.arange(c_out, dtype=np.int64), 0)
    c = along(np.arange(c_in_g, dtype=np.int64), 1)
    row = o
    col = (o // (c_out // groups)) * c_in_g + c  # global input channel of group g(o)
    widx = o * c_in_g + c
    valid = np.ones((1,) * grid_rank, dtype=bool)
    for a in range(n):
        q = along(np.arange(out[a], dtype=np.int64), 2 + a)
        t = along(np.arange(kernel[a], dtype=np.int64), 2 + n + a)
        src, inside = _source(q * stride[a] - front[a] + t * dilation[a], size[a], mode)
        row = row * out[a] + q
        col = col * size[a] + src
        widx = widx * kernel[a] + t
        valid = valid & inside
    full = np.broadcast_shapes(row.shape, col.shape, widx.shape, valid.shape)
    valid = np.broadcast_to(valid, full)
    return (np.broadcast_to(row, full)[valid], np.broadcast_to(col, full)[valid],
            np.broadcast_to(widx, full)[valid])


def transposed_output_padding(input_shape, kernel, stride=1, padding=0, dilation=1) -> tuple:
    """The ``output_padding`` that makes the transposed convolution return ``input_shape``'s
    spatial size: ``L - ((L_out - 1) s - 2 p + d (k - 1) + 1)`` per axis."""
    size = tuple(int(s) for s in input_shape)[1:]
    n = len(size)
    kernel = _ntuple(kernel, n, "kernel_size")
    stride, padding, dilation = (_ntuple(v, n, name) for v, name in
                                 ((stride, "stride"), (padding, "padding"), (dilation, "dilation")))
    result = []
    for L, k, s, p, d in zip(size, kernel, stride, padding, dilation):
        out = (L + 2 * p - d * (k - 1) - 1) // s + 1
        result.append(L - ((out - 1) * s - 2 * p + d * (k - 1) + 1))
    return tuple(result)


__all__ = ["conv_matrix", "SparseMatrix", "transposed_output_padding"]
