"""Log-sum-exp, softmax and log-softmax along one dimension, computed stably (max subtracted)."""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd.function import FunctionNode
from ..tensor import Tensor
from ._util import check_tensor, float_operand, torch_type_name, wrap_dim
from .elementwise import exp
from .reduction import _dims, _kept_shape, _unsqueeze_reduced
from .reduction import sum as _sum
from .shape import reshape


def _stable_max(xp, x, axis):
    """max over ``axis`` (kept), with infinite maxima replaced by 0 so that x - m stays finite."""
    m = x.max(axis=axis, keepdims=True) if x.size else xp.zeros(
        _kept_shape(x.shape, axis if isinstance(axis, tuple) else (axis,)), dtype=x.dtype)
    return xp.where(xp.isfinite(m), m, xp.zeros((), dtype=x.dtype))


class LogSumExp(FunctionNode):
    """y = m + log sum_i exp(x_i - m), m = max x (no overflow); gradient exp(x_i - y) = softmax."""

    torch_name = "LogsumexpBackward0"

    def __init__(self, dims: tuple, keepdim: bool):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        xp = self.xp
        self.in_shape = x.shape
        m = _stable_max(xp, x, self.dims)
        with np.errstate(divide="ignore"):  # log 0 = -inf when every term is -inf
            y = xp.log(xp.exp(x - m).sum(axis=self.dims, keepdims=True)) + m
        if not self.keepdim:
            y = y.reshape(tuple(s for i, s in enumerate(x.shape) if i not in self.dims))
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved_tensors
        g = _unsqueeze_reduced(gy, self.in_shape, self.dims, self.keepdim)
        return g * exp(x - _unsqueeze_reduced(y, self.in_shape, self.dims, self.keepdim))


class Softmax(FunctionNode):
    """y_i = exp(x_i - m) / sum_j exp(x_j - m); vjp y * (g - sum_j g_j y_j)."""

    def __init__(self, dim: int):
        self.dim = dim

    def forward(self, x):
        xp = self.xp
        e = xp.exp(x - _stable_max(xp, x, self.dim))
        y = e / e.sum(axis=self.dim, keepdims=True)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return y * (gy - _sum(gy * y, self.dim, keepdim=True))


class LogSoftmax(FunctionNode):
    """y_i = x_i - logsumexp(x); vjp g - exp(y) sum_j g_j."""

    def __init__(self, dim: int):
        self.dim = dim

    def forward(self, x):
        xp = self.xp
        z = x - _stable_max(xp, x, self.dim)
        with np.errstate(divide="ignore"):
            y = z - xp.log(xp.exp(z).sum(axis=self.dim, keepdims=True))
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy - exp(y) * _sum(gy, self.dim, keepdim=True)


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log sum_i exp(x_i) over ``dim`` (int or tuple), computed without overflow."""
    x = float_operand(check_tensor(input, "logsumexp"), "logsumexp")
    return LogSumExp(_dims(dim, x.ndim), keepdim).apply(x)


def _softmax_dim(x: Tensor, dim, name: str, stacklevel: int) -> int:
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                      "include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return wrap_dim(dim, x.ndim)


def _softmax_input(input: Tensor, dtype, name: str) -> Tensor:
    x = check_tensor(input, name)
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a floating-point input (or dtype=), got {torch_type_name(x)}")
    return x


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along ``dim`` (the max is subtracted first, so no overflow).

    ``dtype`` casts the input before the operation.
    """
    x = _softmax_input(input, dtype, "softmax")
    d = _softmax_dim(x, dim, "softmax", _stacklevel)
    if x.ndim == 0:
        return Softmax(0).apply(reshape(x, (1,))).reshape(())
    return Softmax(d).apply(x)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """x_i - log sum_j exp(x_j) along ``dim``, stable for large |x|."""
    x = _softmax_input(input, dtype, "log_softmax")
    d = _softmax_dim(x, dim, "log_softmax", _stacklevel)
    if x.ndim == 0:
        return LogSoftmax(0).apply(reshape(x, (1,))).reshape(())
    return LogSoftmax(d).apply(x)


__all__ = [
    "logsumexp", "softmax", "log_softmax"
]

TENSOR_METHODS = [
    "logsumexp", "softmax", "log_softmax"
]
