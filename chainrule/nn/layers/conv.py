"""Convolution layers: ``Conv1d/2d/3d`` and ``ConvTranspose1d/2d/3d``.

One N-d implementation each; the 1/2/3-d classes only set the number of spatial dimensions,
which picks ``_single``/``_pair``/``_triple`` for the arguments and ``F.conv{n}d`` for the maths.

Default initialisation (PyTorch's): ``weight ~ kaiming_uniform_(a=sqrt(5))``, i.e.
``U(-b, b)`` with ``b = gain * sqrt(3 / fan_in) = sqrt(1/3) * sqrt(3 / fan_in) = 1 / sqrt(fan_in)``,
and ``bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, where ``fan_in = weight.shape[1] * prod(kernel_size)``
(``in_channels / groups * prod(k)`` for a convolution, ``out_channels / groups * prod(k)`` for a
transposed one, whose weight is laid out (in, out / groups, *k)).
"""

from __future__ import annotations

import math

from ... import _factory, backend
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from ._utils import NTUPLE, check_float_dtype, check_float_input, check_spatial_input

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared state, checks and initialisation of convolutions and transposed convolutions."""

    _dims = 0  # number of spatial dimensions, set by the 1/2/3-d subclasses
    _transposed = False

    def _setup(self, in_channels: int, out_channels: int, kernel_size, stride, padding, dilation,
               output_padding, groups: int, bias: bool, padding_mode: str, device, dtype) -> None:
        name = type(self).__name__
        tup = NTUPLE[self._dims]
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name}: {arg} must be a positive integer, got {value!r}")
        if in_channels % groups != 0:
            raise ValueError(f"{name}: in_channels must be divisible by groups, got in_channels="
                             f"{in_channels} and groups={groups}")
        if out_channels % groups != 0:
            raise ValueError(f"{name}: out_channels must be divisible by groups, got out_channels="
                             f"{out_channels} and groups={groups}")
        kernel_size = tup(kernel_size, "kernel_size", name, minimum=1)
        stride = tup(stride, "stride", name, minimum=1)
        dilation = tup(dilation, "dilation", name, minimum=1)
        if isinstance(padding, str):
            if self._transposed:
                raise ValueError(f"{name}: padding must be an int or a tuple of ints, got {padding!r}")
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions "
                                 f"(stride={stride}); give the padding as numbers instead")
        else:
            padding = tup(padding, "padding", name, minimum=0)
        output_padding = tup(output_padding, "output_padding", name, minimum=0)
        if self._transposed:
            for op, s, d in zip(output_padding, stride, dilation):
                if op >= max(s, d):
                    raise ValueError(
                        f"{name}: output_padding must be smaller than either stride or dilation, got "
                        f"output_padding={output_padding}, stride={stride}, dilation={dilation}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, but got "
                             f"padding_mode={padding_mode!r}")
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')

        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = self._transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        # (left, right) per axis; 'same' puts an odd total's extra element on the right
        if padding == "valid":
            sides = [(0, 0)] * self._dims
        elif padding == "same":
            sides = [(t // 2, t - t // 2) for t in (d * (k - 1) for d, k in zip(dilation, kernel_size))]
        else:
            sides = [(p, p) for p in padding]
        # F.pad's order: last dimension first
        self._reversed_padding_repeated_twice = [w for pair in reversed(sides) for w in pair]

        if self._transposed:
            shape = (in_channels, out_channels // groups, *kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *kernel_size)
        backend.check_device(device)
        dtype = check_float_dtype(name, dtype)
        self.weight = Parameter(_factory.empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(_factory.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``weight ~ U(+-1/sqrt(fan_in))`` via ``kaiming_uniform_(a=sqrt(5))``, ``bias ~ U(+-1/sqrt(fan_in))``."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _check(self, input: Tensor) -> None:
        """Rank, channels and dtype of the input (batched or not: ``F.conv*`` take both)."""
        check_spatial_input(self, input, self._dims)
        channels = input.shape[-self._dims - 1]
        if channels != self.in_channels:
            raise RuntimeError(f"{self!r} expected input with {self.in_channels} channels, got "
                               f"{channels} (input of shape {list(input.shape)})")
        check_float_input(self, input, self.weight)


class _Conv(_ConvNd):
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__()
        self._setup(in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups,
                    bias, padding_mode, device, dtype)

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        n = self._dims
        rev = self._reversed_padding_repeated_twice
        x, padding = input, self.padding  # numbers, 'valid' or 'same' (which F.conv* takes as well)
        if self.padding_mode != "zeros":
            x, padding = F.pad(input, rev, mode=self.padding_mode), 0
        both_sides = [lo + hi for lo, hi in zip(rev[0::2], rev[1::2])][::-1]  # per axis, first to last
        padded = tuple(s + w for s, w in zip(input.shape[-n:], both_sides))
        span = tuple(d * (k - 1) + 1 for d, k in zip(self.dilation, self.kernel_size))
        if any(p < k for p, k in zip(padded, span)):
            raise RuntimeError(
                f"{self!r}: the padded input size {padded} is smaller than the dilated kernel {span} "
                f"(input of shape {list(input.shape)})")
        conv = getattr(F, f"conv{n}d")
        return conv(x, weight, bias, self.stride, padding, self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        self._check(input)
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-d convolution (cross-correlation) over (N, C_in, L) inputs.

    ``out[n, o, l] = bias[o] + sum_{c, k} weight[o, c, k] * x_pad[n, g(o) + c, stride * l + dilation * k]``
    with ``L_out = floor((L + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1``.
    """

    _dims = 1


class Conv2d(_Conv):
    """2-d convolution (cross-correlation) over (N, C_in, H, W) inputs.

    ``out[n, o, i, j] = bias[o] + sum_{c, p, q} weight[o, c, p, q] x_pad[n, g(o) + c, s_h i + d_h p, s_w j + d_w q]``
    where channel group ``g(o)`` holds the ``in_channels / groups`` inputs that output ``o`` sees;
    ``H_out = floor((H + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1`` (same for W).
    """

    _dims = 2


class Conv3d(_Conv):
    """3-d convolution (cross-correlation) over (N, C_in, D, H, W) inputs; sizes as ``Conv2d`` per axis."""

    _dims = 3


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__()
        self._setup(in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding,
                    groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input: Tensor, output_size) -> tuple[int, ...]:
        """The ``output_padding`` that makes the output spatial size equal ``output_size``."""
        if output_size is None:
            return self.output_padding
        n = self._dims
        output_size = [int(s) for s in output_size]
        lead = 2 if input.ndim == n + 2 else 1
        if len(output_size) == lead + n:
            output_size = output_size[lead:]
        if len(output_size) != n:
            raise ValueError(f"{type(self).__name__}: for {input.ndim}D input, output_size must have "
                             f"{n} or {lead + n} elements (got {len(output_size)})")
        spatial = tuple(input.shape[-n:])
        lo = [(s - 1) * st - 2 * p + d * (k - 1) + 1 for s, st, p, d, k in
              zip(spatial, self.stride, self.padding, self.dilation, self.kernel_size)]
        hi = [m + st - 1 for m, st in zip(lo, self.stride)]
        for size, a, b in zip(output_size, lo, hi):
            if not a <= size <= b:
                raise ValueError(f"{type(self).__name__}: requested an output size of {output_size}, "
                                 f"but valid sizes range from {lo} to {hi} (for an input of {list(spatial)})")
        return tuple(size - a for size, a in zip(output_size, lo))

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        self._check(input)
        output_padding = self._output_padding(input, output_size)
        conv_t = getattr(F, f"conv_transpose{self._dims}d")
        return conv_t(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                      self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-d convolution (the adjoint of ``Conv1d`` with respect to its input).

    ``L_out = (L - 1) stride - 2 padding + dilation (kernel_size - 1) + output_padding + 1``.
    """

    _dims = 1


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-d convolution: scatters each input pixel, times the kernel, into the output.

    ``H_out = (H - 1) stride - 2 padding + dilation (kernel_size - 1) + output_padding + 1`` (same for W).
    """

    _dims = 2


class ConvTranspose3d(_ConvTranspose):
    """Transposed 3-d convolution; sizes as ``ConvTranspose2d`` per axis."""

    _dims = 3


__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]
