"""Pooling, N-d: max, average, adaptive average/max, and max-unpooling.

Max pooling picks, per window, the first maximum in scan order (row-major over the kernel; a
NaN wins, the last one if several, as PyTorch). Its value is a *gather* of the input at those
positions, so its gradient is the adjoint *scatter-add* of the output gradient onto them
(``MaxPoolGrad``, run by the kernel backend that found the maxima), an operator linear in that
gradient whose own derivative is the gather again (``PlaneGather`` / ``PlaneScatter``). Average pooling is a window sum divided by a per-position divisor; its
gradient is the transposed window sum (``AvgPool`` / ``AvgPoolTranspose``, each the other's
adjoint). Adaptive average pooling with windows of unequal size is a product with one averaging
matrix per axis.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from .. import kernels
from ..autograd.function import _FREED_MSG, FunctionNode, named_output
from ..backend import array_module, int64
from ..kernels.tables import averaging_matrix, avg_divisor, size_only
from ..kernels.windows import (
    Window,
    pool_out_size,
)
from ..tensor import Tensor
from .conv import _channels_first, _check_float, _unbatch, ntuple
from .indexing import scatter_add_into
from .linalg import matmul
from .shape import reshape, transpose

# ---- index gather / scatter on the (N, C) planes -------------------------------------------------


def _global_index(xp, idx, plane: int):
    """Per-plane flat indices (N, C, *P) -> indices into the flattened (N, C, plane) array."""
    n, c = idx.shape[:2]
    base = (xp.arange(n * c, dtype=idx.dtype) * plane).reshape((n, c) + (1,) * (idx.ndim - 2))
    return (idx + base).ravel()


class PlaneGather(FunctionNode):
    """``y[n, c, p] = x[n, c, idx[n, c, p]]`` with ``idx`` a flat index into each (n, c) plane."""

    def __init__(self, idx, in_shape: tuple):
        self.idx, self.in_shape = idx, tuple(in_shape)

    def forward(self, x):
        n, c = x.shape[:2]
        flat = x.reshape(n, c, -1)
        return self.xp.take_along_axis(flat, self.idx.reshape(n, c, -1), axis=2).reshape(self.idx.shape)

    def backward(self, gy):
        return PlaneScatter(self.idx, self.in_shape).apply(gy)


class PlaneScatter(FunctionNode):
    """The adjoint of ``PlaneGather``: zeros of ``shape`` with ``g[n, c, p]`` added at ``idx[n, c, p]``
    (repeated indices add up)."""

    def __init__(self, idx, shape: tuple):
        self.idx, self.shape = idx, tuple(shape)

    def forward(self, g):
        xp = self.xp
        plane = math.prod(self.shape[2:])
        out = xp.zeros(math.prod(self.shape), dtype=g.dtype)
        scatter_add_into(xp, out, _global_index(xp, self.idx, plane), g.ravel())
        return out.reshape(self.shape)

    def backward(self, gg):
        return PlaneGather(self.idx, self.shape).apply(gg)


class _IndexedMax(FunctionNode):
    """Base of the max pools. Forward keeps ``route``, where each window's maximum is: an object
    of the kernel backend that made it (``kernels/*/pool.py``), asked for the flat indices and
    for the gradient only when needed. With ``want_indices`` (``return_indices``) forward returns
    the maxima and their flat per-plane input indices, (N, C, *P) int64, as a second output (no
    gradient), so that a graph capture replays them on new values. Backward is ``MaxPoolGrad``."""

    route: Any = None  # the kernel backend's object (kernels/*/pool.py)
    want_indices = False

    def _keep(self, x, route) -> None:
        self.in_shape, self.route = x.shape, route

    def _result(self, y):
        """``y``, or ``(y, indices)`` where the caller asks for the indices."""
        return (y, self.route.indices(self.xp)) if self.want_indices else y

    def backward(self, gy, gidx=None):  # the indices (int64) get no gradient
        if self.route is None:  # released after a backward without retain_graph
            raise RuntimeError(_FREED_MSG)
        torch_name = self.torch_name
        assert torch_name is not None  # every max pool names its node
        name = torch_name.replace("Backward0", "BackwardBackward0")  # PyTorch's name
        return MaxPoolGrad(self.route, self.in_shape, name).apply(gy)

    def _release_extra(self) -> None:
        self.route = None


class MaxPoolGrad(FunctionNode):
    """Zeros of the input's shape with each ``g`` added at its window's maximum: the adjoint of
    the gather at the maxima. Forward is the route's kernel (compiled where it was made); the
    node is linear in ``g``, so its backward is that gather (``PlaneGather``), whose own backward
    is the scatter again: first and second derivatives run the same code."""

    torch_name: str  # set per instance: the pool's name, as a second-order node

    def __init__(self, route, in_shape: tuple, torch_name: str):
        self.route, self.in_shape, self.torch_name = route, tuple(in_shape), torch_name

    def forward(self, g, out=None):
        """``out``: an array the result may be written into (a compiled schedule's buffer)."""
        return self.route.route(self.xp, g, out=out)

    def backward(self, gg):
        return PlaneGather(self.route.indices(self.xp), self.in_shape).apply(gg)


class MaxPool(_IndexedMax):
    """``indices``: whether the caller asks for the indices (``return_indices``); without that
    and without a gradient to route (inference) only the maximum is computed."""

    @property
    def torch_name(self) -> str:  # PyTorch pools 1-d as 2-d
        return f"MaxPool{max(self.win.nd, 2)}DWithIndicesBackward0"

    def __init__(self, win: Window, indices: bool = False):
        self.win, self.want_indices = win, indices

    def forward(self, x):
        need = self.want_indices or any(self.needs_input_grad)
        y, route = kernels.call("pool", "max_pool", self.xp, x, win=self.win, with_route=need)
        if need:
            self._keep(x, route)
        return self._result(y)


class AdaptiveMaxPool(_IndexedMax):
    """Max over the windows ``[floor(i*S/P), ceil((i+1)*S/P))`` of each axis."""

    @property
    def torch_name(self) -> str:
        return f"AdaptiveMaxPool{max(len(self.out_size), 2)}DBackward0"

    def __init__(self, out_size: tuple, indices: bool = False):
        self.out_size, self.want_indices = tuple(out_size), indices

    def forward(self, x):
        y, route = kernels.call("pool", "adaptive_max_pool", self.xp, x, out_size=self.out_size)
        self._keep(x, route)
        return self._result(y)


class MaxUnpool(FunctionNode):
    """Zeros of ``shape`` with ``x[n, c, p]`` written at flat plane index ``idx[n, c, p]`` (int64).
    Forward checks that every index lies in its plane (raising ``op``'s error), so that a replay
    of a graph capture checks each call's indices."""

    @property
    def torch_name(self) -> str:
        return f"MaxUnpool{max(len(self.shape) - 2, 2)}DBackward0"

    def __init__(self, idx, shape: tuple, op: str = "max_unpool"):
        self.idx, self.shape, self.op = idx, tuple(shape), op

    def forward(self, x):
        xp = self.xp
        idx, out = self.idx, self.shape[2:]
        plane = math.prod(out)
        if idx.size:
            lo, hi = int(idx.min()), int(idx.max())
            if lo < 0 or hi >= plane:
                raise RuntimeError(f"{self.op}: found an invalid max index: {hi if hi >= plane else lo} (output "
                                   f"volumes are of size {'x'.join(map(str, out))})")
        out = xp.zeros(math.prod(self.shape), dtype=x.dtype)
        out[_global_index(xp, self.idx, math.prod(self.shape[2:]))] = x.ravel()
        return out.reshape(self.shape)

    def backward(self, gy):
        return PlaneGather(self.idx, self.shape).apply(gy)


# ---- average pooling ----------------------------------------------------------------------------


class AvgPool(FunctionNode):
    """``window_sum(x) / divisor`` with a per-position divisor (a number or an array of shape P)."""

    @property
    def torch_name(self) -> str:
        return f"AvgPool{max(self.win.nd, 2)}DBackward0"

    def __init__(self, win: Window, divisor):
        self.win, self.divisor = win, divisor

    def forward(self, x):
        y = kernels.call("pool", "window_sum", self.xp, x, win=self.win)
        y /= self.xp.asarray(self.divisor, dtype=x.dtype)  # small integers: exact in any float type
        return y

    def backward(self, gy):
        return AvgPoolTranspose(self.win, self.divisor).apply(gy)


class AvgPoolTranspose(FunctionNode):
    """The adjoint of ``AvgPool``: ``window_sum_transpose(g / divisor)``."""

    def __init__(self, win: Window, divisor):
        self.win, self.divisor = win, divisor

    def forward(self, g):
        g = g / self.xp.asarray(self.divisor, dtype=g.dtype)
        return kernels.call("pool", "window_sum_transpose", self.xp, g, win=self.win)

    def backward(self, gg):
        return AvgPool(self.win, self.divisor).apply(gg)


def _avg_divisor(win: Window, count_include_pad: bool, divisor_override):
    """PyTorch's divisor: the window clipped to the padded input (count_include_pad) or to the
    input itself, per position; a product of per-axis counts."""
    if divisor_override is not None:
        return divisor_override
    return size_only(avg_divisor(win, count_include_pad))


# ---- functional API -----------------------------------------------------------------------------


def _pool_window(nd: int, op: str, x: Tensor, kernel_size, stride, padding, dilation,
                 ceil_mode: bool) -> Window:
    k = ntuple(kernel_size, nd, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else \
        ntuple(stride, nd, "stride", op)
    p = ntuple(padding, nd, "padding", op)
    d = ntuple(dilation, nd, "dilation", op)
    if any(v <= 0 for v in k):
        raise RuntimeError(f"{op}: kernel_size must be greater than zero, but got kernel_size={list(k)}")
    if any(v <= 0 for v in s):
        raise RuntimeError(f"{op}: stride must be greater than zero, but got stride={list(s)}")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"{op}: dilation must be greater than zero, but got dilation={list(d)}")
    if any(v < 0 for v in p):
        raise RuntimeError(f"{op}: negative padding is not supported, got padding={list(p)}")
    if any(pp > kk // 2 for pp, kk in zip(p, k)):
        raise RuntimeError(f"{op}: pad should be at most half of kernel size, but got pad={list(p)} "
                           f"and kernel_size={list(k)}")
    size = tuple(x.shape[2:])
    if any(v == 0 for v in size):
        raise RuntimeError(f"{op}: expected non-empty spatial dimensions, got input of size {list(x.shape)}")
    out = tuple(pool_out_size(n, kk, ss, dd, pp, ceil_mode) for n, kk, ss, dd, pp in zip(size, k, s, d, p))
    if any(o < 1 for o in out):
        raise RuntimeError(
            f"{op}: given input size: ({'x'.join(map(str, x.shape[1:]))}). Calculated output size: "
            f"({'x'.join(map(str, (x.shape[1],) + out))}). Output size is too small")
    return Window(size, out, k, s, d, p)


def _run_max(nd: int, input: Tensor, x: Tensor, node: _IndexedMax, return_indices: bool):
    """Apply a max pool to ``x`` (``input`` with its batch axis); with ``return_indices`` also
    return the flat plane indices of the maxima (the node's second output)."""
    if not return_indices:
        return _unbatch(input, nd, node.apply(x))
    y, idx = node.apply(x)
    return _unbatch(input, nd, y), _unbatch(input, nd, idx)


def _max_poolnd(nd, op, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x = _channels_first(nd, op, input)
    _check_float(op, x)
    win = _pool_window(nd, op, x, kernel_size, stride, padding, dilation, ceil_mode)
    return _run_max(nd, input, x, MaxPool(win, return_indices), return_indices)


def _avg_poolnd(nd, op, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override):
    x = _channels_first(nd, op, input)
    _check_float(op, x)
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, numbers.Integral):
            raise TypeError(f"{op}: divisor_override must be an int, got {divisor_override!r}")
        if divisor_override == 0:
            raise RuntimeError(f"{op}: divisor must be not zero")
    win = _pool_window(nd, op, x, kernel_size, stride, padding, 1, ceil_mode)
    div = _avg_divisor(win, count_include_pad, divisor_override)
    return _unbatch(input, nd, AvgPool(win, div).apply(x))


def _adaptive_size(nd: int, op: str, x: Tensor, output_size) -> tuple:
    if isinstance(output_size, (tuple, list)):
        if len(output_size) == 1:
            output_size = tuple(output_size) * nd
        if len(output_size) != nd:
            raise RuntimeError(f"{op}: output_size must have {nd} elements, got {list(output_size)}")
        out = tuple(x.shape[2 + a] if v is None else v for a, v in enumerate(output_size))
    else:
        out = ntuple(output_size, nd, "output_size", op)
    if any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1 for v in out):
        raise RuntimeError(f"{op}: elements of output_size must be positive ints, got {list(out)}")
    if any(v == 0 for v in x.shape[2:]):
        raise RuntimeError(f"{op}: expected non-empty spatial dimensions, got input of size {list(x.shape)}")
    return tuple(int(v) for v in out)


def _equal_windows(size: tuple, out: tuple) -> Window | None:
    """Where every output divides its axis, the adaptive windows ``[i*S/P, (i+1)*S/P)`` are those
    of a plain pool with kernel = stride = S/P (which reads them much faster); else None."""
    if any(s % o for s, o in zip(size, out)):
        return None
    k = tuple(s // o for s, o in zip(size, out))
    return Window(size, out, k, k, (1,) * len(k), (0,) * len(k))


def _adaptive_avg_poolnd(nd, op, input, output_size):
    x = _channels_first(nd, op, input)
    _check_float(op, x)
    out = _adaptive_size(nd, op, x, output_size)
    size = tuple(x.shape[2:])
    win = _equal_windows(size, out)
    if win is not None:
        return _unbatch(input, nd, AvgPool(win, float(math.prod(win.kernel))).apply(x))
    # unequal windows: y = x multiplied along each axis a by its averaging matrix A_a (P_a x S_a)
    dt, xp = x._data.dtype, array_module(x._data)
    y = x
    for a in range(nd):
        at = Tensor._make(size_only(xp.ascontiguousarray(xp.asarray(averaging_matrix(size[a], out[a], dt).T))))
        axis = 2 + a
        y = transpose(matmul(transpose(y, axis, -1), at), axis, -1)
    return _unbatch(input, nd, y)


def _adaptive_max_poolnd(nd, op, input, output_size, return_indices):
    x = _channels_first(nd, op, input)
    _check_float(op, x)
    out = _adaptive_size(nd, op, x, output_size)
    win = _equal_windows(tuple(x.shape[2:]), out)
    node = AdaptiveMaxPool(out, return_indices) if win is None else MaxPool(win, return_indices)
    return _run_max(nd, input, x, node, return_indices)


def _max_unpoolnd(nd, op, input, indices, kernel_size, stride, padding, output_size):
    x = _channels_first(nd, op, input)
    _check_float(op, x)
    if not isinstance(indices, Tensor) or indices._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected indices to be an integer Tensor")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{op}: expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}")
    k = ntuple(kernel_size, nd, "kernel_size", op)
    s = k if stride is None else ntuple(stride, nd, "stride", op)
    p = ntuple(padding, nd, "padding", op)
    size = tuple(x.shape[2:])
    default = tuple((n - 1) * ss - 2 * pp + kk for n, ss, pp, kk in zip(size, s, p, k))
    if output_size is None:
        out = default
    else:
        out = tuple(int(v) for v in output_size)
        if len(out) == nd + 2:
            out = out[2:]
        if len(out) != nd:
            raise ValueError(f"{op}: output_size should be a sequence containing {nd} or {nd + 2} elements, "
                             f"but it has a length of '{len(out)}'")
        for a in range(nd):
            lo, hi = default[a] - s[a], default[a] + s[a]
            if not lo < out[a] < hi:
                raise ValueError(f"{op}: invalid output_size {list(out)} (dim {a} must be between {lo} and {hi})")
    # the indices as operators make them (a cast, a batch axis), so that a graph capture replays them
    if indices.dtype != int64:
        indices = indices.to(int64)
    if input.ndim == nd + 1:
        indices = reshape(indices, (1,) + tuple(indices.shape))
    y = MaxUnpool(indices._data, tuple(x.shape[:2]) + out, op).apply(x)
    return _unbatch(input, nd, y)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_poolnd(1, "max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_poolnd(2, "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_poolnd(3, "max_pool3d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _avg_poolnd(1, "avg_pool1d", input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_poolnd(2, "avg_pool2d", input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_poolnd(3, "avg_pool3d", input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override)


def adaptive_avg_pool1d(input, output_size):
    return _adaptive_avg_poolnd(1, "adaptive_avg_pool1d", input, output_size)


def _adaptive_avg_name(n: int, output_size) -> str:
    """PyTorch averages to one position with ``mean``, else with its adaptive-pool node."""
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,)
    return "MeanBackward1" if all(s == 1 for s in sizes) else f"AdaptiveAvgPool{n}DBackward0"


@named_output(lambda input, output_size, **k: _adaptive_avg_name(2, output_size))
def adaptive_avg_pool2d(input, output_size):
    return _adaptive_avg_poolnd(2, "adaptive_avg_pool2d", input, output_size)


@named_output(lambda input, output_size, **k: _adaptive_avg_name(3, output_size))
def adaptive_avg_pool3d(input, output_size):
    return _adaptive_avg_poolnd(3, "adaptive_avg_pool3d", input, output_size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max_poolnd(1, "adaptive_max_pool1d", input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max_poolnd(2, "adaptive_max_pool2d", input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max_poolnd(3, "adaptive_max_pool3d", input, output_size, return_indices)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpoolnd(1, "max_unpool1d", input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpoolnd(2, "max_unpool2d", input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpoolnd(3, "max_unpool3d", input, indices, kernel_size, stride, padding, output_size)


_DOCS = {
    "max_pool": """{nd}-d max pooling of (N, C, {dims}) or (C, {dims}):

        y[n, c, p] = max_j x_pad[n, c, p*stride + j*dilation]   (padding is -inf, never picked)

    L_out = floor((L + 2*padding - dilation*(k - 1) - 1) / stride) + 1, rounded up instead with
    ``ceil_mode`` as long as the last window starts inside the input or its left padding;
    ``stride`` defaults to ``kernel_size``; ``padding`` is at most half the kernel. Ties go to the
    first maximum in row-major scan order of the window, a NaN wins. ``return_indices`` also
    returns the flat index of each maximum within its (H*W...) plane, as int64. The gradient is
    routed to those positions (a scatter-add, differentiable again).""",
    "avg_pool": """{nd}-d average pooling of (N, C, {dims}) or (C, {dims}):

        y[n, c, p] = sum_j x_pad[n, c, p*stride + j] / divisor[p]

    Output sizes as in max pooling. The divisor counts the window's elements inside the padded
    input (``count_include_pad=True``) or inside the input itself (False); ``divisor_override``
    replaces it. The gradient is the transposed window sum of ``g / divisor``.""",
    "adaptive_avg_pool": """{nd}-d adaptive average pooling to ``output_size`` (ints; ``None`` keeps
    an axis): output i of an axis of length L averages inputs [floor(i*L/P), ceil((i+1)*L/P)).
    ``adaptive_avg_pool2d(x, 1)`` is global average pooling.""",
    "adaptive_max_pool": """{nd}-d adaptive max pooling to ``output_size``: output i of an axis of
    length L is the maximum over inputs [floor(i*L/P), ceil((i+1)*L/P)) (ties and NaN as in
    max pooling); ``return_indices`` also returns the flat plane index of each maximum.""",
    "max_unpool": """{nd}-d max-unpooling: the partial inverse of max pooling. Zeros of spatial size
    (L - 1)*stride - 2*padding + kernel_size (or ``output_size``) with ``input[n, c, p]`` written at
    flat plane index ``indices[n, c, p]``; the gradient gathers at the same indices.""",
}
for _nd, _dims in ((1, "L"), (2, "H, W"), (3, "D, H, W")):
    for _name, _doc in _DOCS.items():
        globals()[f"{_name}{_nd}d"].__doc__ = _doc.format(nd=_nd, dims=_dims)


__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "adaptive_avg_pool1d"]

TENSOR_METHODS: list[str] = []
