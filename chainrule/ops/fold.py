"""``unfold`` (im2col) and ``fold`` (col2im) of 2-d inputs, as in ``torch.nn.functional``.

``unfold`` copies every sliding block of ``(N, C, H, W)`` into a column: the result is
``(N, C*kH*kW, L)`` with ``L`` the number of block positions. ``fold`` sums columns back into an
image, adding where blocks overlap: it is the adjoint of ``unfold`` (not its inverse), so each is
the other's gradient, to any order.
"""

from __future__ import annotations

import math

from ..autograd.function import FunctionNode
from ..kernels.windows import Window, col2im, conv_out_size, im2col
from ..tensor import Tensor
from .conv import ntuple
from .shape import reshape


class Unfold(FunctionNode):
    torch_name = "Im2ColBackward0"

    def __init__(self, win: Window):
        self.win = win

    def forward(self, x):
        cols = im2col(self.xp, x, self.win)
        return cols.reshape(x.shape[0], -1, math.prod(self.win.out_size))

    def backward(self, g):
        return Fold(self.win).apply(g)


class Fold(FunctionNode):
    torch_name = "Col2ImBackward0"

    def __init__(self, win: Window):
        self.win = win

    def forward(self, cols):
        n = cols.shape[0]
        k = tuple(self.win.kernel)
        c = cols.shape[1] // math.prod(k)
        return col2im(self.xp, cols.reshape((n, c) + k + tuple(self.win.out_size)), self.win)

    def backward(self, g):
        return Unfold(self.win).apply(g)


def _args(kernel_size, dilation, padding, stride, op: str) -> tuple:
    k = ntuple(kernel_size, 2, "kernel_size", op)
    d = ntuple(dilation, 2, "dilation", op)
    p = ntuple(padding, 2, "padding", op)
    s = ntuple(stride, 2, "stride", op)
    for name, v, least in (("kernel_size", k, 1), ("dilation", d, 1), ("padding", p, 0), ("stride", s, 1)):
        if any(x < least for x in v):
            what = "greater than zero" if least else "non-negative"
            raise RuntimeError(f"{op}: {name} should be {what}, but got {name}={list(v)}")
    return k, d, p, s


def _blocks(size: tuple, k, d, p, s, op: str) -> tuple:
    out = tuple(conv_out_size(n, kk, ss, dd, pp, pp) for n, kk, ss, dd, pp in zip(size, k, s, d, p))
    if any(o < 1 for o in out):
        raise RuntimeError(
            f"{op}: given input with spatial size {list(size)}, kernel_size={list(k)}, dilation={list(d)}, "
            f"padding={list(p)}, calculated shape of the array of sliding blocks as {list(out)}, "
            "but its components must be at least one")
    return out


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sliding blocks of ``input`` (N, C, H, W) or (C, H, W) as columns (N, C*kH*kW, L):

        out[n, (c, i, j), l] = x_pad[n, c, ph*sH + i*dH, pw*sW + j*dW],  l = ph*Lw + pw

    with ``L = Lh*Lw`` and ``Lh = floor((H + 2*pH - dH*(kH - 1) - 1)/sH) + 1`` (likewise Lw)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"unfold(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got {input.ndim}D)")
    k, d, p, s = _args(kernel_size, dilation, padding, stride, "unfold")
    x = input if input.ndim == 4 else reshape(input, (1,) + tuple(input.shape))
    size = tuple(x.shape[2:])
    win = Window(size, _blocks(size, k, d, p, s, "unfold"), k, s, d, p)
    y = Unfold(win).apply(x)
    return y if input.ndim == 4 else reshape(y, tuple(y.shape[1:]))


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum columns (N, C*kH*kW, L) or (C*kH*kW, L) back into an image (N, C, *output_size): the
    adjoint of ``unfold``; entries of overlapping blocks that land on one pixel add up."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fold(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim not in (2, 3):
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size "
                           f"and non-zero dimensions for input, but got: {list(input.shape)}")
    size = ntuple(output_size, 2, "output_size", "fold")
    k, d, p, s = _args(kernel_size, dilation, padding, stride, "fold")
    x = input if input.ndim == 3 else reshape(input, (1,) + tuple(input.shape))
    kk = math.prod(k)
    if x.shape[1] % kk:
        raise RuntimeError(
            f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
            f"got input.size(1)={x.shape[1]} and kernel_size={tuple(k)}")
    blocks = _blocks(size, k, d, p, s, "fold")
    if x.shape[2] != math.prod(blocks):
        raise RuntimeError(
            f"Given output_size={tuple(size)}, kernel_size={tuple(k)}, dilation={tuple(d)}, padding={tuple(p)}, "
            f"stride={tuple(s)}, expected size of input's dimension 2 to match the calculated number of "
            f"sliding blocks {blocks[0]} * {blocks[1]} = {math.prod(blocks)}, but got input.size(2)={x.shape[2]}.")
    win = Window(size, blocks, k, s, d, p)
    y = Fold(win).apply(x)
    return y if input.ndim == 3 else reshape(y, tuple(y.shape[1:]))


# ``torch.unfold``/``Tensor.unfold`` mean something else (one-axis windows); these two are only
# exported through ``chainrule.nn.functional``.
__all__: list[str] = []

TENSOR_METHODS: list[str] = []
