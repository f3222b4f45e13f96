"""The ``Distribution`` base: shapes, argument checks and PyTorch's repr."""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..tensor import Size, Tensor

_validate_default = True


def _as_param(value, dtype=None) -> Tensor:
    """A parameter as a tensor: numbers become 0-d tensors of the default float dtype."""
    from .._factory import tensor

    if isinstance(value, Tensor):
        return value
    if isinstance(value, numbers.Real):
        return tensor(float(value), dtype=dtype or backend.get_default_dtype())
    raise TypeError(f"expected a Tensor or a number, got {type(value).__name__}")


def broadcast_all(*values) -> list:
    """The parameters as tensors broadcast to one shape (numbers take the tensors' dtype)."""
    from ..ops.shape import broadcast_to

    tensors = [v for v in values if isinstance(v, Tensor)]
    dtype = tensors[0].dtype if tensors else None
    params = [_as_param(v, dtype) for v in values]
    shape = tuple(np.broadcast_shapes(*(tuple(p.shape) for p in params)))
    return [p if tuple(p.shape) == shape else broadcast_to(p, shape) for p in params]


def _param_repr(name: str, v: Tensor) -> str:
    """PyTorch's: a one-element parameter as its value, any other as its shape."""
    return f"{name}: {v}" if v.numel() == 1 else f"{name}: {v.shape!r}"


class Distribution:
    """Base of the distributions: ``batch_shape`` (independent draws) and ``event_shape`` (one draw)."""

    has_rsample = False
    arg_names: tuple = ()

    def __init__(self, batch_shape=(), event_shape=(), validate_args: bool | None = None):
        self._batch_shape, self._event_shape = Size(batch_shape), Size(event_shape)
        self._validate_args = _validate_default if validate_args is None else bool(validate_args)

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        global _validate_default
        _validate_default = bool(value)

    @property
    def batch_shape(self) -> Size:
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        return self._event_shape

    def _extended_shape(self, sample_shape=()) -> tuple:
        return tuple(Size(sample_shape)) + tuple(self._batch_shape) + tuple(self._event_shape)

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no mean")

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no variance")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def sample(self, sample_shape=()) -> Tensor:
        """A draw of shape ``sample_shape + batch_shape + event_shape``, outside the graph."""
        from ..autograd.grad_mode import no_grad

        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sample (rsample)")

    def sample_n(self, n: int) -> Tensor:
        return self.sample((n,))

    def log_prob(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def entropy(self) -> Tensor:
        raise NotImplementedError

    def perplexity(self) -> Tensor:
        return self.entropy().exp()

    # ---- checks ----------------------------------------------------------------------------
    def _check_param(self, name: str, value: Tensor, ok: np.ndarray, constraint: str) -> None:
        if self._validate_args and not np.all(ok):
            shown = f"{value._data.item()}" if value.ndim == 0 else repr(value)
            raise ValueError(f"Expected parameter {name} (Tensor of shape {tuple(value.shape)}) of distribution "
                             f"{self!r} to satisfy the constraint {constraint}, but found invalid values:\n{shown}")

    def _check_value(self, value, ok_fn, support: str) -> Tensor:
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        if self._validate_args:
            ok = ok_fn(value._data)
            if not np.all(ok):
                shown = f"{value._data.item()}" if value.ndim == 0 else repr(value)
                raise ValueError(f"Expected value argument (Tensor of shape {tuple(value.shape)}) to be within the "
                                 f"support ({support}) of the distribution {self!r}, but found invalid values:\n{shown}")
        return value

    def __repr__(self) -> str:
        parts = []
        for name in self.arg_names:
            v = self.__dict__.get(name)
            if v is None:
                continue
            parts.append(_param_repr(name, v))
        return f"{type(self).__name__}({', '.join(parts)})"


class LocScale(Distribution):
    """A location-scale family with a positive scale, centred on ``loc`` (mean and mode are ``loc``).

    Subclasses (Normal, Laplace) add their variance, sampling and densities.
    """

    has_rsample = True
    arg_names = ("loc", "scale")

    def __init__(self, loc, scale, validate_args: bool | None = None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, (), validate_args)
        self._check_param("scale", self.scale, self.scale._data > 0, "GreaterThan(lower_bound=0.0)")

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc
