"""Normalisation operators: batch, instance, layer, group, RMS and local response normalisation,
filter response normalisation and the thresholded linear unit.

All standardising norms share one operator, ``Normalize``: over a set of ``axes``

    mu = mean(x),  var = mean((x - mu)^2)  (biased),  x_hat = (x - mu) / sqrt(var + eps),
    y = x_hat * w + b     (w, b optional, broadcastable to x)

and differ only in which axes they reduce and what shape the affine parameters have. Its
backward is one node, ``NormalizeGrad``, whose forward is the closed form

    dx = rstd * (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat)),   g_hat = g * w,
    dw = g * x_hat,   db = g      (summed to the parameters' shapes),

on raw arrays with the statistics saved by forward (the ``norm`` kernels in the batch-norm
layout), and whose backward differentiates the same form written with differentiable operators,
mu and rstd recomputed from x: first and second derivatives (gradient penalties through a batch
norm in training mode) run the same code. Means are taken in two steps (a rough mean, then the
mean of the residuals) so that float32 inputs far from zero mean keep their precision.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from .. import kernels
from ..autograd import capture
from ..autograd.engine import grad as _grad
from ..autograd.function import FunctionNode, named_output
from ..autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from ..tensor import Tensor
from ._util import require_float
from .elementwise import abs as _abs
from .elementwise import maximum, rsqrt
from .reduction import sum as _sum
from .shape import reshape


def _centred_stats(x: Tensor, axes: tuple, eps: float, shift) -> tuple[Tensor, Tensor]:
    """x - mu and 1/sqrt(var + eps) over ``axes`` (kept as size-1 axes), as differentiable ops of x.

    ``shift`` (a constant close to the mean) is subtracted first: the sums then run over small
    numbers, so float32 keeps its precision for inputs far from zero mean.
    """
    inv_n = 1.0 / math.prod(x.shape[a] for a in axes)
    xs = x - Tensor._make(shift)
    xc = xs - _sum(xs, axes, keepdim=True) * inv_n
    var = _sum(xc * xc, axes, keepdim=True) * inv_n
    return xc, rsqrt(var + eps)


class Normalize(FunctionNode):
    """``(x - mu) / sqrt(var + eps) * w + b`` with the statistics taken over ``axes``.

    Inputs are ``x`` followed by ``w`` and/or ``b`` when present (``has_weight``/``has_bias``);
    both broadcast against ``x``. After forward, ``self.mean`` and ``self.var`` hold the batch
    statistics (raw arrays with the reduced axes kept) for running-average updates.
    """

    @property
    def torch_name(self) -> str:  # statistics over the batch axis: batch norm; else layer norm
        return "NativeBatchNormBackward0" if 0 in self.axes else "NativeLayerNormBackward0"

    def __init__(self, axes: tuple, eps: float, has_weight: bool, has_bias: bool):
        self.axes, self.eps = tuple(axes), float(eps)
        self.has_weight, self.has_bias = has_weight, has_bias

    def forward(self, x, *affine):
        w = affine[0] if self.has_weight else None
        b = affine[-1] if self.has_bias else None
        axes = self.axes
        self.n = math.prod(x.shape[a] for a in axes)
        self.channels = _channel_view(x, axes)
        if self.channels is not None:
            return self._forward_channels(x, w, b)
        # two-step mean: x - shift is exact for x near the mean, and delta = mean(x - shift)
        # recovers what rounding the first mean lost (float32 inputs far from zero mean)
        shift = x.mean(axis=axes, keepdims=True)
        xc = x - shift
        delta = xc.mean(axis=axes, keepdims=True)
        var = (xc * xc).mean(axis=axes, keepdims=True) - delta * delta
        return self._finish(x, xc, w, b, shift, delta, var)

    def _forward_channels(self, x, w, b):
        """The batch-norm layout, (N, C, L) with statistics per C: the ``norm`` kernels."""
        assert self.channels is not None  # forward calls this only for the batch-norm layout
        n_, c, length = self.channels
        x3 = x.reshape(n_, c, length)
        kept = (1, c) + (1,) * (x.ndim - 2)
        y3, *stats = kernels.call("norm", "forward", self.xp, x3, w=None if w is None else w.reshape(c),
                                  b=None if b is None else b.reshape(c), eps=self.eps)
        self._keep(x, w, *(a.reshape(kept) for a in stats))
        return y3.reshape(x.shape)

    def _keep(self, x, w, shift, delta, var, rstd) -> None:
        """Keep the statistics (the running averages and backward read them) and save x, w."""
        self.shift, self.delta, self.rstd = shift, delta, rstd
        self.mean, self.var = shift + delta, var
        # with w constant along the reduced axes (batch and instance norm) the first-order
        # backward folds into per-channel coefficients, see NormalizeGrad
        self.per_slice = w is None or all(
            a < x.ndim - w.ndim or w.shape[a - (x.ndim - w.ndim)] == 1 for a in self.axes)
        self.save_for_backward(x, w)

    def _finish(self, x, xc, w, b, shift, delta, var):
        """Keep the statistics and turn ``xc = x - shift`` into the output in place."""
        rstd = (1.0 / self.xp.sqrt(var + x.dtype.type(self.eps))).astype(x.dtype, copy=False)
        self._keep(x, w, shift, delta, var, rstd)
        scale = rstd if w is None else rstd * w
        offset = -(delta * scale)
        if b is not None:
            offset = offset + b
        # xc is this op's own temporary, and w, b broadcast to x's shape (the wrappers check):
        # the output is written into it, saving an allocation the size of x
        xc *= scale
        xc += offset
        return xc

    def backward(self, g):
        x, w = self.saved_tensors
        need = self.needs_input_grad
        want = [need[0], self.has_weight and need[1], self.has_bias and need[-1]]
        gb = None
        if want[2] and not self.per_slice:  # the bias gradient is g itself (the engine sums it)
            gb, want[2] = g, False
        grads: list = [None, None, None]
        if any(want):
            node = NormalizeGrad(self, tuple(want))
            out = node.apply(g, x) if w is None else node.apply(g, x, w)
            it = iter(out if isinstance(out, tuple) else (out,))
            grads = [next(it) if k else None for k in want]
        if gb is not None:
            grads[2] = gb
        result = [grads[0]]
        if self.has_weight:
            result.append(grads[1])
        if self.has_bias:
            result.append(grads[2])
        return tuple(result)

    def _release_extra(self) -> None:
        self.mean = self.var = self.rstd = self.shift = self.delta = None


class NormalizeGrad(FunctionNode):
    """The gradients of ``Normalize`` with respect to x, w and b (those in ``want``) from the
    output gradient g: one node for every order of derivative.

    Forward is the first-order closed form on raw arrays with the statistics saved by
    ``Normalize`` as constants: with ``xs = x - shift``, ``S1 = sum(g)`` and
    ``S2 = sum(g xs) - delta S1`` per slice, ``db = S1``, ``dw = rstd S2`` and
    ``dx = a g + b1 xs + c0`` where ``a = w rstd``, ``b1 = -rstd^2 w dw / n``,
    ``c0 = -a S1 / n - delta b1`` (w constant on each reduced slice; the batch-norm layout runs
    the ``norm`` kernels), else ``dx = rstd (g_hat - mean(g_hat) - x_hat mean(g_hat x_hat))``,
    ``g_hat = g w``, and ``dw = g x_hat``. Backward differentiates the same closed form written
    with differentiable operators, the statistics recomputed from x (``_formula``), so second
    and higher derivatives are exact.
    """

    @property
    def torch_name(self) -> str:
        return "NativeBatchNormBackwardBackward0" if 0 in self.axes else "NativeLayerNormBackwardBackward0"

    def __init__(self, op: Normalize, want: tuple):
        self.axes, self.eps, self.n, self.channels = op.axes, op.eps, op.n, op.channels
        self.per_slice, self.want = op.per_slice, want  # want: (dx, dw, db), db only per slice
        self.shift, self.delta, self.rstd = op.shift, op.delta, op.rstd

    def forward(self, g, x, w=None):
        self.save_for_backward(g, x, w)
        if self.channels is not None and self.per_slice:
            gx, gw, gb = self._channels(g, x, w)
        else:
            gx, gw, gb = self._slices(g, x, w)
        outs = tuple(o for o, k in zip((gx, gw, gb), self.want) if k)
        return outs[0] if len(outs) == 1 else outs

    def _channels(self, g, x, w) -> tuple:
        """The batch-norm layout (N, C, L): the ``norm`` kernels' backward."""
        xp = self.xp
        assert self.channels is not None
        n_, c, length = self.channels
        kept = (1, c) + (1,) * (x.ndim - 2)
        g3 = xp.ascontiguousarray(g).reshape(n_, c, length)
        shift, delta, rstd = (a.reshape(c) for a in (self.shift, self.delta, self.rstd))
        gx3, dw, db = kernels.call("norm", "backward", xp, g3, x.reshape(n_, c, length), shift=shift, delta=delta,
                                   rstd=rstd, w=None if w is None else w.reshape(c), need_input=self.want[0])
        return (None if gx3 is None else gx3.reshape(x.shape)), dw.reshape(kept), db.reshape(kept)

    def _slices(self, g, x, w) -> tuple:
        """Any other layout, with array-module operations over ``axes``."""
        axes, dt = self.axes, x.dtype
        inv_n = dt.type(1.0 / self.n)
        delta, rstd = self.delta, self.rstd
        xs = x - self.shift
        if self.per_slice:
            s1 = g.sum(axis=axes, keepdims=True)
            dw = ((g * xs).sum(axis=axes, keepdims=True) - delta * s1) * rstd  # sum(g * x_hat) per slice
            gx = None
            if self.want[0]:
                a = rstd if w is None else rstd * w
                b1 = -(rstd * rstd) * (dw if w is None else dw * w) * inv_n
                c0 = -(a * s1) * inv_n - delta * b1
                gx = g * a + xs * b1 + c0
            return gx, dw, s1
        x_hat = (xs - delta) * rstd
        gx = None
        if self.want[0]:
            g_hat = g if w is None else g * w
            mg = g_hat.sum(axis=axes, keepdims=True) * inv_n
            mgx = (g_hat * x_hat).sum(axis=axes, keepdims=True) * inv_n
            gx = (g_hat - mg - x_hat * mgx) * rstd
        return gx, (g * x_hat if self.want[1] else None), None

    def _formula(self, g: Tensor, x: Tensor, w: Tensor | None) -> list:
        """What forward computes, as differentiable operators of g, x and w."""
        axes, inv_n = self.axes, 1.0 / self.n
        xc, rstd = _centred_stats(x, axes, self.eps, self.shift)
        x_hat = xc * rstd
        out = []
        if self.want[0]:
            g_hat = g if w is None else g * w
            mg = _sum(g_hat, axes, keepdim=True) * inv_n
            mgx = _sum(g_hat * x_hat, axes, keepdim=True) * inv_n
            out.append((g_hat - mg - x_hat * mgx) * rstd)
        if self.want[1]:
            gw = g * x_hat
            out.append(_sum(gw, axes, keepdim=True) if self.per_slice else gw)
        if self.want[2]:
            out.append(_sum(g, axes, keepdim=True))
        return out

    def backward(self, *grads):
        need = self.needs_input_grad
        create = is_grad_enabled()
        # the form is differentiated at fresh identity nodes in front of g, x and w: ``_grad``
        # then walks the form's graph alone, not on into the graph that made g, x and w
        with enable_grad():
            args = [_Identity().apply(t) if k else t for t, k in zip(self.saved_tensors, need)]
            outs = self._formula(args[0], args[1], args[2] if len(args) == 3 else None)
        pairs = [(o, gr) for o, gr in zip(outs, grads) if gr is not None and o.requires_grad]
        inputs = [t for t, k in zip(args, need) if k]
        if not pairs or not inputs:
            return (None,) * len(need)
        found = iter(_grad([o for o, _ in pairs], inputs, [gr for _, gr in pairs], create_graph=create,
                           allow_unused=True))
        return tuple(next(found) if k else None for k in need)


class _Identity(FunctionNode):
    """``y = x``, a node of its own (see ``NormalizeGrad.backward``)."""

    def forward(self, x):
        return x

    def backward(self, g):
        return g


def _channel_view(x, axes: tuple) -> tuple | None:
    """(N, C, L) when ``axes`` are all but axis 1 of an input with spatial axes (the batch-norm
    layout) and ``x`` is contiguous, else None."""
    if x.ndim < 3 or tuple(axes) != (0,) + tuple(range(2, x.ndim)) or not x.flags.c_contiguous:
        return None
    return x.shape[0], x.shape[1], math.prod(x.shape[2:])


def _normalize(x: Tensor, axes: tuple, eps: float, weight: Tensor | None, bias: Tensor | None):
    """Run ``Normalize``; returns the output and the node (for its batch statistics)."""
    require_float(x, "normalization")
    node = Normalize(axes, eps, weight is not None, bias is not None)
    inputs = [x] + [t for t in (weight, bias) if t is not None]
    return node.apply(*inputs), node


def _channel_shape(ndim: int, c: int) -> tuple:
    """Shape that broadcasts a per-channel vector against an (N, C, *) tensor."""
    return (c,) + (1,) * (ndim - 2)


def _check_dtype(op: str, x: Tensor, **others) -> None:
    for name, t in others.items():
        if t is not None and t._data.dtype != x._data.dtype:
            raise RuntimeError(
                f"{op}: expected {name} to have the input's dtype {x.dtype}, got {t.dtype} "
                "(convert the module or the input with .to(dtype))")


def _check_numel(name: str, t: Tensor | None, c: int) -> None:
    if t is not None and t.numel() != c:
        raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")


def _check_channel_args(op: str, input: Tensor, running_mean, running_var, weight, bias) -> int:
    """The per-channel arguments of batch and instance norm agree with the input; returns C."""
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be None")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        _check_numel(name, t, c)
    _check_dtype(op, input, weight=weight, bias=bias, running_mean=running_mean, running_var=running_var)
    return c


def _verify_batch_size(shape: tuple) -> None:
    if shape[0] * math.prod(shape[2:]) == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {_size_str(shape)}")


def _size_str(shape) -> str:
    return f"chainrule.Size({list(shape)})"


def _update_running_stats(node: Normalize, running_mean: Tensor, running_var: Tensor, momentum: float,
                          samples: tuple | None) -> None:
    """Fold the batch statistics of ``node`` (the normalisation that ran) into the running ones,
    with the unbiased variance; ``samples`` = (N, C) for instance norm, whose statistics per
    (sample, channel) are averaged over the samples. A write outside the graph
    (``capture.effect``), so a compiled call repeats it."""
    m = node.n
    mean, var = node.mean, node.var * (m / (m - 1))
    if samples is not None:
        mean = mean.reshape(samples).mean(axis=0)
        var = var.reshape(samples).mean(axis=0)
    _update_running(running_mean, mean, momentum)
    _update_running(running_var, var, momentum)


def _update_running(running: Tensor, stat: np.ndarray, momentum: float) -> None:
    """running <- (1 - momentum) running + momentum stat, in place and outside the graph."""
    stat_t = Tensor._make(stat.reshape(running._data.shape).astype(running._data.dtype, copy=False))
    with no_grad():
        running.mul_(1.0 - momentum).add_(stat_t, alpha=momentum)


def _affine_eval(x: Tensor, mean: Tensor, var: Tensor, weight, bias, eps: float) -> Tensor:
    """Normalise with given (running) statistics: x * scale + shift, scale = w / sqrt(var + eps)."""
    require_float(x, "normalization")
    shape = _channel_shape(x.ndim, x.shape[1])
    scale = rsqrt(var + eps)
    if weight is not None:
        scale = scale * weight
    shift = -(mean * scale)
    if bias is not None:
        shift = shift + bias
    return x * reshape(scale, shape) + reshape(shift, shape)


@named_output("NativeBatchNormBackward0")
def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation of an (N, C, *) input, per channel C.

    Training: y = (x - mu_B) / sqrt(var_B + eps) * w + b with mu_B, var_B (biased) taken over N
    and the spatial axes; given running buffers are updated in place,
    running <- (1 - momentum) running + momentum stat, with the unbiased variance
    var_B * m / (m - 1) (m values per channel). Evaluation: the running statistics replace mu_B
    and var_B.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"batch_norm(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, *), got {input.ndim}D input "
                         f"of size {list(input.shape)}")
    c = _check_channel_args("batch_norm", input, running_mean, running_var, weight, bias)
    if training:
        _verify_batch_size(tuple(input.shape))
        if eps <= 0.0:
            raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    else:
        if eps < 0.0:
            raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
        if running_mean is None or running_var is None:  # both or neither (_check_channel_args)
            raise RuntimeError("batch_norm: running_mean and running_var must be defined in evaluation mode "
                               "(pass training=True to normalise with the batch statistics)")
        return _affine_eval(input, running_mean, running_var, weight, bias, eps)
    shape = _channel_shape(input.ndim, c)
    w = None if weight is None else reshape(weight, shape)
    b = None if bias is None else reshape(bias, shape)
    axes = (0,) + tuple(range(2, input.ndim))
    y, node = _normalize(input, axes, eps, w, b)
    if running_mean is not None and running_var is not None and momentum:
        capture.effect(_update_running_stats, node, running_mean, running_var, momentum, None)
    return y


@named_output("ViewBackward0")
def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Instance normalisation: each (sample, channel) slice of an (N, C, *) input standardised
    over its spatial axes, then y = x_hat * w + b per channel.

    With ``use_input_stats`` given running buffers receive the batch average of the per-instance
    statistics (unbiased variance); without it the running statistics are used instead.
    """
    if input.ndim < 2:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, *), got {input.ndim}D input")
    c = _check_channel_args("instance_norm", input, running_mean, running_var, weight, bias)
    if not use_input_stats:
        if running_mean is None or running_var is None:  # both or neither (_check_channel_args)
            raise RuntimeError("instance_norm: expected running_mean and running_var to be defined when "
                               "use_input_stats is False")
        return _affine_eval(input, running_mean, running_var, weight, bias, eps)
    if math.prod(input.shape[2:]) == 1:
        raise ValueError(
            f"Expected more than 1 spatial element when training, got input size {_size_str(input.shape)}")
    shape = _channel_shape(input.ndim, c)
    w = None if weight is None else reshape(weight, shape)
    b = None if bias is None else reshape(bias, shape)
    y, node = _normalize(input, tuple(range(2, input.ndim)), eps, w, b)
    if running_mean is not None and running_var is not None and momentum:
        capture.effect(_update_running_stats, node, running_mean, running_var, momentum, (input.shape[0], c))
    return y


def _normalized_shape(normalized_shape) -> tuple:
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    if isinstance(normalized_shape, Sequence):
        return tuple(int(s) for s in normalized_shape)
    raise TypeError(f"normalized_shape must be an int or a sequence of ints, got {type(normalized_shape).__name__}")


def _check_trailing(op: str, input: Tensor, shape: tuple, sep: str = "") -> None:
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        inner = ", ".join(str(s) for s in shape)
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape [*{sep}{inner}], but got "
            f"input of size{list(input.shape)}")


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Layer normalisation over the trailing ``normalized_shape`` axes of each sample:
    y = (x - mu) / sqrt(var + eps) * w + b, with w and b of shape ``normalized_shape``."""
    shape = _normalized_shape(normalized_shape)
    _check_trailing("layer_norm", input, shape, sep=", ")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of "
                               f"shape {list(t.shape)} and normalized_shape = {list(shape)}")
    _check_dtype("layer_norm", input, weight=weight, bias=bias)
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    return _normalize(input, axes, eps, weight, bias)[0]


@named_output("NativeGroupNormBackward0")
def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Group normalisation: the C channels of an (N, C, *) input split into ``num_groups`` groups,
    each (sample, group) standardised over its channels and spatial axes; then per-channel
    y = x_hat * w + b."""
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    n, c = input.shape[0], input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input of shape "
            f"{list(input.shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.numel() != c):
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in input, but got "
                f"{name} of shape {list(t.shape)} and input of shape {list(input.shape)}")
    _check_dtype("group_norm", input, weight=weight, bias=bias)
    if n * c // num_groups * math.prod(input.shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{[n * c // num_groups, num_groups] + list(input.shape[2:])}")
    grouped = reshape(input, (n, num_groups, -1))
    y = reshape(_normalize(grouped, (2,), eps, None, None)[0], tuple(input.shape))
    shape = _channel_shape(input.ndim, c)
    if weight is not None:
        y = y * reshape(weight, shape)
    if bias is not None:
        y = y + reshape(bias, shape)
    return y


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """Root-mean-square normalisation over the trailing axes: y = x / sqrt(mean(x^2) + eps) * w;
    ``eps=None`` uses the machine epsilon of the input's dtype."""
    shape = _normalized_shape(normalized_shape)
    _check_trailing("rms_norm", input, shape)
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got weight of "
                           f"shape {list(weight.shape)} and normalized_shape = {list(shape)}")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps) if input.is_floating_point() else 1e-7
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    ms = _sum(input * input, axes, keepdim=True) * (1.0 / math.prod(shape))
    y = input * rsqrt(ms + eps)
    return y if weight is None else y * weight


class WindowSum(FunctionNode):
    """out[..., c, ...] = sum of x[..., j, ...] for c - before <= j <= c + after along ``dim``
    (zeros outside). Linear; its adjoint is the same sum with ``before`` and ``after`` swapped."""

    def __init__(self, dim: int, before: int, after: int):
        self.dim, self.before, self.after = dim, before, after

    def forward(self, x):
        out = self.xp.zeros_like(x)
        c = x.shape[self.dim]
        lead = (slice(None),) * self.dim
        # one slice-add per window offset: the window is short, the slices are whole arrays
        for k in range(-self.before, self.after + 1):
            lo, hi = max(0, -k), min(c, c - k)
            if lo < hi:
                out[lead + (slice(lo, hi),)] += x[lead + (slice(lo + k, hi + k),)]
        return out

    def backward(self, g):
        return WindowSum(self.dim, self.after, self.before).apply(g)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Normalise each channel by its neighbours across channels:
    y_c = x_c / (k + alpha / size * sum_{c' in window(c)} x_{c'}^2) ^ beta,
    the window covering channels c - size//2 .. c + (size-1)//2 (zero padded)."""
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} dimensions)")
    if int(size) < 1:
        raise ValueError(f"local_response_norm: size must be a positive integer, got {size}")
    if input.numel() == 0:
        return input
    sq = WindowSum(1, size // 2, (size - 1) // 2).apply(input * input)
    return input / ((sq * (alpha / size) + k) ** beta)


def filter_response_norm(input: Tensor, weight: Tensor | None = None, bias: Tensor | None = None,
                         eps: float | Tensor = 1e-6) -> Tensor:
    """Filter response normalisation (Singh & Krishnan, 2019) of an (N, C, *) input:
    nu2 = mean of x^2 over the spatial axes, y = x / sqrt(nu2 + |eps|) * w + b per channel.

    No mean is subtracted and no batch statistic is used, so it works for a batch of one. A
    Tensor ``eps`` is learnable (its absolute value is used, keeping the denominator positive).
    """
    if input.ndim < 3:
        raise ValueError(f"filter_response_norm: expected an input of shape (N, C, *) with spatial axes, "
                         f"got {input.ndim}D input")
    c = input.shape[1]
    for name, t in (("weight", weight), ("bias", bias)):
        _check_numel(name, t, c)
    axes = tuple(range(2, input.ndim))
    nu2 = _sum(input * input, axes, keepdim=True) * (1.0 / math.prod(input.shape[2:]))
    if isinstance(eps, Tensor):
        eps = _abs(eps)
    y = input * rsqrt(nu2 + eps)
    shape = _channel_shape(input.ndim, c)
    if weight is not None:
        y = y * reshape(weight, shape)
    if bias is not None:
        y = y + reshape(bias, shape)
    return y


def tlu(input: Tensor, tau: Tensor) -> Tensor:
    """Thresholded linear unit: y = max(x, tau) with a learnable per-channel threshold ``tau``
    (on ties the gradient is split evenly, as for ``maximum``)."""
    if input.ndim < 2:
        raise ValueError(f"tlu: expected an input of shape (N, C, *), got {input.ndim}D input")
    _check_numel("tau", tau, input.shape[1])
    return maximum(input, reshape(tau, _channel_shape(input.ndim, input.shape[1])))


# torch.batch_norm and torch.instance_norm take (input, weight, bias, running_mean, running_var,
# ...) in another order than torch.nn.functional, so only the names whose top-level signature
# agrees with nn.functional are exported as chainrule.<name>.
__all__ = ["layer_norm", "group_norm", "rms_norm"]

TENSOR_METHODS: list = []
