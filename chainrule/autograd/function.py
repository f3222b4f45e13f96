"""Graph nodes: the operators recorded as a computation runs, and what they keep for backward.

Two ways to write an operator share one ``Node`` core:

* ``FunctionNode`` - chainrule's own operators. ``forward(*arrays)`` runs on raw arrays of the
  inputs' array module and returns raw arrays; ``backward(*grads)`` receives gradient *Tensors*
  and returns gradient Tensors built from differentiable operators, so that the same code builds
  the graph of the gradient when the engine runs it with ``create_graph=True``.
* ``Function`` - PyTorch's public form: static ``forward(ctx, *args)`` on Tensors and static
  ``backward(ctx, *grads)``, with ``ctx.save_for_backward`` / ``ctx.saved_tensors`` /
  ``ctx.needs_input_grad``, for users who add their own operators.

A node's ``next_functions`` are ``(node, output_nr)`` pairs, one per input (``None`` where the
input needs no gradient); leaves that require grad are reached through ``AccumulateGrad``.
Broadcasting and dtype changes are undone once, by the engine, from each input's recorded
shape and dtype.
"""

from __future__ import annotations

import functools
import sys
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from .._factory import zeros
from ..backend import array_module, from_numpy_dtype
from ..tensor import RemovableHandle, Tensor
from . import anomaly_mode
from .grad_mode import is_grad_enabled, no_grad

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)

_INPUT, _OUTPUT, _OTHER = 0, 1, 2
_ndarray = np.ndarray
_NO_GRAD = [(False,) * n for n in range(16)]


class Node:
    """A recorded operator: edges to the nodes of its inputs and the values saved for backward."""

    next_functions: tuple = ()
    needs_input_grad: tuple = ()
    _in_meta: tuple = ()  # (shape, dtype) per input, for the engine's sum_to and casts
    _n_out = 1
    _out_meta: tuple | None = None  # (shape, dtype) per output, only for multi-output nodes
    _to_save: tuple | None = None
    _saved: tuple | None = None
    _freed = False
    _pre_hooks: dict | None = None  # output_nr -> [hook], tensor hooks of non-leaf outputs
    _post_hooks: list | None = None
    _node_pre_hooks: list | None = None  # PyTorch's grad_fn.register_prehook: all outputs at once
    _plain_backward = True  # backward takes the output gradients as they are (Function reorders them)
    _materialize_grads = True
    _trace: Any = None  # where the forward ran, kept under detect_anomaly()
    _is_view = False  # an output shares the first input's memory (reshape, permute, slicing ...)
    view_index: Any = None  # for a view node that indexes its input (basic indices): the index
    _non_diff: frozenset | set = frozenset()  # ids of outputs marked non-differentiable (Function)

    # PyTorch's name for this operator's backward node: a string, or a property where it depends
    # on the arguments (SumBackward0 for a full sum, SumBackward1 with dims); None means
    # "<ClassName>Backward0". A composite operator renames its output's node (``_renamed``).
    if TYPE_CHECKING:  # declared read-only, so that subclasses may define it as a property

        @property
        def torch_name(self) -> str | None: ...
    else:
        torch_name = None
    _renamed: str | None = None
    _metadata: dict | None = None

    def name(self) -> str:
        """PyTorch's name of this node, e.g. ``MulBackward0`` (what ``print(y.grad_fn)`` shows)."""
        n = self._renamed or self.torch_name
        return n if n is not None else type(self).__name__ + "Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def metadata(self) -> dict:
        """A dict for the user's own annotations of this node (PyTorch's ``grad_fn.metadata``)."""
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    # ---- saving -------------------------------------------------------------------------------
    def save_for_backward(self, *values: Any) -> None:
        """Keep ``values`` for backward: inputs, outputs or other arrays/Tensors of forward."""
        self._to_save = values

    def _resolve_saved(self, inputs: tuple, in_values: tuple, outputs: tuple, out_values: tuple) -> None:
        """Record each saved value as an input, an output or a constant, with its version."""
        to_save = self._to_save
        self._to_save = None
        if not to_save:
            return
        saved: list[tuple[int, Any, Any]] = []  # (kind, value, version at save time)
        for v in to_save:
            if v is None:
                saved.append((_OTHER, None, None))
                continue
            for i, iv in enumerate(in_values):
                if v is iv and isinstance(inputs[i], Tensor):
                    t = inputs[i]
                    saved.append((_INPUT, t, t._version[0]))
                    break
            else:
                for j, ov in enumerate(out_values):
                    if v is ov:
                        o = outputs[j]
                        # an output is saved without a reference to itself (no cycle): its data,
                        # position and version box; it is rebuilt with this node as grad_fn.
                        saved.append((_OUTPUT, (o._data, j, o._version), o._version[0]))
                        break
                else:
                    if isinstance(v, Tensor):
                        saved.append((_INPUT, v, v._version[0]))
                    else:
                        saved.append((_OTHER, v, None))
        self._saved = tuple(saved)

    @property
    def saved_tensors(self) -> tuple:
        """The saved values as Tensors (inputs keep their own graph, so double backward works)."""
        if self._freed:
            raise RuntimeError(_FREED_MSG)
        if self._saved is None:
            return ()
        out = []
        for kind, v, version in self._saved:
            if kind == _INPUT:
                if v._version[0] != version:
                    raise RuntimeError(_modified_msg(v.grad_fn, v.shape, v._version[0], version))
                out.append(v)
            elif kind == _OUTPUT:
                data, j, box = v
                if box[0] != version:
                    raise RuntimeError(_modified_msg(self, data.shape, box[0], version, j))
                out.append(Tensor._make(data, True, self, j, box))
            else:  # a constant: Tensors were saved as _INPUT
                out.append(None if v is None else Tensor._make(v))
        return tuple(out)

    @property
    def saved_arrays(self) -> tuple:
        """The saved values as raw arrays, for backward code that needs no graph of them."""
        return tuple(None if t is None else t._data for t in self.saved_tensors)

    def _release(self) -> None:
        if self._saved is not None:
            self._saved = None
            self._freed = True
        self._release_extra()

    def _release_extra(self) -> None:
        """Subclasses drop large non-tensor attributes kept for backward here."""

    # ---- hooks ---------------------------------------------------------------------------------
    def register_prehook(self, hook) -> RemovableHandle:
        """``hook(grad_outputs)`` runs before this node's backward and may return new gradients."""
        if self._node_pre_hooks is None:
            self._node_pre_hooks = []
        self._node_pre_hooks.append(hook)
        return RemovableHandle(self._node_pre_hooks, hook)

    def register_hook(self, hook) -> RemovableHandle:
        """``hook(grad_inputs, grad_outputs)`` runs after this node's backward."""
        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(hook)
        return RemovableHandle(self._post_hooks, hook)

    def set_materialize_grads(self, value: bool) -> None:
        self._materialize_grads = bool(value)

    def mark_non_differentiable(self, *outputs) -> None:  # PyTorch's ctx API; outputs are
        self._non_diff = {id(o) for o in outputs}  # plain constants for us unless they need grad

    # ---- backward ------------------------------------------------------------------------------
    def _call_backward(self, grads: list) -> tuple:
        """Run this node's backward on its output gradients (Tensors or None)."""
        if self._node_pre_hooks:
            for hook in self._node_pre_hooks:
                new = hook(tuple(grads))
                if new is not None:
                    grads = list(new)
        if self._materialize_grads and self._n_out > 1:
            out_meta = self._out_meta
            assert out_meta is not None  # recorded by _connect for every multi-output node
            for j, g in enumerate(grads):
                if g is None:
                    shape, dt = out_meta[j]
                    grads[j] = zeros(shape, dtype=dt)
        # the direct call saves a Python call per node on the hot path; Function overrides _run_backward
        result = type(self).backward(self, *grads) if self._plain_backward else self._run_backward(grads)
        if not isinstance(result, tuple):
            result = (result,)
        n_in = len(self.next_functions)
        if len(result) != n_in:
            if len(result) > n_in and all(r is None for r in result[n_in:]):
                result = result[:n_in]
            else:
                raise RuntimeError(
                    f"function {self.name()} returned an incorrect number of gradients "
                    f"(expected {n_in}, got {len(result)})")
        if self._post_hooks:
            for hook in self._post_hooks:
                new = hook(result, tuple(grads))
                if new is not None:  # PyTorch: a post hook may replace the input gradients
                    result = tuple(new)
        return result

    def _run_backward(self, grads: list):
        return type(self).backward(self, *grads)

    def forward(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, *grads):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no backward")


def _modified_msg(node: Node | None, shape, now: int, expected: int, output_nr: int = 0) -> str:
    origin = f"output {output_nr} of {node.name()}" if node is not None else "a leaf"
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [Tensor of shape {list(shape)}], which is {origin}, is at "
        f"version {now}; expected version {expected} instead. Hint: replace the in-place operation "
        "by an out-of-place one (e.g. x = x + 1 instead of x += 1)."
    )


class FunctionNode(Node):
    """Base of chainrule's operators: raw-array ``forward``, Tensor ``backward``.

    Hyper-parameters go to ``__init__``; ``apply(*tensors)`` runs forward and records the node
    when grad mode is on and an input requires grad. Subclasses may set ``xp`` usage through
    ``self.xp`` (the inputs' array module) inside forward.
    """

    xp: Any = None

    def apply(self, *inputs: Tensor):
        arrays = tuple([t._data for t in inputs])
        self.xp = array_module(*arrays)
        record = is_grad_enabled() and any([t._requires_grad for t in inputs])
        self.needs_input_grad = tuple([t._requires_grad for t in inputs]) if record else _NO_GRAD[len(inputs)]
        raw = self.forward(*arrays)
        if type(raw) is not tuple:  # the common single-output case, kept short
            if type(raw) is not _ndarray:  # ufuncs give numpy scalars for 0-d results
                fixed = self.xp.asarray(raw)
                if self._to_save:
                    self._to_save = tuple(fixed if v is raw else v for v in self._to_save)
                raw = fixed
            if not record:
                if not self._is_view:
                    return Tensor._make(raw, False, None, 0)
                out = Tensor._make(raw, False, None, 0, inputs[0]._version)
                _set_base(out, self, inputs[0])
                return out
            outs = _connect(self, inputs, (raw,))
            if self._to_save is not None:
                self._resolve_saved(inputs, arrays, outs, (raw,))
            return outs[0]
        outs_raw = raw
        if any(type(o) is not _ndarray for o in outs_raw):
            fixed = tuple(o if type(o) is _ndarray else self.xp.asarray(o) for o in outs_raw)
            if self._to_save:
                swap = {id(o): f for o, f in zip(outs_raw, fixed)}
                self._to_save = tuple(swap.get(id(v), v) for v in self._to_save)
            outs_raw = fixed
        if not record:  # outputs of a view node share the input's version counter (split)
            box = inputs[0]._version if self._is_view else None
            outs = tuple(Tensor._make(o, False, None, 0, box) for o in outs_raw)
            if self._is_view:
                for o in outs:
                    o._base = _base_of(inputs[0])
            return outs
        outs = _connect(self, inputs, outs_raw)
        if self._to_save is not None:
            self._resolve_saved(inputs, arrays, outs, outs_raw)
        return outs


def _connect(node: Node, inputs: tuple, outs_raw: tuple) -> tuple:
    """Wire ``node`` into the graph: edges to the inputs' nodes, output Tensors pointing to it."""
    edges: list[tuple[Any, int] | None] = []  # (node, output_nr) per input
    meta: list[tuple[Any, Any] | None] = []  # (shape, dtype) per input
    for t in inputs:
        if isinstance(t, Tensor) and t._requires_grad:
            fn = t.grad_fn
            edges.append((fn, t._output_nr) if fn is not None else (accumulator_of(t), 0))
            meta.append((t._data.shape, t._data.dtype))
        else:
            edges.append(None)
            meta.append(None)
    node.next_functions = tuple(edges)
    node._in_meta = tuple(meta)
    n = len(outs_raw)
    if n > 1:
        node._n_out = n
        node._out_meta = tuple((o.shape, from_numpy_dtype(o.dtype)) for o in outs_raw)
    if anomaly_mode.is_anomaly_enabled():
        import traceback

        node._trace = traceback.extract_stack()[:-3]
    view_box = inputs[0]._version if node._is_view else None
    if n == 1:
        o = outs_raw[0]
        if o.dtype.kind == "f":
            out = Tensor._make(o, True, node, 0, view_box)
        else:
            out = Tensor._make(o, False, None, 0, view_box)
        if view_box is not None:
            _set_base(out, node, inputs[0])
        return (out,)
    outs = []
    for j, o in enumerate(outs_raw):
        diff = o.dtype.kind == "f"
        outs.append(Tensor._make(o, diff, node if diff else None, j if diff else 0, view_box))
    if view_box is not None:
        # every output of a view node (e.g. the pieces of split) shares the input's memory
        for o in outs:
            o._base = _base_of(inputs[0])
    return tuple(outs)


def _set_base(out: Tensor, node: Node, source: Tensor) -> None:
    """``out``, the single output of the view node ``node`` applied to ``source``: its ``_base``, and
    its ``_view_index`` where ``node`` indexes a tensor that is not a view itself."""
    out._base = _base_of(source)
    if node.view_index is not None and source._base is None:
        out._view_index = node.view_index


def _base_of(t: Tensor) -> Tensor:
    """The tensor a view of ``t`` is a view of (PyTorch's ``_base``: always the first tensor of the
    chain, whether or not anything requires grad)."""
    return t if t._base is None else t._base



class Function(Node):
    """PyTorch-style custom operator: subclass with static ``forward`` and ``backward``, call ``apply``.

    Two ways to write ``forward``, as in PyTorch 2.x: ``forward(ctx, *args)`` that also fills
    ``ctx``, or ``forward(*args)`` plus ``setup_context(ctx, inputs, output)``. ``forward`` gets
    the arguments as given (Tensors and anything else) and runs with grad mode off; it returns a
    Tensor or a tuple (non-Tensor items are passed through). ``backward(ctx, *grads)`` gets one
    gradient per output (None for non-Tensor outputs, and for unused ones after
    ``ctx.set_materialize_grads(False)``; zeros otherwise) and returns one per input (None for
    non-Tensors and inputs that need none). ``ctx`` offers ``save_for_backward`` /
    ``saved_tensors``, ``needs_input_grad`` and ``mark_non_differentiable``.
    """

    _positions: tuple | None = None  # where the Tensor outputs sit among all outputs, when not all are
    _n_results = 0

    def name(self) -> str:  # PyTorch: "<ClassName>Backward", without the overload number
        return self._renamed or type(self).__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<chainrule.autograd.function.{self.name()} object at {id(self):#x}>"

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs: tuple, output: Any) -> None:
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom autograd.Function "
            "to use it with backward mode AD.")

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward can only save variables, but argument {i} is of type {type(t).__name__}")
        self._to_save = tensors

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on ``args`` and record one node whose backward is ``cls.backward``."""
        if cls.forward is Function.forward:
            raise NotImplementedError(
                "You must implement the forward function for custom autograd.Function.")
        ctx = cls()
        needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        record = is_grad_enabled() and any(needs)
        ctx.needs_input_grad = needs if record else (False,) * len(args)
        separate = cls.setup_context is not Function.setup_context
        with no_grad():
            if separate:  # PyTorch 2.x style: forward(*args), then setup_context(ctx, inputs, output)
                result = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, result)
            else:
                result = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(result, tuple)
        results = (result,) if single else result
        positions = tuple(k for k, r in enumerate(results) if isinstance(r, Tensor))
        if not record or not positions:
            ctx._to_save = None
            return result
        tensors = tuple(results[k] for k in positions)
        if len(positions) != len(results):
            ctx._positions, ctx._n_results = positions, len(results)
        non_diff = ctx._non_diff
        outs = _connect(ctx, args, tuple(r._data for r in tensors))
        outs = tuple(Tensor._make(r._data) if id(r) in non_diff else o for r, o in zip(tensors, outs))
        # saved inputs/outputs are matched by identity on the Tensors forward saw and returned
        ctx._resolve_saved(args, args, outs, tensors)
        if single:
            return outs[0]
        full = list(results)
        for k, o in zip(positions, outs):
            full[k] = o
        return tuple(full)

    _plain_backward = False

    def _run_backward(self, grads: list):
        if self._positions is not None:  # non-Tensor outputs get a None gradient
            full = [None] * self._n_results
            for k, g in zip(self._positions, grads):
                full[k] = g
            grads = full
        return type(self).backward(self, *grads)


def once_differentiable(backward):
    """Decorate a ``backward`` that cannot itself be differentiated.

    Under ``create_graph=True`` the gradients it returns are marked with a node whose backward
    raises, so a second derivative fails loudly instead of silently being zero.
    """

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        with no_grad():
            result = backward(ctx, *grads)
        if not is_grad_enabled():
            return result
        # create_graph=True: the node joins ctx's edges, so it is reached from the inputs
        single = not isinstance(result, tuple)
        results = (result,) if single else result
        node = _OnceDifferentiableError(type(ctx).__name__)
        node.next_functions = ctx.next_functions
        node._in_meta = ctx._in_meta
        node._n_out = len(results)
        node._materialize_grads = False
        marked = tuple(None if r is None else Tensor._make(r._data, True, node, k) for k, r in enumerate(results))
        return marked[0] if single else marked

    return wrapper


class _OnceDifferentiableError(Node):
    def __init__(self, fn_name: str):
        self.fn_name = fn_name

    def backward(self, *grads):
        raise RuntimeError(
            f"trying to differentiate twice a function ({self.fn_name}) that was marked with "
            "@once_differentiable")


class AccumulateGrad(Node):
    """The sink of a leaf that requires grad: adds incoming gradients into ``leaf.grad``."""

    torch_name = "torch::autograd::AccumulateGrad"  # PyTorch's name() of this C++ node

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"

    def __init__(self, leaf: Tensor):
        self.variable = leaf
        self.next_functions = ()

    def accumulate(self, grad: Tensor, create_graph: bool) -> None:
        """Add ``grad`` (the engine's only reference, in its buffer list) into ``.grad`` of the leaf."""
        leaf = self.variable
        for hook in leaf._leaf_hooks or ():
            new = hook(grad)
            if new is not None:
                grad = new
        if leaf.grad is None and not create_graph and _stealable(grad):
            leaf.grad = Tensor._make(grad._data)
        else:
            accumulate_grad(leaf, grad, create_graph)
        for hook in leaf._post_accumulate_hooks or ():
            hook(leaf)


# references to a gradient Tensor in ``_stealable`` when nothing outside the engine holds it: the
# engine's buffer list, ``accumulate``'s ``grad``, ``_stealable``'s ``grad`` and getrefcount's argument
_ENGINE_REFS = 4
# the counts above hold on CPython 3.11 to 3.13 (the same call pattern measured on each); later
# versions may count references of locals and arguments otherwise, and there every gradient is copied
_COUNTS_KNOWN = (3, 11) <= sys.version_info[:2] <= (3, 13) and sys.implementation.name == "cpython"


def _stealable(grad: Tensor) -> bool:
    """Whether a leaf's first gradient may become its ``.grad`` without a copy, as PyTorch's
    AccumulateGrad steals it: the array owns its memory, is C-contiguous and writeable, and
    neither it nor its Tensor is referenced from anywhere but the engine (not by a hook, another
    leaf's or node's buffer, the caller of ``backward``, a saved value, or a second Tensor).
    Anything else is copied, so that ``.grad`` never shares memory that something else sees."""
    if not _COUNTS_KNOWN:
        return False
    data = grad._data
    return (type(grad) is Tensor and grad._base is None and type(data) is np.ndarray and data.base is None
            and data.flags.c_contiguous and data.flags.writeable
            and sys.getrefcount(data) == 3 and sys.getrefcount(grad) == _ENGINE_REFS)  # data: ``data``, ``_data``, the argument


def accumulate_grad(t: Tensor, grad: Tensor, create_graph: bool) -> None:
    """``t.grad += grad``, out of place; the graph of the sum is built only under ``create_graph``."""
    if t.grad is None:
        # a gradient Tensor may be shared with other leaves or still be a view of another
        # buffer; ``t`` gets its own copy unless the caller builds a graph of it
        t.grad = grad if create_graph else Tensor._make(grad._data.copy())
    elif create_graph:
        t.grad = t.grad + grad
    else:
        t.grad = Tensor._make(t.grad._data + grad._data)


def accumulator_of(leaf: Tensor) -> AccumulateGrad:
    """The unique ``AccumulateGrad`` of a leaf (kept weakly by the leaf, strongly by the graph)."""
    ref = leaf._accumulator
    acc = ref() if ref is not None else None
    if acc is None:
        acc = AccumulateGrad(leaf)
        leaf._accumulator = weakref.ref(acc)
    return acc


def named_output(name):
    """Give the output node of a composite operator PyTorch's name for it.

    An operator that chainrule builds from several nodes (``mse_loss`` is a difference, a square
    and a mean) still prints as PyTorch's single node (``MseLossBackward0``); its
    ``next_functions`` are those of chainrule's last node. ``name`` is a string, or a function of
    the call's arguments returning the name (or None to keep the node's own).
    """

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            out = fn(*args, **kwargs)
            first = out[0] if isinstance(out, tuple) and out else out
            node = first.grad_fn if isinstance(first, Tensor) else None
            if node is not None and all(not isinstance(a, Tensor) or a.grad_fn is not node for a in args):
                node._renamed = name if isinstance(name, str) else _call_name(name, args, kwargs)
            return out

        return wrapper

    return decorate


def _call_name(name, args: tuple, kwargs: dict) -> str | None:
    try:
        return name(*args, **kwargs)
    except TypeError:  # a call form the name function does not know: keep the node's own name
        return None
