"""``Poisson(rate)``: P(k) = rate^k exp(-rate) / k! for k = 0, 1, ..."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor
from .distribution import Distribution, broadcast_all


class Poisson(Distribution):
    """The Poisson distribution over counts."""

    arg_names = ("rate",)

    def __init__(self, rate, validate_args: bool | None = None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, (), validate_args)
        self._check_param("rate", self.rate, self.rate._data >= 0, "GreaterThanEq(lower_bound=0.0)")

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate.floor()

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape=(), generator=None) -> Tensor:
        shape = self._extended_shape(sample_shape)
        draw = backend.rng(generator).poisson(np.broadcast_to(self.rate._data, shape).astype(np.float64))
        return Tensor._make(np.asarray(draw).astype(self.rate._data.dtype))

    def log_prob(self, value: Tensor) -> Tensor:
        """k log(rate) - rate - lgamma(k + 1)."""
        from ..ops.special_math import lgamma, xlogy

        value = self._check_value(value, lambda v: (v >= 0) & (v == np.floor(v)), "IntegerGreaterThan(lower_bound=0)")
        return xlogy(value, self.rate) - self.rate - lgamma(value + 1)
