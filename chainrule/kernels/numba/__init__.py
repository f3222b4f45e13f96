"""The compiled CPU loops (numba), one module per family: ``conv``, ``norm``, ``pool``,
``pointwise``; ``blas`` calls NumPy's own BLAS from compiled code and ``_compile`` holds the
decorator that compiles each loop once per machine (an on-disk cache, ``_jit.cache_dir()``).

Importing any of these modules imports numba (about 0.3 s and 55 MiB): the operators import
them only when a compiled kernel is about to run.
"""
