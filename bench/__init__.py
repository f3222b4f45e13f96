"""Side-by-side benchmarks of chainrule against PyTorch (``python -m bench``; see bench/README.md).

This package must not import NumPy at import time: ``python -m bench`` sets the thread-count
environment variables in ``__main__`` before anything loads OpenBLAS.
"""

import os

# what OpenMP (PyTorch's intra-op pool), OpenBLAS and MKL read their thread counts from at load
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def default_threads() -> int:
    """The cores this process may run on (all of them where affinity is unknown)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
