"""``Parameter``: a tensor that a ``Module`` registers as one of its learnable weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that, assigned to a ``Module`` attribute, joins ``module.parameters()``.

    ``Parameter(t)`` shares ``t``'s memory (and version counter); it requires grad by default.
    Results of operators on a Parameter are plain Tensors.
    """

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            from .. import backend

            raw = np.empty((0,), dtype=backend.get_default_dtype().np)
            version = None
        elif isinstance(data, Tensor):
            raw = data._data
            version = data._version
        else:
            raise TypeError(
                f"Parameter data must be a Tensor (e.g. chainrule.tensor(...)), got {type(data).__name__}")
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
        if data is None:
            from .. import backend

            raw = np.empty((0,), dtype=backend.get_default_dtype().np)
            version = None
        elif isinstance(data, Tensor):
            raw, version = data._data, data._version
        else:
            raise TypeError(f"Buffer data must be a Tensor, got {type(data).__name__}")
        Tensor._init(self, raw, False, None, 0, version)
        self.persistent = persistent
