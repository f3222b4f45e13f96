"""``WSConv2d``: a convolution with scaled weight standardisation, the building block of
normalizer-free ResNets (Brock et al., 2021).

Before every forward pass each output filter W_o (all in_channels/groups x kh x kw weights of
output channel o) is standardised and rescaled:

    W_hat_o = gain_o * (W_o - mean(W_o)) / sqrt(max(var(W_o) * fan_in, eps)),

with the biased variance and fan_in = in_channels / groups * kh * kw. The filters then have zero
mean and variance 1 / fan_in, so a unit-variance input keeps unit variance through the layer
(times gain^2) without batch statistics. ``eps`` floors the denominator, as in the paper's
reference code, so a filter of near-constant weights does not blow up. Gradients flow through
the standardisation to the raw weight ``W`` and to ``gain``.
"""

from __future__ import annotations

import math
from typing import Any

from ... import _factory
from ...ops.elementwise import maximum, rsqrt
from ...ops.reduction import sum as _sum
from ...tensor import Tensor
from .. import init
from ..parameter import Parameter
from .conv import Conv2d


def standardize_weight(weight: Tensor, gain: Tensor | None, eps: float) -> Tensor:
    """gain * (W - mean) / sqrt(max(var * fan_in, eps)), statistics per output filter (axis 0)."""
    axes = tuple(range(1, weight.ndim))
    fan_in = math.prod(weight.shape[1:])
    mean = _sum(weight, axes, keepdim=True) * (1.0 / fan_in)
    centred = weight - mean
    var = _sum(centred * centred, axes, keepdim=True) * (1.0 / fan_in)
    scale = rsqrt(maximum(var * float(fan_in), eps))
    if gain is not None:
        scale = scale * gain
    return centred * scale


class WSConv2d(Conv2d):
    """``Conv2d`` whose weight is standardised per output filter before use (see the module doc).

    Extra arguments: ``gain_init`` (initial value of the learnable per-output-channel ``gain``,
    shape (out_channels, 1, 1, 1)) and ``eps`` (floor of var * fan_in).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None, *, gain_init: float = 1.0, eps: float = 1e-4) -> None:
        if eps < 0:
            raise ValueError(f"WSConv2d: eps must be non-negative, got {eps}")
        self.gain_init, self.eps = float(gain_init), float(eps)
        # Conv2d.__init__ calls reset_parameters, which initialises gain too: create it first
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, device, dtype)

    def reset_parameters(self) -> None:
        """Conv2d's default for weight and bias; gain = gain_init."""
        super().reset_parameters()
        if "gain" not in self._parameters:
            self.gain = Parameter(_factory.empty((self.out_channels, 1, 1, 1), dtype=self.weight.dtype))
        init.constant_(self.gain, self.gain_init)

    def standardized_weight(self) -> Tensor:
        """The weight the convolution actually uses, W_hat."""
        return standardize_weight(self.weight, self.gain, self.eps)

    def forward(self, input: Tensor) -> Tensor:
        self._check(input)
        return self._conv_forward(input, self.standardized_weight(), self.bias)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", gain_init={self.gain_init}, eps={self.eps}"


__all__ = ["WSConv2d"]
