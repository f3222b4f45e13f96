"""``python -m bench``: pin the thread count, then run the harness.

OpenBLAS (NumPy's BLAS) and OpenMP (PyTorch's intra-op pool) read their thread counts from the
environment when they are loaded, so ``--threads`` is applied here, before ``bench.harness``
imports NumPy. The harness pins the same count again at run time (``torch.set_num_threads`` and
threadpoolctl), which is what takes effect when NumPy was imported earlier, e.g. under pytest.
"""

from __future__ import annotations

import argparse
import os
import sys


def _early_threads(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--threads", type=int, default=None)
    known, _ = parser.parse_known_args(argv)
    if known.threads is not None and known.threads > 0:
        return known.threads
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _pin_env(n: int) -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


if __name__ == "__main__":
    _pin_env(_early_threads(sys.argv[1:]))
    from .harness import main  # noqa: E402  (NumPy is imported only now, with the env set)

    sys.exit(main(sys.argv[1:]))
