"""``Bernoulli(probs | logits)``: 1 with probability p, 0 otherwise."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor
from .distribution import Distribution, _param_repr, broadcast_all


def _softplus(x: Tensor) -> Tensor:
    import chainrule.nn.functional as F

    return F.softplus(x)


class Bernoulli(Distribution):
    """Give exactly one of ``probs`` (in [0, 1]) and ``logits`` (log-odds); the other is derived
    as PyTorch derives it (probs clamped to [eps, 1 - eps] before the log-odds)."""

    arg_names = ("probs", "logits")

    def __init__(self, probs=None, logits=None, validate_args: bool | None = None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
            self._given = "probs"
            super().__init__(self.probs.shape, (), validate_args)
            p = self.probs._data
            self._check_param("probs", self.probs, (p >= 0) & (p <= 1), "Interval(lower_bound=0.0, upper_bound=1.0)")
        else:
            (self.logits,) = broadcast_all(logits)
            self._given = "logits"
            super().__init__(self.logits.shape, (), validate_args)
            self._check_param("logits", self.logits, ~np.isnan(self.logits._data), "Real()")

    def __getattr__(self, name: str):
        if name == "probs":
            self.probs = self.logits.sigmoid()
            return self.probs
        if name == "logits":
            eps = float(np.finfo(self.probs._data.dtype).eps)
            p = self.probs.clamp(eps, 1 - eps)
            self.logits = p.log() - (-p).log1p()
            return self.logits
        raise AttributeError(name)

    def __repr__(self) -> str:
        parts = [_param_repr(n, v) for n in ("probs", "logits") if (v := self.__dict__.get(n)) is not None]
        return f"Bernoulli({', '.join(parts)})"

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        m = (self.probs >= 0.5).to(self.probs.dtype)
        return m.masked_fill(self.probs == 0.5, float("nan"))

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=(), generator=None) -> Tensor:
        shape = self._extended_shape(sample_shape)
        p = np.broadcast_to(self.probs._data, shape)
        return Tensor._make((backend.rng(generator).random(shape) < p).astype(self.probs._data.dtype))

    def log_prob(self, value: Tensor) -> Tensor:
        """-BCE(logits, x) = x log p + (1 - x) log(1 - p)."""
        value = self._check_value(value, lambda v: (v == 0) | (v == 1), "Boolean()")
        import chainrule.nn.functional as F

        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self) -> Tensor:
        import chainrule.nn.functional as F

        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")
