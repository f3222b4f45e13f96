"""DLPack import: any producer (a NumPy array, a PyTorch/CuPy/JAX array, a capsule) as a Tensor.

The exporting side is ``Tensor.__dlpack__``. Both share memory: a write through one is seen
through the other. The array module that consumes the capsule is chosen by the producer's
``__dlpack_device__`` (CPU -> NumPy, CUDA -> CuPy), the one place a device is read from DLPack.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import backend
from .tensor import Tensor

_CPU_DEVICES = (1, 3)  # kDLCPU, kDLCUDAHost (pinned host memory is plain memory to NumPy)
_CUDA_DEVICES = (2, 10)  # kDLCUDA, kDLROCM


class _Capsule:
    """A bare DLPack capsule (``torch.utils.dlpack.to_dlpack``) dressed as a producer."""

    def __init__(self, capsule: Any):
        self._capsule = capsule

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self._capsule

    def __dlpack_device__(self) -> tuple[int, int]:
        return (1, 0)


def is_dlpack_producer(obj: Any) -> bool:
    return hasattr(obj, "__dlpack__") and hasattr(obj, "__dlpack_device__")


def array_from_dlpack(obj: Any) -> Any:
    """The raw array (NumPy or CuPy) viewing the memory of the DLPack producer ``obj``."""
    if type(obj).__name__ == "PyCapsule":
        obj = _Capsule(obj)
    if not is_dlpack_producer(obj):
        raise TypeError(
            f"from_dlpack: expected an object with __dlpack__ and __dlpack_device__ (a tensor or "
            f"array of a DLPack-aware library) or a DLPack capsule, but got {type(obj).__name__}")
    kind, _ = obj.__dlpack_device__()
    if int(kind) in _CUDA_DEVICES:
        cp = backend._cupy()
        if cp is None:
            raise RuntimeError("from_dlpack: the tensor lives on a CUDA device and CuPy is not installed")
        return cp.from_dlpack(obj)
    if int(kind) not in _CPU_DEVICES:
        raise RuntimeError(f"from_dlpack: unsupported DLPack device type {int(kind)} (CPU and CUDA are supported)")
    try:
        arr = np.from_dlpack(obj)
    except BufferError:
        if not hasattr(obj, "detach"):
            raise
        arr = np.from_dlpack(obj.detach())  # a torch tensor that requires grad: its values
    except (RuntimeError, TypeError) as e:
        # e.g. a bfloat16 torch tensor: NumPy has no such dtype
        raise TypeError(
            f"from_dlpack: cannot import a {type(obj).__name__} of dtype {getattr(obj, 'dtype', '?')} "
            f"({e}); convert it to a float32/float16/integer dtype first") from e
    backend.from_numpy_dtype(arr.dtype)  # rejects dtypes chainrule has no name for
    return arr


def from_dlpack(ext_tensor: Any) -> Tensor:
    """A tensor sharing memory with ``ext_tensor`` (any DLPack producer, or a DLPack capsule).

    A bare capsule (DLPack 0.x) cannot say its memory is writable, so NumPy, and with it the
    tensor, sees it read-only; producers passed directly negotiate DLPack 1.x and stay writable.

    ``chainrule.from_dlpack(torch_tensor)`` and ``torch.from_dlpack(chainrule_tensor)`` are both
    zero-copy; so are NumPy's ``np.from_dlpack`` and CuPy's on a GPU.
    """
    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    return Tensor._make(array_from_dlpack(ext_tensor))


def to_dlpack(tensor: Tensor) -> Any:
    """A DLPack capsule of ``tensor`` (PyTorch's legacy ``torch.utils.dlpack.to_dlpack``)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dlpack: expected a Tensor, but got {type(tensor).__name__}")
    return tensor.__dlpack__()
