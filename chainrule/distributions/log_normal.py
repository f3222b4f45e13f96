"""``LogNormal(loc, scale)``: exp of a ``Normal(loc, scale)`` variable."""

from __future__ import annotations

from ..tensor import Tensor
from .distribution import Distribution
from .normal import Normal


class LogNormal(Distribution):
    """``exp(Normal(loc, scale))``; ``rsample`` is the exp of the normal's (differentiable)."""

    has_rsample = True

    def __init__(self, loc, scale, validate_args: bool | None = None):
        self.base_dist = Normal(loc, scale, validate_args=validate_args)
        self.loc, self.scale = self.base_dist.loc, self.base_dist.scale
        super().__init__(self.base_dist.batch_shape, (), validate_args)

    def __repr__(self) -> str:
        return "LogNormal()"

    @property
    def mean(self) -> Tensor:
        return (self.loc + self.scale ** 2 / 2).exp()

    @property
    def mode(self) -> Tensor:
        return (self.loc - self.scale ** 2).exp()

    @property
    def variance(self) -> Tensor:
        s2 = self.scale ** 2
        return s2.expm1() * (2 * self.loc + s2).exp()

    def rsample(self, sample_shape=(), generator=None) -> Tensor:
        return self.base_dist.rsample(sample_shape, generator).exp()

    def log_prob(self, value: Tensor) -> Tensor:
        """Normal.log_prob(log x) - log x."""
        value = self._check_value(value, lambda v: v > 0, "GreaterThan(lower_bound=0.0)")
        y = value.log()
        return self.base_dist.log_prob(y) - y

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() + self.loc



