"""``Uniform(low, high)``: density 1 / (high - low) on [low, high)."""

from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from .distribution import Distribution, broadcast_all


class Uniform(Distribution):
    """The uniform distribution on ``[low, high)``; ``rsample`` is ``low + (high - low) * u``."""

    has_rsample = True
    arg_names = ("low", "high")

    def __init__(self, low, high, validate_args: bool | None = None):
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.shape, (), validate_args)
        self._check_param("low", self.low, self.low._data < self.high._data,
                          "LessThan(upper_bound=high)")

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def mode(self) -> Tensor:
        return self.high * float("nan")

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low) ** 2 / 12

    @property
    def stddev(self) -> Tensor:
        return (self.high - self.low) / 12 ** 0.5

    def rsample(self, sample_shape=(), generator=None) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = backend.rng(generator).random(shape).astype(self.low._data.dtype)
        return self.low + Tensor._make(u) * (self.high - self.low)

    def log_prob(self, value: Tensor) -> Tensor:
        """log(1[low <= x < high]) - log(high - low)."""
        lo, hi = self.low._data, self.high._data
        support = f"Interval(lower_bound={lo.item() if lo.ndim == 0 else 'low'}, " \
                  f"upper_bound={hi.item() if hi.ndim == 0 else 'high'})"
        value = self._check_value(value, lambda v: (v >= lo) & (v <= hi), support)
        inside = ((self.low <= value) & (self.high > value)).to(self.low.dtype)
        return inside.log() - (self.high - self.low).log()

    def cdf(self, value: Tensor) -> Tensor:
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value: Tensor) -> Tensor:
        return value * (self.high - self.low) + self.low

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()



