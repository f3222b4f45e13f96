"""Normalisation layers: batch, instance, layer, group, RMS, local response and filter response
normalisation, and the thresholded linear unit that goes with the latter.

Names, arguments, defaults, buffers and state-dict keys follow PyTorch (``weight``/``bias``,
``running_mean``/``running_var``/``num_batches_tracked``), so checkpoints map one to one.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

from ... import _factory, backend
from ...ops import normalization as N
from ...tensor import Tensor
from .. import init
from ..module import Module
from ..parameter import Parameter


def _check_positive_int(owner: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}")
    return int(value)


def _check_eps(owner: str, eps: Any) -> float:
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or eps < 0:
        raise ValueError(f"{owner}: eps must be a non-negative number, got {eps!r}")
    return float(eps)


def _factory_dtype(dtype: Any) -> backend.dtype:
    dt = backend.to_dtype(dtype) if dtype is not None else backend.get_default_dtype()
    if not dt.is_floating_point:
        raise TypeError(f"normalisation layers need a floating-point dtype, got {dt}")
    return dt


def _register_affine(module: Module, enabled: bool, shape, bias: bool, dt: backend.dtype) -> None:
    """``weight`` (and ``bias`` unless ``bias=False``) of ``shape``, or both registered as None."""
    if enabled:
        module.weight = Parameter(_factory.empty(shape, dtype=dt))
        if bias:
            module.bias = Parameter(_factory.empty(shape, dtype=dt))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def _reset_affine(module: Module) -> None:
    """weight = 1, bias = 0: the identity transform."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class _NormBase(Module):
    """Per-channel affine parameters and running statistics shared by batch and instance norm."""

    _version = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        owner = type(self).__name__
        backend.check_device(device)
        self.num_features = _check_positive_int(owner, "num_features", num_features)
        self.eps = _check_eps(owner, eps)
        if momentum is not None and (isinstance(momentum, bool) or not isinstance(momentum, numbers.Real)):
            raise ValueError(f"{owner}: momentum must be a number or None (cumulative average), got {momentum!r}")
        self.momentum = momentum
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        dt = _factory_dtype(dtype)
        _register_affine(self, self.affine, num_features, bias, dt)
        if self.track_running_stats:
            self.register_buffer("running_mean", _factory.zeros(num_features, dtype=dt))
            self.register_buffer("running_var", _factory.ones(num_features, dtype=dt))
            self.register_buffer("num_batches_tracked", _factory.tensor(0, dtype=backend.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """running_mean = 0, running_var = 1, num_batches_tracked = 0."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        """weight = 1, bias = 0 (the identity transform), and fresh running statistics."""
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input_dim(self, input: Tensor) -> None:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    """Batch normalisation: y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias per channel.

    Training: batch statistics (biased variance) normalise; the running estimates follow
    running <- (1 - momentum) running + momentum stat with the unbiased variance, or the
    cumulative average of all batches when ``momentum`` is None. Evaluation: the running
    estimates normalise, unless ``track_running_stats=False`` (then batch statistics always).
    """

    _dims: tuple = ()

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        # the buffers are passed only when they are read (eval) or updated (training, tracked)
        track = not self.training or self.track_running_stats
        return N.batch_norm(input, self.running_mean if track else None, self.running_var if track else None,
                            self.weight, self.bias, use_batch_stats, factor, self.eps)

    def _check_input_dim(self, input: Tensor) -> None:
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__} expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in self._dims:
            want = " or ".join(f"{d}D" for d in self._dims)
            raise ValueError(f"expected {want} input (got {input.ndim}D input)")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, statistics per feature C."""

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs, statistics per channel over N, H, W."""

    _dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) inputs, statistics per channel over N, D, H, W."""

    _dims = (5,)


class _InstanceNorm(_NormBase):
    """Instance normalisation: each channel of each sample standardised over its spatial axes.

    PyTorch's defaults: no affine parameters and no running statistics. With
    ``track_running_stats=True`` the running estimates are updated in training and used in
    evaluation. An unbatched input (C, *spatial) is accepted.
    """

    _no_batch_dim: int = 0

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def _apply_instance_norm(self, input: Tensor) -> Tensor:
        return N.instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                               self.training or not self.track_running_stats,
                               self.momentum if self.momentum is not None else 0.0, self.eps)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        feature_dim = input.ndim - self._no_batch_dim
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(
                    f"expected input's size at dim={feature_dim} to match num_features ({self.num_features}), "
                    f"but got: {input.shape[feature_dim]}.")
            warnings.warn(
                f"input's size at dim={feature_dim} does not match num_features. You can silence this warning "
                "by not passing in num_features, which is not used because affine=False", stacklevel=2)
        if input.ndim == self._no_batch_dim:
            return self._apply_instance_norm(input.unsqueeze(0)).squeeze(0)
        return self._apply_instance_norm(input)

    def _check_input_dim(self, input: Tensor) -> None:
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__} expected a Tensor input, got {type(input).__name__}")
        d = self._no_batch_dim
        if input.ndim not in (d, d + 1):
            raise ValueError(f"expected {d}D or {d + 1}D input (got {input.ndim}D input)")


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or unbatched (C, L) inputs."""

    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or unbatched (C, H, W) inputs."""

    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or unbatched (C, D, H, W) inputs."""

    _no_batch_dim = 4


def _shape_arg(owner: str, normalized_shape: Any) -> tuple:
    if isinstance(normalized_shape, numbers.Integral) and not isinstance(normalized_shape, bool):
        normalized_shape = (normalized_shape,)
    try:
        shape = tuple(normalized_shape)
    except TypeError:
        raise TypeError(f"{owner}: normalized_shape must be an int or a sequence of ints, "
                        f"got {normalized_shape!r}") from None
    if not shape or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s <= 0 for s in shape):
        raise ValueError(f"{owner}: normalized_shape must be a non-empty sequence of positive ints, "
                         f"got {normalized_shape!r}")
    return tuple(int(s) for s in shape)


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` axes of each sample:
    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, weight and bias of shape
    ``normalized_shape`` (elementwise, initialised to 1 and 0)."""

    def __init__(self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        backend.check_device(device)
        self.normalized_shape = _shape_arg("LayerNorm", normalized_shape)
        self.eps = _check_eps("LayerNorm", eps)
        self.elementwise_affine = bool(elementwise_affine)
        dt = _factory_dtype(dtype)
        _register_affine(self, self.elementwise_affine, self.normalized_shape, bias, dt)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight = 1, bias = 0."""
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return N.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Group normalisation: channels split into ``num_groups`` groups, each (sample, group)
    standardised over its channels and spatial axes, then a per-channel affine map."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: Any = None, dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        backend.check_device(device)
        num_groups = _check_positive_int("GroupNorm", "num_groups", num_groups)
        num_channels = _check_positive_int("GroupNorm", "num_channels", num_channels)
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps = _check_eps("GroupNorm", eps)
        self.affine = bool(affine)
        dt = _factory_dtype(dtype)
        _register_affine(self, self.affine, num_channels, bias, dt)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight = 1, bias = 0."""
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return N.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """Root-mean-square normalisation over the trailing axes: y = x / sqrt(mean(x^2) + eps) * weight
    (``eps=None``: the machine epsilon of the input's dtype)."""

    def __init__(self, normalized_shape: Any, eps: float | None = None, elementwise_affine: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        backend.check_device(device)
        self.normalized_shape = _shape_arg("RMSNorm", normalized_shape)
        self.eps = None if eps is None else _check_eps("RMSNorm", eps)
        self.elementwise_affine = bool(elementwise_affine)
        if self.elementwise_affine:
            self.weight = Parameter(_factory.empty(self.normalized_shape, dtype=_factory_dtype(dtype)))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight = 1."""
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, input: Tensor) -> Tensor:
        return N.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class LocalResponseNorm(Module):
    """Local response normalisation across channels (AlexNet):
    y_c = x_c / (k + alpha / size * sum of x_c'^2 over the ``size`` neighbouring channels) ^ beta."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size = _check_positive_int("LocalResponseNorm", "size", size)
        self.alpha, self.beta, self.k = alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return N.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class FilterResponseNorm2d(Module):
    """Filter response normalisation (Singh & Krishnan, 2019) of (N, C, H, W) inputs:
    nu2 = mean over H, W of x^2,  y = weight * x / sqrt(nu2 + eps) + bias  per channel.

    No batch statistics: it behaves the same for any batch size, including 1. Follow it with
    ``TLU`` (the paper's pairing). With ``learnable_eps`` the epsilon is a parameter named ``eps``
    (shape (1,), initialised to ``eps``; its absolute value is used).
    """

    def __init__(self, num_features: int, eps: float = 1e-6, learnable_eps: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        backend.check_device(device)
        self.num_features = _check_positive_int("FilterResponseNorm2d", "num_features", num_features)
        eps = _check_eps("FilterResponseNorm2d", eps)
        self.learnable_eps = bool(learnable_eps)
        dt = _factory_dtype(dtype)
        self.weight = Parameter(_factory.empty(num_features, dtype=dt))
        self.bias = Parameter(_factory.empty(num_features, dtype=dt))
        self._eps_init = eps
        self.eps: Parameter | float
        if self.learnable_eps:
            self.eps = Parameter(_factory.full((1,), eps, dtype=dt))
        else:
            self.eps = eps
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight = 1, bias = 0 (and a learnable eps back to its initial value)."""
        init.ones_(self.weight)
        init.zeros_(self.bias)
        if self.learnable_eps and isinstance(self.eps, Parameter):
            init.constant_(self.eps, self._eps_init)

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"FilterResponseNorm2d expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in (3, 4):
            raise ValueError(f"expected 3D or 4D input (got {input.ndim}D input)")
        if input.ndim == 3:
            return self.forward(input.unsqueeze(0)).squeeze(0)
        return N.filter_response_norm(input, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self._eps_init}, learnable_eps={self.learnable_eps}"


class TLU(Module):
    """Thresholded linear unit: y = max(x, tau) with a learnable per-channel threshold ``tau``
    (initialised to 0, i.e. ReLU at the start)."""

    def __init__(self, num_features: int, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        backend.check_device(device)
        self.num_features = _check_positive_int("TLU", "num_features", num_features)
        self.tau = Parameter(_factory.empty(num_features, dtype=_factory_dtype(dtype)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """tau = 0."""
        init.zeros_(self.tau)

    def forward(self, input: Tensor) -> Tensor:
        return N.tlu(input, self.tau)

    def extra_repr(self) -> str:
        return f"{self.num_features}"


__all__ = [
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
    "LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm", "FilterResponseNorm2d", "TLU",
]
