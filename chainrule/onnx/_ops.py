"""Operator-level mappings: one chainrule ``FunctionNode`` class -> ONNX node(s).

Each mapping gets a ``Call`` (the graph, the input value names, the input and output Tensors
of the traced call) and returns the names of its outputs. The table ``OPS`` is keyed by class
name; an operator missing from it is reported with its module by the exporter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._graph import Graph, UnsupportedOperatorError


@dataclass
class Call:
    g: Graph
    ins: list  # value names of the inputs
    inputs: list  # the input Tensors as traced
    outputs: list  # the output Tensors as traced
    dynamic_batch: bool  # axis 0 of the graph input is dynamic: do not bake the batch size in
    target: Any = None  # the FunctionNode or Module
    scope: str = ""  # the module's name in the model (initializers are named after it)

    @property
    def out_dtype(self) -> np.dtype:
        return self.outputs[0]._data.dtype


def _same_dtype(c: Call, i: int) -> str:
    """Input ``i``, cast to the output's dtype when it differs (type promotion made explicit)."""
    t = c.inputs[i]
    if t._data.dtype == c.out_dtype:
        return c.ins[i]
    return c.g.op("Cast", [c.ins[i]], to=_onnx_type(c.g, c.out_dtype))


def _onnx_type(g: Graph, dtype: np.dtype) -> int:
    return g.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def _unary(op: str) -> Callable:
    return lambda c: [c.g.op(op, [c.ins[0]])]


def _binary(op: str) -> Callable:
    return lambda c: [c.g.op(op, [_same_dtype(c, 0), _same_dtype(c, 1)])]


def _scalar(c: Call, value: float) -> str:
    return c.g.const(np.asarray(value, dtype=c.out_dtype), "scalar")


def _rsqrt(c: Call) -> list:
    return [c.g.op("Reciprocal", [c.g.op("Sqrt", [c.ins[0]])])]


def _expm1(c: Call) -> list:
    return [c.g.op("Sub", [c.g.op("Exp", [c.ins[0]]), _scalar(c, 1.0)])]


def _log1p(c: Call) -> list:
    return [c.g.op("Log", [c.g.op("Add", [c.ins[0], _scalar(c, 1.0)])])]


def _pow_scalar(c: Call) -> list:
    return [c.g.op("Pow", [c.ins[0], _scalar(c, c.target.p)])]


def _rpow_scalar(c: Call) -> list:
    return [c.g.op("Pow", [_scalar(c, c.target.base), c.ins[0]])]


def _clamp(c: Call) -> list:
    lo, hi = c.target.lo, c.target.hi
    ins = [c.ins[0], "" if lo is None else _scalar(c, lo), "" if hi is None else _scalar(c, hi)]
    while ins[-1] == "":
        ins.pop()
    return [c.g.op("Clip", ins)]


def _where(c: Call) -> list:
    # the mask is a raw array held by the node (not one of its traced inputs): it may depend on the
    # input, and baking it in would give wrong results for any other input
    raise UnsupportedOperatorError("where() with a mask computed in forward cannot be exported (the node holds "
                                   "the mask as an array, not as a traced input)")


# the array-module function of a comparison -> (ONNX operator, negate its result)
_COMPARE = {"equal": ("Equal", False), "not_equal": ("Equal", True), "less": ("Less", False),
            "less_equal": ("LessOrEqual", False), "greater": ("Greater", False),
            "greater_equal": ("GreaterOrEqual", False), "logical_and": ("And", False), "logical_or": ("Or", False),
            "logical_xor": ("Xor", False)}


def _compare(c: Call) -> list:
    ufunc = c.target.ufunc
    if ufunc not in _COMPARE:
        raise UnsupportedOperatorError(f"the comparison {ufunc} has no ONNX mapping")
    op, negate = _COMPARE[ufunc]
    out = c.g.op(op, [c.ins[0], c.ins[1]])  # the operands share a dtype (promoted by the operator)
    return [c.g.op("Not", [out]) if negate else out]


def _leaky_relu(c: Call) -> list:
    return [c.g.op("LeakyRelu", [c.ins[0]], alpha=float(c.target.slope))]


def _elu(c: Call) -> list:
    return [c.g.op("Elu", [c.ins[0]], alpha=float(c.target.alpha))]


def _softplus(c: Call) -> list:
    """``log(1 + exp(beta x)) / beta``, and ``x`` where ``beta x > threshold`` (PyTorch's switch)."""
    beta, threshold = float(c.target.beta), float(c.target.threshold)
    x = c.ins[0]
    bx = x if beta == 1.0 else c.g.op("Mul", [x, _scalar(c, beta)])
    sp = c.g.op("Softplus", [bx])
    if beta != 1.0:
        sp = c.g.op("Div", [sp, _scalar(c, beta)])
    return [c.g.op("Where", [c.g.op("Greater", [bx, _scalar(c, threshold)]), x, sp])]


def _softmax(op: str) -> Callable:
    return lambda c: [c.g.op(op, [c.ins[0]], axis=int(c.target.dim))]


def _arg_extreme(c: Call) -> list:
    """argmax / argmin: ONNX ArgMax / ArgMin (first index of a tie, as NumPy and PyTorch); over the
    flattened input when no dim was given (then reshaped to all ones under keepdim)."""
    t = c.target
    op = "ArgMax" if t.largest else "ArgMin"
    ndim = c.inputs[0]._data.ndim
    if ndim == 0:
        return [c.g.const(np.zeros((), dtype=np.int64), "index")]
    if t.axis is not None:
        return [c.g.op(op, [c.ins[0]], axis=int(t.axis), keepdims=int(bool(t.keepdim)), select_last_index=0)]
    flat = c.g.op("Reshape", [c.ins[0], c.g.ints([-1])])
    index = c.g.op(op, [flat], axis=0, keepdims=0, select_last_index=0)
    return [c.g.op("Reshape", [index, c.g.ints([1] * ndim if t.keepdim else [])])]


def _index_select(c: Call) -> list:
    """index_select / an embedding lookup with the indices a graph value: Gather of the flattened
    indices along the dimension (the range is not checked at run time: ONNX Runtime reports an
    index out of range itself)."""
    flat = c.g.op("Reshape", [c.ins[1], c.g.ints([-1])])
    return [c.g.op("Gather", [c.ins[0], flat], axis=int(c.target.dim))]


def _reshape(c: Call) -> list:
    shape = [int(s) for s in c.target.shape]
    src = tuple(c.inputs[0].shape)
    if c.dynamic_batch and shape and src and shape[0] == src[0]:
        shape[0] = 0  # ONNX Reshape: 0 copies the input's dimension, here the (dynamic) batch
    return [c.g.op("Reshape", [c.ins[0], c.g.ints(shape)])]


def _permute(c: Call) -> list:
    return [c.g.op("Transpose", [c.ins[0]], perm=[int(d) for d in c.target.dims])]


def _cat(c: Call) -> list:
    return [c.g.op("Concat", [_same_dtype(c, i) for i in range(len(c.ins))], axis=int(c.target.dim))]


def _split(c: Call) -> list:
    t = c.target
    outs = c.g.op("Split", [c.ins[0], c.g.ints(t.sizes, "split")], n_out=len(t.sizes), axis=int(t.dim))
    outs = outs if isinstance(outs, list) else [outs]
    if t.squeeze:
        outs = [c.g.op("Squeeze", [o, c.g.ints([t.dim], "axes")]) for o in outs]
    return outs


def _reduction(op: str) -> Callable:
    def f(c: Call) -> list:
        t = c.target
        dims = t.dims if t.dims is not None else tuple(range(c.inputs[0].ndim))
        if op == "ReduceMax" and not getattr(t, "largest", True):
            op_ = "ReduceMin"
        else:
            op_ = op
        return [c.g.reduce(op_, c.ins[0], tuple(dims), bool(t.keepdim))]
    return f


def _var(c: Call) -> list:
    """``sum((x - mean)^2) / (n - correction)``."""
    t, g = c.target, c.g
    dims = t.dims if t.dims is not None else tuple(range(c.inputs[0].ndim))
    n = int(np.prod([c.inputs[0].shape[d] for d in dims]))
    d = g.op("Sub", [c.ins[0], g.reduce("ReduceMean", c.ins[0], tuple(dims), True)])
    ss = g.reduce("ReduceSum", g.op("Mul", [d, d]), tuple(dims), bool(t.keepdim))
    return [g.op("Div", [ss, _scalar(c, max(n - t.correction, 0))])]


def _linear(c: Call) -> list:
    g = c.g
    if c.inputs[0].ndim == 2:
        return [g.op("Gemm", c.ins, transB=1)]
    y = g.op("MatMul", [c.ins[0], g.op("Transpose", [c.ins[1]], perm=[1, 0])])
    return [g.op("Add", [y, c.ins[2]]) if len(c.ins) > 2 else y]


def _window(win: Any, in_size: tuple, ceil: bool) -> dict:
    """Conv/pool attributes: pads end where the last window ends (``hi`` may differ from ``lo``)."""
    lo = [int(p) for p in win.pad]
    hi = []
    for n, p, k, s, d, l in zip(win.out_size, lo, win.kernel, win.stride, win.dilation, in_size):
        reach = (n - 1) * s + d * (k - 1) + 1  # the padded length the last window touches
        hi.append(max(0, reach - l - p))
    return dict(kernel_shape=[int(k) for k in win.kernel], strides=[int(s) for s in win.stride],
                pads=lo + hi, dilations=[int(d) for d in win.dilation])


def _conv(c: Call) -> list:
    t = c.target
    attrs = _window(t.win, tuple(c.inputs[0].shape[2:]), False)
    return [c.g.op("Conv", c.ins, group=int(t.groups), **attrs)]


def _max_pool(c: Call) -> list:
    t = c.target
    if t.want_indices:
        raise UnsupportedOperatorError("max pooling with return_indices=True has no ONNX mapping here")
    attrs = _window(t.win, tuple(c.inputs[0].shape[2:]), False)
    if all(d == 1 for d in attrs["dilations"]):
        del attrs["dilations"]
    return [c.g.op("MaxPool", [c.ins[0]], **attrs)]


def _avg_pool(c: Call) -> list:
    """AveragePool. The traced divisor tells the variant: the window size everywhere (or the
    window clipped to the padded input) is count_include_pad=True, the count of real input
    elements is count_include_pad=False, and any other constant is a divisor_override (a
    rescaled AveragePool)."""
    t, g = c.target, c.g
    win = t.win
    in_size = tuple(c.inputs[0].shape[2:])
    lo = [int(p) for p in win.pad]
    k = int(np.prod(win.kernel))
    floor_out = [(l + 2 * p - kk) // s + 1 for l, p, kk, s in zip(in_size, lo, win.kernel, win.stride)]
    ceil = any(o > f for o, f in zip(win.out_size, floor_out))
    counts = np.ones((), dtype=np.float64)
    for n, p, kk, s, l in zip(win.out_size, lo, win.kernel, win.stride, in_size):
        start = np.arange(n) * s - p
        counts = np.multiply.outer(counts, np.minimum(start + kk, l) - np.maximum(start, 0))
    divisor = np.asarray(t.divisor, dtype=np.float64)
    exclude = bool(np.any(counts != k)) and divisor.shape != () and \
        np.allclose(np.broadcast_to(divisor, np.broadcast_shapes(divisor.shape, counts.shape)), counts)
    y = g.op("AveragePool", [c.ins[0]], count_include_pad=0 if exclude else 1, ceil_mode=int(ceil),
             kernel_shape=[int(v) for v in win.kernel], strides=[int(v) for v in win.stride], pads=lo + lo)
    if not exclude and divisor.size and np.all(divisor == divisor.flat[0]) and float(divisor.flat[0]) != float(k) \
            and not ceil:
        y = g.op("Mul", [y, _scalar(c, k / float(divisor.flat[0]))])
    return [y]


def _adaptive_max_pool(c: Call) -> list:
    t = c.target
    in_size = tuple(c.inputs[0].shape[2:])
    if all(o == 1 for o in t.out_size):
        return [c.g.op("GlobalMaxPool", [c.ins[0]])]
    if any(i % o for i, o in zip(in_size, t.out_size)):
        raise UnsupportedOperatorError(
            f"adaptive max pooling from {in_size} to {t.out_size} (windows of unequal size) has no ONNX form")
    k = [i // o for i, o in zip(in_size, t.out_size)]
    return [c.g.op("MaxPool", [c.ins[0]], kernel_shape=k, strides=k)]


def _constant_pad(c: Call) -> list:
    t = c.target
    widths = [tuple(int(v) for v in w) for w in t.widths]
    pads = [w[0] for w in widths] + [w[1] for w in widths]
    return [c.g.op("Pad", [c.ins[0], c.g.ints(pads, "pads"), _scalar(c, float(t.value))], mode="constant")]


def _broadcast_to(c: Call) -> list:
    shape = [int(s) for s in c.target.shape]
    src = tuple(c.inputs[0].shape)
    if c.dynamic_batch and len(src) == len(shape) and shape and src[0] == shape[0]:
        shape[0] = 1  # Expand broadcasts: 1 keeps the input's (dynamic) batch
    return [c.g.op("Expand", [c.ins[0], c.g.ints(shape)])]


def _cast(c: Call) -> list:
    return [c.g.op("Cast", [c.ins[0]], to=_onnx_type(c.g, c.target.dtype.np))]


def _getitem(c: Call) -> list:
    """Basic indexing (ints, slices with positive steps, None, Ellipsis) as Slice/Squeeze/Unsqueeze."""
    index = c.target.index
    index = index if isinstance(index, tuple) else (index,)
    ndim = c.inputs[0].ndim
    if any(not (i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice))) or isinstance(i, bool)
           for i in index):
        raise UnsupportedOperatorError("indexing with tensors or masks (advanced indexing) has no ONNX mapping here")
    n_real = sum(1 for i in index if i is not None and i is not Ellipsis)
    if Ellipsis in index:
        pos = index.index(Ellipsis)
        index = index[:pos] + (slice(None),) * (ndim - n_real) + index[pos + 1:]
    index = index + (slice(None),) * (ndim - sum(1 for i in index if i is not None))
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    axis, out_axis = 0, 0
    for i in index:
        if i is None:
            unsqueeze.append(out_axis)
            out_axis += 1
            continue
        size = c.inputs[0].shape[axis]
        if isinstance(i, slice):
            start, stop, step = i.indices(size)
            if step < 0:
                raise UnsupportedOperatorError("slices with a negative step have no ONNX mapping here")
            if (start, stop, step) != (0, size, 1):
                starts.append(start)
                ends.append(stop)
                axes.append(axis)
                steps.append(step)
            out_axis += 1
        else:
            j = int(i) % size
            starts.append(j)
            ends.append(j + 1)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        axis += 1
    y = c.ins[0]
    g = c.g
    if axes:
        y = g.op("Slice", [y, g.ints(starts, "starts"), g.ints(ends, "ends"), g.ints(axes, "axes"),
                           g.ints(steps, "steps")])
    if squeeze:
        y = g.op("Squeeze", [y, g.ints(squeeze, "axes")])
    if unsqueeze:
        y = g.op("Unsqueeze", [y, g.ints(unsqueeze, "axes")])
    if y == c.ins[0]:
        y = g.op("Identity", [y])
    return [y]


def _normalize(c: Call) -> list:
    """``(x - mean) / sqrt(var + eps) * w + b`` over ``axes`` (layer/group/instance/batch norm)."""
    t, g = c.target, c.g
    x = c.ins[0]
    axes = tuple(int(a) for a in t.axes)
    d = g.op("Sub", [x, g.reduce("ReduceMean", x, axes, True)])
    var = g.reduce("ReduceMean", g.op("Mul", [d, d]), axes, True)
    y = g.op("Div", [d, g.op("Sqrt", [g.op("Add", [var, _scalar(c, t.eps)])])])
    ndim = c.inputs[0].ndim
    k = 1
    for has, op in ((t.has_weight, "Mul"), (t.has_bias, "Add")):
        if not has:
            continue
        p = c.inputs[k]
        name = c.ins[k]
        k += 1
        if tuple(p.shape) != tuple(c.inputs[0].shape[ndim - p.ndim:]):  # per channel (axis 1)
            name = g.op("Reshape", [name, g.ints([-1] + [1] * (ndim - 2))])
        y = g.op(op, [y, name])
    return [y]


def _norm(c: Call) -> list:
    """Vector p-norm over ``dims``: ReduceL1 / ReduceL2, or max |x| for p = inf."""
    t = c.target
    dims = tuple(t.dims) if t.dims is not None else tuple(range(c.inputs[0].ndim))
    p = float(t.p)
    if p == 2.0:
        return [c.g.reduce("ReduceL2", c.ins[0], dims, bool(t.keepdim))]
    if p == 1.0:
        return [c.g.reduce("ReduceL1", c.ins[0], dims, bool(t.keepdim))]
    if p == float("inf"):
        return [c.g.reduce("ReduceMax", c.g.op("Abs", [c.ins[0]]), dims, bool(t.keepdim))]
    powered = c.g.op("Pow", [c.g.op("Abs", [c.ins[0]]), _scalar(c, p)])
    return [c.g.op("Pow", [c.g.reduce("ReduceSum", powered, dims, bool(t.keepdim)), _scalar(c, 1.0 / p)])]


def _identity(c: Call) -> list:
    return [c.g.op("Identity", [c.ins[0]])]


OPS: dict[str, Callable[[Call], list]] = {
    "Add": _binary("Add"), "Sub": _binary("Sub"), "Mul": _binary("Mul"), "Div": _binary("Div"),
    "Pow": _binary("Pow"), "Maximum": _binary("Max"), "Minimum": _binary("Min"),
    "Matmul": _binary("MatMul"),
    "Neg": _unary("Neg"), "Exp": _unary("Exp"), "Log": _unary("Log"), "Sqrt": _unary("Sqrt"),
    "Abs": _unary("Abs"), "Sin": _unary("Sin"), "Cos": _unary("Cos"), "Tanh": _unary("Tanh"),
    "Sigmoid": _unary("Sigmoid"), "Erf": _unary("Erf"), "Relu": _unary("Relu"),
    "Rsqrt": _rsqrt, "Expm1": _expm1, "Log1p": _log1p, "PowScalar": _pow_scalar, "RPowScalar": _rpow_scalar,
    "Clamp": _clamp, "Where": _where, "Compare": _compare, "LeakyRelu": _leaky_relu, "Elu": _elu, "Softplus": _softplus,
    "Softmax": _softmax("Softmax"), "LogSoftmax": _softmax("LogSoftmax"),
    "Reshape": _reshape, "Permute": _permute, "Cat": _cat, "Split": _split, "Clone": _identity,
    "BroadcastTo": _broadcast_to, "Cast": _cast, "GetItem": _getitem,
    "Sum": _reduction("ReduceSum"), "Mean": _reduction("ReduceMean"), "Amax": _reduction("ReduceMax"),
    "Var": _var, "Linear": _linear, "Conv": _conv, "MaxPool": _max_pool, "AvgPool": _avg_pool,
    "AdaptiveMaxPool": _adaptive_max_pool, "ConstantPad": _constant_pad, "Normalize": _normalize,
    "Norm": _norm, "ArgExtreme": _arg_extreme, "IndexSelectBy": _index_select,
    "EmbeddingGradScale": _identity,  # padding_idx / scale_grad_by_freq: the forward is the rows as they are
}
