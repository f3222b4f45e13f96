"""``default_collate``: turn a list of samples into one batch; ``default_convert``: arrays to Tensors."""

from __future__ import annotations

import collections.abc
import numbers
from typing import Any

import numpy as np

from ... import backend
from ...tensor import Tensor

_COLLATE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_namedtuple(obj: Any) -> bool:
    return isinstance(obj, tuple) and hasattr(obj, "_fields")


def _stack(arrays: list):
    """Stack equally shaped raw arrays along a new first axis, with PyTorch's message otherwise."""
    first = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != first:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 and "
                f"{list(a.shape)} at entry {i}")
    xp = backend.array_module(arrays[0])  # mixing NumPy and CuPy samples is left to xp.stack to reject
    return xp.stack(arrays, axis=0)


def default_collate(batch: list) -> Any:
    """Collate a list of samples into a batch, recursively, as PyTorch does.

    * Tensors / NumPy arrays -> one Tensor stacked along a new first dimension (dtype kept);
    * Python floats -> float64 Tensor, ints -> int64 Tensor, bools -> bool Tensor,
      NumPy scalars -> Tensor of their dtype;
    * strings and bytes -> left as a list;
    * dicts -> dict of collated values; namedtuples -> namedtuple of collated fields;
    * tuples / lists -> a list (per position) of collated values (samples must have equal lengths).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return Tensor._make(_stack([t._data for t in batch]))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OSUV":
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        return Tensor._make(_stack(list(batch)))
    if isinstance(elem, np.generic):
        if elem.dtype.kind in "OSUV":
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        return Tensor._make(np.array(batch, dtype=elem.dtype))
    if isinstance(elem, bool):
        return Tensor._make(np.array(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return Tensor._make(np.array(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return Tensor._make(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        mapping_type: type = type(elem)  # a Mapping subclass, whose constructor may or may not take a dict
        try:
            return mapping_type(collated)
        except TypeError:  # a mapping type that cannot be built from a dict
            return collated
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = [default_collate(list(samples)) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return transposed
        sequence_type: type = type(elem)  # a Sequence subclass, maybe not buildable from a list
        try:
            return sequence_type(transposed)
        except TypeError:
            return transposed
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def default_convert(data: Any) -> Any:
    """Convert NumPy arrays (also inside dicts, namedtuples and sequences) to Tensors, without batching.

    Used by ``DataLoader`` when ``batch_size=None``.
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "OSUV" else Tensor._make(data)
    if isinstance(data, np.generic):
        return data if data.dtype.kind in "OSUV" else Tensor._make(np.asarray(data))
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(v) for key, v in data.items()}
        mapping_type: type = type(data)
        try:
            return mapping_type(converted)
        except TypeError:
            return converted
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        sequence_type: type = type(data)
        try:
            return sequence_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
