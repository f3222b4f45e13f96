"""Watching a computation run: the hooks a graph capture (``chainrule.compile``) needs.

Inside ``capturing(observer)`` every place where a computation can reach the outside world
reports to ``observer`` instead of running silently:

* ``FunctionNode.apply`` - an operator ran (``observer.apply(node, inputs, run)``: ``run()`` is
  the operator itself, and the observer returns its result);
* ``Tensor._make`` - a tensor was wrapped around an array (``observer.made(tensor)``), which,
  outside an operator, means a value computed by code that records no node;
* ``Tensor._bump_version`` - an in-place write (``observer.wrote(tensor)``), unless it happens
  inside an ``effect``: library code that writes into tensors outside the graph (in-place
  methods, batch norm's running statistics) runs the write as ``effect(fn, *args)``, which the
  observer records as one step of its own (``observer.effect(fn, args)``) and replays by calling
  ``fn`` again on the replayed values;
* ``literal(tensor)`` - operand coercion made a tensor from a number of the caller's code
  (``observer.literal(tensor)``): a constant, not a value computed from the data;
* ``detach`` and ``data`` - a tensor outside the graph around a value's memory: the observer
  records them as effects (``observer.effect``) that only read their argument, so a replay makes
  them again from the replayed value;
* ``item``, ``tolist``, ``bool``, ``float``, ``int``, ``index``, ``numpy`` - a value went to Python
  (``observer.read(tensor, kind, value)``), where it can steer control flow;
* ``Function.apply`` (a user's custom operator), ``Node._call_backward`` (a backward pass) and
  the tensor methods that attach Python code to the graph (``register_hook``, ``retain_grad``,
  ``register_post_accumulate_grad_hook``) (``observer.custom(cls)``, ``observer.backward(node)``,
  ``observer.unsupported(tensor, name)``).

Operators nest (an operator's forward may call others); ``depth()`` counts them, so the observer
can tell what the caller did from what an operator did inside. Outside ``capturing`` nothing of this
costs anything: the hooks are installed on the classes for the duration of the block and removed
after it (one capture at a time in a process).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ..tensor import Tensor
from .function import Function, FunctionNode, Node

_READS = ("item", "tolist", "__bool__", "__float__", "__int__", "__index__", "numpy")
_HOOKS = ("register_hook", "retain_grad", "register_post_accumulate_grad_hook")
_active: Any = None
_depth = [0]


def depth() -> int:
    """How many operators are running (0: the caller's own code)."""
    return _depth[0]


def active() -> Any:
    """The observer of the capture in progress, or None."""
    return _active


def effect(fn: Any, *args: Any) -> Any:
    """``fn(*args)``: a write into tensors' memory (or another change of state outside the graph)
    made by the caller's code. Outside a capture, and inside an operator, it simply runs; in a
    capture the observer runs it and records it, so a replay repeats it. ``args`` are what the
    write reads and writes: tensors, operator nodes (whose forward state ``fn`` reads) and
    plain values; ``fn`` may return a new tensor (a value later steps read). A function that only
    reads some of its tensor arguments lists their positions in ``fn.reads_only`` (a tuple): a
    capture then knows it leaves them as they are (an argument of the call read by it, such as the
    indices of an embedding's renormalisation, keeps the graph flat)."""
    if _active is None or _depth[0] > 0:
        return fn(*args)
    return _active.effect(fn, args)


def literal(t: Tensor) -> Tensor:
    """Mark ``t``, just made from a Python (or NumPy) number of the caller's code, as a constant of
    the computation (the ``0`` of ``x > 0``), as opposed to a value computed from the data."""
    if _active is not None and _depth[0] == 0:
        _active.literal(t)
    return t


@contextlib.contextmanager
def capturing(observer: Any) -> Iterator[None]:
    """Report the computation inside this block to ``observer`` (see the module docstring)."""
    global _active
    if _active is not None:
        raise RuntimeError("a graph capture is already in progress: chainrule.compile does not nest captures")
    saved: list[tuple[type, str, Any]] = []

    def patch(cls: type, name: str, value: Any) -> None:
        saved.append((cls, name, cls.__dict__[name]))
        setattr(cls, name, value)

    plain_apply = FunctionNode.apply
    plain_make = Tensor.__dict__["_make"].__func__
    plain_bump = Tensor._bump_version
    plain_custom = Function.__dict__["apply"].__func__
    plain_backward = Node._call_backward

    def apply(node, *inputs):
        _depth[0] += 1
        try:
            return observer.apply(node, inputs, lambda: plain_apply(node, *inputs))
        finally:
            _depth[0] -= 1

    def make(cls, *args, **kwargs):
        t = plain_make(cls, *args, **kwargs)
        if _depth[0] == 0:
            observer.made(t)
        return t

    def bump(t):
        plain_bump(t)
        observer.wrote(t)

    def custom(cls, *args, **kwargs):
        if _depth[0] == 0:
            observer.custom(cls)
        return plain_custom(cls, *args, **kwargs)

    def call_backward(node, grads):
        observer.backward(node)
        return plain_backward(node, grads)

    def reader(name: str, plain: Any) -> Any:
        def read(t, *args, **kwargs):
            value = plain(t, *args, **kwargs)
            if _depth[0] == 0:
                observer.read(t, name, value)
            return value

        read.__name__ = name
        return read

    plain_detach = Tensor.__dict__["detach"]
    plain_data = Tensor.__dict__["data"]

    def detach(t):
        return plain_detach(t)

    def data(t):
        return plain_data.fget(t)

    detach.reads_only = data.reads_only = (0,)  # type: ignore[attr-defined]

    def observed_detach(t):
        return plain_detach(t) if _depth[0] else observer.effect(detach, (t,))

    def observed_data(t):
        return plain_data.fget(t) if _depth[0] else observer.effect(data, (t,))

    def hooker(name: str, plain: Any) -> Any:
        def attach(t, *args, **kwargs):
            if _depth[0] == 0:
                observer.unsupported(t, name)
            return plain(t, *args, **kwargs)

        attach.__name__ = name
        return attach

    _active = observer
    try:
        patch(FunctionNode, "apply", apply)
        patch(Tensor, "_make", classmethod(make))
        patch(Tensor, "_bump_version", bump)
        patch(Function, "apply", classmethod(custom))
        patch(Node, "_call_backward", call_backward)
        for name in _READS:
            patch(Tensor, name, reader(name, Tensor.__dict__[name]))
        for name in _HOOKS:
            patch(Tensor, name, hooker(name, Tensor.__dict__[name]))
        patch(Tensor, "detach", observed_detach)
        patch(Tensor, "data", property(observed_data, plain_data.fset))
        yield
    finally:
        for cls, name, value in reversed(saved):
            setattr(cls, name, value)
        _active = None
        _depth[0] = 0
