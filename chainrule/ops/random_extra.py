"""Sampling functions with tensor parameters: ``multinomial``, ``bernoulli``, ``poisson``, and the
in-place fills ``geometric_``, ``log_normal_``, ``cauchy_``.

Draws come from chainrule's generators (``manual_seed`` or ``generator=``), so a seeded run
repeats; the streams are NumPy's (PCG64), not PyTorch's, so the numbers differ from PyTorch's for
the same seed. As in PyTorch, ``bernoulli``/``poisson`` of a tensor that requires grad record a
node whose gradient is zero (a sample is not reparameterised).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import _factory, backend
from ..autograd.function import FunctionNode
from ..tensor import Tensor
from ._keywords import _C_NAMES
from ._util import check_tensor, torch_type_name
from .inplace import _random_

_irange = range


class _ZeroGradSample(FunctionNode):
    """A sample computed outside the graph, recorded so its gradient to the parameters is zero."""

    def __init__(self, values: np.ndarray):
        self.values = values

    def forward(self, p):
        self.meta = (p.shape, backend.from_numpy_dtype(p.dtype))
        return self.values

    def backward(self, gy):
        return _factory.zeros(self.meta[0], dtype=self.meta[1])


class BernoulliSample(_ZeroGradSample):
    torch_name = "BernoulliBackward0"


class PoissonSample(_ZeroGradSample):
    torch_name = "PoissonBackward0"


def _finish(input: Tensor, values: np.ndarray, node_cls) -> Tensor:
    values = values.astype(input._data.dtype, copy=False)
    if input.requires_grad:
        return node_cls(values).apply(input)
    return Tensor._make(values)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    """Indices drawn from the categorical distributions given by the rows of ``input``
    (non-negative weights, not necessarily normalised); without ``replacement`` each row gives
    distinct indices (categories of weight 0 come last, once the others are used up)."""
    check_tensor(input, "multinomial")
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {torch_type_name(input)}")
    n = int(num_samples)
    if n <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    k = input.shape[-1]
    if not replacement and n > k:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    p = input._data.astype(np.float64).reshape(-1, k)
    if not np.isfinite(p).all() or (p < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    total = p.sum(axis=1, keepdims=True)
    if (total <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = backend.rng(generator)
    if replacement:
        cdf = np.cumsum(p / total, axis=1)
        u = rng.random((p.shape[0], n))
        out = np.stack([np.searchsorted(cdf[r], u[r], side="right") for r in _irange(p.shape[0])])
        out = np.minimum(out, k - 1)
    else:
        # Gumbel/exponential race: the n smallest E_i / p_i are a draw without replacement
        e = rng.exponential(size=p.shape)
        with np.errstate(divide="ignore"):
            keys = np.where(p > 0, e / np.where(p > 0, p, 1.0), np.inf)
        out = np.argsort(keys, axis=1, kind="stable")[:, :n]
    out = out.astype(np.int64)
    return Tensor._make(out.reshape(n) if input.ndim == 1 else out)


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    """1 with probability ``input[i]`` (or with probability ``p`` when given), else 0; the result
    has ``input``'s shape and dtype."""
    check_tensor(input, "bernoulli")
    rng = backend.rng(generator)
    if p is None:
        if not input.dtype.is_floating_point:
            raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for '{torch_type_name(input)}'")
        prob = input._data
        if prob.size and ((prob < 0).any() or (prob > 1).any() or np.isnan(prob).any()):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message "
                               "be improved?  If so, please report an enhancement request to PyTorch.)")
        values = rng.random(prob.shape) < prob
    else:
        if isinstance(p, Tensor):
            prob = np.broadcast_to(p._data, input.shape)
        elif isinstance(p, numbers.Real):
            if not 0 <= float(p) <= 1:
                raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
            prob = p
        else:
            raise TypeError(f"bernoulli(): argument 'p' must be float or Tensor, not {type(p).__name__}")
        values = rng.random(tuple(input.shape)) < prob
    return _finish(input, np.asarray(values), BernoulliSample)


def poisson(input: Tensor, generator=None) -> Tensor:
    """Samples of Poisson(``input[i]``), elementwise, in ``input``'s (floating) dtype."""
    check_tensor(input, "poisson")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{torch_type_name(input)}'")
    rate = input._data
    if rate.size and ((rate < 0).any() or np.isnan(rate).any()):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    values = backend.rng(generator).poisson(rate.astype(np.float64))
    return _finish(input, np.asarray(values), PoissonSample)


class BinomialSample(_ZeroGradSample):
    """PyTorch records binomial with a node whose backward is not implemented; so does this one."""

    torch_name = "NotImplemented"

    def backward(self, gy):
        raise RuntimeError("the derivative for 'binomial' is not implemented.")


def binomial(count: Tensor, prob: Tensor, generator=None) -> Tensor:
    """Samples of Binomial(``count[i]``, ``prob[i]``), elementwise (the two broadcast), in their
    floating dtype."""
    check_tensor(count, "binomial", "count")
    check_tensor(prob, "binomial", "prob")
    for name, t in (("count", count), ("prob", prob)):
        if not t.dtype.is_floating_point:
            raise ValueError(f"binomial only supports floating-point dtypes for {name}, got: {torch_type_name(t)}")
    n, p = count._data, prob._data
    if (n < 0).any() or (p < 0).any() or (p > 1).any() or np.isnan(p).any():
        raise RuntimeError("binomial: expected count >= 0 and 0 <= prob <= 1")
    shape = np.broadcast_shapes(n.shape, p.shape)
    values = backend.rng(generator).binomial(np.broadcast_to(n, shape).astype(np.int64),
                                             np.broadcast_to(p, shape).astype(np.float64))
    values = np.asarray(values).astype(backend.result_type(count, prob).np)
    if count.requires_grad or prob.requires_grad:
        return BinomialSample(values).apply(count if count.requires_grad else prob)
    return Tensor._make(values)


# ---- in-place fills ----------------------------------------------------------------------------------
def _float_only(self: Tensor, what: str) -> None:
    if not self.dtype.is_floating_point:
        raise RuntimeError(f"{what} distribution is a continuous probability distribution. dtype must be a floating "
                           f"point but you specified {_C_NAMES.get(self.dtype.name, self.dtype.name)}")


def geometric_(self: Tensor, p: float, *, generator=None) -> Tensor:
    """Fill with samples of the geometric distribution: the trial (1, 2, ...) of the first success."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _random_(self, lambda s: backend.rng(generator).geometric(p, size=s))


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator=None) -> Tensor:
    """Fill with ``exp(N(mean, std^2))`` samples."""
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    if not self.dtype.is_floating_point:
        raise NotImplementedError(f"\"log_normal_cpu\" not implemented for '{torch_type_name(self)}'")
    return _random_(self, lambda s: backend.rng(generator).lognormal(mean, std, size=s))


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator=None) -> Tensor:
    """Fill with Cauchy samples: ``median + sigma * tan(pi * (U - 1/2))``."""
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    _float_only(self, "Cauchy")
    return _random_(self, lambda s: median + sigma * np.tan(math.pi * (backend.rng(generator).random(s) - 0.5)))


__all__ = ["multinomial", "bernoulli", "poisson", "binomial"]

TENSOR_METHODS = ["multinomial", "bernoulli", "geometric_", "log_normal_", "cauchy_"]
