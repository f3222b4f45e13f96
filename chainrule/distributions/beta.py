"""``Beta(concentration1, concentration0)``: density x^(a-1) (1-x)^(b-1) / B(a, b) on (0, 1)."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor
from .distribution import Distribution, broadcast_all


class Beta(Distribution):
    """The beta distribution (``sample`` only, as ``Gamma``: no implicit reparameterisation here)."""

    def __init__(self, concentration1, concentration0, validate_args: bool | None = None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        super().__init__(self.concentration1.shape, (), validate_args)
        for name in ("concentration1", "concentration0"):
            v = getattr(self, name)
            self._check_param(name, v, v._data > 0, "GreaterThan(lower_bound=0.0)")

    def __repr__(self) -> str:
        return "Beta()"

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        m1, m0 = (a - 1).clamp(min=0), (b - 1).clamp(min=0)
        both_small = (a < 1) & (b < 1)
        interior = m1 / (m1 + m0).masked_fill(both_small, 1.0)
        # both below 1: PyTorch's Dirichlet mode picks the first component (argmax of a 0/0 vector)
        return interior.masked_fill(both_small, 0.0) + both_small.to(a.dtype)

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total ** 2 * (total + 1))

    def sample(self, sample_shape=(), generator=None) -> Tensor:
        shape = self._extended_shape(sample_shape)
        draw = backend.rng(generator).beta(np.broadcast_to(self.concentration1._data, shape),
                                           np.broadcast_to(self.concentration0._data, shape))
        return Tensor._make(np.asarray(draw).astype(self.concentration1._data.dtype))

    def log_prob(self, value: Tensor) -> Tensor:
        """(a - 1) log x + (b - 1) log(1 - x) - log B(a, b)."""
        from ..ops.special_math import lgamma, xlogy

        value = self._check_value(value, lambda v: (v >= 0) & (v <= 1), "Interval(lower_bound=0.0, upper_bound=1.0)")
        a, b = self.concentration1, self.concentration0
        log_beta = lgamma(a) + lgamma(b) - lgamma(a + b)
        return xlogy(a - 1, value) + xlogy(b - 1, 1 - value) - log_beta

    def entropy(self) -> Tensor:
        """log B(a, b) - (a-1) digamma(a) - (b-1) digamma(b) + (a+b-2) digamma(a+b)."""
        from ..ops.special_math import digamma, lgamma

        a, b = self.concentration1, self.concentration0
        log_beta = lgamma(a) + lgamma(b) - lgamma(a + b)
        return log_beta - (a - 1) * digamma(a) - (b - 1) * digamma(b) + (a + b - 2) * digamma(a + b)
