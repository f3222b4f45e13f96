"""Datasets: indexable collections of samples (map style) or streams of samples (iterable style)."""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any

from ... import backend
from ...backend import Generator
from ...tensor import Tensor


class Dataset:
    """A map-style dataset: subclasses implement ``__getitem__(index)`` and usually ``__len__``.

    A subclass may also implement ``__getitems__(indices)`` returning a list of samples, which
    ``DataLoader`` then uses to fetch a whole batch in one call.
    """

    def __getitem__(self, index: Any) -> Any:  # usually an int; a custom sampler may yield any key
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: Dataset) -> Dataset:  # a ConcatDataset (a ChainDataset for iterable ones)
        return ConcatDataset([self, other])


def _len(dataset: object) -> int:
    """``len(dataset)``: a dataset need not define ``__len__``; then len()'s own TypeError."""
    if not isinstance(dataset, Sized):
        raise TypeError(f"object of type '{type(dataset).__name__}' has no len()")
    return len(dataset)


def _fetch(dataset: Dataset, indices: list[int]) -> list:
    """The samples of ``dataset`` at ``indices``: one ``__getitems__`` call where it has one."""
    fetch_many = getattr(dataset, "__getitems__", None)
    return fetch_many(indices) if callable(fetch_many) else [dataset[i] for i in indices]


class IterableDataset(Dataset):
    """A stream of samples: subclasses implement ``__iter__`` (``DataLoader`` then takes no sampler)."""

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other: Dataset) -> ChainDataset:
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the ``index``-th rows of tensors sharing their first dimension: ``(x[i], y[i], ...)``."""

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        n = tensors[0].size(0)
        if any(t.size(0) != n for t in tensors):
            raise ValueError(
                "Size mismatch between tensors: the first dimensions are "
                + ", ".join(str(t.size(0)) for t in tensors))
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __getitems__(self, indices: list[int]) -> list[tuple]:
        # one gather per tensor instead of one view per sample and tensor
        xp = backend.array_module(self.tensors[0]._data)
        idx = xp.asarray(indices, dtype=xp.int64)
        columns = [t._data[idx] for t in self.tensors]
        return [tuple(Tensor._make(c[i]) for c in columns) for i in range(len(indices))]

    def __len__(self) -> int:
        return self.tensors[0].size(0)


class ConcatDataset(Dataset):
    """The concatenation of several map-style datasets, indexed as one."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes: list[int] = []
        total = 0
        for d in self.datasets:
            total += _len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        offset = idx if which == 0 else idx - self.cumulative_sizes[which - 1]
        return self.datasets[which][offset]


class ChainDataset(IterableDataset):
    """Several iterable datasets, one after the other."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)

    def __iter__(self) -> Iterator:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        return sum(_len(d) for d in self.datasets)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list:
        return _fetch(self.dataset, [self.indices[i] for i in indices])

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Dataset, lengths: Sequence[int | float],
                 generator: Generator | None = backend.default_generator) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing to 1: each subset gets
    ``floor(fraction * n)`` samples and the remainder is dealt one by one, round-robin, from the
    first subset on. The order comes from a permutation drawn from ``generator``.
    """
    n = _len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=2)
        lengths = counts
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = backend.rng(generator).permutation(n).tolist()
    subsets, start = [], 0
    for length in lengths:
        if isinstance(length, float):  # a count that is not a whole number (slicing would fail)
            raise TypeError(f"random_split(): lengths that are not fractions must be integers, got {length!r}")
        subsets.append(Subset(dataset, order[start:start + length]))
        start += length
    return subsets
