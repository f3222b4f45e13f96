"""``chainrule.linalg``: PyTorch's ``torch.linalg`` on NumPy's LAPACK, batched over leading
dimensions, float32/float64, every function differentiable (twice) where PyTorch's is.

The operators live in ``chainrule/ops/linalg_decomp.py`` (decompositions and solvers, with their
gradient formulas), ``chainrule/ops/linalg_lu.py`` (LU) and ``chainrule/ops/linalg_composite.py``
(norms, pinv, lstsq, ...); this module is the public namespace. Failures on singular or non-positive-definite input raise
``LinAlgError``, a RuntimeError as ``torch.linalg.LinAlgError``.
"""

from __future__ import annotations

from .ops.linalg import matmul
from .ops.linalg_composite import (
    cond,
    diagonal,
    lstsq,
    matrix_norm,
    matrix_power,
    matrix_rank,
    multi_dot,
    norm,
    pinv,
    solve_ex,
    tensorinv,
    tensorsolve,
    vander,
    vecdot,
    vector_norm,
)
from .ops.linalg_composite import linalg_cross as cross
from .ops.linalg_decomp import (
    LinAlgError,
    cholesky,
    cholesky_ex,
    det,
    eigh,
    eigvalsh,
    inv,
    inv_ex,
    matrix_exp,
    qr,
    slogdet,
    solve,
    solve_triangular,
    svd,
    svdvals,
)
from .ops.linalg_lu import lu, lu_factor, lu_factor_ex, lu_solve

__all__ = [
    "LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "inv_ex",
    "lstsq", "lu", "lu_factor", "lu_factor_ex", "lu_solve", "matmul", "matrix_exp", "matrix_norm", "matrix_power",
    "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "solve_ex", "solve_triangular", "svd",
    "svdvals", "tensorinv", "tensorsolve", "vander", "vecdot", "vector_norm",
]
