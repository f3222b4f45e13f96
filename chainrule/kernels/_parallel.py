"""Running chainrule's own loops over the batch on several CPU cores.

NumPy runs one core per call, except for BLAS's large matrix products; PyTorch parallelises its
kernels over its intra-op thread pool. ``parallel_for`` is ours: it splits ``range(count)`` into
one contiguous part per thread, runs the parts at once (the calling thread takes the last one)
and returns their results in order. NumPy releases the GIL inside its array loops, copies,
reductions and BLAS calls, so parts whose work is in those calls run truly in parallel; the
Python between them takes turns.

Inside a region BLAS is held to one thread (each part's matrix products run on its own core,
instead of two BLAS pools fighting over two cores) and restored afterwards; ``single_blas`` does
the same for kernels that stay serial, since a product that OpenBLAS splits leaves its worker
spinning for a while on the core the next region needs (measured: a ResNet step 155-163 ms
without it, 112-130 with it). A part that calls ``parallel_for`` again (nested), and any call
while the thread count is 1 or for a non-NumPy array module, runs serially in the caller. Each
part writes its own slice of the output; sums over parts are added in part order, so results
match the serial ones to rounding and do not vary from run to run.

Used by the convolutions (``kernels/numpy/conv.py``, ``kernels/numba/conv.py``: parts of the batch),
batch norm and ReLU (``kernels/numba/norm.py``, ``kernels/numba/pointwise.py``: channels, slices) and 2-D
matrix products (``kernels/numpy/matmul.py``: rows or columns). On the 2-vCPU machines of
``bench/README.md`` a region's hand-off to the worker and back costs tens of microseconds
(waking a blocked thread on the other vCPU, then handing the GIL over), and the NumPy kernels
gain less than the compiled ones, which release the GIL for a whole part.

The workers are plain threads, each handed its part through two locks (``_Worker``): no queue,
future or condition per part. A region started while another thread's region has the workers
runs its parts serially in its own thread, with the same split, so with the same results.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading

from ..backend import get_num_threads
from . import _blas_threads

# below this much work (bytes touched) a region runs serially: a hand-off to a worker costs
# tens of microseconds
MIN_PARALLEL_BYTES = 1 << 18

_state = threading.local()
_lock = threading.Lock()
_workers: list[_Worker] = []  # the pool's threads, started on first use, never stopped
_busy = threading.Lock()  # held by the region that has the workers (a concurrent one runs serially)
_active = 0  # regions running now, in all threads (BLAS is restored when the last one ends)
_blas_saved: list = []


def threads_for(xp, nbytes: int) -> int:
    """How many threads a region of about ``nbytes`` of work on ``xp`` arrays should use."""
    n = get_num_threads()
    if n <= 1 or nbytes < MIN_PARALLEL_BYTES or getattr(_state, "inside", False):
        return 1
    if getattr(xp, "__name__", "") != "numpy" or not _blas_controllers():
        return 1
    return n


def split(count: int, parts: int) -> list:
    """``range(count)`` cut into ``parts`` contiguous (start, stop) pieces of near-equal size;
    the larger ones last (the calling thread runs the last piece and starts first)."""
    parts = max(1, min(parts, count))
    q, r = divmod(count, parts)
    out, start = [], 0
    for i in range(parts):
        stop = start + q + (1 if i >= parts - r else 0)
        out.append((start, stop))
        start = stop
    return out


def parallel_for(body, count: int, threads: int) -> list:
    """``[body(start, stop) for each part]`` with the parts of ``range(count)`` run at once on
    ``threads`` threads (see ``threads_for``); in order, serially, when ``threads`` is 1. A region
    started while another thread's region has the workers runs its parts serially in the caller
    (the same parts, so the same results)."""
    pieces = split(count, threads)
    if len(pieces) == 1:
        return [body(*pieces[0])]
    if not _busy.acquire(blocking=False):
        return [_run_part(body, a, b) for a, b in pieces]
    try:
        workers = _get_workers(len(pieces) - 1)
        _enter()
        try:
            for worker, (a, b) in zip(workers, pieces[:-1]):
                worker.start(body, a, b)
            try:
                last = _run_part(body, *pieces[-1])
            finally:  # every part has finished before anything is raised: none still writes
                outcomes = [worker.finish() for worker in workers]
            for ok, value in outcomes:
                if not ok:
                    raise value
            return [value for _, value in outcomes] + [last]
        finally:
            _leave()
    finally:
        _busy.release()


def parallel_sum(body, count: int, threads: int):
    """The sum of ``parallel_for(body, count, threads)``'s array results, added in part order
    into the first part's array (which each part makes fresh), so it repeats from run to run."""
    parts = parallel_for(body, count, threads)
    total = parts[0]
    for other in parts[1:]:
        total += other
    return total


@contextlib.contextmanager
def single_blas():
    """Hold BLAS to one thread inside the block (as in a parallel region), then restore it.

    For kernels whose matrix products are too small to gain from BLAS threads: a product that
    OpenBLAS does split leaves its worker threads spinning for a while after it returns, on the
    cores where the next parallel region wants to run.
    """
    if get_num_threads() <= 1 or not _blas_controllers():
        yield
        return
    _enter()
    try:
        yield
    finally:
        _leave()


def blas_single_threaded(fn):
    """Decorator: run ``fn`` inside ``single_blas()``."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with single_blas():
            return fn(*args, **kwargs)
    return wrapper


def _run_part(body, start: int, stop: int):
    previous = getattr(_state, "inside", False)
    _state.inside = True
    try:
        return body(start, stop)
    finally:
        _state.inside = previous


class _Worker:
    """One thread of the pool, handed one part at a time through two locks (``_go``: the part
    is ready; ``_done``: it has finished, its outcome in ``_outcome``).

    A lock released by one thread and acquired by another is the cheapest hand-off Python has.
    Against ``concurrent.futures`` (a queue, a future and a condition per part), training steps
    measured in one process (``python -m bench.ab``, two runs of 20 rounds) took 0.87 and 0.96
    of the time for LeNet-5 at batch 64, 0.97 at batch 256, 0.94 for the small ResNet and 0.96
    and 0.98 for the MLP; the 64-channel convolution, whose regions are long, 1.00.
    """

    def __init__(self, name: str):
        self._go, self._done = threading.Lock(), threading.Lock()
        self._go.acquire()
        self._done.acquire()
        self._task: tuple | None = None
        self._outcome: tuple = (True, None)
        threading.Thread(target=self._loop, name=name, daemon=True).start()

    def start(self, body, start: int, stop: int) -> None:
        self._task = (body, start, stop)
        self._go.release()

    def finish(self) -> tuple:
        """``(True, result)`` or ``(False, exception)`` of the part, once it has finished."""
        self._done.acquire()
        outcome, self._outcome = self._outcome, (True, None)
        return outcome

    def _loop(self) -> None:
        while True:
            self._go.acquire()
            task, self._task = self._task, None
            assert task is not None
            try:
                self._outcome = (True, _run_part(*task))
            except BaseException as exc:  # handed to the region's thread, which raises it
                self._outcome = (False, exc)
            del task
            self._done.release()


def _get_workers(count: int) -> list:
    with _lock:
        while len(_workers) < count:
            _workers.append(_Worker(f"chainrule_{len(_workers)}"))
        return _workers[:count]


def _blas_controllers() -> list:
    return _blas_threads.controllers()  # without threadpoolctl: none, and regions stay serial


def _after_fork_in_child() -> None:
    """A forked child has none of the parent's threads: start new workers when they are needed."""
    global _workers, _active, _lock, _busy
    _workers, _active, _lock, _busy = [], 0, threading.Lock(), threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _enter() -> None:
    global _active, _blas_saved
    with _lock:
        if _active == 0:  # from any thread: see _blas_threads for why not threadpoolctl's setter
            _blas_saved = _blas_threads.get_threads()
            _blas_threads.set_threads(1)
        _active += 1


def _leave() -> None:
    global _active
    with _lock:
        _active -= 1
        if _active == 0:
            _blas_threads.set_threads(_blas_saved)
