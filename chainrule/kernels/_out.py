"""``out``: an array offered to a kernel to write its result into (a compiled schedule's
buffer, ``compiler/buffers.py``). An offer only: a kernel writes into it when it fits the result
exactly and returns it (or a view of it), and otherwise returns an array of its own, as without it.
"""

from __future__ import annotations


def fits(out, shape: tuple, dtype, like) -> bool:
    """Whether ``out`` can hold a result of ``shape`` and ``dtype`` as it is: the array type of
    ``like``, C-contiguous and writeable."""
    return (out is not None and type(out) is type(like) and out.shape == tuple(shape) and out.dtype == dtype
            and out.flags.c_contiguous and out.flags.writeable)
