"""nn.init: gains and fans against PyTorch, and the statistics of large draws against the formulas.

Tolerances come from the sampling error of the estimates. For n i.i.d. draws with variance s^2
the sample mean has standard error s / sqrt(n) and the sample variance has standard error
sqrt((mu4 - s^4) / n), mu4 being the fourth central moment: mu4 = 3 s^4 for a normal
(relative error sqrt(2 / n)) and mu4 = 9/5 s^4 for a uniform (relative error sqrt(0.8 / n)).
We allow 5 standard errors (a false alarm has probability below 1e-6; the seeds are fixed).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.nn import init

Z = 5.0  # standard errors allowed


def draws(t: cr.Tensor) -> np.ndarray:
    return t.detach().numpy().astype(np.float64).ravel()


def check_moments(x: np.ndarray, var: float, kind: str, mean: float = 0.0) -> None:
    n = x.size
    kurtosis = {"normal": 3.0, "uniform": 1.8}[kind] if kind in ("normal", "uniform") else kind
    assert abs(x.mean() - mean) < Z * math.sqrt(var / n), (x.mean(), mean)
    se_var = var * math.sqrt((kurtosis - 1.0) / n)
    assert abs(x.var() - var) < Z * se_var, (x.var(), var, se_var)


@pytest.fixture(autouse=True)
def _seed():
    cr.manual_seed(1234)


@pytest.mark.parametrize("name,param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None),
])
def test_calculate_gain_matches_torch(name, param):
    ours, theirs = init.calculate_gain(name, param), torch.nn.init.calculate_gain(name, param)
    assert ours == pytest.approx(theirs, rel=1e-12)
    assert type(ours) is type(theirs)  # printed as 1 for the linear family, as PyTorch prints it


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "a")


@pytest.mark.parametrize("shape", [(5, 3), (8, 4, 3), (16, 3, 5, 5), (4, 2, 3, 3, 3), (7, 1)])
def test_fans_match_torch(shape):
    ours = init._calculate_fan_in_and_fan_out(cr.empty(*shape))
    ref = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    assert ours == ref


def test_fan_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_uniform_(cr.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_normal_(cr.empty(3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="distribution"):
        init.variance_scaling_(cr.empty(3, 3), distribution="cauchy")


def test_uniform_and_normal():
    t = init.uniform_(cr.empty(400, 500), -2.0, 3.0)
    x = draws(t)
    assert x.min() >= -2.0 and x.max() < 3.0
    check_moments(x, 25.0 / 12.0, "uniform", mean=0.5)
    t = init.normal_(cr.empty(400, 500), 1.5, 0.5)
    check_moments(draws(t), 0.25, "normal", mean=1.5)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("a,nonlinearity", [(0.0, "relu"), (math.sqrt(5), "leaky_relu"), (0.0, "linear")])
def test_kaiming(mode, a, nonlinearity):
    shape = (64, 32, 3, 3)  # fan_in = 288, fan_out = 576
    fan = 32 * 9 if mode == "fan_in" else 64 * 9
    gain = torch.nn.init.calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    x = draws(init.kaiming_uniform_(cr.empty(*shape), a=a, mode=mode, nonlinearity=nonlinearity))
    bound = math.sqrt(3.0) * std
    assert np.abs(x).max() <= bound * (1 + 1e-6)
    assert np.abs(x).max() > 0.99 * bound
    check_moments(x, std**2, "uniform")
    x = draws(init.kaiming_normal_(cr.empty(*shape), a=a, mode=mode, nonlinearity=nonlinearity))
    check_moments(x, std**2, "normal")


def test_xavier():
    shape = (300, 200, 2)  # fan_in 400, fan_out 600
    gain = 5.0 / 3
    std = gain * math.sqrt(2.0 / (400 + 600))
    x = draws(init.xavier_uniform_(cr.empty(*shape), gain=gain))
    assert np.abs(x).max() <= math.sqrt(3.0) * std * (1 + 1e-6)
    check_moments(x, std**2, "uniform")
    check_moments(draws(init.xavier_normal_(cr.empty(*shape), gain=gain)), std**2, "normal")


def _truncnorm_moments(mean, std, a, b):
    """Mean, variance and fourth-moment ratio of N(mean, std^2) truncated to [a, b] (textbook formulas)."""
    al, be = (a - mean) / std, (b - mean) / std
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    zmass = cdf(be) - cdf(al)
    m = mean + std * (phi(al) - phi(be)) / zmass
    var = std**2 * (1 + (al * phi(al) - be * phi(be)) / zmass - ((phi(al) - phi(be)) / zmass) ** 2)
    return m, var


def test_trunc_normal():
    mean, std, a, b = 0.5, 1.0, -1.0, 1.5
    x = draws(init.trunc_normal_(cr.empty(500, 400), mean, std, a, b))
    assert x.min() >= a and x.max() <= b
    m, var = _truncnorm_moments(mean, std, a, b)
    # a truncated normal has lighter tails than a normal: kurtosis 3 is a safe upper bound
    check_moments(x, var, "normal", mean=m)
    with pytest.raises(ValueError, match="a < b"):
        init.trunc_normal_(cr.empty(2, 2), a=1.0, b=0.0)


def test_variance_scaling_truncated_normal_keeps_the_variance():
    t = init.variance_scaling_(cr.empty(400, 500), scale=2.0, mode="fan_in", distribution="truncated_normal")
    x = draws(t)
    std = math.sqrt(2.0 / 500) / 0.87962566103423978
    assert np.abs(x).max() <= 2 * std * (1 + 1e-6)
    check_moments(x, 2.0 / 500, "normal")


def test_orthogonal():
    for shape in [(6, 4), (4, 6), (3, 2, 2)]:
        w = draws(init.orthogonal_(cr.empty(*shape, dtype=cr.float64), gain=2.0)).reshape(shape[0], -1)
        gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
        np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-10)


def test_deterministic_initialisers_match_torch():
    for shape, groups in [((4, 4, 3), 1), ((6, 3, 3, 3), 2), ((2, 4, 3, 3, 3), 1)]:
        ours = init.dirac_(cr.empty(*shape), groups=groups).numpy()
        ref = torch.nn.init.dirac_(torch.empty(*shape), groups=groups).numpy()
        np.testing.assert_array_equal(ours, ref)
    np.testing.assert_array_equal(init.eye_(cr.empty(3, 5)).numpy(), torch.nn.init.eye_(torch.empty(3, 5)).numpy())
    assert not init.zeros_(cr.ones(3)).numpy().any()
    assert init.ones_(cr.zeros(2)).tolist() == [1.0, 1.0]
    assert init.constant_(cr.zeros(2), 0.25).tolist() == [0.25, 0.25]
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(cr.empty(3))
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        init.dirac_(cr.empty(3, 3))


def test_initialisers_keep_leaf_dtype_and_record_nothing():
    p = nn.Parameter(cr.empty(4, 3, dtype=cr.float64))
    for fn in (init.kaiming_uniform_, init.xavier_normal_, init.orthogonal_, init.zeros_):
        out = fn(p)
        assert out is p and p.is_leaf and p.requires_grad and p.dtype is cr.float64 and p.grad_fn is None


def test_generator_makes_draws_reproducible():
    g1, g2 = cr.Generator().manual_seed(7), cr.Generator().manual_seed(7)
    a = init.kaiming_uniform_(cr.empty(5, 4), generator=g1).numpy()
    cr.randn(10)  # the global stream does not affect a private generator
    b = init.kaiming_uniform_(cr.empty(5, 4), generator=g2).numpy()
    np.testing.assert_array_equal(a, b)
    c = init.kaiming_uniform_(cr.empty(5, 4), generator=g1).numpy()
    assert not np.array_equal(a, c)


def test_zero_element_tensor_is_a_no_op_with_warning():
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(cr.empty(0, 3))


@pytest.mark.parametrize("shape", [(300, 200), (50, 1000)])
def test_linear_default_init_matches_torch_distribution(shape):
    out_f, in_f = shape
    lin = nn.Linear(in_f, out_f)
    bound = 1 / math.sqrt(in_f)
    w, b = draws(lin.weight), draws(lin.bias)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    check_moments(w, bound**2 / 3, "uniform")
    assert lin.weight.dtype is cr.float32
