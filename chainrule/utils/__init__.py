"""Utilities with PyTorch's paths (``chainrule.utils.data`` is ``torch.utils.data``)."""

from . import data, dlpack

__all__ = ["data", "dlpack"]
