"""``Gamma(concentration, rate)``: density rate^a x^(a-1) exp(-rate x) / Gamma(a) on x > 0."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor
from .distribution import Distribution, broadcast_all


class Gamma(Distribution):
    """The gamma distribution. ``sample`` only: PyTorch's ``rsample`` differentiates the draw
    through the gamma CDF (implicit reparameterisation), which chainrule does not have."""

    arg_names = ("concentration", "rate")

    def __init__(self, concentration, rate, validate_args: bool | None = None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.shape, (), validate_args)
        for name in self.arg_names:
            v = getattr(self, name)
            self._check_param(name, v, v._data > 0, "GreaterThan(lower_bound=0.0)")

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate ** 2

    def sample(self, sample_shape=(), generator=None) -> Tensor:
        shape = self._extended_shape(sample_shape)
        a = np.broadcast_to(self.concentration._data, shape)
        draw = backend.rng(generator).standard_gamma(a) / np.broadcast_to(self.rate._data, shape)
        return Tensor._make(np.asarray(draw).astype(self.rate._data.dtype))

    def log_prob(self, value: Tensor) -> Tensor:
        """a log(rate) + (a - 1) log x - rate x - lgamma(a)."""
        from ..ops.special_math import lgamma, xlogy

        value = self._check_value(value, lambda v: v > 0, "GreaterThanEq(lower_bound=0.0)")
        a, r = self.concentration, self.rate
        return xlogy(a, r) + xlogy(a - 1, value) - r * value - lgamma(a)

    def entropy(self) -> Tensor:
        """a - log(rate) + lgamma(a) + (1 - a) digamma(a)."""
        from ..ops.special_math import digamma, lgamma

        a = self.concentration
        return a - self.rate.log() + lgamma(a) + (1.0 - a) * digamma(a)
