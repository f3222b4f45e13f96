"""Utilities with PyTorch's paths (``chainrule.utils.data`` is ``torch.utils.data``)."""

from . import data

__all__ = ["data"]
