"""Starting K ranks on this machine with the ``mpiexec`` of the MPICH wheel (tests, docs, bench).

``pip install mpich`` puts Hydra's ``mpiexec`` next to the Python interpreter. On one machine it
needs no hostfile: ``-launcher fork`` starts the ranks as child processes (no ssh), and MPICH
talks through shared memory. ``mpiexec_argv`` is the one place that spells this out::

    subprocess.run(mpiexec_argv(2, ["-m", "chainrule", "train", ...]), env=loopback_env(), timeout=120)

Launcher detection (``launched_by_mpi``) reads the variables MPICH's Hydra, Open MPI, MVAPICH
and Slurm's PMI set in every rank, without initialising MPI.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE", "PMIX_SIZE")


def mpiexec_path() -> str | None:
    """The ``mpiexec`` beside this interpreter (the MPICH wheel's), else the first on PATH, else None."""
    here = Path(sys.executable).parent / "mpiexec"
    if here.exists():
        return str(here)
    return shutil.which("mpiexec")


def mpiexec_argv(n: int, args: list[str], python: str | None = None) -> list[str]:
    """``mpiexec -n n -launcher fork python args...``: K ranks of a Python program on this machine."""
    exe = mpiexec_path()
    if exe is None:
        raise RuntimeError("mpiexec was not found; install MPI with: pip install chainrule[distributed]")
    return [exe, "-n", str(int(n)), "-launcher", "fork", python or sys.executable, *args]


def loopback_env(base: dict | None = None, threads: int = 1, jit: bool | None = None) -> dict:
    """The environment for ranks on one machine: ``threads`` BLAS/OpenMP threads per rank.

    ``jit=False`` sets ``CHAINRULE_JIT=0`` (no numba compile per rank: short test scripts).
    """
    env = dict(os.environ if base is None else base)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    if jit is not None:
        env["CHAINRULE_JIT"] = "1" if jit else "0"
    return env


def launched_by_mpi() -> bool:
    """True when this process was started by an MPI launcher with more than one rank."""
    for var in _SIZE_VARS:
        value = os.environ.get(var)
        if value is not None and value.isdigit() and int(value) > 1:
            return True
    return False
