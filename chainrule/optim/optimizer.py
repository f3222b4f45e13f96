"""``Optimizer``: the base class of chainrule's optimisers, with PyTorch's parameter groups and state.

An optimiser holds ``param_groups`` (a list of dicts: ``params`` plus the hyper-parameters of that
group, filled in from ``defaults``) and ``state`` (a dict from each parameter to its buffers, e.g.
``momentum_buffer``). ``state_dict()`` replaces parameters by integer indices in group order, so a
checkpoint can be loaded into a freshly built optimiser over a freshly built model.

Subclasses implement ``step``; their update rules work on the raw arrays of the parameters and of
their state (no graph is recorded), which keeps the hot path as lean as hand-written NumPy.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import Any

import numpy as np

from .. import backend
from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import RemovableHandle, Tensor


class _RequiredParameter:
    """Marks a hyper-parameter that has no default: every param group must give it."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _step_with_hooks(step: Callable) -> Callable:
    """Wrap a subclass's ``step``: run the step hooks around it and note that it was called.

    A subclass ``step`` that calls ``super().step()`` runs the hooks once, at the outermost call.
    """

    @functools.wraps(step)
    def wrapper(self: Optimizer, *args, **kwargs):
        if self.__dict__.get("_in_step", False):
            return step(self, *args, **kwargs)
        self._in_step = True
        try:
            for hook in list(self._optimizer_step_pre_hooks):
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            "an optimizer step pre-hook must return None or a tuple (new_args, new_kwargs), "
                            f"but got {result!r}")
                    args, kwargs = result
            out = step(self, *args, **kwargs)
            self._opt_called = True  # read by LRScheduler to warn about a wrong call order
            for hook in list(self._optimizer_step_post_hooks):
                hook(self, args, kwargs)
            return out
        finally:
            self._in_step = False

    wrapper._with_hooks = True  # type: ignore[attr-defined]  # a marker attribute on the function object
    return wrapper


class Optimizer:
    """Base class of all optimisers.

    ``params`` is an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts that define
    parameter groups (each with a ``params`` entry and optional per-group hyper-parameters).
    ``defaults`` holds the hyper-parameters used by groups that do not set them.
    """

    _in_step: bool  # inside a hooked step (set by the wrapper of step)
    _opt_called: bool  # step() ran once at least (read by LRScheduler)

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_with_hooks", False):
            cls.step = _step_with_hooks(step)  # type: ignore[method-assign]  # subclass' step wrapped at class creation

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: list[Callable] = []
        self._optimizer_step_post_hooks: list[Callable] = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {_typename(params)}")
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(dict(group))

    def __repr__(self) -> str:
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines) + "\n)"

    # ---- parameter groups ------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Append a group of parameters (with optional group-specific hyper-parameters).

        Missing hyper-parameters are taken from ``defaults``; a parameter may belong to one group only.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of "
                "tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        if names and len(names) != len(tensors):
            raise ValueError("all optimizer params should be with/without names. Some param names are missing")
        param_group["params"] = tensors
        if names:
            param_group["param_names"] = names

        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {_typename(p)}")
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        ids = [id(p) for p in tensors]
        if len(ids) != len(set(ids)):
            raise ValueError(
                "optimizer contains a parameter group with duplicate parameters; each parameter must "
                "appear once")
        seen: set[int] = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} to the optimizer")
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---- gradients and steps -----------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients: drop them (``set_to_none=True``, the default) or fill them with zeros.

        With ``None`` gradients the next ``step`` skips those parameters entirely, whereas zero
        gradients still move them through momentum and weight decay.
        """
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    with no_grad():
                        g.zero_()

    def step(self, closure: Callable[[], Any] | None = None):
        """Update the parameters once; ``closure`` re-evaluates the model and returns the loss."""
        raise NotImplementedError

    def _init_state(self, p: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Add the buffers of a parameter seen for the first time (its ``step`` counter is already there)."""

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """The state of ``p`` started afresh: a float32 ``step`` counter, then ``_init_state``'s buffers."""
        state = self.state[p]
        state["step"] = _new_step_counter()
        self._init_state(p, state, group)
        return state

    def _params_with_grad(self, group: dict[str, Any]) -> Iterator[tuple[Tensor, Any, dict[str, Any], float]]:
        """``(p, g, state, step)`` for each parameter of ``group`` that has a gradient.

        ``g`` is the raw gradient (negated for ``maximize``); ``state`` is created on first sight
        by ``_new_state``; ``step`` is the count after bumping the counter for this update. Used by
        the optimisers that keep a step counter (Adam, RMSprop, Adagrad).
        """
        maximize = bool(group["maximize"])
        for p in group["params"]:
            if p._grad is None:
                continue
            g = _grad_array(p, maximize)
            state = self.state[p]
            if len(state) == 0:
                state = self._new_state(p, group)
            yield p, g, state, _bump_step(state["step"])

    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` before each ``step``.

        It may return ``(new_args, new_kwargs)`` to replace the arguments of the step.
        """
        self._optimizer_step_pre_hooks.append(hook)
        return RemovableHandle(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` after each ``step``."""
        self._optimizer_step_post_hooks.append(hook)
        return RemovableHandle(self._optimizer_step_post_hooks, hook)

    # ---- state dict --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimiser's state as ``{"state": {index: {...}}, "param_groups": [{..., "params": [index]}]}``.

        Parameters are numbered in the order of the groups. As in PyTorch the state tensors are
        returned by reference: copy them (or save them) before stepping again if they must not change.
        """
        index: dict[int, int] = {}
        start = 0

        def pack(group: dict[str, Any]) -> dict[str, Any]:
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            index.update({id(p): i for i, p in enumerate(group["params"], start) if id(p) not in index})
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack(g) for g in self.param_groups]
        packed_state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": packed_state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a ``state_dict()``: per-group hyper-parameters and per-parameter state.

        The groups must have the same sizes as this optimiser's. State tensors are copied (and cast
        to their parameter's floating dtype, except the ``step`` counters), so the dict passed in is
        never modified by later steps.
        """
        groups = self.param_groups
        saved_groups = [_copy_value(g) for g in state_dict["param_groups"]]
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for g, s in zip(groups, saved_groups):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size of "
                    "optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = {key: _cast_state(param, key, value) for key, value in v.items()}
            else:
                state[k] = _copy_value(v)

        for g, s in zip(groups, saved_groups):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
        self.state = state
        self.param_groups = saved_groups


# ------------------------------------------------------------------------------------------------
# helpers shared by the optimisers


def _typename(obj: Any) -> str:
    if isinstance(obj, Tensor):
        return "chainrule.Tensor"
    return type(obj).__module__ + "." + type(obj).__qualname__


def _copy_value(value: Any) -> Any:
    """A deep copy of nested dicts/lists/tuples of numbers and Tensors (Tensors are cloned)."""
    if isinstance(value, Tensor):
        return Tensor._make(value._data.copy())
    if isinstance(value, dict):
        return {k: _copy_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy_value(v) for v in value)
    return value


def _cast_state(param: Tensor, key: Any, value: Any) -> Any:
    """Copy one state entry for ``param``; floating tensors take the parameter's dtype (not ``step``)."""
    if isinstance(value, Tensor):
        data = value._data
        if key != "step" and param._data.dtype.kind == "f" and data.dtype.kind == "f":
            return Tensor._make(data.astype(param._data.dtype, copy=True))
        return Tensor._make(data.copy())
    if isinstance(value, dict):
        return {k: _cast_state(param, k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, None, v) for v in value)
    return value


def _use_grad_for_step(step: Callable) -> Callable:
    """Run an optimiser's step outside the graph; the closure (if any) runs with grad enabled."""

    @functools.wraps(step)
    def wrapper(self: Optimizer, closure: Callable[[], Any] | None = None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            step(self)
        return loss

    return wrapper


def _new_step_counter() -> Tensor:
    """The ``step`` entry of an optimiser state: a float32 scalar tensor, as in PyTorch."""
    return Tensor._make(np.zeros((), dtype=np.float32))


def _bump_step(counter: Tensor) -> float:
    """Add one to a step counter in place and return the new count as a Python float."""
    counter._data += 1
    return float(counter._data)


def _zeros_like(p: Tensor) -> Tensor:
    xp = backend.array_module(p._data)
    return Tensor._make(xp.zeros_like(p._data))


def _grad_array(p: Tensor, maximize: bool):
    """The raw gradient of ``p`` (negated for ``maximize``), checked against the parameter."""
    g = p._grad._data
    if g.shape != p._data.shape:
        raise RuntimeError(
            f"the gradient of a parameter has shape {list(g.shape)} but the parameter has shape "
            f"{list(p._data.shape)}")
    return -g if maximize else g


def _written(p: Tensor) -> None:
    """Bump the version counter of a parameter updated in place (autograd sees the change)."""
    p._version[0] += 1


def _check_nonnegative(name: str, value: float) -> None:
    """PyTorch's ``Invalid <name> value: <value>`` unless ``0 <= value`` (a NaN is refused too)."""
    if not 0.0 <= value:
        raise ValueError(f"Invalid {name} value: {value}")


def _check_betas(betas: tuple[float, float]) -> None:
    """PyTorch's ``Invalid beta parameter at index i: <value>`` unless ``0 <= beta < 1``."""
    for i, beta in enumerate(betas[:2]):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


def _new_scalar_state(value: float) -> Tensor:
    """A 0-dim float32 tensor holding ``value`` (PyTorch keeps ``mu_product``, ``eta``, ``mu`` so)."""
    return Tensor._make(np.array(value, dtype=np.float32))


def _check_lr(lr: Any, differentiable: bool) -> float:
    """Validate the learning rate (a number or a one-element tensor) and return it as a float.

    Every optimiser also accepts PyTorch's implementation switches ``foreach``, ``fused`` and
    ``capturable``: chainrule has a single NumPy implementation, so they change nothing.
    ``differentiable=True`` (gradients through the update) is not supported and raises.
    """
    if isinstance(lr, Tensor):
        if lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        lr = lr.item()
    if differentiable:
        raise RuntimeError("differentiable=True is not supported: chainrule optimizers update parameters "
                           "outside the graph")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    return lr
