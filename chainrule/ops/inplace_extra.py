"""In-place variants (``x.sin_()``, ``x.eq_(y)``, ``x.cumsum_(0)``, ``x.tril_()``, ``x.swapaxes_(0, 1)``
...) of existing Tensor methods that PyTorch also has in place.

Each runs the out-of-place method and writes the result into ``self`` with the rules of
``inplace._apply``: a leaf requiring grad is refused under grad mode, the version counter is
bumped, and on a tensor in a graph the operation is recorded (``self`` takes the new node). A
comparison writes 1/0 in ``self``'s dtype, as PyTorch's ``eq_``. The shape-changing ones
(``swapaxes_``, ``swapdims_``) rebind ``self`` to the transposed view.
"""

from __future__ import annotations

from ..tensor import Tensor
from .inplace import _apply
from .tensor_extra import transpose_

# out-of-place Tensor methods whose in-place form PyTorch has and chainrule lacked
_ELEMENTWISE = (
    "acos acosh arccos arccosh arcsin arcsinh arctan arctanh asin asinh atan atanh cos cosh sin sinh tan ceil trunc "
    "frac reciprocal rsqrt log2 log10 negative absolute sgn fix "
    "eq ne lt le gt ge greater greater_equal less less_equal not_equal logical_and logical_or logical_xor logical_not "
    "bitwise_and bitwise_or bitwise_xor bitwise_not divide multiply subtract true_divide floor_divide remainder fmod "
    "hypot atan2 arctan2 cumsum cumprod tril triu"
).split()


def _inplace_method(base: str):
    def method(self: Tensor, *args, **kwargs) -> Tensor:
        tensors = [a for a in args if isinstance(a, Tensor)]

        def result(s: Tensor, *ts: Tensor) -> Tensor:
            it = iter(ts)
            new_args = [next(it) if isinstance(a, Tensor) else a for a in args]
            return getattr(Tensor, base)(s, *new_args, **kwargs)

        return _apply(self, result, *tensors)

    method.__name__ = method.__qualname__ = base + "_"
    method.__doc__ = f"In-place ``{base}``: ``self`` holds the result (in its own dtype)."
    return method


def swapaxes_(self: Tensor, axis0: int, axis1: int) -> Tensor:
    """``transpose_(axis0, axis1)``."""
    return transpose_(self, axis0, axis1)


def swapdims_(self: Tensor, dim0: int, dim1: int) -> Tensor:
    """``transpose_(dim0, dim1)``."""
    return transpose_(self, dim0, dim1)


METHODS = {name + "_": _inplace_method(name) for name in _ELEMENTWISE}
METHODS.update({"swapaxes_": swapaxes_, "swapdims_": swapdims_})
globals().update(METHODS)

__all__: list[str] = []
TENSOR_METHODS = sorted(METHODS)
