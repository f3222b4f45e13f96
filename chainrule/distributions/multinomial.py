"""``Multinomial(total_count, probs | logits)``: counts of ``total_count`` categorical draws."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .categorical import Categorical
from .distribution import Distribution


class Multinomial(Distribution):
    """Counts per category (event shape ``(K,)``) of ``total_count`` independent draws."""

    def __init__(self, total_count: int = 1, probs=None, logits=None, validate_args: bool | None = None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits, validate_args=validate_args)
        k = self._categorical._num_events
        super().__init__(self._categorical.batch_shape, (k,), validate_args)

    def __repr__(self) -> str:
        return "Multinomial()"

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def mean(self) -> Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=(), generator=None) -> Tensor:
        """Counts of shape ``sample_shape + batch_shape + (K,)`` in the probabilities' dtype."""
        k = self._categorical._num_events
        draws = self._categorical.sample((self.total_count,) + tuple(sample_shape), generator)._data
        onehot = (draws[..., None] == np.arange(k)).sum(axis=0)
        return Tensor._make(onehot.astype(self.probs._data.dtype).reshape(self._extended_shape(sample_shape)))

    def log_prob(self, value: Tensor) -> Tensor:
        """log n! - sum log x_k! + sum x_k log p_k."""
        from ..ops.special_math import lgamma

        n = self.total_count
        value = self._check_value(value, lambda v: (v >= 0) & (v == np.floor(v)) & (v.sum(-1) == n)[..., None],
                                  f"IntegerInterval(lower_bound=0, upper_bound={n})")
        logits = self.logits
        safe = logits.masked_fill((value == 0) & (logits == float("-inf")), 0.0)
        log_factorial_n = lgamma(value.sum(-1) + 1)
        log_factorial_xs = lgamma(value + 1).sum(-1)
        return log_factorial_n - log_factorial_xs + (value * safe).sum(-1)
