"""``chainrule.utils.dlpack``: PyTorch's ``torch.utils.dlpack`` names.

``from_dlpack(obj)`` makes a tensor sharing memory with any DLPack producer (a NumPy array, a
PyTorch tensor, a CuPy array) or capsule; ``to_dlpack(t)`` gives the capsule of a tensor.
"""

from .._dlpack import from_dlpack, to_dlpack

__all__ = ["from_dlpack", "to_dlpack"]
