"""``chainrule.backends.cuda``: whether chainrule was built with CUDA, and PyTorch's matmul flags."""

from __future__ import annotations

from .. import backend


def is_built() -> bool:
    """Whether a CUDA array backend is part of this chainrule (not yet: it needs the CuPy backend)."""
    return "cuda" in backend._accelerators


class _MatmulFlags:
    """``backends.cuda.matmul.allow_tf32`` and friends: recorded, with PyTorch's defaults."""

    def __init__(self) -> None:
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


matmul = _MatmulFlags()
