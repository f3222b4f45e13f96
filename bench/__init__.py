"""Side-by-side benchmarks of chainrule against PyTorch (``python -m bench``; see bench/README.md).

This package must not import NumPy at import time: ``python -m bench`` sets the thread-count
environment variables in ``__main__`` before anything loads OpenBLAS.
"""
