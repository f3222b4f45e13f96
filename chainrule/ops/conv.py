"""Convolution and transposed convolution, N-d, as three mutually adjoint operators.

With ``X`` (N, C, *S), weight ``W`` (O, C/g, *K) and output ``Y`` (N, O, *P) every operator here
is a face of the one trilinear form ``<conv(X, W), Y>``:

* ``Conv``       (X, W) -> Y   ``Y[n,o,p] = sum_{c,j} W[o,c,j] Xpad[n, g(o)*C/g + c, p*s + j*d]``
* ``ConvInput``  (Y, W) -> X   the adjoint of ``Conv`` in X: the transposed convolution
* ``ConvWeight`` (X, Y) -> W   the adjoint of ``Conv`` in W

so the derivative of each is made of the other two (and of itself), to any order:
``d conv = conv_input(gY, W), conv_weight(X, gY)``; ``d conv_input = conv(gX, W),
conv_weight(gX, Y)``; ``d conv_weight = conv_input(Y, gW), conv(X, gW)``.

The raw-array algorithms are the ``conv`` family of ``kernels`` (``forward``, ``input``,
``weight``; ``kernels.call`` picks the backend).
"""

from __future__ import annotations

import numbers

from .. import kernels
from ..autograd.function import FunctionNode
from ..kernels.windows import Window, conv_out_size
from ..tensor import Tensor
from .reduction import sum as _sum
from .shape import reshape

# ---- argument normalisation ---------------------------------------------------------------------


def ntuple(value, n: int, name: str, op: str) -> tuple:
    """An int or a sequence of 1 or ``n`` ints as an ``n``-tuple of ints."""
    if isinstance(value, bool):
        raise TypeError(f"{op}(): {name} must be an int or a tuple of {n} ints, got {value!r}")
    if isinstance(value, numbers.Integral):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                                for v in value):
        if len(value) == n:
            return tuple(int(v) for v in value)
        if len(value) == 1:
            return (int(value[0]),) * n
    raise TypeError(f"{op}(): {name} must be an int or a tuple of {n} ints, got {value!r}")


def _channels_first(nd: int, op: str, input: Tensor) -> Tensor:
    """Check the rank of ``input`` and give unbatched inputs a batch axis of 1."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, but got input of "
            f"size: {list(input.shape)}")
    return input if input.ndim == nd + 2 else reshape(input, (1,) + tuple(input.shape))


def _unbatch(input: Tensor, nd: int, y: Tensor) -> Tensor:
    """The inverse of ``_channels_first`` on a result: drop the batch axis it added."""
    return y if input.ndim == nd + 2 else reshape(y, tuple(y.shape[1:]))


def _check_float(op: str, *tensors) -> None:
    t0 = tensors[0]
    if t0._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point input, got {t0.dtype}")
    for t in tensors[1:]:
        if t is not None and t._data.dtype != t0._data.dtype:
            raise RuntimeError(
                f"{op}: input type ({t0.dtype}) and weight/bias type ({t.dtype}) should be the same")


def _check_weight(nd: int, op: str, weight, layout: str) -> None:
    """``weight`` is an (nd + 2)-d Tensor laid out as ``(layout, *kernel_size)``."""
    if not isinstance(weight, Tensor) or weight.ndim != nd + 2:
        got = list(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__
        raise RuntimeError(f"{op}: expected a {nd + 2}-D weight ({layout}, *kernel_size), but got "
                           f"weight of size {got}")


def _check_groups(weight: Tensor, groups: int) -> None:
    """The weight's first axis splits into ``groups``."""
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at "
                           f"dimension 0, but got weight of size {list(weight.shape)} instead")


def _bias_shape(b: Tensor | None, n: int, op: str, weight_shape) -> None:
    if b is not None and (not isinstance(b, Tensor) or b.ndim != 1 or b.shape[0] != n):
        got = list(b.shape) if isinstance(b, Tensor) else type(b).__name__
        raise RuntimeError(
            f"{op}: given weight of size {list(weight_shape)}, expected bias to be 1-dimensional "
            f"with {n} elements, but got bias of size {got} instead")


# ---- operators ---------------------------------------------------------------------------------


def _bias_axes(nd: int) -> tuple:
    return (0,) + tuple(range(2, nd + 2))


def _add_bias(y, b, nd: int):
    if b is not None:
        y += b.reshape((1, -1) + (1,) * nd)
    return y


class _ConvFace(FunctionNode):
    """The geometry shared by the three faces of the trilinear form."""

    def __init__(self, win: Window, groups: int):
        self.win, self.groups = win, groups


class Conv(_ConvFace):
    """``conv(X, W) + b``; inputs ``(x, w)`` or ``(x, w, b)``."""

    torch_name = "ConvolutionBackward0"

    def forward(self, x, w, b=None, out=None):
        """``out``: an array the result may be written into (a compiled schedule's buffer)."""
        self.save_for_backward(x, w)
        y = kernels.call("conv", "forward", self.xp, x, w, win=self.win, groups=self.groups, out=out)
        return _add_bias(y, b, self.win.nd)

    def backward(self, gy):
        x, w = self.saved_tensors
        need = self.needs_input_grad
        gx = ConvInput(self.win, self.groups).apply(gy, w) if need[0] else None
        gw = ConvWeight(self.win, self.groups).apply(x, gy) if need[1] else None
        gb = _sum(gy, _bias_axes(self.win.nd)) if len(need) > 2 and need[2] else None
        return gx, gw, gb


class ConvInput(_ConvFace):
    """``conv_input(Y, W) + b``, the transposed convolution; inputs ``(y, w)`` or ``(y, w, b)``."""

    torch_name = "ConvolutionBackward0"

    def forward(self, y, w, b=None, out=None):
        self.save_for_backward(y, w)
        gx = kernels.call("conv", "input", self.xp, y, w, win=self.win, groups=self.groups, out=out)
        return _add_bias(gx, b, self.win.nd)

    def backward(self, gx):
        y, w = self.saved_tensors
        need = self.needs_input_grad
        gy = Conv(self.win, self.groups).apply(gx, w) if need[0] else None
        gw = ConvWeight(self.win, self.groups).apply(gx, y) if need[1] else None
        gb = _sum(gx, _bias_axes(self.win.nd)) if len(need) > 2 and need[2] else None
        return gy, gw, gb


class ConvWeight(_ConvFace):
    """``conv_weight(X, Y)``: the weight gradient of a convolution, as an operator of its own."""

    def forward(self, x, y):
        self.save_for_backward(x, y)
        cg = x.shape[1] // self.groups
        return kernels.call("conv", "weight", self.xp, x, y, win=self.win, groups=self.groups, cg=cg)

    def backward(self, gw):
        x, y = self.saved_tensors
        need = self.needs_input_grad
        gx = ConvInput(self.win, self.groups).apply(y, gw) if need[0] else None
        gy = Conv(self.win, self.groups).apply(x, gw) if need[1] else None
        return gx, gy


# ---- functional API -----------------------------------------------------------------------------


def _padding(padding, nd: int, kernel: tuple, stride: tuple, dilation: tuple, op: str) -> tuple:
    """(lo, hi) per axis from an int, a tuple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * nd, (0,) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            total = tuple(d * (k - 1) for k, d in zip(kernel, dilation))
            lo = tuple(t // 2 for t in total)  # an odd total puts the extra zero at the end, as PyTorch
            return lo, tuple(t - lo_ for t, lo_ in zip(total, lo))
        raise RuntimeError(f"Invalid padding string: {padding!r}, expected 'valid' or 'same'")
    pad = _int_padding(padding, nd, op)
    return pad, pad


def _int_padding(padding, nd: int, op: str) -> tuple:
    """Padding given as an int or a tuple, the same at both ends."""
    pad = ntuple(padding, nd, "padding", op)
    if any(p < 0 for p in pad):
        raise RuntimeError(f"{op}: negative padding is not supported, got padding={list(pad)}")
    return pad


def _common(nd: int, op: str, stride, dilation, groups) -> tuple:
    stride = ntuple(stride, nd, "stride", op)
    dilation = ntuple(dilation, nd, "dilation", op)
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{op}: non-positive stride is not supported, got stride={list(stride)}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"{op}: non-positive dilation is not supported, got dilation={list(dilation)}")
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got groups={groups!r}")
    return stride, dilation, int(groups)


def _fmt(t) -> str:
    return " x ".join(str(v) for v in t)


def _convnd(nd: int, op: str, input, weight, bias, stride, padding, dilation, groups) -> Tensor:
    x = _channels_first(nd, op, input)
    _check_weight(nd, op, weight, "out_channels, in_channels/groups")
    _check_float(op, x, weight, bias)
    stride, dilation, groups = _common(nd, op, stride, dilation, groups)
    o, cg = weight.shape[:2]
    kernel = tuple(weight.shape[2:])
    c = x.shape[1]
    _check_groups(weight, groups)
    if c != cg * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
            f"{list(x.shape)} to have {cg * groups} channels, but got {c} channels instead")
    _bias_shape(bias, o, op, weight.shape)
    lo, hi = _padding(padding, nd, kernel, stride, dilation, op)
    size = tuple(x.shape[2:])
    padded = tuple(s + a + b for s, a, b in zip(size, lo, hi))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(r > p for r, p in zip(reach, padded)):
        raise RuntimeError(
            f"{op}: calculated padded input size per channel: ({_fmt(padded)}). Kernel size: "
            f"({_fmt(reach)}). Kernel size can't be greater than actual input size")
    out = tuple(conv_out_size(s, k, st, d, a, b)
                for s, k, st, d, a, b in zip(size, kernel, stride, dilation, lo, hi))
    win = Window(size, out, kernel, stride, dilation, lo)
    args = (x, weight) if bias is None else (x, weight, bias)
    return _unbatch(input, nd, Conv(win, groups).apply(*args))


def _conv_transposend(nd: int, op: str, input, weight, bias, stride, padding, output_padding,
                      groups, dilation) -> Tensor:
    y = _channels_first(nd, op, input)
    _check_weight(nd, op, weight, "in_channels, out_channels/groups")
    _check_float(op, y, weight, bias)
    stride, dilation, groups = _common(nd, op, stride, dilation, groups)
    if isinstance(padding, str):
        raise RuntimeError(f"{op}: padding must be an int or a tuple of ints, got {padding!r}")
    pad = _int_padding(padding, nd, op)
    opad = ntuple(output_padding, nd, "output_padding", op)
    if any(p < 0 for p in opad) or any(p >= s and p >= d for p, s, d in zip(opad, stride, dilation)):
        raise RuntimeError(
            f"{op}: output padding must be smaller than either stride or dilation, but got "
            f"output_padding={list(opad)}, stride={list(stride)}, dilation={list(dilation)}")
    cin, cg = weight.shape[:2]
    kernel = tuple(weight.shape[2:])
    _check_groups(weight, groups)
    if y.shape[1] != cin:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected input{list(y.shape)} "
            f"to have {cin} channels, but got {y.shape[1]} channels instead")
    _bias_shape(bias, cg * groups, op, weight.shape)
    length = tuple(y.shape[2:])
    size = tuple((n - 1) * s - 2 * p + d * (k - 1) + q + 1
                 for n, s, p, d, k, q in zip(length, stride, pad, dilation, kernel, opad))
    if any(s <= 0 for s in size):
        raise RuntimeError(f"{op}: given input size per channel ({_fmt(length)}), the calculated "
                           f"output size ({_fmt(size)}) is too small")
    win = Window(size, length, kernel, stride, dilation, pad)
    args = (y, weight) if bias is None else (y, weight, bias)
    return _unbatch(input, nd, ConvInput(win, groups).apply(*args))


_CONV_DOC = """{nd}-d convolution (cross-correlation) of ``input`` (N, C, {dims}) or (C, {dims}) with
    ``weight`` (O, C/groups, {kdims}):

        y[n, o, p] = bias[o] + sum_(c, j) weight[o, c, j] * x_pad[n, g(o)*C/groups + c, p*stride + j*dilation]

    Output size per axis: floor((L + 2*padding - dilation*(k - 1) - 1) / stride) + 1. ``padding`` is
    an int, a tuple, 'valid' (no padding) or 'same' (output size = input size; stride 1 only; an odd
    total padding puts the extra zero at the end). Twice differentiable: the input gradient is a
    transposed convolution, the weight gradient its own operator."""

_CONVT_DOC = """{nd}-d transposed convolution of ``input`` (N, C_in, {dims}) with ``weight``
    (C_in, C_out/groups, {kdims}): the adjoint (in its input) of the {nd}-d convolution with the
    same hyper-parameters, mapping (N, C_in, L) to (N, C_out, L_out) with

        L_out = (L - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1

    ``output_padding`` (smaller than stride or dilation) lengthens the output at the end; each
    input element scatters ``x[n, c, p] * weight[c, o, j]`` onto output position
    p*stride + j*dilation - padding. Its gradients are convolutions."""


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    return _convnd(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    return _convnd(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    return _convnd(3, "conv3d", input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    return _conv_transposend(1, "conv_transpose1d", input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    return _conv_transposend(2, "conv_transpose2d", input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    return _conv_transposend(3, "conv_transpose3d", input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


for _nd, _dims, _k in ((1, "L", "k"), (2, "H, W", "kH, kW"), (3, "D, H, W", "kD, kH, kW")):
    globals()[f"conv{_nd}d"].__doc__ = _CONV_DOC.format(nd=_nd, dims=_dims, kdims=_k)
    globals()[f"conv_transpose{_nd}d"].__doc__ = _CONVT_DOC.format(nd=_nd, dims=_dims, kdims=_k)

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]

TENSOR_METHODS: list[str] = []
