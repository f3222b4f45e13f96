"""Launching the scripts of tests/distributed/scripts under ``mpiexec -n K`` (loopback, with a timeout)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chainrule.distributed.launch import loopback_env, mpiexec_argv, mpiexec_path

SCRIPTS = Path(__file__).parent / "scripts"


def require_mpi() -> None:
    """Skip (with the reason) where MPI cannot be launched."""
    if importlib.util.find_spec("mpi4py") is None:
        pytest.skip("mpi4py is not installed (pip install chainrule[distributed])")
    if mpiexec_path() is None:
        pytest.skip("mpiexec is not installed (pip install chainrule[distributed] brings MPICH's)")


def run(n: int, args: list[str], timeout: float = 60, cwd: str | None = None) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``mpiexec -n n python args...``; returns the finished process (stdout+stderr text) and seconds taken."""
    require_mpi()
    if args and args[0].endswith(".py") and not Path(args[0]).is_absolute():
        args = [str(SCRIPTS / args[0]), *args[1:]]
    start = time.perf_counter()
    proc = subprocess.run(mpiexec_argv(n, args, sys.executable), env=loopback_env(jit=False), cwd=cwd,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return proc, time.perf_counter() - start


def checks(output: str) -> dict[str, str]:
    """``CHECK name ... ok|MISMATCH`` lines of a script's output, by name."""
    found = {}
    for line in output.splitlines():
        if line.startswith("CHECK "):
            parts = line.split()
            found[parts[1]] = line
    return found
