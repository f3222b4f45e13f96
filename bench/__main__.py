"""``python -m bench``: pin the thread count, then run the harness.

OpenBLAS (NumPy's BLAS) and OpenMP (PyTorch's intra-op pool) read their thread counts from the
environment when they are loaded, so ``--threads`` is applied here, before ``bench.harness``
imports NumPy. The harness pins the same count again at run time (``torch.set_num_threads`` and
threadpoolctl), which is what takes effect when NumPy was imported earlier, e.g. under pytest.

Both frameworks share glibc's allocator in this one process. Its adaptive mmap threshold lets
one framework's frees change the other's page-fault count (measured: PyTorch's ResNet step went
from ~1,300 to ~10,500 faults when chainrule's convolution switched to small chunks), so the
harness fixes the policy for the whole run: unless already set (or ``--keep-malloc`` is given),
it re-executes itself with ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` pinned, which
glibc reads only at process start.

``--record`` also keeps the run as bench/results/<date>-<commit>.json (bench/record.py); the table
in bench/README.md is rendered from the newest such record by ``python -m bench.report``.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import THREAD_VARS, default_threads


def _early_threads(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--threads", type=int, default=None)
    known, _ = parser.parse_known_args(argv)
    if known.threads is not None and known.threads > 0:
        return known.threads
    return default_threads()


def _pin_env(n: int) -> None:
    os.environ.update(dict.fromkeys(THREAD_VARS, str(n)))


_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 32)}


def _pin_malloc(argv: list[str], module: str = "bench") -> None:
    if "--keep-malloc" in argv or all(os.environ.get(k) == v for k, v in _MALLOC.items()):
        return
    os.environ.update(_MALLOC)
    os.execv(sys.executable, [sys.executable, "-m", module, *argv])


if __name__ == "__main__":
    _pin_malloc(sys.argv[1:])
    _pin_env(_early_threads(sys.argv[1:]))
    from .harness import main  # noqa: E402  (NumPy is imported only now, with the env set)

    sys.exit(main(sys.argv[1:]))
