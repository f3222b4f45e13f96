"""Ready-made networks, by name: ``get_model("digits_cnn", num_classes=10)``.

Every builder takes the keywords ``in_channels``, ``num_classes`` and ``input_size`` (the side of
a square image), so the ``chainrule train`` command can build any model for any dataset, plus
model-specific options (``depth``, ``width``, ``hidden_sizes`` ...).

A model that wants adaptive gradient clipping (``nf_resnet``) says so with an ``agc_clipping``
attribute and an ``agc_parameters()`` method; the trainer then calls
``nn.utils.adaptive_clip_grad_(model.agc_parameters(), model.agc_clipping)`` after each backward.
"""

from __future__ import annotations

from collections.abc import Callable

from ..nn import Module
from .allconv import AllConvNet, allconv
from .lenet import DigitsCNN, LeNet5, digits_cnn, lenet5
from .mlp import MLP, mlp
from .nf_resnet import NFBlock, NFResNet, nf_resnet
from .resnet import BasicBlock, ResNet, resnet

_MODELS: dict[str, Callable[..., Module]] = {
    "mlp": mlp,
    "lenet5": lenet5,
    "digits_cnn": digits_cnn,
    "resnet": resnet,
    "nf_resnet": nf_resnet,
    "allconv": allconv,
}


def list_models() -> list[str]:
    """The names ``get_model`` accepts, sorted."""
    return sorted(_MODELS)


def get_model(name: str, **kwargs) -> Module:
    """Build the model registered as ``name`` with the builder's keyword arguments."""
    return get_model_builder(name)(**kwargs)


def model_description(name: str) -> str:
    """The first line of the builder's docstring, for ``--help`` listings."""
    doc = (get_model_builder(name).__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


def get_model_builder(name: str) -> Callable[..., Module]:
    """The builder registered as ``name`` (a ValueError listing the names for an unknown one)."""
    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r}; available models: {', '.join(list_models())}")
    return _MODELS[name]


__all__ = [
    "get_model", "list_models", "model_description", "get_model_builder",
    "MLP", "LeNet5", "DigitsCNN", "ResNet", "BasicBlock", "NFResNet", "NFBlock", "AllConvNet",
    "mlp", "lenet5", "digits_cnn", "resnet", "nf_resnet", "allconv",
]
