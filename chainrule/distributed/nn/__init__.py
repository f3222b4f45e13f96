"""Differentiable collectives (``torch.distributed.nn``)."""

from . import functional

__all__ = ["functional"]
