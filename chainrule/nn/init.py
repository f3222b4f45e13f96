"""``chainrule.nn.init``: weight initialisers with PyTorch's names, arguments and distributions.

The fan-based initialisers (Xavier/Glorot, Kaiming/He) are one rule, as in JAX's
``variance_scaling``: draw with variance ``scale / n`` where ``n`` is ``fan_in``, ``fan_out`` or
their mean, from a uniform, normal or truncated normal distribution of that variance.
Fans are computed for PyTorch's weight layout ``(out_features, in_features, *kernel)``:
``fan_in = in * prod(kernel)``, ``fan_out = out * prod(kernel)``.

Every function fills the tensor in place without recording a gradient and returns it; all random
ones take ``generator=`` (a ``chainrule.Generator``; the global one by default).
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import backend
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor

# std of N(0, 1) truncated to [-2, 2]: dividing by it keeps the requested variance (JAX's constant)
_TRUNC2_STD = 0.87962566103423978


def _empty(tensor: Tensor) -> bool:
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def _write(tensor: Tensor, values: np.ndarray) -> Tensor:
    xp = backend.array_module(tensor._data)
    with no_grad():
        tensor.copy_(Tensor._make(xp.asarray(values.astype(tensor._data.dtype, copy=False))))
    return tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float | int:
    """The gain that keeps activations' variance after ``nonlinearity``.

    linear, conv*, sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu(slope): sqrt(2 / (1 + slope^2))
    (slope 0.01 by default); selu: 3/4.
    """
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1  # an int, as PyTorch returns it (printed as 1, not 1.0)
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) = (shape[1] * receptive, shape[0] * receptive), receptive = prod(shape[2:])."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _check_mode(mode: str) -> str:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    return mode


def variance_scaling_(tensor: Tensor, scale: float = 1.0, mode: str = "fan_in",
                      distribution: str = "truncated_normal", generator=None) -> Tensor:
    """Fill with zero-mean samples of variance ``scale / n`` (JAX's ``variance_scaling``).

    ``mode`` picks n: ``fan_in``, ``fan_out`` or ``fan_avg`` = (fan_in + fan_out) / 2.
    ``distribution``: ``uniform`` on [-sqrt(3 var), sqrt(3 var)], ``normal`` N(0, var), or
    ``truncated_normal`` (cut at two standard deviations, rescaled to keep the variance).
    """
    if scale < 0:
        raise ValueError(f"scale must be non-negative, got {scale}")
    if mode not in ("fan_in", "fan_out", "fan_avg"):
        raise ValueError(f"mode must be one of fan_in, fan_out, fan_avg, got {mode!r}")
    if distribution not in ("uniform", "normal", "truncated_normal"):
        raise ValueError(f"distribution must be one of uniform, normal, truncated_normal, got {distribution!r}")
    if _empty(tensor):
        return tensor
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    variance = scale / n
    rng = backend.rng(generator)
    shape = tuple(tensor.shape)
    if distribution == "uniform":
        bound = math.sqrt(3.0 * variance)
        values = rng.uniform(-bound, bound, size=shape)
    elif distribution == "normal":
        values = rng.normal(0.0, math.sqrt(variance), size=shape)
    else:
        values = _truncated_standard_normal(rng, shape, -2.0, 2.0) * (math.sqrt(variance) / _TRUNC2_STD)
    return _write(tensor, values)


def _truncated_standard_normal(rng: np.random.Generator, shape: tuple, lo: float, hi: float) -> np.ndarray:
    """N(0, 1) conditioned on [lo, hi], by rejection: redraw what falls outside."""
    accept = 0.5 * (math.erf(hi / math.sqrt(2)) - math.erf(lo / math.sqrt(2)))
    if accept < 1e-6:
        raise ValueError(
            f"trunc_normal_: the interval [{lo:.3g}, {hi:.3g}] (in standard deviations around the mean) "
            "holds almost no probability mass; move the bounds closer to the mean")
    out = rng.standard_normal(shape)
    bad = (out < lo) | (out > hi)
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = (out < lo) | (out > hi)
    return out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with samples of U(a, b)."""
    if a > b:
        raise ValueError(f"uniform_ expects a <= b, but got a={a} > b={b}")
    if _empty(tensor):
        return tensor
    return _write(tensor, backend.rng(generator).uniform(a, b, size=tuple(tensor.shape)))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with samples of N(mean, std^2)."""
    if std < 0:
        raise ValueError(f"normal_ expects std >= 0.0, but found std {std}")
    if _empty(tensor):
        return tensor
    return _write(tensor, backend.rng(generator).normal(mean, std, size=tuple(tensor.shape)))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator=None) -> Tensor:
    """Fill with N(mean, std^2) conditioned on [a, b] (absolute bounds, as in PyTorch)."""
    if std <= 0:
        raise ValueError(f"trunc_normal_ expects std > 0, got {std}")
    if a >= b:
        raise ValueError(f"trunc_normal_ expects a < b, got a={a}, b={b}")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    if _empty(tensor):
        return tensor
    z = _truncated_standard_normal(backend.rng(generator), tuple(tensor.shape), (a - mean) / std, (b - mean) / std)
    return _write(tensor, mean + std * z)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the main diagonal of a possibly non-square matrix)."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _write(tensor, np.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a conv weight (out, in, *kernel) so that the convolution is the identity on the first
    min(out / groups, in) channels of each group: w[g*og + d, d, centre] = 1, zero elsewhere."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    shape = tuple(tensor.shape)
    if shape[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = shape[0] // groups
    values = np.zeros(shape)
    centre = tuple(k // 2 for k in shape[2:])
    for g in range(groups):
        for d in range(min(out_per_group, shape[1])):
            values[(g * out_per_group + d, d) + centre] = 1.0
    return _write(tensor, values)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot uniform: U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out))."""
    return variance_scaling_(tensor, gain**2, "fan_avg", "uniform", generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot normal: N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    return variance_scaling_(tensor, gain**2, "fan_avg", "normal", generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator=None) -> Tensor:
    """He uniform: U(-b, b), b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).

    With a = sqrt(5) (PyTorch's layer default) b = 1 / sqrt(fan_in).
    """
    gain = calculate_gain(nonlinearity, a)
    return variance_scaling_(tensor, gain**2, _check_mode(mode), "uniform", generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator=None) -> Tensor:
    """He normal: N(0, std^2), std = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a)."""
    gain = calculate_gain(nonlinearity, a)
    return variance_scaling_(tensor, gain**2, _check_mode(mode), "normal", generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix times ``gain``, viewing the tensor as (shape[0], rest).

    The QR factor of a Gaussian matrix, with the signs of R's diagonal folded in so that the
    result is uniformly (Haar) distributed.
    """
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = backend.rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _write(tensor, (gain * q).reshape(tuple(tensor.shape)))


__all__ = [
    "calculate_gain", "variance_scaling_", "uniform_", "normal_", "trunc_normal_", "constant_", "zeros_",
    "ones_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    "orthogonal_",
]
