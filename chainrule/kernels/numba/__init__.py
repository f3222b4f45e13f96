"""The compiled CPU backend (numba). Family modules with the reference backend's function names
(``conv``, ``norm``, ``pointwise``, ``pool``) import no numba: they decide whether to run (or
decline) and import their loops (``conv_loops``, ``norm_loops``, ``pointwise_loops``,
``pool_loops``) on first use. ``blas`` calls NumPy's own BLAS from compiled code
(``blas_symbols`` finds it), ``_compile`` holds the decorator that compiles each loop once per
machine (an on-disk cache, ``_jit.cache_dir()``) and ``tuning`` the backend's thresholds.

Importing a loop module imports numba (about 0.3 s and 55 MiB): only when a compiled kernel is
about to run.
"""
