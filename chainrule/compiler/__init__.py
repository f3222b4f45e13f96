"""``chainrule.compile``: trace a call once, replay it as a static graph.

The first call of a compiled function or module with a given input signature (shapes, dtypes,
``requires_grad`` of the tensor arguments, the other arguments' values, grad mode, the training
flags of the module's submodules) runs eagerly while its operators are recorded (``trace.py``);
later calls with that signature replay the recording (``graph.py``), with runs of element-wise
operators fused into generated kernels (``fuse.py``). The autograd graph a replay builds is made
of the same operator nodes as in eager mode, so ``loss.backward()``, ``.grad`` accumulation,
``autograd.grad`` and higher derivatives work on a compiled model's output as on the eager one.
Where a graph allows it, replays run as a flat schedule on raw arrays instead (``flat.py``): the
forward without per-operator bookkeeping, and a backward schedule recorded from the first backward
through a replayed call, behind one ``CompiledFunctionBackward`` node.

What cannot be captured (``trace.py`` lists it) makes that signature run eagerly, or raises with
``fullgraph=True``; ``explain`` says what was captured, what was fused and why anything was not.
"""

from __future__ import annotations

import copy
import functools
import weakref
from collections.abc import Callable
from typing import Any

from ..nn.module import Module
from . import config
from .compiled import CompiledFunction, CompileError, compiled_callable
from .explain import ExplainOutput, explain

__all__ = ["CompileError", "ExplainOutput", "OptimizedModule", "compile", "config", "explain", "reset"]

BACKENDS = {"inductor": True, "eager": False, "aot_eager": False}  # backend -> fusion on
MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
_compiled: weakref.WeakSet = weakref.WeakSet()  # every live compiled callable, for reset()


class OptimizedModule(Module):
    """A module compiled by ``chainrule.compile``: calls run the recorded graph of ``_orig_mod``.

    As PyTorch's: the original module is the child ``_orig_mod`` (so ``state_dict`` keys carry that
    prefix), its parameters are shared, ``train()``/``eval()`` reach it, and attribute reads fall
    through to it.
    """

    def __init__(self, mod: Module, compiled: CompiledFunction):
        super().__init__()
        self._orig_mod = mod
        object.__setattr__(self, "_compiled_call", compiled)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._compiled_call(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            modules = self.__dict__.get("_modules")
            if modules is None or "_orig_mod" not in modules:  # not initialised (copy, unpickling)
                raise
            return getattr(modules["_orig_mod"], name)

    def __deepcopy__(self, memo: dict) -> OptimizedModule:
        """A deep copy of the original module, compiled with the same options; its graphs are
        recorded anew on its first calls (they belong to the original's tensors)."""
        mod = copy.deepcopy(self._modules["_orig_mod"], memo)
        assert mod is not None
        old = self._compiled_call
        compiled = compiled_callable(mod, fullgraph=old.fullgraph, fusion=old.fusion)
        _compiled.add(compiled)
        twin = OptimizedModule(mod, compiled)
        memo[id(self)] = twin
        return twin


def compile(model: Any = None, *, fullgraph: bool = False, dynamic: bool | None = None,  # noqa: A001
            backend: str = "inductor", mode: str | None = None, options: dict | None = None,
            disable: bool = False) -> Any:
    """Compile a function or module: the first call per input signature records, later ones replay.

    PyTorch's signature. ``backend``: ``"inductor"`` (default: replay with fused element-wise
    kernels) or ``"eager"``/``"aot_eager"`` (replay without fusion). ``mode`` values are accepted
    and all mean the same here. ``dynamic=True`` is refused: graphs are specialised on shapes (a
    new shape records a new graph). ``fullgraph=True`` raises ``CompileError`` where part of a call
    cannot be captured, naming what and where; otherwise that signature runs eagerly.
    ``disable=True`` returns ``model`` unchanged. Without ``model``, a decorator.
    """
    if backend not in BACKENDS:
        raise ValueError(f"chainrule.compile: backend {backend!r} is not supported; expected one of "
                         f"{sorted(BACKENDS)}")
    if mode not in MODES:
        raise ValueError(f"chainrule.compile: unknown mode {mode!r}; expected one of {list(MODES)}")
    if options:
        raise ValueError(f"chainrule.compile: options are not supported, got {sorted(options)}")
    if dynamic:
        raise NotImplementedError("chainrule.compile(dynamic=True): graphs are specialised on input shapes; "
                                  "leave dynamic unset, and each new shape records its own graph")
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, disable=disable)
    if disable:
        return model
    if not callable(model):
        raise TypeError(f"chainrule.compile: expected a callable or a Module, got {type(model).__name__}")
    compiled = compiled_callable(model, fullgraph=fullgraph, fusion=BACKENDS[backend])
    _compiled.add(compiled)
    if isinstance(model, Module):
        return OptimizedModule(model, compiled)

    @functools.wraps(model)
    def compiled_fn(*args: Any, **kwargs: Any) -> Any:
        return compiled(*args, **kwargs)

    compiled_fn._compiled = compiled  # type: ignore[attr-defined]
    return compiled_fn


def reset() -> None:
    """Forget every recorded graph (PyTorch's ``torch.compiler.reset``): the next calls record anew."""
    for c in list(_compiled):
        c.records.clear()
        c.n_graphs = 0
