"""Random factories as an operator: ``Draw``, what ``rand``, ``randn``, ``randint``, ``randperm`` and
``normal(float, float, size)`` run inside a graph capture.

Outside a capture the factories draw directly (``_factory``); inside one (``chainrule.compile``)
they apply ``Draw``, a node with no inputs whose forward makes the same draw from the same
generator, so a replay draws anew on every call (as eager does) instead of repeating the first
call's sample. ``_factory.draw`` holds the one definition of each draw, used by both paths.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._factory import draw
from ..autograd.function import FunctionNode


class Draw(FunctionNode):
    """A random sample as an operator with no inputs (see the module docstring)."""

    def __init__(self, kind: str, shape: tuple, dtype: np.dtype, generator: Any, params: tuple = ()):
        self.kind, self.shape, self.dtype, self.generator, self.params = kind, shape, dtype, generator, params

    def forward(self):
        return draw(self.kind, self.shape, self.dtype, self.generator, self.params)

    def backward(self, gy):
        return ()
