"""Resampling: ``interpolate`` (nearest, linear, bilinear, trilinear) and ``pixel_shuffle``.

Interpolation is separable: each spatial axis is resampled on its own. Nearest picks source
indices (``index_select``, whose gradient is ``index_add``); the linear modes multiply the axis by
a constant (out x in) interpolation matrix, so the gradient is the product with its transpose
and every derivative is again a matmul.
"""

from __future__ import annotations

import math
import numbers

from .. import backend
from ..autograd.function import named_output
from ..kernels.tables import linear_matrix, nearest_index, size_only
from ..tensor import Tensor
from .linalg import matmul
from .scatter import IndexSelect
from .shape import movedim, permute, reshape

_LINEAR_DIMS = {"linear": 1, "bilinear": 2, "trilinear": 3}
_MODES = ("nearest", "linear", "bilinear", "trilinear")


def _out_sizes(in_sizes: tuple, size, scale_factor, recompute: bool | None) -> tuple[tuple, tuple]:
    """Output sizes and the per-axis scales (input / output) the coordinate maps use."""
    n = len(in_sizes)
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * n
        if len(sizes) != n:
            raise ValueError(
                f"Input and output must have the same number of spatial dimensions, but got input with spatial "
                f"dimensions of {list(in_sizes)} and output size of {list(sizes)}. Please provide input tensor in "
                "(N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
        if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in sizes):
            raise ValueError(f"size must be positive integers, got {list(sizes)}")
        sizes = tuple(int(s) for s in sizes)
        return sizes, tuple(i / o for i, o in zip(in_sizes, sizes))
    factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * n
    if len(factors) != n:
        raise ValueError(
            f"Input and scale_factor must have the same number of spatial dimensions, but got input with "
            f"spatial dimensions of {list(in_sizes)} and scale_factor of shape {list(factors)}.")
    if any(not isinstance(f, numbers.Real) or f <= 0 for f in factors):
        raise ValueError(f"scale_factor must be positive numbers, got {list(factors)}")
    sizes = tuple(int(math.floor(i * float(f))) for i, f in zip(in_sizes, factors))
    if recompute:
        return sizes, tuple(i / o for i, o in zip(in_sizes, sizes))
    return sizes, tuple(1.0 / float(f) for f in factors)


def _interpolate_name(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", *args, **kwargs) -> str:
    """PyTorch's node for ``interpolate``: one per mode and number of spatial dimensions."""
    n = input.ndim - 2
    if mode == "nearest":
        return f"UpsampleNearest{n}DBackward0"
    return f"Upsample{mode.capitalize()}{n}DBackward0"


@named_output(_interpolate_name)
def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resize the spatial dimensions of (N, C, *spatial) with 1 to 3 spatial dimensions.

    nearest: y[i] = x[floor(i * s)]; linear modes: y[i] = (1 - l) x[i0] + l x[i0 + 1] per axis, with
    the source coordinate ``(i + 0.5) s - 0.5`` (``align_corners=False``) or
    ``i (in - 1) / (out - 1)`` (``align_corners=True``), ``s`` = input size / output size (or
    1 / scale_factor when that was given).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate(): argument 'input' must be Tensor, not {type(input).__name__}")
    if mode not in _MODES:
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the modes: "
            f"nearest | linear | bilinear | trilinear (got {mode})")
    if antialias:
        raise NotImplementedError("interpolate(): antialias=True is not supported")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if input.ndim not in (3, 4, 5):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the modes: "
            f"nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact (got {mode})")
    k = input.ndim - 2
    if mode in _LINEAR_DIMS and _LINEAR_DIMS[mode] != k:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {_LINEAR_DIMS[mode] + 2}D input")
    in_sizes = tuple(input.shape[2:])
    sizes, scales = _out_sizes(in_sizes, size, scale_factor, recompute_scale_factor)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"interpolate(): expected a floating-point input, got {input.dtype}")
    xp = backend.array_module(input._data)
    y = input
    for axis, (n_in, n_out, s) in enumerate(zip(in_sizes, sizes, scales)):
        d = axis + 2
        if mode == "nearest":
            if n_in != n_out or s != 1.0:
                y = IndexSelect(d, size_only(xp.asarray(nearest_index(n_in, n_out, s)))).apply(y)
            continue
        m = linear_matrix(n_in, n_out, s, bool(align_corners))
        weights = Tensor._make(size_only(xp.asarray(m.T.astype(input._data.dtype))))  # (n_in, n_out)
        y = movedim(matmul(movedim(y, d, -1), weights), -1, d)
    return y


def _factor(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise RuntimeError(f"{name} must be greater than 0, but got: {value!r}")
    return int(value)


@named_output("PixelShuffleBackward0")
def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r): y[c, h r + i, w r + j] = x[c r^2 + i r + j, h, w]."""
    r = _factor(upscale_factor, "pixel_shuffle expects upscale_factor")
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
                           f"of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    nb = len(batch)
    y = reshape(input, tuple(batch) + (c // (r * r), r, r, h, w))
    y = permute(y, tuple(range(nb)) + (nb, nb + 3, nb + 1, nb + 4, nb + 2))
    return reshape(y, tuple(batch) + (c // (r * r), h * r, w * r))


@named_output("PixelUnshuffleBackward0")
def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W), the inverse of ``pixel_shuffle``."""
    r = _factor(downscale_factor, "pixel_unshuffle expects downscale_factor")
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    *batch, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by downscale_factor, but "
                           f"input.size(-2)={h} and input.size(-1)={w} are not divisible by {r}")
    nb = len(batch)
    y = reshape(input, tuple(batch) + (c, h // r, r, w // r, r))
    y = permute(y, tuple(range(nb)) + (nb, nb + 2, nb + 4, nb + 1, nb + 3))
    return reshape(y, tuple(batch) + (c * r * r, h // r, w // r))


__all__ = ["pixel_shuffle", "pixel_unshuffle"]  # interpolate is nn.functional only, as in PyTorch

TENSOR_METHODS: list[str] = []
