"""``Parameter``: a tensor that a ``Module`` registers as one of its learnable weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from ..tensor import Tensor


def _storage(data: Tensor | None, requirement: str) -> tuple[Any, Any]:
    """The array and version counter to share with ``data``; a fresh empty array of the default
    dtype for None. ``requirement`` opens the TypeError for anything else."""
    if data is None:
        return np.empty((0,), dtype=backend.get_default_dtype().np), None
    if isinstance(data, Tensor):
        return data._data, data._version
    raise TypeError(f"{requirement}, got {type(data).__name__}")


class Parameter(Tensor):
    """A leaf tensor that, assigned to a ``Module`` attribute, joins ``module.parameters()``.

    ``Parameter(t)`` shares ``t``'s memory (and version counter); it requires grad by default.
    Results of operators on a Parameter are plain Tensors.
    """

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True):
        raw, version = _storage(data, "Parameter data must be a Tensor (e.g. chainrule.tensor(...))")
        Tensor._init(self, raw, False, None, 0, version)
        if requires_grad:
            self.requires_grad = True  # validates the dtype: only floating point can require grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def is_parameter(obj: Any) -> bool:
    return isinstance(obj, Parameter)


class Buffer(Tensor):
    """A tensor that, assigned to a ``Module`` attribute, is registered as a buffer (PyTorch 2.5+).

    ``persistent=False`` keeps it out of ``state_dict``.
    """

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True):
        raw, version = _storage(data, "Buffer data must be a Tensor")
        Tensor._init(self, raw, False, None, 0, version)
        self.persistent = persistent
