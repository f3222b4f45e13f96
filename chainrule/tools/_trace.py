"""One hooked forward pass of a model: which modules ran, on what, and the receptive field of
every tensor they produced.

Fields are tracked per tensor, not per module position, so models that are not a plain chain
(residual joins written as ``out + identity`` inside ``forward``, functional activations or
pools between layers) are followed too:

* the input is a leaf that requires grad, so every tensor computed from it has a ``grad_fn``;
* a forward hook maps the ``grad_fn`` of each leaf module's output to its field, computed from
  the module's hyper-parameters (convolutions, pools) or, for any other module, as below;
* the field of a tensor that no module produced is found by walking its autograd graph back to
  tensors whose field is known: window operators recorded by ``F.conv*d``/``F.*_pool*d`` apply
  their window, every other operator joins the fields of its operands (``_geometry.union``),
  parameters and constants contribute nothing.

Each field carries the spatial shape it predicts; where a module sees a tensor of another shape
an operation escaped the bookkeeping (a reshape, an interpolation, a transposed convolution)
and the field becomes UNKNOWN from there on rather than wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import backend
from .._factory import tensor
from ..autograd.function import AccumulateGrad, accumulator_of
from ..autograd.grad_mode import enable_grad, no_grad
from ..kernels import _jit
from ..nn import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveAvgPool3d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    AvgPool3d,
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    MaxPool1d,
    MaxPool2d,
    MaxPool3d,
    MaxUnpool2d,
    Module,
)
from ..ops.conv import Conv as _ConvOp
from ..ops.pooling import AdaptiveMaxPool as _AdaptiveMaxOp
from ..ops.pooling import AvgPool as _AvgPoolOp
from ..ops.pooling import MaxPool as _MaxPoolOp
from ..tensor import Tensor
from . import _geometry as geo

_CONVS = (Conv1d, Conv2d, Conv3d)
_WINDOW_POOLS = (MaxPool1d, MaxPool2d, MaxPool3d, AvgPool1d, AvgPool2d, AvgPool3d)
_TRANSPOSED = (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)
_ADAPTIVE_POOLS = (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d)
# change the spatial grid in ways the three numbers (size, jump, start) cannot describe
_UNSUPPORTED = (*_TRANSPOSED, MaxUnpool2d)


def _tuple(value: Any, n: int) -> tuple:
    if isinstance(value, (tuple, list)):
        return tuple(int(v) for v in value)
    return (int(value),) * n


def module_window(module: Module, n: int) -> tuple[tuple, tuple, tuple, tuple] | None:
    """(kernel, stride, padding, dilation) of a convolution or window pool with n spatial axes."""
    if isinstance(module, _CONVS):
        kernel, dilation = tuple(module.kernel_size), tuple(module.dilation)
        if module.padding == "same":
            padding = geo.same_padding(kernel, dilation)
        elif module.padding == "valid":
            padding = (0,) * n
        else:
            padding = tuple(module.padding)
        return kernel, tuple(module.stride), padding, dilation
    if isinstance(module, _WINDOW_POOLS):
        kernel = _tuple(module.kernel_size, n)
        stride = module.stride
        stride = kernel if stride is None or stride == () or stride == [] else _tuple(stride, n)
        return kernel, stride, _tuple(module.padding, n), _tuple(getattr(module, "dilation", 1), n)
    return None


@dataclass
class Call:
    """One module call of the traced forward pass."""

    name: str
    module: Module
    depth: int
    is_leaf: bool
    inputs: list = field(default_factory=list)  # tensors among the positional arguments
    outputs: list = field(default_factory=list)  # tensors of the output (nested outputs flattened)
    in_field: Any = None
    field: Any = None  # Field, or None when the output is not a map of the input's space


def _tensors(obj: Any) -> list:
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for item in obj for t in _tensors(item)]
    if isinstance(obj, dict):
        return [t for item in obj.values() for t in _tensors(item)]
    return []


class _Tracer:
    def __init__(self, model: Module, input: Tensor, track_fields: bool):
        self.input = input
        self.rank = input.ndim
        self.track = track_fields
        self.names = {id(m): name for name, m in model.named_modules()}
        self.calls: list[Call] = []
        self.stack: list[Call] = []
        self.known: dict[tuple, Any] = {}  # (id(node), output_nr) -> field
        self.alive: list = []  # the nodes behind self.known, so their ids are not reused

    # ---- hooks ---------------------------------------------------------------------------------
    def pre_hook(self, module: Module, args: tuple) -> None:
        call = Call(self.names.get(id(module), ""), module, len(self.stack),
                    not any(True for _ in module.children()), _tensors(args))
        if call.inputs and self.track:
            call.in_field = self.field_of(call.inputs[0])
        self.calls.append(call)
        self.stack.append(call)

    def hook(self, module: Module, args: tuple, output: Any) -> None:
        call = self.stack.pop()
        call.outputs = _tensors(output)
        if not self.track:
            return
        floats = [t for t in call.outputs if t.is_floating_point()]
        if not floats:
            return
        main = floats[0]
        result = None
        if call.is_leaf and main.ndim == self.rank:
            result = self._module_field(module, call.in_field, tuple(main.shape[2:]))
        if result is None:  # not a window layer: follow the graph its forward recorded
            call.field = self.field_of(main)
            return
        for t in floats:
            self._remember(t, result)
        call.field = result if isinstance(result, geo.Field) else None

    def _module_field(self, module: Module, in_field: Any, out_shape: tuple):
        """The output field of a leaf module with known geometry; None for other modules."""
        if isinstance(module, _UNSUPPORTED):
            return geo.UNKNOWN
        adaptive = isinstance(module, _ADAPTIVE_POOLS)
        win = None if adaptive else module_window(module, self.rank - 2)
        if not adaptive and win is None:
            return None
        if in_field is None:  # its input is not a map of the input's space, or not one we can follow
            return geo.UNKNOWN
        if win is None:  # an adaptive pool
            return geo.adaptive(in_field, out_shape)
        return geo.window(in_field, *win, out_shape)

    # ---- fields of tensors -----------------------------------------------------------------------
    def field_of(self, t: Tensor):
        """Field of ``t``: a Field, or None when it is not a map over the input's spatial axes."""
        if t.ndim != self.rank:
            return None
        if t.grad_fn is not None:
            f = self._walk(t.grad_fn, t.output_nr)
        elif t.requires_grad:
            f = self._walk(accumulator_of(t), 0)
        else:
            f = geo.NO_FIELD
        f = geo.with_shape(f, tuple(t.shape[2:]))
        return f if isinstance(f, geo.Field) else None

    def _remember(self, t: Tensor, f: Any) -> None:
        node = t.grad_fn if t.grad_fn is not None else (accumulator_of(t) if t.requires_grad else None)
        if node is not None:
            self.known[(id(node), t.output_nr if t.grad_fn is not None else 0)] = f
            self.alive.append(node)

    def _inputs(self, node) -> list:
        edges = [e for e in node.next_functions]
        if isinstance(node, (_ConvOp, _MaxPoolOp, _AvgPoolOp, _AdaptiveMaxOp)):
            edges = edges[:1]  # the data input; a weight or bias has no position in the input
        return [e for e in edges if e is not None]

    def _walk(self, node, output_nr: int):
        """Field of output ``output_nr`` of ``node``, by a depth-first walk back to known tensors."""
        known = self.known
        todo = [(node, output_nr)]
        while todo:
            node, nr = todo[-1]
            key = (id(node), nr)
            if key in known:
                todo.pop()
                continue
            if isinstance(node, AccumulateGrad):
                known[key] = geo.identity(tuple(self.input.shape[2:])) if node.variable is self.input \
                    else geo.NO_FIELD
                self.alive.append(node)
                todo.pop()
                continue
            inputs = self._inputs(node)
            pending = [(n, k) for n, k in inputs if (id(n), k) not in known]
            if pending:
                todo.extend(pending)
                continue
            known[key] = self._combine(node, [known[(id(n), k)] for n, k in inputs])
            self.alive.append(node)
            todo.pop()
        return known[(id(node), output_nr)]

    def _combine(self, node, fields: list):
        if isinstance(node, (_ConvOp, _MaxPoolOp, _AvgPoolOp)):
            win = node.win
            f = fields[0] if fields else geo.NO_FIELD
            return geo.window(geo.with_shape(f, tuple(win.in_size)), win.kernel, win.stride, win.pad,
                              win.dilation, tuple(win.out_size))
        if isinstance(node, _AdaptiveMaxOp):
            f = fields[0] if fields else geo.NO_FIELD
            return geo.adaptive(f, tuple(node.out_size))
        return geo.union(fields)


@dataclass
class Trace:
    calls: list
    input: Tensor
    output: Any


def make_input(input_size: tuple, dtype: Any) -> Tensor:
    """A deterministic standard-normal input (its own generator: the global RNG is not touched)."""
    dt = backend.to_dtype(dtype)
    data = np.random.default_rng(0).standard_normal(tuple(input_size))
    return tensor(data.astype(dt.np), dtype=dt)


def check_input_size(input_size: Any) -> tuple:
    if isinstance(input_size, int) or not hasattr(input_size, "__iter__"):
        raise TypeError(f"input_size must be a sequence of ints including the batch dimension, "
                        f"e.g. (1, 1, 28, 28); got {input_size!r}")
    size = tuple(input_size)
    if not size or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s <= 0 for s in size):
        raise ValueError(f"input_size must hold positive ints including the batch dimension, "
                         f"e.g. (1, 1, 28, 28); got {input_size!r}")
    return tuple(int(s) for s in size)


def trace(model: Module, input_size: tuple, dtype: Any) -> Trace:
    """Run ``model`` once on a ``input_size`` input with hooks on every module.

    The model keeps its mode; its buffers (batch-norm running statistics) and the global random
    state are restored afterwards, and the hooks removed, so the call leaves no trace. The graph
    is recorded (the receptive fields need it) and released when the result is dropped.
    """
    if not isinstance(model, Module):
        raise TypeError(f"expected a chainrule.nn.Module, got {type(model).__name__}")
    size = check_input_size(input_size)
    x = make_input(size, dtype)
    track = x.is_floating_point() and x.ndim >= 3
    if track:
        x.requires_grad_(True)
    tracer = _Tracer(model, x, track)
    saved = [(m, name, b, b.clone()) for m in model.modules() for name, b in m.named_buffers(recurse=False)]
    from .. import get_rng_state, set_rng_state  # on use: the package's namespace is complete only after its __init__

    rng = get_rng_state()
    handles = []
    try:
        for m in model.modules():
            handles.append(m.register_forward_pre_hook(tracer.pre_hook))
            handles.append(m.register_forward_hook(tracer.hook))
        # one pass at a small size: the compiled kernels would cost more to load than they save
        with enable_grad(), _jit.disabled():
            out = model(x)
    finally:
        for h in handles:
            h.remove()
        set_rng_state(rng)
        with no_grad():
            for m, name, original, copy in saved:
                original.copy_(copy)
                setattr(m, name, original)
    return Trace(tracer.calls, x, out)
