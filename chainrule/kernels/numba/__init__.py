"""The compiled CPU backend (numba). Family modules with the reference backend's function names
(``conv``, ``norm``, ``pointwise``, ``pool``, ``optim``, ``fused``) import no numba: they decide
whether to run (or decline) and import their loops (``conv_loops``, ``norm_loops``,
``pointwise_loops``, ``pool_loops``, ``optim_loops``; ``fused`` generates its kernels per
program with ``fused_codegen``, ``fused_ir`` and ``fused_loader``) on first use. ``preload``
loads numba's CPU target ahead of a command's first timed step. ``blas`` calls NumPy's own BLAS from compiled code
(``blas_symbols`` finds it), ``_compile`` holds the decorator that compiles each loop once per
machine (an on-disk cache, ``_jit.cache_dir()``) and ``tuning`` the backend's thresholds.

Importing a loop module imports numba (about 0.3 s and 55 MiB): only when a compiled kernel is
about to run.
"""

from .. import _jit


def preload() -> bool:
    """Import numba and load its CPU target now (its registries import NumPy support modules and,
    where SciPy is installed, ``scipy.linalg``: most of numba's start-up), so that the first kernel
    call pays only for loading its own compiled code from the cache. For a command that knows it
    will run the kernels (training) and would rather pay this before its first timed step. Returns
    whether the kernels are on (False with ``CHAINRULE_JIT=0`` or without numba: nothing is loaded)."""
    if not _jit.ENABLED or _jit.numba_module() is None:
        return False
    from numba.core.registry import cpu_target  # numba's own module: imported only when preloading

    cpu_target.target_context.refresh()
    return True
