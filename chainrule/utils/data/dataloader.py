"""``DataLoader``: batches of samples from a dataset, in sampler order, collated into Tensors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sized
from typing import Any, cast

from ... import backend
from ...backend import Generator
from ._collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset, _fetch, _len
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, _batched, _num_batches

_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


class DataLoader:
    """Iterate over ``dataset`` in batches, as ``torch.utils.data.DataLoader``.

    Map-style datasets are read in the order of ``sampler`` (``SequentialSampler``, or
    ``RandomSampler(dataset, generator=generator)`` when ``shuffle``), grouped ``batch_size`` at a
    time by a ``BatchSampler`` (or by ``batch_sampler``), and each list of samples is merged by
    ``collate_fn`` (``default_collate``: Tensors stacked along a new first dimension). With
    ``batch_size=None`` samples come one by one, converted by ``default_convert``. Iterable datasets
    are read in their own order and batched as they come.

    A seeded ``generator`` makes shuffling reproducible: the same seed gives the same sequence of
    epochs, and each epoch draws a new order from it.

    ``num_workers > 0`` loads in that many worker processes, as PyTorch does: each batch of
    indices goes to the next worker in turn (up to ``prefetch_factor`` batches per worker in
    flight, 2 by default), the worker reads and collates it, and batches come back in sampler order.
    Each epoch draws a base seed from ``generator`` (or the global generator); worker ``i`` seeds
    chainrule's, NumPy's and Python's global generators from ``base_seed + i`` and runs
    ``worker_init_fn(i)``, so a seeded run gives the same batches and augmentations every time, and
    with a deterministic dataset the same batches as ``num_workers=0``. Inside a worker
    ``get_worker_info()`` gives its id, the worker count, its seed and its copy of the dataset (an
    ``IterableDataset`` uses it to read its own shard; without that every worker yields it all).
    ``persistent_workers`` keeps the workers between epochs; ``timeout`` bounds the wait for a
    batch; ``multiprocessing_context`` picks the start method ('fork' on Linux by default, which
    sends nothing; under 'spawn' the dataset, collate_fn and worker_init_fn must be picklable, and
    a clear error names the dataset when they are not). An exception in a worker is raised again
    here, naming the worker and carrying its traceback. Workers pay off when reading a sample is
    slow (files, decoding, augmentation); for in-memory tensors ``num_workers=0`` is faster.
    ``pin_memory``, ``pin_memory_device`` and ``in_order`` are accepted and have no effect (batches
    always come in order; there is no GPU memory to pin).
    """

    def __init__(self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable | None = None, batch_sampler: Sampler | Iterable | None = None,
                 num_workers: int = 0, collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Callable | None = None,
                 multiprocessing_context: Any = None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None:
            import multiprocessing as mp

            if num_workers == 0:
                raise ValueError("multiprocessing_context can only be used with multi-process loading "
                                 f"(num_workers > 0), but got num_workers={num_workers}")
            if isinstance(multiprocessing_context, str):
                methods = mp.get_all_start_methods()
                if multiprocessing_context not in methods:
                    raise ValueError("multiprocessing_context option should specify a valid start method in "
                                     f"{methods!r}, but got multiprocessing_context={multiprocessing_context!r}")
            elif not isinstance(multiprocessing_context, mp.context.BaseContext):
                raise TypeError("multiprocessing_context option should be a valid context object or a string "
                                f"specifying the start method, but got multiprocessing_context={multiprocessing_context}")
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError(f"worker_init_fn should be callable, got {type(worker_init_fn).__name__}")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self._is_iterable = isinstance(dataset, IterableDataset)

        if self._is_iterable:
            if shuffle not in (None, False):
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler option, but got "
                                 f"batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with drop_last")

        if not self._is_iterable:
            if sampler is None:
                # the samplers take len(dataset) when iterated (a TypeError then if it has none, as PyTorch)
                sized = cast(Sized, dataset)
                sampler = RandomSampler(sized, generator=generator) if shuffle else SequentialSampler(sized)
            if batch_size is not None and batch_sampler is None:
                batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._iterator: Any = None  # the workers' iterator, kept with persistent_workers
        self._initialized = True

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get("_initialized", False) and name in _FROZEN:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or (self._is_iterable and self.batch_size is not None)

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self) -> Iterator:
        if self.num_workers > 0 and self.persistent_workers and self._iterator is not None:
            self._iterator._reset()  # the same workers start the next epoch
            return self._iterator
        # the workers' base seed, drawn once per epoch as PyTorch does with any num_workers, so that
        # a seeded run shuffles alike with and without workers
        base_seed = int(backend.rng(self.generator).integers(0, 2**63 - 1))
        if self.num_workers > 0:
            from ._worker import _MultiProcessingIter  # loaded with the first loader that has workers

            it = _MultiProcessingIter(self, base_seed)
            if self.persistent_workers:
                self._iterator = it
            return it
        if self._is_iterable:
            return self._iter_iterable()
        return self._iter_map()

    def _iter_map(self) -> Iterator:
        dataset, collate = self.dataset, self.collate_fn
        if not self._auto_collation:
            assert self.sampler is not None  # a map-style loader always has one (__init__)
            for index in self.sampler:
                yield collate(dataset[index])
            return
        assert self.batch_sampler is not None  # _auto_collation says so
        for indices in self.batch_sampler:
            yield collate(_fetch(dataset, indices))

    def _iter_iterable(self) -> Iterator:
        collate, dataset = self.collate_fn, self.dataset
        assert isinstance(dataset, IterableDataset)  # _is_iterable
        if self.batch_size is None:
            for sample in dataset:
                yield collate(sample)
            return
        for batch in _batched(dataset, self.batch_size, self.drop_last):
            yield collate(batch)

    def __len__(self) -> int:
        if self._is_iterable:
            n = _len(self.dataset)
            return n if self.batch_size is None else _num_batches(n, self.batch_size, self.drop_last)
        return len(self._index_sampler)
