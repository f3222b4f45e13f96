"""The one place that imports ``mpi4py``: lazily, with an install hint when it is missing.

``from mpi4py import MPI`` initialises MPI, so nothing here runs at ``import chainrule``; the
first call that needs MPI imports it. Element types are mapped explicitly (NumPy dtype ->
MPI datatype) so that a tensor's buffer goes to MPI as it is, without a copy.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

INSTALL_HINT = "pip install chainrule[distributed]  (mpi4py and the MPICH wheel, which brings mpiexec)"


def available() -> bool:
    """True when ``mpi4py`` can be imported (checked without initialising MPI)."""
    return importlib.util.find_spec("mpi4py") is not None


def mpi() -> Any:
    """The ``mpi4py.MPI`` module; raises RuntimeError with the install command if it is missing."""
    try:
        from mpi4py import MPI  # noqa: PLC0415  (importing it initialises MPI)
    except ImportError as e:
        raise RuntimeError(
            f"the 'mpi' backend needs mpi4py and an MPI library, which are not installed ({e}); "
            f"install them with: {INSTALL_HINT}") from e
    return MPI


_TYPES: dict = {}


def datatype(dt: np.dtype):
    """The MPI datatype of a NumPy dtype, or None when MPI has none (float16: reduced as float32)."""
    if not _TYPES:
        MPI = mpi()
        _TYPES.update({np.dtype(k): v for k, v in (
            ("f4", MPI.FLOAT), ("f8", MPI.DOUBLE), ("i1", MPI.INT8_T), ("i2", MPI.INT16_T), ("i4", MPI.INT32_T),
            ("i8", MPI.INT64_T), ("u1", MPI.UINT8_T), ("b1", MPI.C_BOOL))})
    return _TYPES.get(dt if isinstance(dt, np.dtype) else np.dtype(dt))
