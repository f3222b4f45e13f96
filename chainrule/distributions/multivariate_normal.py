"""``MultivariateNormal(loc, covariance_matrix | precision_matrix | scale_tril)``: density
exp(-(x - mu)^T S^-1 (x - mu) / 2) / sqrt((2 pi)^k det S), through the Cholesky factor L (S = L L^T)."""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..tensor import Tensor
from .distribution import Distribution, _as_param


class MultivariateNormal(Distribution):
    """The multivariate normal; give exactly one of ``covariance_matrix``, ``precision_matrix``
    and ``scale_tril``. ``rsample`` is ``loc + L eps`` (differentiable)."""

    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args: bool | None = None):
        from .. import linalg

        loc = _as_param(loc)
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        mat = given[0]
        if mat.ndim < 2:
            raise ValueError("scale_tril matrix must be at least two-dimensional, with optional leading batch "
                             "dimensions" if scale_tril is not None else
                             "covariance_matrix or precision_matrix must be at least two-dimensional, with "
                             "optional leading batch dimensions")
        k = loc.shape[-1]
        batch = tuple(np.broadcast_shapes(tuple(mat.shape[:-2]), tuple(loc.shape[:-1])))
        if scale_tril is not None:
            self.scale_tril = scale_tril
        elif covariance_matrix is not None:
            self.covariance_matrix = covariance_matrix
            self.scale_tril = linalg.cholesky(covariance_matrix)
        else:
            self.precision_matrix = precision_matrix
            self.scale_tril = linalg.cholesky(linalg.inv(precision_matrix))
        self.loc = loc.expand(*batch, k)
        self._unbroadcasted_scale_tril = self.scale_tril
        for name in ("covariance_matrix", "precision_matrix", "scale_tril"):  # PyTorch expands them to the batch
            if name in self.__dict__:
                setattr(self, name, self.__dict__[name].expand(*batch, k, k))
        super().__init__(batch, (k,), validate_args)

    def __repr__(self) -> str:
        return f"MultivariateNormal(loc: {self.loc.shape!r}, covariance_matrix: {self.covariance_matrix.shape!r})"

    def __getattr__(self, name: str):
        if name == "covariance_matrix":
            tril = self.__dict__["scale_tril"]
            self.covariance_matrix = tril @ tril.transpose(-2, -1)
            return self.covariance_matrix
        if name == "precision_matrix":
            from .. import linalg

            self.precision_matrix = linalg.inv(self.covariance_matrix)
            return self.precision_matrix
        raise AttributeError(name)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return (self.scale_tril ** 2).sum(-1).expand(*self.batch_shape, *self.event_shape)

    def _half_log_det(self) -> Tensor:
        return self._unbroadcasted_scale_tril.diagonal(0, -2, -1).log().sum(-1)

    def rsample(self, sample_shape=(), generator=None) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = Tensor._make(backend.rng(generator).standard_normal(shape).astype(self.loc._data.dtype))
        return self.loc + (self.scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value: Tensor) -> Tensor:
        """-(k log(2 pi) + |L^-1 (x - mu)|^2) / 2 - sum log diag L."""
        from .. import linalg

        value = self._check_value(value, lambda v: ~np.isnan(v), "IndependentConstraint(Real(), 1)")
        diff = value - self.loc
        k = self.event_shape[0]
        shape = tuple(diff.shape[:-1])
        tril = self._unbroadcasted_scale_tril.expand(*shape, k, k)
        z = linalg.solve_triangular(tril, diff.unsqueeze(-1), upper=False).squeeze(-1)
        m = (z ** 2).sum(-1)
        return -0.5 * (k * math.log(2 * math.pi) + m) - self._half_log_det()

    def entropy(self) -> Tensor:
        """k (1 + log(2 pi)) / 2 + sum log diag L."""
        k = self.event_shape[0]
        h = 0.5 * k * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h.expand(*self.batch_shape) if tuple(self.batch_shape) else h
