"""A compiled callable: graphs per input signature, replayed, with eager fallback.

The first call with a new signature (see ``signature``) runs eagerly while ``trace.record``
records it; the graph (fused by ``fuse.py`` unless the backend says not to) is kept, and later
calls with that signature replay it. A signature whose call cannot be captured runs eagerly from
then on (``fullgraph=True`` raises instead). Guards that fail on replay (a value the call read
into Python changed) send the call to the next graph of that signature, or to a new recording;
at most ``config.cache_size_limit`` graphs are kept per callable, after which new signatures run eagerly
with one warning, as PyTorch does when it reaches its recompilation limit.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import backend
from ..autograd.grad_mode import is_grad_enabled
from ..nn.module import Module
from ..tensor import Tensor
from . import config, flat, fuse, trace
from .graph import Graph, GuardFailed


class CompileError(RuntimeError):
    """Raised by ``fullgraph=True`` when part of the call cannot be captured."""


@dataclass
class Record:
    """What happened to one signature: its graphs, or why it runs eagerly."""

    graphs: list = field(default_factory=list)
    failure: trace.Unsupported | None = None
    compile_seconds: float = 0.0


def _hashable(v: Any) -> Any:
    try:
        hash(v)
        return v
    except TypeError:
        return ("id", id(v))


def _spec_key(spec: Any) -> Any:
    kind, v = spec
    if kind == "V":
        return ("V", type(v), _hashable(v))
    if kind == "T":
        return spec
    if kind == "dict":
        return (kind, tuple((k, _spec_key(x)) for k, x in v))
    if kind == "named":
        return (kind, v[0], tuple(_spec_key(x) for x in v[1]))
    return (kind, tuple(_spec_key(x) for x in v))


class CompiledFunction:
    """``fn`` compiled: call it as ``fn``. The signature of a call: the structure and non-tensor
    values of the arguments, each tensor's shape, dtype, ``requires_grad`` and array type, which
    arguments are the same tensor, grad mode and ``context()``."""

    def __init__(self, fn: Callable, *, fullgraph: bool, fusion: bool,
                 context: Callable[[], Any] | None = None, precheck: Callable[[], str | None] | None = None):
        self.fn = fn
        self.fullgraph = fullgraph
        self.fusion = fusion
        self.context = context  # extra guard values (module training flags ...)
        self.precheck = precheck  # a reason the call cannot be captured at all, or None
        self.records: dict[Any, Record] = {}
        self.n_graphs = 0
        self.warned = False
        self.calls = {"replayed": 0, "recorded": 0, "eager": 0}

    def signature(self, args: tuple, kwargs: dict) -> tuple[Any, list]:
        inputs: list[Tensor] = []
        spec = trace.flatten((args, kwargs), inputs)
        metas = tuple((t._data.shape, t._data.dtype, t._requires_grad, type(t._data)) for t in inputs)
        # which arguments are one tensor: a recording keeps one slot for a tensor passed twice
        first: dict[int, int] = {}
        aliases = tuple(first.setdefault(id(t), i) for i, t in enumerate(inputs))
        extra = self.context() if self.context is not None else None
        return (_spec_key(spec), metas, aliases, is_grad_enabled(), extra), inputs

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        key, inputs = self.signature(args, kwargs)
        rec = self.records.get(key)
        if rec is not None:
            if rec.failure is not None:
                self.calls["eager"] += 1
                return self.fn(*args, **kwargs)
            for graph in rec.graphs:
                state = backend.default_generator.get_state() if graph.guards else None
                try:
                    out = flat.call(graph, inputs)
                except GuardFailed:
                    if state is not None:
                        backend.default_generator.set_state(state)
                    continue
                self.calls["replayed"] += 1
                return out
        if self.n_graphs >= config.cache_size_limit:
            if not self.warned:
                self.warned = True
                warnings.warn(f"chainrule.compile: {getattr(self.fn, '__qualname__', self.fn)} reached the "
                              f"cache size limit ({config.cache_size_limit} graphs); calls with a new signature or "
                              "new values read into Python run eagerly", stacklevel=2)
            self.calls["eager"] += 1
            return self.fn(*args, **kwargs)
        return self._record(key, rec, args, kwargs)

    def _record(self, key: Any, rec: Record | None, args: tuple, kwargs: dict) -> Any:
        if rec is None:
            rec = self.records[key] = Record()
        self.calls["recorded"] += 1
        why = self.precheck() if self.precheck is not None else None
        if why is not None:
            if self.fullgraph:
                raise CompileError(f"chainrule.compile(fullgraph=True) cannot capture {why}")
            rec.failure = trace.Unsupported(why)
            return self.fn(*args, **kwargs)
        start = time.perf_counter()
        result, graph, failure = trace.record(self.fn, args, kwargs)
        if failure is not None:
            if self.fullgraph:
                raise CompileError(f"chainrule.compile(fullgraph=True) cannot capture {failure}")
            rec.failure = failure
            return result
        assert graph is not None
        if self.fusion:
            graph = fuse.fuse(graph)
        graph.stats["compile_seconds"] = time.perf_counter() - start
        rec.graphs.append(graph)
        rec.compile_seconds += graph.stats["compile_seconds"]
        self.n_graphs += 1
        return result

    def graphs(self) -> list[Graph]:
        return [g for r in self.records.values() for g in r.graphs]

    def failures(self) -> list[trace.Unsupported]:
        return [r.failure for r in self.records.values() if r.failure is not None]


def compiled_callable(target: Any, *, fullgraph: bool, fusion: bool) -> CompiledFunction:
    """``target`` (a Module, with its training flags and hooks guarded, or a callable) compiled."""
    if isinstance(target, Module):
        return CompiledFunction(target.__call__, fullgraph=fullgraph, fusion=fusion,
                                context=module_context(target), precheck=module_precheck(target))
    return CompiledFunction(target, fullgraph=fullgraph, fusion=fusion)


def module_context(model: Module) -> Callable[[], tuple]:
    """Guard values of a compiled module: each submodule's training flag and whether it has hooks."""
    mods = list(model.modules())

    def context() -> tuple:
        return tuple((m.training, bool(m._forward_pre_hooks or m._forward_hooks or m._backward_hooks
                                       or m._backward_pre_hooks)) for m in mods)

    return context


def module_precheck(model: Module) -> Callable[[], str | None]:
    """Why a call of ``model`` cannot be captured at all (module hooks), or None."""

    def precheck() -> str | None:
        for name, m in model.named_modules():
            if m._forward_pre_hooks or m._forward_hooks or m._backward_hooks or m._backward_pre_hooks:
                return (f"module hooks on {name or 'the model'} ({type(m).__name__}): hooks are Python code "
                        "that must run on every call")
        return None

    return precheck
