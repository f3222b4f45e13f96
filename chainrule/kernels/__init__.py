"""How operators run: raw arrays in, raw arrays out.

One sub-package per backend, with the same family modules and function names in each:
``numpy/`` is the reference (any array module with NumPy's API, always available) and
``numba/`` the compiled CPU loops. ``select`` is the one place a backend is chosen; ``call`` runs
a kernel on the first backend that does not decline it (a kernel declines by returning
``NotImplemented``: Chainer's idiom, e.g. for non-contiguous arrays).

Families: ``pointwise`` (ReLU), ``conv`` (convolution forward, input and weight gradients),
``norm`` (batch norm forward and backward), ``pool`` (max pooling, whose route to the maxima
is an object of the backend that made it), ``matmul`` (2-D products on chainrule's threads;
reference backend only), ``optim`` (the optimisers' in-place updates, rounded as PyTorch's CPU
kernels: fused multiply-adds, ``lerp_``, ``addcmul_``, ``addcdiv_``, whole SGD and Adam steps)
and ``fused`` (a chain of element-wise operators given as a ``fused_program.Program``, run as
one kernel forward and one backward: what ``chainrule.compile`` fuses). ``_parallel`` is the thread pool every backend's kernels share and
``_blas_threads`` holds NumPy's BLAS to the thread count.
``relu``, ``relu_backward``, ``conv.forward``, ``conv.input``, ``matmul`` and the max pools'
``route`` take ``out=``, an array offered to write the result into (``_out.py``: a compiled
schedule's buffer), in every backend that has them.
``windows.py`` is the geometry of window sweeps that operators and every backend share.
``tables.py`` builds the index and weight tables operators need from sizes alone (adaptive
pooling windows, average-pool divisors, interpolation weights, padding maps), on the host.

``only`` is a test hook: inside it ``select`` offers only the backends named, so one test runs
an operator on one execution path (``tests/backends.py``). ``BACKENDS`` names every backend.

Nothing here imports ``tensor``, ``autograd`` or ``ops`` (``tests/test_import_rules.py`` checks).
Importing ``numba/``'s loop modules imports numba: the family modules import them on first use.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import ModuleType

from . import _jit
from . import numba as _numba_backend
from . import numpy as _numpy_backend
from .numba import conv as _numba_conv  # noqa: F401 (families are attributes of the backend)
from .numba import fused as _numba_fused  # noqa: F401
from .numba import norm as _numba_norm  # noqa: F401
from .numba import optim as _numba_optim  # noqa: F401
from .numba import pointwise as _numba_pointwise  # noqa: F401
from .numba import pool as _numba_pool  # noqa: F401
from .numpy import conv as _numpy_conv  # noqa: F401
from .numpy import fused as _numpy_fused  # noqa: F401
from .numpy import matmul as _numpy_matmul  # noqa: F401
from .numpy import norm as _numpy_norm  # noqa: F401
from .numpy import optim as _numpy_optim  # noqa: F401
from .numpy import pointwise as _numpy_pointwise  # noqa: F401
from .numpy import pool as _numpy_pool  # noqa: F401

__all__ = ["BACKENDS", "call", "only", "select"]

BACKENDS = {"numba": _numba_backend, "numpy": _numpy_backend}  # name -> backend package
_only: tuple[str, ...] | None = None  # set by ``only``


@contextlib.contextmanager
def only(*names: str) -> Iterator[None]:
    """Inside this block ``select`` offers only the backends named (a test hook: ``only("numpy")``
    keeps every operator on the reference path, as ``CHAINRULE_JIT=0`` does). Process-wide, not
    per thread: kernels started on the thread pool inside the block obey it too."""
    global _only
    unknown = set(names) - set(BACKENDS)
    if unknown:
        raise ValueError(f"only: unknown backend(s) {sorted(unknown)}; expected some of {sorted(BACKENDS)}")
    before, _only = _only, names
    try:
        yield
    finally:
        _only = before


def select(xp, *arrays) -> tuple:
    """The backends to try for ``arrays`` of the array module ``xp``, best first: the compiled
    CPU loops where ``_jit.takes`` the arrays (switched on, NumPy float32/float64, non-empty;
    ``None`` entries skipped), then the reference backend, which never declines (within
    ``only``, those it names)."""
    compiled = _jit.takes(xp, *arrays, absent_ok=True)
    chosen: tuple[ModuleType, ...] = (_numba_backend, _numpy_backend) if compiled else (_numpy_backend,)
    if _only is not None:
        chosen = tuple(b for b in chosen if b.__name__.rsplit(".", 1)[-1] in _only)
    return chosen


def call(family: str, name: str, xp, *arrays, **options):
    """``family.name(xp, *arrays, **options)`` on the first backend of ``select`` that has that
    kernel and does not return ``NotImplemented``. A ``None`` among ``arrays`` (an absent
    operand, such as an output that got no gradient) plays no part in the choice."""
    for backend in select(xp, *arrays):
        fn = getattr(getattr(backend, family, None), name, None)
        if fn is None:  # a family or kernel this backend does not have: the next one runs it
            continue
        out = fn(xp, *arrays, **options)
        if out is not NotImplemented:
            return out
    raise NotImplementedError(f"no backend runs {family}.{name} on {type(arrays[0]).__name__}")
