"""``Exponential(rate)``: density rate * exp(-rate * x) on x >= 0."""

from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from .distribution import Distribution, broadcast_all


class Exponential(Distribution):
    """The exponential distribution; ``rsample`` is ``-log(1 - u) / rate`` (differentiable in ``rate``)."""

    has_rsample = True
    arg_names = ("rate",)

    def __init__(self, rate, validate_args: bool | None = None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, (), validate_args)
        self._check_param("rate", self.rate, self.rate._data > 0, "GreaterThan(lower_bound=0.0)")

    @property
    def mean(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def mode(self) -> Tensor:
        return self.rate * 0

    @property
    def stddev(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def variance(self) -> Tensor:
        return self.rate ** -2

    def rsample(self, sample_shape=(), generator=None) -> Tensor:
        shape = self._extended_shape(sample_shape)
        e = backend.rng(generator).standard_exponential(shape).astype(self.rate._data.dtype)
        return Tensor._make(e) / self.rate

    def log_prob(self, value: Tensor) -> Tensor:
        """log(rate) - rate * x."""
        value = self._check_value(value, lambda v: v >= 0, "GreaterThanEq(lower_bound=0.0)")
        return self.rate.log() - self.rate * value

    def cdf(self, value: Tensor) -> Tensor:
        return 1 - (-self.rate * value).exp()

    def icdf(self, value: Tensor) -> Tensor:
        return -(-value).log1p() / self.rate

    def entropy(self) -> Tensor:
        """1 - log(rate)."""
        return 1.0 - self.rate.log()
