"""Automatic differentiation: the recorded graph, the backward engine and gradient checks."""

from .anomaly_mode import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .engine import backward, grad
from .function import Function, FunctionNode, Node, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "Function", "FunctionNode", "Node", "once_differentiable", "backward", "grad", "no_grad",
    "enable_grad", "inference_mode", "set_grad_enabled", "is_grad_enabled", "gradcheck", "gradgradcheck",
    "GradcheckError", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
]


def __getattr__(name: str):
    # ``chainrule.autograd.graph`` (Graphviz rendering) loads on first use, not with chainrule
    if name == "graph":
        import importlib

        return importlib.import_module(".graph", __name__)
    raise AttributeError(f"module 'chainrule.autograd' has no attribute '{name}'")
