"""Affine layers: ``Identity``, ``Linear``, ``Bilinear``."""

from __future__ import annotations

import math
import numbers
from typing import Any

from ... import _factory, backend
from ...ops.linear import bilinear, linear
from ...tensor import Tensor
from .. import init
from ..module import Module
from ..parameter import Parameter
from ._utils import check_float_dtype


def _check_features(owner: str, **sizes: Any) -> None:
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(f"{owner}: {name} must be a non-negative integer, got {value!r}")


class Identity(Module):
    """Returns its input unchanged; any constructor arguments are accepted and ignored."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """y = x W^T + b for inputs of shape (..., in_features).

    ``weight``: (out_features, in_features); ``bias``: (out_features,), as in PyTorch.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None):
        super().__init__()
        _check_features("Linear", in_features=in_features, out_features=out_features)
        backend.check_device(device)
        dt = check_float_dtype("Linear", dtype)
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.weight = Parameter(_factory.empty(self.out_features, self.in_features, dtype=dt))
        if bias:
            self.bias = Parameter(_factory.empty(self.out_features, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: W, b ~ U(-1/sqrt(in_features), 1/sqrt(in_features)).

        (``kaiming_uniform_(W, a=sqrt(5))``: gain^2 = 2/(1+5), bound = sqrt(3 gain^2 / fan_in).)
        """
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"{self!r}: expected a Tensor input, got {type(input).__name__}")
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise RuntimeError(
                f"{self!r} expected input with last dimension {self.in_features}, got {list(input.shape)}")
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """y_k = x1^T A_k x2 + b_k for x1 (..., in1_features), x2 (..., in2_features).

    ``weight``: (out_features, in1_features, in2_features); ``bias``: (out_features,).
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None):
        super().__init__()
        _check_features("Bilinear", in1_features=in1_features, in2_features=in2_features,
                        out_features=out_features)
        backend.check_device(device)
        dt = check_float_dtype("Bilinear", dtype)
        self.in1_features, self.in2_features = int(in1_features), int(in2_features)
        self.out_features = int(out_features)
        self.weight = Parameter(_factory.empty(self.out_features, self.in1_features, self.in2_features, dtype=dt))
        if bias:
            self.bias = Parameter(_factory.empty(self.out_features, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: A, b ~ U(-1/sqrt(in1_features), 1/sqrt(in1_features))."""
        bound = 1 / math.sqrt(self.in1_features) if self.in1_features > 0 else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        if (input1.ndim == 0 or input2.ndim == 0 or input1.shape[-1] != self.in1_features
                or input2.shape[-1] != self.in2_features):
            raise RuntimeError(
                f"{self!r} expected inputs with last dimensions {self.in1_features} and {self.in2_features}, "
                f"got {list(input1.shape)} and {list(input2.shape)}")
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


__all__ = ["Identity", "Linear", "Bilinear"]
