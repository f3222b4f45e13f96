"""Probability distributions with PyTorch's interface (``torch.distributions``): ``Normal``,
``Uniform``, ``Bernoulli``, ``Categorical``, ``Multinomial`` and ``kl_divergence``.

``MultivariateNormal``, ``Exponential``, ``Gamma``, ``Beta``, ``Poisson``, ``Laplace``, ``LogNormal`` and ``Independent`` too. Each has ``sample``/``log_prob``/``entropy``/``mean``/``variance``/``stddev``, ``batch_shape`` and
``event_shape``; ``rsample`` (reparameterised, differentiable in the parameters) where PyTorch has it.
Parameters and values are checked as PyTorch's ``validate_args`` does. Draws come from
chainrule's generators (``manual_seed``), so they repeat with the seed but differ from
PyTorch's numbers.
"""

from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .log_normal import LogNormal
from .multinomial import Multinomial
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .poisson import Poisson
from .uniform import Uniform

__all__ = ["Bernoulli", "Beta", "Categorical", "Distribution", "Exponential", "Gamma", "Independent", "Laplace",
           "LogNormal", "Multinomial", "MultivariateNormal", "Normal", "Poisson", "Uniform", "kl_divergence", "register_kl"]
