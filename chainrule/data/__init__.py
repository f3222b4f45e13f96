"""Image data: ``transforms`` and ``datasets`` (torchvision's roles). Loading lives in ``chainrule.utils.data``."""

from . import datasets, transforms

__all__ = ["datasets", "transforms"]
