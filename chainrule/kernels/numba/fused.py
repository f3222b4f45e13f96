"""A chain of element-wise operators (``kernels/fused_program.py``) as one compiled loop for the
forward and one for the backward: the ``fused`` family of the numba backend.

Each program gets kernels of its own: ``fused_codegen`` plans a loop over the flat elements,
specialised to the program, the dtype and which inputs are 0-d (and, for the backward, which
outputs have a gradient and which inputs need one), and writes the Python source of a module
whose ``@jit`` kernel runs that loop (its body LLVM IR from ``fused_ir``);
``fused_loader`` keeps the source as a file of the kernel cache, so numba's on-disk cache makes
a second process load the compiled code instead of compiling it. A dict holds the kernels
loaded in this process, by program key and specialisation.

The backward runs the forward's instructions again from the inputs (nothing is kept between
the calls) and sweeps them in reverse; every value and derivative is the eager operator's
formula in its order, as in the reference (``kernels/numpy/fused.py``, which has the table), in
the same order of accumulation. Results equal the reference's bit for bit where every step is
correctly rounded (+ - * /, sqrt, comparisons and selections, ``x ** p`` for p in 2, 0.5, -1,
1, 0); ``exp log tanh sin cos log1p expm1``, the logistic (through exp) and other powers call
the C library's functions here, while NumPy uses its own SIMD code for some of them, so those
may differ by a few units in the last place, and derivatives such as ``1 - y*y`` carry the
difference on (``tests/kernels/test_fused.py`` bounds both).

Inputs that are not C-contiguous are copied first. A call declines (``NotImplemented``) for
arrays ``_jit.takes`` does not take (other dtypes, mixed dtypes, not NumPy's, empty, the
compiled kernels switched off) and without numba. Calls run on several threads over parts of
the elements when the work (elements times instructions) reaches ``tuning.FUSED_PARALLEL_MIN_WORK``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .._jit import numba_module, takes
from .._parallel import parallel_for, threads_for
from ..fused_program import Program, call_arguments, output_shape
from . import fused_codegen, tuning

_kernels: dict[tuple, object] = {}  # (program key, kind, dtype, flags) -> the loaded kernel
_NAMES = {np.dtype(np.float32): "float32", np.dtype(np.float64): "float64"}  # (dtype.name costs 5 us)


def available(xp, *arrays) -> bool:
    """Whether the compiled kernels take these arrays: ``_jit.takes`` them and numba is importable."""
    return takes(xp, *arrays) and _loader() is not None


def forward(xp, *args, program: Program | None = None):
    """The arrays of ``program.outputs`` (new, C-contiguous, of the output shape) computed from
    the inputs in one compiled loop; called as the reference's ``forward``."""
    program, _, inputs = call_arguments(args, program)
    if len(inputs) != program.n_inputs:
        raise ValueError(f"fused.forward: the program expected {program.n_inputs} input(s), got {len(inputs)}")
    if not available(xp, *inputs):
        return NotImplemented
    shape = output_shape([a.shape for a in inputs])
    dt = inputs[0].dtype
    kernel = _kernel(program, "forward", _NAMES[dt], tuple(a.ndim == 0 for a in inputs))
    outs = [np.empty(shape, dtype=dt) for _ in program.outputs]
    _run(xp, kernel, tuple(_flat(a) for a in inputs), tuple(o.reshape(-1) for o in outs), shape, program, dt)
    return tuple(outs)


def backward(xp, *args, program: Program | None = None, needs=None):
    """Gradients of the inputs in one compiled loop; called as, and returning what, the
    reference's ``backward`` does (one new array of the output shape per needed input)."""
    program, needs, arrays = call_arguments(args, program, needs, backward=True)
    n = program.n_inputs
    inputs, grads = arrays[:n], arrays[n:]
    if len(inputs) != n or len(grads) != len(program.outputs) or len(needs) != n:
        raise ValueError(f"fused.backward: expected {n} input(s), {len(program.outputs)} output gradient(s) and {n} "
                         f"needs flags, got {len(inputs)}, {len(grads)} and {len(needs)}")
    present = [g for g in grads if g is not None]
    if not available(xp, *inputs, *present):
        return NotImplemented
    shape = output_shape([a.shape for a in inputs])
    if any(g.shape != shape for g in present):
        raise ValueError(f"fused.backward: expected output gradients of shape {shape}, got "
                         f"{[None if g is None else g.shape for g in grads]}")
    dt = inputs[0].dtype
    outs = [np.empty(shape, dtype=dt) if f else None for f in needs]
    if any(needs):
        kernel = _kernel(program, "backward", _NAMES[dt], tuple(a.ndim == 0 for a in inputs),
                         tuple(g is not None for g in grads), tuple(bool(f) for f in needs))
        _run(xp, kernel, tuple(_flat(a) for a in (*inputs, *present)),
             tuple(o.reshape(-1) for o in outs if o is not None), shape, program, dt)
    return tuple(outs)


def _run(xp, kernel, ins: tuple, outs: tuple, shape: tuple, program: Program, dt) -> None:
    count = math.prod(shape)
    work = count * max(1, len(program.instrs))
    threads = threads_for(xp, work * dt.itemsize) if work >= tuning.FUSED_PARALLEL_MIN_WORK else 1
    if threads == 1:
        kernel(ins, outs, 0, count)
    else:
        parallel_for(lambda lo, hi: kernel(ins, outs, lo, hi), count, threads)


def _flat(a):
    """Input ``a`` as a flat C-contiguous array (a 0-d one of one element), copied only when it
    is not C-contiguous. (Outputs are flattened with ``reshape``, a view even of a 0-d array.)"""
    a = np.ascontiguousarray(a)  # at least 1-d
    return a if a.ndim == 1 else a.reshape(-1)


def _kernel(program: Program, kind: str, dtype: str, *flags):
    """The compiled kernel of ``program`` for ``kind``, ``dtype`` and ``flags`` (which inputs are
    0-d; for a backward also which outputs have a gradient and which inputs need one):
    generated, written and loaded (or compiled) on first use in this process."""
    key = (program.key(), kind, dtype, flags)
    kernel = _kernels.get(key)
    if kernel is None:
        p = fused_codegen.plan(program, kind, dtype, *flags)
        kernel = _kernels[key] = _loader().load(fused_codegen.name(p), fused_codegen.source(p))
    return kernel


@functools.cache
def _loader():
    """The loader of generated kernels, or None without numba. Imported here, on first use:
    importing it imports numba (about 0.3 s), which a process that runs no kernel should not pay."""
    if numba_module() is None:
        return None
    from . import fused_loader  # on use: importing the loader imports numba (heavy, optional)
    return fused_loader
