"""Module-level mappings: a layer exported as the one ONNX operator that means it.

A module listed here is recorded whole (its inner operators are not traced): convolutions
with every padding mode, transposed convolutions, ``Linear`` as ``Gemm``, batch norm in eval
mode as ``BatchNormalization``, ``LayerNorm`` as ``LayerNormalization``, ``PReLU``, the padding
layers, and the dropout layers (the identity in eval mode). Everything else (activations,
pooling, ``Flatten``, group/instance norm, ``WSConv2d``, ``FilterResponseNorm2d``, ``TLU``)
runs through the operator-level table, where its forward's operators are mapped one by one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..nn import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    LayerNorm,
    Linear,
    Module,
    PReLU,
    Threshold,
    Upsample,
)
from ..nn.layers.dropout import _DropoutNd
from ..nn.layers.padding import _PadNd
from ._graph import Graph, UnsupportedOperatorError
from ._ops import Call

_PAD_MODES = {"constant": "constant", "zeros": "constant", "reflect": "reflect", "replicate": "edge",
              "circular": "wrap"}


def _param(c: Call, attr: str) -> str:
    t = getattr(c.target, attr)
    return c.g.const(t._data, f"{c.scope}.{attr}" if c.scope else attr)


def _torch_pads_to_onnx(pads: list, ndim: int) -> list:
    """PyTorch's (last_lo, last_hi, prev_lo, prev_hi, ...) -> ONNX's (lo per axis..., hi per axis...)."""
    k = len(pads) // 2
    lo = [0] * (ndim - k) + [int(pads[2 * (k - 1 - i)]) for i in range(k)]
    hi = [0] * (ndim - k) + [int(pads[2 * (k - 1 - i) + 1]) for i in range(k)]
    return lo + hi


def _pad(g: Graph, x: str, mode: str, pads: list, value: float, dtype: np.dtype) -> str:
    onnx_mode = _PAD_MODES[mode]
    if onnx_mode == "wrap" and g.opset < 19:
        raise UnsupportedOperatorError("circular padding needs ONNX opset 19 or later (Pad mode 'wrap')")
    ins = [x, g.ints(pads, "pads")]
    if onnx_mode == "constant":
        ins.append(g.const(np.asarray(value, dtype=dtype), "pad_value"))
    return g.op("Pad", ins, mode=onnx_mode)


def _batched(c: Call, spatial: int, body: Callable[[str], str]) -> list:
    """Run ``body`` on a batched input: an unbatched (C, *S) input gets a batch axis and loses it again."""
    x = c.ins[0]
    if c.inputs[0].ndim == spatial + 1:
        x = c.g.op("Unsqueeze", [x, c.g.ints([0], "axes")])
        return [c.g.op("Squeeze", [body(x), c.g.ints([0], "axes")])]
    return [body(x)]


def _conv(c: Call) -> list:
    m = c.target
    n = len(m.kernel_size)
    k, d = list(m.kernel_size), list(m.dilation)
    if m.padding == "valid":
        lo, hi = [0] * n, [0] * n
    elif m.padding == "same":
        total = [di * (ki - 1) for ki, di in zip(k, d)]
        lo = [t // 2 for t in total]
        hi = [t - l for t, l in zip(total, lo)]
    else:
        lo = hi = [int(p) for p in m.padding]

    def body(x: str) -> str:
        pads = lo + hi
        if m.padding_mode != "zeros" and any(pads):  # reflect/replicate/circular: an explicit Pad first
            x = _pad(c.g, x, m.padding_mode, [0, 0] + lo + [0, 0] + hi, 0.0, c.out_dtype)
            pads = [0] * (2 * n)
        ins = [x, _param(c, "weight")] + ([_param(c, "bias")] if m.bias is not None else [])
        return c.g.op("Conv", ins, kernel_shape=k, strides=list(m.stride), dilations=d, pads=pads, group=m.groups)

    return _batched(c, n, body)


def _conv_transpose(c: Call) -> list:
    m = c.target
    n = len(m.kernel_size)
    k, s, d, p = list(m.kernel_size), list(m.stride), list(m.dilation), [int(v) for v in m.padding]
    in_size = c.inputs[0].shape[-n:]
    out_size = c.outputs[0].shape[-n:]
    # the output size is fixed by the call (output_size= may pick any valid one): recover output_padding
    output_padding = [o - ((i - 1) * si - 2 * pi + di * (ki - 1) + 1)
                      for o, i, si, pi, di, ki in zip(out_size, in_size, s, p, d, k)]

    def body(x: str) -> str:
        ins = [x, _param(c, "weight")] + ([_param(c, "bias")] if m.bias is not None else [])
        return c.g.op("ConvTranspose", ins, kernel_shape=k, strides=s, dilations=d, pads=p + p, group=m.groups,
                      output_padding=output_padding)

    return _batched(c, n, body)


def _linear(c: Call) -> list:
    m, g = c.target, c.g
    if c.inputs[0].ndim == 2:
        ins = [c.ins[0], _param(c, "weight")] + ([_param(c, "bias")] if m.bias is not None else [])
        return [g.op("Gemm", ins, transB=1)]
    wt = g.const(m.weight._data.T, f"{c.scope}.weight_t")
    y = g.op("MatMul", [c.ins[0], wt])
    return [g.op("Add", [y, _param(c, "bias")]) if m.bias is not None else y]


def _ones_or(c: Call, attr: str, n: int, fill: float) -> str:
    if getattr(c.target, attr, None) is not None:
        return _param(c, attr)
    return c.g.const(np.full(n, fill, dtype=c.out_dtype), f"{c.scope}.{attr}")


def _batch_norm(c: Call) -> list:
    m = c.target
    ch = m.num_features
    return [c.g.op("BatchNormalization",
                   [c.ins[0], _ones_or(c, "weight", ch, 1.0), _ones_or(c, "bias", ch, 0.0),
                    _param(c, "running_mean"), _param(c, "running_var")], epsilon=float(m.eps))]


def _layer_norm(c: Call) -> list:
    m = c.target
    shape = tuple(m.normalized_shape)
    scale = _param(c, "weight") if m.weight is not None else \
        c.g.const(np.ones(shape, dtype=c.out_dtype), f"{c.scope}.weight")
    bias = _param(c, "bias") if getattr(m, "bias", None) is not None else \
        c.g.const(np.zeros(shape, dtype=c.out_dtype), f"{c.scope}.bias")
    return [c.g.op("LayerNormalization", [c.ins[0], scale, bias], axis=-len(shape), epsilon=float(m.eps))]


def _prelu(c: Call) -> list:
    m, g = c.target, c.g
    x = c.inputs[0]
    slope = _param(c, "weight")
    if m.num_parameters > 1 and x.ndim > 2:
        slope = g.op("Reshape", [slope, g.ints([-1] + [1] * (x.ndim - 2))])
    return [g.op("PRelu", [c.ins[0], slope])]


def _pad_module(c: Call) -> list:
    m = c.target
    pads = _torch_pads_to_onnx(list(m.padding), c.inputs[0].ndim)
    return [_pad(c.g, c.ins[0], m.mode, pads, float(getattr(m, "value", 0.0)), c.out_dtype)]


def _threshold(c: Call) -> list:
    """``x if x > threshold else value``."""
    m, g = c.target, c.g
    th = g.const(np.asarray(m.threshold, dtype=c.out_dtype), f"{c.scope}.threshold")
    value = g.const(np.asarray(m.value, dtype=c.out_dtype), f"{c.scope}.value")
    return [g.op("Where", [g.op("Greater", [c.ins[0], th]), c.ins[0], value])]


def _upsample_nearest(c: Call) -> list:
    """Resize, nearest: input index floor(out_index * in / out) (PyTorch's 'nearest').

    The target is given as ``sizes`` (the batch and channel dimensions taken from the input at
    run time): ``scales`` would be rounded to float32 and could lose an output pixel."""
    g, y = c.g, c.outputs[0]
    lead = g.op("Shape", [c.ins[0]], start=0, end=2)
    sizes = g.op("Concat", [lead, g.ints(y.shape[2:], "spatial_size")], axis=0)
    return [g.op("Resize", [c.ins[0], "", "", sizes], mode="nearest",
                 coordinate_transformation_mode="asymmetric", nearest_mode="floor")]


def _dropout(c: Call) -> list:
    return [c.g.op("Identity", [c.ins[0]])]


def _mapping(module: Module) -> Callable[[Call], list] | None:
    """The mapping of ``module``, or None to trace its operators instead."""
    # exact types: a subclass (WSConv2d) changes the forward and is traced operator by operator
    if type(module) in (Conv1d, Conv2d, Conv3d):
        return _conv
    if type(module) in (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d):
        return _conv_transpose
    if type(module) is Linear:
        return _linear
    if type(module) in (BatchNorm1d, BatchNorm2d, BatchNorm3d):
        # eval mode with running statistics is a fixed affine map; otherwise trace the batch statistics
        if not module.training and module.running_mean is not None:
            return _batch_norm
        return None
    if type(module) is LayerNorm:
        return _layer_norm
    if type(module) is PReLU:
        return _prelu
    if isinstance(module, _PadNd):
        return _pad_module
    if isinstance(module, _DropoutNd) and not module.training:
        return _dropout
    if type(module) is Threshold:
        return _threshold
    if isinstance(module, Upsample) and module.mode == "nearest":
        return _upsample_nearest
    return None


def mapping(module: Module) -> Callable[[Call], list] | None:
    """The module-level mapping of ``module``, or None when its operators are traced instead."""
    return _mapping(module)
