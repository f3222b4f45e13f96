"""``Laplace(loc, scale)``: density exp(-|x - loc| / scale) / (2 scale)."""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..tensor import Tensor
from .distribution import LocScale


class Laplace(LocScale):
    """The Laplace distribution; ``rsample`` is ``loc - scale sign(u) log(1 - |u|)``, u ~ U(-1, 1)."""

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale ** 2

    @property
    def stddev(self) -> Tensor:
        return math.sqrt(2) * self.scale

    def rsample(self, sample_shape=(), generator=None) -> Tensor:
        shape = self._extended_shape(sample_shape)
        dt = self.loc._data.dtype
        eps = float(np.finfo(dt).eps)
        u = backend.rng(generator).uniform(eps - 1, 1, size=shape).astype(dt)
        return self.loc - self.scale * Tensor._make(np.sign(u) * np.log1p(-np.abs(u)))

    def log_prob(self, value: Tensor) -> Tensor:
        """-log(2 scale) - |x - loc| / scale."""
        value = self._check_value(value, lambda v: ~np.isnan(v), "Real()")
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value: Tensor) -> Tensor:
        return 0.5 - 0.5 * (value - self.loc).sign() * (-(value - self.loc).abs() / self.scale).expm1()

    def icdf(self, value: Tensor) -> Tensor:
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self) -> Tensor:
        """1 + log(2 scale)."""
        return 1 + (2 * self.scale).log()
