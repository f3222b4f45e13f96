"""``Normal(loc, scale)``: density exp(-(x - loc)^2 / (2 scale^2)) / (scale sqrt(2 pi))."""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..tensor import Tensor
from .distribution import LocScale


class Normal(LocScale):
    """The normal distribution; ``rsample`` is ``loc + scale * eps`` with eps ~ N(0, 1) (differentiable)."""

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale ** 2

    def rsample(self, sample_shape=(), generator=None) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = backend.rng(generator).standard_normal(shape).astype(self.loc._data.dtype)
        return self.loc + Tensor._make(eps) * self.scale

    def sample(self, sample_shape=(), generator=None) -> Tensor:
        from ..autograd.grad_mode import no_grad

        with no_grad():
            return self.rsample(sample_shape, generator)

    def log_prob(self, value: Tensor) -> Tensor:
        """-(x - loc)^2 / (2 scale^2) - log(scale) - log(sqrt(2 pi))."""
        value = self._check_value(value, lambda v: np.isfinite(v) | np.isinf(v), "Real()")
        return -((value - self.loc) ** 2) / (2 * self.variance) - self.scale.log() - math.log(math.sqrt(2 * math.pi))

    def cdf(self, value: Tensor) -> Tensor:
        """(1 + erf((x - loc) / (scale sqrt 2))) / 2."""
        return 0.5 * (1 + ((value - self.loc) / (self.scale * math.sqrt(2))).erf())

    def icdf(self, value: Tensor) -> Tensor:
        """loc + scale sqrt(2) erfinv(2 p - 1)."""
        return self.loc + self.scale * (2 * value - 1).erfinv() * math.sqrt(2)

    def entropy(self) -> Tensor:
        """1/2 + log(sqrt(2 pi)) + log(scale)."""
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()
