"""The declarative operator table: one ``OpCase`` row per operator variant.

Rows live in ``cases_<family>.py`` modules; ``tests/ops/test_ops.py`` runs every row through the
same checks (forward against PyTorch in float32 and float64, non-contiguous inputs, inputs left
unmodified, gradients against PyTorch, gradcheck and gradgradcheck in float64).
"""

from .core import OpCase, all_cases

__all__ = ["OpCase", "all_cases"]
