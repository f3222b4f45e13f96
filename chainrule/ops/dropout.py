"""Dropout: element-wise (``dropout``), channel-wise (``dropout1d/2d/3d``) and SELU's ``alpha_dropout``.

In training each element (or each whole channel) is kept with probability q = 1 - p and scaled
by 1/q, so that E[y] = x ("inverted dropout": nothing to rescale at evaluation time). The mask
is drawn once in the wrapper and is a constant of the node: y = m * x, dy/dx = m, and the
backward ``gy * m`` is itself linear, so double backward holds.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import backend
from ..autograd.function import FunctionNode
from ..tensor import Tensor
from ._util import check_tensor

# SELU's constants: alpha' = -lambda * alpha is the value SELU saturates to for x -> -inf
_SELU_ALPHA_PRIME = -1.7580993408473766


class Dropout(FunctionNode):
    """y = x * m + c with a random mask m (already scaled) and constant offset c (alpha dropout).

    The mask is drawn inside ``forward``, so the draw is part of the operator (a recorded graph
    draws a new mask on every replay, as eager mode does)."""

    torch_name = "MulBackward0"

    def __init__(self, p: float, mask_shape: tuple, alpha: bool):
        self.p, self.mask_shape, self.alpha = p, mask_shape, alpha
        self.mask = self.offset = None

    def forward(self, x):
        self.mask, self.offset = _mask_and_offset(self.xp, x.dtype, self.mask_shape, self.p, self.alpha)
        y = x * self.mask
        if self.offset is not None:
            y = y + self.offset
        return y.astype(x.dtype, copy=False)

    def backward(self, gy):
        return gy * Tensor._make(self.mask)

    def _release_extra(self) -> None:
        self.mask = self.offset = None


def _check_p(p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _mask_and_offset(xp, dtype, mask_shape: tuple, p: float, alpha: bool) -> tuple:
    """A Bernoulli(1 - p) mask of ``mask_shape`` (drawn from the default generator) scaled so the
    mean is kept, and the offset of alpha dropout (None for plain dropout)."""
    keep = xp.asarray((backend.rng().random(mask_shape) >= p).astype(dtype))
    dt = dtype.type
    if not alpha:
        scale = dt(0.0) if p == 1.0 else dt(1.0 / (1.0 - p))
        return keep * scale, None
    if p == 1.0:  # everything dropped: the output is the SELU saturation value's affine image, 0 in mean
        return keep * dt(0), keep * dt(0) + dt(0)
    # a(x m + alpha' (1 - m)) + b with a, b chosen to keep zero mean and unit variance
    a = ((1 - p) * (1 + p * _SELU_ALPHA_PRIME**2)) ** -0.5
    b = -a * _SELU_ALPHA_PRIME * p
    return keep * dt(a), (1 - keep) * dt(a * _SELU_ALPHA_PRIME) + dt(b)


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, batched: bool,
                     alpha: bool = False) -> Tensor:
    """Drop whole channels: the mask has shape (N, C, 1, ..., 1) (or (C, 1, ..., 1) unbatched)."""
    lead = 2 if batched else 1
    mask_shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    return _masked(input, p, training, inplace, mask_shape, alpha)


def _masked(input: Tensor, p: float, training: bool, inplace: bool, mask_shape: tuple, alpha: bool) -> Tensor:
    if not training or p == 0.0:
        return input
    if input._data.dtype.kind != "f":
        raise TypeError(f"dropout: expected a floating-point input, got {input.dtype}")
    if not inplace:
        return Dropout(p, mask_shape, alpha).apply(input)
    # in place: x *= m (+ c); recorded like any in-place op on a non-leaf, refused on a grad leaf
    mask, offset = _mask_and_offset(backend.array_module(input._data), input._data.dtype, mask_shape, p, alpha)
    input.mul_(Tensor._make(mask))
    if offset is not None:
        input.add_(Tensor._make(offset))
    return input


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1 - p) (identity unless training).

    y = x * m / (1 - p), m ~ Bernoulli(1 - p) element-wise; dy/dx = m / (1 - p). p = 1 gives zeros.
    """
    check_tensor(input, "dropout")
    p = _check_p(p)
    return _masked(input, p, training, inplace, tuple(input.shape), False)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: dropped values are set to SELU's saturation value alpha' and an
    affine map a y + b restores zero mean and unit variance: a = ((1-p)(1 + p alpha'^2))^(-1/2),
    b = -a alpha' p."""
    check_tensor(input, "alpha_dropout")
    p = _check_p(p)
    return _masked(input, p, training, inplace, tuple(input.shape), True)


def _check_dims(name: str, input: Tensor, allowed: tuple, spatial: int) -> None:
    if input.ndim not in allowed:
        raise RuntimeError(
            f"{name}: Expected {allowed[0]}D or {allowed[1]}D input, but received a {input.ndim}D input. Note "
            f"that {name} exists to provide channel-wise dropout on inputs with {spatial} spatial "
            f"dimension{'s' if spatial > 1 else ''}, a channel dimension, and an optional batch dimension "
            f"(i.e. {allowed[0]}D or {allowed[1]}D inputs).")


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability p; scale the rest by 1/(1 - p)."""
    check_tensor(input, "dropout1d")
    p = _check_p(p)
    _check_dims("dropout1d", input, (2, 3), 1)
    return _feature_dropout(input, p, training, inplace, batched=input.ndim == 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) inputs with probability p; scale the rest by 1/(1 - p).

    As in PyTorch a 3-D input is taken as (N, C, L) (with a warning), other ranks as (N, C, ...).
    """
    check_tensor(input, "dropout2d")
    p = _check_p(p)
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
            "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior "
            "will change in a future release to interpret the input as one without a batch dimension, i.e. "
            "shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using "
            "dropout1d instead.", stacklevel=2)
    elif input.ndim != 4:
        if input.ndim < 2:
            raise RuntimeError(f"dropout2d: expected a 4D (N, C, H, W) input, got {input.ndim}D")
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will result in "
            "an error in a future release. To retain the behavior and silence this warning, please use "
            "dropout instead. Note that dropout2d exists to provide channel-wise dropout on inputs with 2 "
            "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D "
            "inputs).", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, batched=True)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs with probability p; scale the
    rest by 1/(1 - p)."""
    check_tensor(input, "dropout3d")
    p = _check_p(p)
    if input.ndim not in (4, 5):
        if input.ndim < 2:
            raise RuntimeError(f"dropout3d: expected a 5D (N, C, D, H, W) input, got {input.ndim}D")
        warnings.warn(
            f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and will result in "
            "an error in a future release. To retain the behavior and silence this warning, please use "
            "dropout instead. Note that dropout3d exists to provide channel-wise dropout on inputs with 3 "
            "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 4D or 5D "
            "inputs).", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, batched=input.ndim != 4)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """``alpha_dropout`` applied to whole channels of (N, C, ...) inputs."""
    check_tensor(input, "feature_alpha_dropout")
    p = _check_p(p)
    if input.ndim < 2:
        raise RuntimeError(f"feature_alpha_dropout: expected an input with a channel dimension (N, C, ...), "
                           f"got {input.ndim}D")
    return _feature_dropout(input, p, training, inplace, batched=True, alpha=True)


def feature_dropout(input: Tensor, p: float, train: bool, inplace: bool = False) -> Tensor:
    """``torch.feature_dropout``: channel-wise dropout over (N, C, ...) inputs."""
    check_tensor(input, "feature_dropout")
    return _feature_dropout(input, _check_p(p), train, inplace, batched=True)


__all__ = ["dropout", "alpha_dropout", "feature_alpha_dropout", "feature_dropout"]

# nn.functional's channel-wise variants are not top-level names in PyTorch
FUNCTIONAL = ["dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d", "dropout3d"]

TENSOR_METHODS: list[str] = []
