"""DataLoader worker processes: the worker loop, and the parent's iterator that feeds and reads them.

PyTorch's scheme: the parent draws batches of indices from the batch sampler and sends each, as
a numbered task, to the next worker in round-robin order (at most ``prefetch_factor`` tasks per
worker outstanding); a worker fetches the samples, collates them and sends the batch back; the
parent hands the batches out in task order. Iterable datasets are copied into each worker, which
reads its own copy (``get_worker_info()`` lets ``__iter__`` take its shard); a worker whose copy
is exhausted is dropped from the round-robin.

What crosses a process boundary (the dataset and functions under a 'spawn'/'forkserver' start,
and every batch coming back) goes through ``_dumps``: a pickle stream in which a chainrule Tensor
travels as its NumPy array and is rebuilt on the other side. Tensors themselves still refuse
``pickle`` (``Tensor.__reduce_ex__``), so nothing outside the loader's own pipes can turn them
into pickles, and a worker never has to trust or rebuild anything but arrays and the user's own
objects. A batch that cannot be sent back, and any exception in a worker, reach the parent as an
error naming the worker and carrying the original traceback.
"""

from __future__ import annotations

import io
import itertools
import os
import pickle
import random
import sys
import time
import traceback
from typing import Any

import numpy as np

from ... import backend
from ...tensor import Tensor
from . import _worker_info
from ._worker_info import WorkerInfo
from .dataset import _fetch

_STATUS_INTERVAL = 5.0  # seconds between checks that the other side is still alive


# ---- transport ----------------------------------------------------------------------------------


def _rebuild_tensor(array: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad = True
    return t


class _Pickler(pickle.Pickler):
    """Pickles as ``multiprocessing`` would, except that a Tensor is sent as its array."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, Tensor):
            return _rebuild_tensor, (obj._data, obj.requires_grad)
        return NotImplemented


def _dumps(obj: Any) -> bytes:
    buf = io.BytesIO()
    _Pickler(buf, pickle.HIGHEST_PROTOCOL).dump(obj)
    return buf.getvalue()


class _KeyErrorMessage(str):
    """A KeyError's text shown as written (a KeyError otherwise prints the repr of its message)."""

    def __repr__(self) -> str:
        return self


class _ExceptionWrapper:
    """An exception raised in a worker, re-raised in the parent with the worker's traceback."""

    def __init__(self, exc_info: tuple, where: str) -> None:
        # an exception class that cannot be sent by reference (defined in a function) becomes RuntimeError
        self.exc_type = exc_info[0] if _picklable_type(exc_info[0]) else RuntimeError
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self) -> None:
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exc = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exc


class _IterableDatasetStopIteration:
    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


class _ResumeIteration:
    """Sent to persistent workers at the start of a new epoch; echoed back when they have reset."""


# ---- in the worker: the loop ------------------------------------------------------------------


def _seed_worker(seed: int, base_seed: int, worker_id: int) -> None:
    """Seed chainrule's, Python's and NumPy's global generators, as PyTorch's workers are."""
    random.seed(seed)
    backend.manual_seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed & 0xFFFFFFFFFFFFFFFF]).generate_state(4))


class _Fetcher:
    def __init__(self, dataset: Any, is_iterable: bool, auto_collation: bool, collate_fn: Any,
                 batch_size: int | None, drop_last: bool) -> None:
        self.dataset, self.is_iterable, self.auto_collation = dataset, is_iterable, auto_collation
        self.collate_fn, self.batch_size, self.drop_last = collate_fn, batch_size, drop_last
        self.iterator = iter(dataset) if is_iterable else None

    def fetch(self, index: Any) -> Any:
        if not self.is_iterable:
            return self.collate_fn(_fetch(self.dataset, index) if self.auto_collation else self.dataset[index])
        iterator, batch_size = self.iterator, self.batch_size
        assert iterator is not None  # an iterable dataset's fetcher holds its iterator
        if not self.auto_collation:
            return self.collate_fn(next(iterator))
        assert batch_size is not None  # auto-collation of an iterable dataset batches batch_size samples
        batch = list(itertools.islice(iterator, batch_size))
        if not batch or (self.drop_last and len(batch) < batch_size):
            raise StopIteration
        return self.collate_fn(batch)


def _worker_loop(spec: Any, index_queue: Any, result_queue: Any, done_event: Any, worker_id: int,
                 num_workers: int, base_seed: int) -> None:
    import queue

    parent = os.getppid()
    try:
        backend.set_num_threads(1)  # as PyTorch: the workers share the cores, one thread each
        if isinstance(spec, bytes):  # sent by a 'spawn'/'forkserver' start; a fork inherits it
            spec = pickle.loads(spec)
        dataset, is_iterable, auto_collation, collate_fn, batch_size, drop_last, worker_init_fn = spec
        seed = base_seed + worker_id
        _seed_worker(seed, base_seed, worker_id)
        _worker_info.current = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        init_error: _ExceptionWrapper | None = None
        if worker_init_fn is not None:
            worker_init_fn(worker_id)
        fetcher: _Fetcher | None = _Fetcher(dataset, is_iterable, auto_collation, collate_fn, batch_size, drop_last)
    except Exception:
        init_error = _ExceptionWrapper(sys.exc_info(), f"in DataLoader worker process {worker_id}")
        fetcher = None

    exhausted = False
    while True:
        try:
            task = index_queue.get(timeout=_STATUS_INTERVAL)
        except queue.Empty:
            if os.getppid() != parent:  # the parent died: nobody will read our results
                break
            continue
        if task is None:  # the parent's signal to stop
            break
        if isinstance(task, _ResumeIteration):
            result_queue.put((task, None))
            exhausted = False
            if fetcher is not None and fetcher.is_iterable:
                fetcher.iterator = iter(fetcher.dataset)
            continue
        if done_event.is_set() or exhausted:
            continue
        idx, index = task
        data: Any  # a batch, or what the parent re-raises
        if fetcher is None:  # the setup failed: its error is the answer (the parent then stops the workers)
            data = init_error
        else:
            try:
                data = fetcher.fetch(index)
            except StopIteration:
                if not fetcher.is_iterable:
                    data = _ExceptionWrapper(sys.exc_info(), f"in DataLoader worker process {worker_id}")
                else:
                    data, exhausted = _IterableDatasetStopIteration(worker_id), True
            except Exception:
                data = _ExceptionWrapper(sys.exc_info(), f"in DataLoader worker process {worker_id}")
        try:
            payload = _dumps(data)
        except Exception as exc:
            err = RuntimeError(f"the batch cannot be sent to the main process: {type(exc).__name__}: {exc}")
            payload = _dumps(_ExceptionWrapper((RuntimeError, err, exc.__traceback__),
                                               f"in DataLoader worker process {worker_id}"))
        result_queue.put((idx, payload))
        del data
    if done_event.is_set():
        result_queue.cancel_join_thread()  # the parent stopped reading: do not block on exit


def _picklable_type(t: type) -> bool:
    try:
        pickle.dumps(t)
    except Exception:
        return False
    return True


# ---- in the parent ------------------------------------------------------------------------------


def _context(spec: Any) -> Any:
    import multiprocessing as mp  # here, not at the top: ``import chainrule`` does not pay for it

    if spec is None:  # PyTorch uses the platform's default: 'fork' on Linux, which needs no pickling
        return mp.get_context("fork" if sys.platform.startswith("linux") else None)
    return mp.get_context(spec) if isinstance(spec, str) else spec


class _MultiProcessingIter:
    """One epoch (or, with ``persistent_workers``, every epoch) of a DataLoader with workers."""

    def __init__(self, loader: Any, base_seed: int) -> None:
        self._loader = loader
        self._num_workers = loader.num_workers
        self._prefetch = loader.prefetch_factor if loader.prefetch_factor is not None else 2
        self._timeout = loader.timeout
        self._persistent = loader.persistent_workers
        self._is_iterable = loader._is_iterable
        self._shutdown = True
        ctx = _context(loader.multiprocessing_context)
        spec: Any = (loader.dataset, loader._is_iterable, loader._auto_collation, loader.collate_fn,
                     loader.batch_size, loader.drop_last, loader.worker_init_fn)
        if ctx.get_start_method() != "fork":
            try:
                spec = _dumps(spec)
            except Exception as exc:
                raise RuntimeError(
                    f"DataLoader cannot send the dataset {type(loader.dataset).__name__} (with its collate_fn and "
                    f"worker_init_fn) to worker processes started with '{ctx.get_start_method()}': {exc}. Make "
                    "them picklable (module-level functions and classes, no lambdas or open handles), use "
                    "multiprocessing_context='fork', or num_workers=0.") from exc
        self._result_queue = ctx.Queue()
        self._done_event = ctx.Event()
        self._index_queues, self._workers = [], []
        self._shutdown = False
        for i in range(self._num_workers):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()
            w = ctx.Process(target=_worker_loop, daemon=True, args=(
                spec, index_queue, self._result_queue, self._done_event, i, self._num_workers, base_seed))
            w.start()
            self._index_queues.append(index_queue)
            self._workers.append(w)
        self._reset(first=True)

    def _reset(self, first: bool = False) -> None:
        self._sampler_iter = itertools.repeat(None) if self._is_iterable else iter(self._loader._index_sampler)
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_info: dict[int, tuple] = {}
        self._workers_status = [True] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        if not first:
            for q in self._index_queues:
                q.put(_ResumeIteration())
            pending = self._num_workers
            while pending:  # drop what the last, unfinished epoch still had in flight
                idx, _ = self._get()
                if isinstance(idx, _ResumeIteration):
                    pending -= 1
        for _ in range(self._prefetch * self._num_workers):
            self._put_index()

    def __iter__(self) -> _MultiProcessingIter:
        return self

    def __len__(self) -> int:
        return len(self._loader)

    def _put_index(self) -> None:
        for _ in range(self._num_workers):
            w = next(self._worker_cycle)
            if self._workers_status[w]:
                break
        else:
            return  # every worker's copy of an iterable dataset is exhausted
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        self._index_queues[w].put((self._send_idx, index))
        self._task_info[self._send_idx] = (w,)
        self._send_idx += 1

    def _get(self) -> tuple:
        """The next (task index, batch) from any worker; raises if a worker died or time ran out."""
        import queue

        start = time.monotonic()
        while True:
            wait = _STATUS_INTERVAL if self._timeout <= 0 else min(_STATUS_INTERVAL, self._timeout)
            try:
                idx, payload = self._result_queue.get(timeout=wait)
            except queue.Empty:
                dead = [w for w in self._workers if not w.is_alive()]
                if dead:
                    pids = ", ".join(str(w.pid) for w in dead)
                    codes = ", ".join(str(w.exitcode) for w in dead)
                    self._shutdown_workers()
                    raise RuntimeError(
                        f"DataLoader worker (pid(s) {pids}) exited unexpectedly (exit code(s) {codes})") from None
                if self._timeout > 0 and time.monotonic() - start >= self._timeout:
                    self._shutdown_workers()
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds") from None
                continue
            return idx, (None if payload is None else pickle.loads(payload))

    def __next__(self) -> Any:
        while True:
            while self._rcvd_idx < self._send_idx:
                info = self._task_info[self._rcvd_idx]
                if len(info) == 2 or self._workers_status[info[0]]:
                    break
                del self._task_info[self._rcvd_idx]  # sent to a worker that ran out of data
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            info = self._task_info[self._rcvd_idx]
            if len(info) == 2:
                del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._process(info[1])
            idx, data = self._get()
            if isinstance(data, _IterableDatasetStopIteration):
                self._workers_status[data.worker_id] = False
                self._put_index()
                continue
            if idx != self._rcvd_idx:
                self._task_info[idx] += (data,)  # early: kept until its turn
                continue
            del self._task_info[idx]
            self._rcvd_idx += 1
            return self._process(data)

    def _process(self, data: Any) -> Any:
        self._put_index()
        if isinstance(data, _ExceptionWrapper):
            self._shutdown_workers()
            data.reraise()
        return data

    def _shutdown_workers(self) -> None:
        if self._shutdown:
            return
        self._shutdown = True
        self._done_event.set()
        for q in self._index_queues:
            q.put(None)
        for w in self._workers:
            w.join(timeout=_STATUS_INTERVAL)
            if w.is_alive():
                w.terminate()
                w.join()
        for q in self._index_queues:
            q.close()
        self._result_queue.cancel_join_thread()
        self._result_queue.close()

    def __del__(self) -> None:
        self._shutdown_workers()
