"""``Unfold`` (image -> sliding-block columns) and ``Fold`` (columns -> image, overlaps summed)."""

from __future__ import annotations

from ...ops.fold import fold, unfold
from ...tensor import Tensor
from ..module import Module
from ._utils import _pair


class Fold(Module):
    """(N, C*kH*kW, L) -> (N, C, *output_size): the adjoint of ``Unfold``; overlapping entries add up."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size = _pair(output_size, "output_size", "Fold", 1)
        self.kernel_size = _pair(kernel_size, "kernel_size", "Fold", 1)
        self.dilation = _pair(dilation, "dilation", "Fold", 1)
        self.padding = _pair(padding, "padding", "Fold", 0)
        self.stride = _pair(stride, "stride", "Fold", 1)
        # PyTorch keeps the arguments as given (ints stay ints) for repr and state
        self._given = (output_size, kernel_size, dilation, padding, stride)

    def forward(self, input: Tensor) -> Tensor:
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        o, k, d, p, s = self._given
        return f"output_size={o}, kernel_size={k}, dilation={d}, padding={p}, stride={s}"


class Unfold(Module):
    """(N, C, H, W) -> (N, C*kH*kW, L): every kH x kW block as one column."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size = _pair(kernel_size, "kernel_size", "Unfold", 1)
        self.dilation = _pair(dilation, "dilation", "Unfold", 1)
        self.padding = _pair(padding, "padding", "Unfold", 0)
        self.stride = _pair(stride, "stride", "Unfold", 1)
        self._given = (kernel_size, dilation, padding, stride)

    def forward(self, input: Tensor) -> Tensor:
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        k, d, p, s = self._given
        return f"kernel_size={k}, dilation={d}, padding={p}, stride={s}"


__all__ = ["Fold", "Unfold"]
