"""``Categorical(probs | logits)``: index k with probability probs[..., k]."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .distribution import Distribution, _as_param, _param_repr


class Categorical(Distribution):
    """Categories along the last dimension of ``probs`` (non-negative, normalised here) or
    ``logits`` (normalised to log-probabilities, ``logits - logsumexp(logits)``)."""

    arg_names = ("probs", "logits")

    def __init__(self, probs=None, logits=None, validate_args: bool | None = None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            probs = _as_param(probs)
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self._given = "probs"
            super().__init__(probs.shape[:-1], (), validate_args)
            p = probs._data
            self.probs = probs / probs.sum(-1, keepdim=True)
            ok = (p >= 0).all() and np.isfinite(p).all()
            self._check_param("probs", self.probs, ok, "Simplex()")
        else:
            logits = _as_param(logits)
            if logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self._given = "logits"
            super().__init__(logits.shape[:-1], (), validate_args)
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
            self._check_param("logits", self.logits, ~np.isnan(self.logits._data), "IndependentConstraint(Real(), 1)")
        self._num_events = (self.probs if probs is not None else self.logits).shape[-1]

    def __getattr__(self, name: str):
        if name == "probs":
            self.probs = self.logits.softmax(-1)
            return self.probs
        if name == "logits":
            eps = float(np.finfo(self.probs._data.dtype).eps)
            self.logits = self.probs.clamp(eps, 1 - eps).log()
            return self.logits
        raise AttributeError(name)

    def __repr__(self) -> str:
        parts = [_param_repr(n, self.__dict__[n]) for n in ("probs", "logits") if n in self.__dict__]
        return f"Categorical({', '.join(parts)})"

    @property
    def param_shape(self):
        return self.__dict__[self._given].shape

    @property
    def mean(self) -> Tensor:
        return Tensor._make(np.full(tuple(self.batch_shape), np.nan, dtype=self.probs._data.dtype))

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)

    @property
    def variance(self) -> Tensor:
        return Tensor._make(np.full(tuple(self.batch_shape), np.nan, dtype=self.probs._data.dtype))

    def sample(self, sample_shape=(), generator=None) -> Tensor:
        """Category indices (int64) of shape ``sample_shape + batch_shape``."""
        from ..ops.random_extra import multinomial

        n = int(np.prod(tuple(sample_shape))) if tuple(sample_shape) else 1
        probs_2d = Tensor._make(self.probs._data.reshape(-1, self._num_events))
        draws = multinomial(probs_2d, n, True, generator=generator)._data  # (batch, n)
        return Tensor._make(np.ascontiguousarray(draws.T).reshape(self._extended_shape(sample_shape)))

    def log_prob(self, value: Tensor) -> Tensor:
        """logits[..., value]."""
        k = self._num_events
        value = self._check_value(value, lambda v: (v >= 0) & (v < k) & (v == np.floor(v)),
                                  f"IntegerInterval(lower_bound=0, upper_bound={k - 1})")
        from ..ops.scatter import gather

        idx = value.long()
        shape = np.broadcast_shapes(tuple(idx.shape), tuple(self.logits.shape[:-1]))
        logits = self.logits.expand(*shape, k)
        idx = idx.expand(*shape).unsqueeze(-1)
        return gather(logits, -1, idx).squeeze(-1)

    def entropy(self) -> Tensor:
        """-sum p log p (with log p clamped at the dtype's minimum, so p = 0 adds 0)."""
        lo = float(np.finfo(self.logits._data.dtype).min)
        return -(self.logits.clamp(min=lo) * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = np.arange(self._num_events).reshape((-1,) + (1,) * len(self.batch_shape))
        if expand:
            values = np.broadcast_to(values, (self._num_events,) + tuple(self.batch_shape)).copy()
        return Tensor._make(values.astype(np.int64))



