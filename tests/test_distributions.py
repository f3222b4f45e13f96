"""chainrule.distributions against torch.distributions: log-densities, entropies, moments, KL
divergences, gradients through log_prob and rsample, argument checks, and sample statistics
(the draws come from chainrule's generator, so only their distribution is compared)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.autograd import gradcheck


def _both(f):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(cr), f(torch)


def _close(a, b, atol=1e-6):
    assert tuple(a.shape) == tuple(b.shape)
    assert a.dtype.name == str(b.dtype).split(".")[-1]
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=atol, rtol=1e-6)


_VALUES = {
    "normal.log_prob": lambda L: L.distributions.Normal(L.tensor([0.0, 1.0]), L.tensor([1.0, 2.0])).log_prob(
        L.tensor([[0.5, -1.0], [2.0, 0.0]])),
    "normal.entropy": lambda L: L.distributions.Normal(0.0, L.tensor([1.0, 2.0])).entropy(),
    "normal.cdf": lambda L: L.distributions.Normal(1.0, 2.0).cdf(L.tensor([0.5, -1.0])),
    "normal.icdf": lambda L: L.distributions.Normal(1.0, 2.0).icdf(L.tensor([0.3, 0.9])),
    "normal.moments": lambda L: L.stack([L.distributions.Normal(1.0, 2.0).mean, L.distributions.Normal(1.0, 2.0).stddev,
                                         L.distributions.Normal(1.0, 2.0).variance]),
    "uniform.log_prob": lambda L: L.distributions.Uniform(0.0, 2.0).log_prob(L.tensor([0.5, 1.5])),
    "uniform.moments": lambda L: L.stack([L.distributions.Uniform(0.0, 2.0).mean,
                                          L.distributions.Uniform(0.0, 2.0).variance,
                                          L.distributions.Uniform(0.0, 2.0).entropy()]),
    "bernoulli.log_prob": lambda L: L.distributions.Bernoulli(L.tensor([0.2, 0.7])).log_prob(L.tensor([1.0, 0.0])),
    "bernoulli.entropy": lambda L: L.distributions.Bernoulli(L.tensor([0.2, 0.7])).entropy(),
    "bernoulli.logits": lambda L: L.distributions.Bernoulli(L.tensor([0.2, 0.0, 1.0])).logits,
    "bernoulli.probs": lambda L: L.distributions.Bernoulli(logits=L.tensor([0.5, -3.0])).probs,
    "categorical.log_prob": lambda L: L.distributions.Categorical(logits=L.tensor([[1.0, 2, 3], [0, 0, 0]])).log_prob(
        L.tensor([0, 2])),
    "categorical.log_prob_broadcast": lambda L: L.distributions.Categorical(
        logits=L.tensor([[1.0, 2, 3], [0, 0, 0]])).log_prob(L.tensor([[0], [1]])),
    "categorical.entropy": lambda L: L.distributions.Categorical(L.tensor([[0.2, 0.8, 0.0], [1, 1, 1]])).entropy(),
    "categorical.probs": lambda L: L.distributions.Categorical(L.tensor([1.0, 3.0])).probs,
    "categorical.logits": lambda L: L.distributions.Categorical(L.tensor([1.0, 3.0])).logits,
    "categorical.mode": lambda L: L.distributions.Categorical(L.tensor([[1.0, 3.0], [2, 1]])).mode,
    "multinomial.log_prob": lambda L: L.distributions.Multinomial(10, L.tensor([0.2, 0.3, 0.5])).log_prob(
        L.tensor([2.0, 3, 5])),
    "multinomial.log_prob_zero_prob": lambda L: L.distributions.Multinomial(4, L.tensor([0.0, 1.0])).log_prob(
        L.tensor([0.0, 4.0])),
    "multinomial.moments": lambda L: L.stack([L.distributions.Multinomial(10, L.tensor([1.0, 3.0])).mean,
                                              L.distributions.Multinomial(10, L.tensor([1.0, 3.0])).variance]),
    "kl.normal": lambda L: L.distributions.kl_divergence(L.distributions.Normal(0.0, L.tensor([1.0, 3.0])),
                                                         L.distributions.Normal(1.0, 2.0)),
    "kl.categorical": lambda L: L.distributions.kl_divergence(L.distributions.Categorical(L.tensor([0.2, 0.8, 0.0])),
                                                              L.distributions.Categorical(L.tensor([0.5, 0.25, 0.25]))),
    "kl.categorical_inf": lambda L: L.distributions.kl_divergence(L.distributions.Categorical(L.tensor([0.5, 0.5])),
                                                                  L.distributions.Categorical(L.tensor([1.0, 0.0]))),
    "kl.bernoulli": lambda L: L.distributions.kl_divergence(L.distributions.Bernoulli(L.tensor([0.3, 0.0])),
                                                            L.distributions.Bernoulli(L.tensor([0.6, 0.5]))),
    "exponential.log_prob": lambda L: L.distributions.Exponential(L.tensor([0.5, 2.0])).log_prob(L.tensor([1.0, 0.3])),
    "exponential.moments": lambda L: L.stack([L.distributions.Exponential(L.tensor([0.5, 2.0])).mean,
                                              L.distributions.Exponential(L.tensor([0.5, 2.0])).variance,
                                              L.distributions.Exponential(L.tensor([0.5, 2.0])).entropy()]),
    "exponential.cdf_icdf": lambda L: L.stack([L.distributions.Exponential(L.tensor([0.5, 2.0])).cdf(L.tensor([1.0, 0.3])),
                                               L.distributions.Exponential(L.tensor([0.5, 2.0])).icdf(
                                                   L.tensor([0.5, 0.9]))]),
    "independent.log_prob": lambda L: L.distributions.Independent(
        L.distributions.Normal(L.zeros(3, 2), L.ones(3, 2)), 1).log_prob(L.arange(6.0).reshape(3, 2)),
    "independent.entropy": lambda L: L.distributions.Independent(
        L.distributions.Normal(L.zeros(3, 2), L.tensor([1.0, 2.0])), 2).entropy(),
    "kl.exponential": lambda L: L.distributions.kl_divergence(L.distributions.Exponential(0.5),
                                                              L.distributions.Exponential(L.tensor([2.0, 1.0]))),
    "kl.independent": lambda L: L.distributions.kl_divergence(
        L.distributions.Independent(L.distributions.Normal(L.zeros(3, 2), L.ones(3, 2)), 1),
        L.distributions.Independent(L.distributions.Normal(L.ones(3, 2), 2 * L.ones(3, 2)), 1)),
    "gamma.log_prob": lambda L: L.distributions.Gamma(L.tensor([2.0, 0.5]), L.tensor([3.0, 1.0])).log_prob(
        L.tensor([0.5, 1.5])),
    "gamma.moments": lambda L: L.stack([getattr(L.distributions.Gamma(L.tensor([2.0, 0.5]), L.tensor([3.0, 1.0])), a)
                                        for a in ("mean", "variance", "mode")] + [
        L.distributions.Gamma(L.tensor([2.0, 0.5]), L.tensor([3.0, 1.0])).entropy()]),
    "beta.log_prob": lambda L: L.distributions.Beta(L.tensor([2.0, 0.5]), L.tensor([3.0, 1.5])).log_prob(
        L.tensor([0.5, 0.2])),
    "beta.moments": lambda L: L.stack([getattr(L.distributions.Beta(L.tensor([2.0, 0.5, 0.5]), L.tensor([3.0, 1.5, 0.7])),
                                               a) for a in ("mean", "variance", "mode")] + [
        L.distributions.Beta(L.tensor([2.0, 0.5, 0.5]), L.tensor([3.0, 1.5, 0.7])).entropy()]),
    "poisson.log_prob": lambda L: L.distributions.Poisson(L.tensor([2.0, 0.5])).log_prob(L.tensor([3.0, 0.0])),
    "poisson.moments": lambda L: L.stack([L.distributions.Poisson(L.tensor([2.5, 0.5])).mode,
                                          L.distributions.Poisson(L.tensor([2.5, 0.5])).variance]),
    "laplace.values": lambda L: L.stack([
        L.distributions.Laplace(L.tensor([0.0, 1.0]), L.tensor([1.0, 2.0])).log_prob(L.tensor([0.5, -1.0])),
        L.distributions.Laplace(L.tensor([0.0, 1.0]), L.tensor([1.0, 2.0])).entropy(),
        L.distributions.Laplace(L.tensor([0.0, 1.0]), L.tensor([1.0, 2.0])).cdf(L.tensor([0.5, -1.0])),
        L.distributions.Laplace(L.tensor([0.0, 1.0]), L.tensor([1.0, 2.0])).icdf(L.tensor([0.3, 0.9])),
        L.distributions.Laplace(L.tensor([0.0, 1.0]), L.tensor([1.0, 2.0])).variance]),
    "log_normal.values": lambda L: L.stack([
        L.distributions.LogNormal(L.tensor([0.0, 1.0]), L.tensor([1.0, 0.5])).log_prob(L.tensor([0.5, 2.0])),
        L.distributions.LogNormal(L.tensor([0.0, 1.0]), L.tensor([1.0, 0.5])).entropy()] + [
        getattr(L.distributions.LogNormal(L.tensor([0.0, 1.0]), L.tensor([1.0, 0.5])), a)
        for a in ("mean", "variance", "mode")]),
    "kl.gamma": lambda L: L.distributions.kl_divergence(L.distributions.Gamma(2.0, 3.0), L.distributions.Gamma(1.0, 1.0)),
    "kl.beta": lambda L: L.distributions.kl_divergence(L.distributions.Beta(2.0, 3.0), L.distributions.Beta(1.0, 1.0)),
    "kl.poisson": lambda L: L.distributions.kl_divergence(L.distributions.Poisson(2.0), L.distributions.Poisson(3.0)),
    "kl.laplace": lambda L: L.distributions.kl_divergence(L.distributions.Laplace(0.0, 1.0),
                                                          L.distributions.Laplace(1.0, 2.0)),
    "kl.uniform": lambda L: L.distributions.kl_divergence(L.distributions.Uniform(0.0, 1.0),
                                                          L.distributions.Uniform(L.tensor([-1.0, 0.5]), 2.0)),
}


@pytest.mark.parametrize("name", sorted(_VALUES))
def test_values_as_torch(name):
    ours, theirs = _both(_VALUES[name])
    _close(ours, theirs)


def test_shapes_and_reprs_as_torch():
    def shapes(L):
        D = L.distributions
        n = D.Normal(L.zeros(2), 1.0)
        c = D.Categorical(logits=L.zeros(2, 3))
        m = D.Multinomial(5, L.ones(4))
        c.probs  # noqa: B018 (computes and caches the other parameter, which repr then shows)
        ind = D.Independent(D.Normal(L.zeros(3, 2), L.ones(3, 2)), 1)
        return ([tuple(d.batch_shape) + (None,) + tuple(d.event_shape) for d in (n, c, m, D.Bernoulli(0.5), ind)]
                + [tuple(ind.sample((4,)).shape), ind.has_rsample, repr(ind).replace("torch.", "chainrule."),
                   repr(D.Exponential(L.ones(2))).replace("torch.", "chainrule.")],
                [tuple(n.sample((3,)).shape), tuple(c.sample((4, 5)).shape), tuple(m.sample((2,)).shape),
                 tuple(D.Uniform(0.0, L.ones(3)).rsample((2,)).shape)],
                [c.sample().dtype is L.int64, m.sample().dtype is L.float32, n.sample().dtype is L.float32],
                [repr(d).replace("torch.", "chainrule.") for d in (D.Normal(0.0, 1.0), n, c, m, D.Uniform(0.0, 2.0),
                                                                    D.Bernoulli(0.5))])

    ours, theirs = _both(shapes)
    assert ours == theirs


@pytest.mark.parametrize("name,call", [
    ("bad_scale", lambda L: L.distributions.Normal(0.0, -1.0)),
    ("probs_and_logits", lambda L: L.distributions.Categorical(L.ones(3), logits=L.ones(3))),
    ("bernoulli_support", lambda L: L.distributions.Bernoulli(0.3).log_prob(L.tensor(0.5))),
    ("uniform_support", lambda L: L.distributions.Uniform(0.0, 2.0).log_prob(L.tensor([1.0, 3.0]))),
    ("bad_probs", lambda L: L.distributions.Bernoulli(L.tensor([1.5]))),
    ("independent_ndims", lambda L: L.distributions.Independent(L.distributions.Normal(0.0, 1.0), 1)),
    ("exponential_support", lambda L: L.distributions.Exponential(L.tensor([0.5, 2.0])).log_prob(L.tensor([-1.0, 1.0]))),
    ("exponential_rate", lambda L: L.distributions.Exponential(0.0)),
    ("gamma_concentration", lambda L: L.distributions.Gamma(-1.0, 1.0)),
    ("poisson_support", lambda L: L.distributions.Poisson(L.tensor([2.0])).log_prob(L.tensor([0.5]))),
    ("beta_support", lambda L: L.distributions.Beta(1.0, 1.0).log_prob(L.tensor(1.5))),
])
def test_argument_checks_as_torch(name, call):
    def outcome(L):
        try:
            call(L)
            return "ok"
        except Exception as e:  # noqa: BLE001 (compare whatever each library raises)
            return type(e).__name__, str(e).replace("torch.", "chainrule.")

    ours, theirs = _both(outcome)
    assert theirs != "ok" and ours == theirs


def test_rsample_unsupported_where_torch_has_none():
    with pytest.raises(NotImplementedError):
        cr.distributions.Bernoulli(0.3).rsample()
    with pytest.raises(NotImplementedError):
        cr.distributions.Categorical(cr.ones(2)).rsample()


def test_gradients_of_log_prob_and_rsample_as_torch():
    def grads(L):
        loc = L.tensor([0.5, -0.2], dtype=L.float64, requires_grad=True)
        scale = L.tensor([1.5, 0.7], dtype=L.float64, requires_grad=True)
        logits = L.tensor([0.3, -1.0, 2.0], dtype=L.float64, requires_grad=True)
        D = L.distributions
        loss = (D.Normal(loc, scale).log_prob(L.tensor([0.1, 0.3], dtype=L.float64)).sum()
                + D.Categorical(logits=logits).log_prob(L.tensor(2)) + D.Categorical(logits=logits).entropy()
                + D.kl_divergence(D.Normal(loc, scale), D.Normal(0.0, 1.0)).sum()
                + D.Bernoulli(logits=logits).log_prob(L.tensor([1.0, 0.0, 1.0], dtype=L.float64)).sum())
        loss.backward()
        return loc.grad, scale.grad, logits.grad

    for a, b in zip(*_both(grads)):
        _close(a, b, atol=1e-12)
    loc = cr.tensor([0.5, -0.2], dtype=cr.float64, requires_grad=True)
    scale = cr.tensor([1.5, 0.7], dtype=cr.float64, requires_grad=True)
    cr.manual_seed(0)
    y = cr.distributions.Normal(loc, scale).rsample((1000,))
    y.sum().backward()
    eps = (y.detach() - loc.detach()) / scale.detach()
    np.testing.assert_allclose(loc.grad.numpy(), [1000.0, 1000.0])
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0).numpy(), rtol=1e-12)
    assert gradcheck(lambda m, s: cr.distributions.Normal(m, s).log_prob(cr.tensor([0.1, 0.3], dtype=cr.float64)),
                     (loc, scale))


def test_samples_follow_the_distributions_and_repeat_with_the_seed():
    D = cr.distributions
    cr.manual_seed(1)
    n = D.Normal(cr.tensor([1.0, -2.0]), cr.tensor([0.5, 2.0])).sample((20000,))
    np.testing.assert_allclose(n.mean(0).numpy(), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(n.std(0).numpy(), [0.5, 2.0], rtol=0.03)
    u = D.Uniform(-1.0, 3.0).sample((20000,))
    assert u.min().item() >= -1.0 and u.max().item() < 3.0 and abs(u.mean().item() - 1.0) < 0.05
    b = D.Bernoulli(cr.tensor([0.1, 0.9])).sample((20000,))
    np.testing.assert_allclose(b.mean(0).numpy(), [0.1, 0.9], atol=0.02)
    c = D.Categorical(cr.tensor([0.2, 0.0, 0.8])).sample((20000,))
    np.testing.assert_allclose(np.bincount(c.numpy(), minlength=3) / 20000, [0.2, 0.0, 0.8], atol=0.02)
    m = D.Multinomial(10, cr.tensor([0.2, 0.3, 0.5])).sample((5000,))
    assert (m.sum(-1) == 10).all().item()
    np.testing.assert_allclose(m.mean(0).numpy(), [2.0, 3.0, 5.0], atol=0.1)
    for dist, mean, var in ((D.Gamma(cr.tensor([2.0, 0.5]), cr.tensor([3.0, 1.0])), [2 / 3, 0.5], [2 / 9, 0.5]),
                            (D.Beta(cr.tensor([2.0, 0.5]), cr.tensor([3.0, 1.5])), [0.4, 0.25], [0.04, 0.0625]),
                            (D.Poisson(cr.tensor([2.0, 0.5])), [2.0, 0.5], [2.0, 0.5]),
                            (D.Laplace(cr.tensor([0.0, 1.0]), cr.tensor([1.0, 2.0])), [0.0, 1.0], [2.0, 8.0]),
                            (D.LogNormal(cr.tensor([0.0, 0.5]), cr.tensor([0.5, 0.25])),
                             [np.exp(0.125), np.exp(0.5 + 0.03125)],
                             [np.expm1(0.25) * np.exp(0.25), np.expm1(0.0625) * np.exp(1.0625)])):
        draws = dist.sample((40000,))
        assert tuple(draws.shape) == (40000, 2), type(dist).__name__
        np.testing.assert_allclose(draws.mean(0).numpy(), mean, rtol=0.05, atol=0.03, err_msg=type(dist).__name__)
        np.testing.assert_allclose(draws.var(0).numpy(), var, rtol=0.08, atol=0.01, err_msg=type(dist).__name__)
    e = D.Exponential(cr.tensor([0.5, 4.0])).sample((20000,))
    assert e.min().item() >= 0
    np.testing.assert_allclose(e.mean(0).numpy(), [2.0, 0.25], rtol=0.04)
    cr.manual_seed(7)
    first = D.Normal(0.0, 1.0).sample((5,))
    cr.manual_seed(7)
    assert cr.equal(first, D.Normal(0.0, 1.0).sample((5,)))


def test_textbook_import_paths():
    from chainrule.distributions.multinomial import Multinomial
    from chainrule.distributions.normal import Normal

    fair = cr.ones(6) / 6
    counts = Multinomial(1000, fair).sample()
    assert counts.shape == (6,) and counts.sum().item() == 1000
    assert Normal(0.0, 1.0).log_prob(cr.tensor(0.0)).item() == pytest.approx(-0.9189385332046727)
    assert cr.distributions.Distribution is not None and hasattr(cr.distributions, "register_kl")


def test_multivariate_normal_as_torch():
    def run(L):
        D = L.distributions
        cov = L.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=L.float64, requires_grad=True)
        loc = L.tensor([[0.5, -1.0], [0.0, 0.0], [1.0, 2.0]], dtype=L.float64, requires_grad=True)
        m = D.MultivariateNormal(loc, covariance_matrix=cov)
        v = L.tensor([[0.3, 0.1], [1.0, -2.0], [0.0, 0.0]], dtype=L.float64)
        lp, ent = m.log_prob(v), m.entropy()
        (lp.sum() + ent.sum()).backward()
        prec = L.tensor([[2.0, 0.3], [0.3, 1.0]], dtype=L.float64)
        p = D.MultivariateNormal(L.zeros(2, dtype=L.float64), precision_matrix=prec)
        t = D.MultivariateNormal(L.zeros(2, dtype=L.float64),
                                 scale_tril=L.tensor([[1.0, 0.0], [0.3, 2.0]], dtype=L.float64))
        tensors = [lp, ent, loc.grad, m.variance, m.covariance_matrix, p.log_prob(v), p.covariance_matrix,
                   t.log_prob(v), t.entropy(), t.precision_matrix]
        other = [tuple(m.batch_shape), tuple(m.event_shape), tuple(m.sample((4,)).shape),
                 repr(m).replace("torch.", "chainrule.")]
        return tensors, other

    (ours, ours_other), (theirs, theirs_other) = _both(run)
    for a, b in zip(ours, theirs):
        _close(a, b, atol=1e-10)
    assert ours_other == theirs_other
    with pytest.raises(ValueError, match="Exactly one of"):
        cr.distributions.MultivariateNormal(cr.zeros(2))


def test_multivariate_normal_samples_have_the_covariance():
    cov = np.array([[2.0, 0.8], [0.8, 1.0]])
    cr.manual_seed(3)
    x = cr.distributions.MultivariateNormal(cr.tensor([1.0, -1.0], dtype=cr.float64),
                                            covariance_matrix=cr.tensor(cov)).sample((40000,)).numpy()
    np.testing.assert_allclose(x.mean(0), [1.0, -1.0], atol=0.03)
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.05)
