"""Preallocated buffers of a flat schedule: memory planned by liveness, reused across steps and calls.

A flat schedule (``flat.py``) knows, before it runs, every intermediate value's shape and dtype,
its first step (the one that makes it) and its last (its last reader). ``plan`` places the
intermediates that only the schedule sees in byte buffers, one buffer serving values whose lives
do not overlap (greedy, in step order: a value takes the smallest free buffer that holds it, else
the largest free one grown to fit, else a new one; a buffer is free again after the last reader
of its value). ``Buffers`` gives each step its view of a buffer; the buffers themselves are an
``_Arena``, made on the schedule's first run and kept, which a plan's forward and backward share
(``share``: their intermediates never live at the same time). Later calls write into the same
memory instead of asking the allocator for it again: where glibc's allocator hands large freed
blocks back to the system, each new block is page-faulted in anew on every call; a kept buffer
is not.

Which steps write into a buffer: those whose operator's ``forward`` takes ``out=`` (``WRITES_INTO``:
ReLU and its gradient, convolution forward and input gradient, linear, the max pool's gradient).
``out`` is an offer: a kernel that cannot use it for these arrays (another backend, a layout it
does not take) returns an array of its own, and the step's value is that array.

Which values get one (all of these, else the value is allocated as before):

* made by such a step as its only output, at least ``config.buffer_min_bytes`` (smaller arrays
  come from NumPy's and the allocator's caches quickly anyway);
* not kept past the schedule: not an output of the call, not a value the backward reads, not a
  gradient the backward returns, not the base of a returned view;
* read only by steps that make new arrays from it: no reader makes a view of it (a view would
  outlive the value in the buffer), writes into it (an in-place write) or has its node kept after
  the schedule (forward state the backward reads may hold the array), and its own step's node is
  not kept either.

After a step that reads a value held in a buffer, each of its outputs is checked not to be that
buffer or a view of it (an operator that returned its input as it is); such an output is copied,
so a later step writing into the buffer cannot change it.

A schedule run by two threads at once, or re-entered, runs its second run without buffers
(``Buffers.take`` gives None while the arena is in use). ``config.reuse_buffers = False`` plans
no buffers (for graphs planned after it is set).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ..ops import shape as S
from . import config
from .op_tables import classes

_WRITES_INTO = {
    "chainrule.ops.activation": "Relu ReluGrad",
    "chainrule.ops.conv": "Conv ConvInput",
    "chainrule.ops.linear": "Linear",
    "chainrule.ops.pooling": "MaxPoolGrad",
}


WRITES_INTO: frozenset = classes(_WRITES_INTO)

# operators whose output is a view of their input or not depending on the input's memory layout,
# which the signature does not fix (others say so by ``_is_view`` before they run)
MAY_VIEW = frozenset({S.Reshape})


class _Arena:
    """The byte arrays of one or more schedules' buffers (a plan's forward and backward share
    one: their intermediates never live at the same time) and the lock of the run using them."""

    def __init__(self, sizes: list):
        self.sizes = sizes
        self.arrays: list | None = None
        self.lock = threading.Lock()


class Buffers:
    """The buffers of one schedule: ``sizes`` the bytes of each; ``into[k]``: ``(buffer, shape,
    dtype)`` that step k writes its value into (or None); ``checks[k]``: the buffers that step k's
    inputs live in (its outputs are checked not to alias them)."""

    def __init__(self, into: tuple, sizes: tuple, checks: tuple):
        self.into, self.sizes, self.checks = into, sizes, checks
        self.arena = _Arena(list(sizes))
        self._views: list | None = None  # per step: the view of its buffer it writes into, or None

    @property
    def nbytes(self) -> int:
        """The memory the buffers hold once made (shared with the other schedules of the arena)."""
        return sum(self.arena.sizes)

    def take(self) -> list | None:
        """Per step, the array it writes its value into (None: it allocates its own), for one run
        of the schedule (the buffers are made on the first); None while another run has them
        (another thread, a run inside a run, or the arena's other schedule)."""
        arena = self.arena
        if not arena.lock.acquire(blocking=False):
            return None
        if arena.arrays is None:
            arena.arrays = [np.empty(n, dtype=np.uint8) for n in arena.sizes]
        if self._views is None:
            self._views = [None if w is None else _view(arena.arrays[w[0]], w[1], w[2]) for w in self.into]
        return self._views

    def give_back(self) -> None:
        self.arena.lock.release()

    def arrays(self, numbers: tuple) -> list:
        """The byte arrays of the buffers ``numbers`` (made: after a ``take``)."""
        assert self.arena.arrays is not None
        return [self.arena.arrays[b] for b in numbers]


def share(*planned: Buffers | None) -> None:
    """Let the schedules of ``planned`` (those that have buffers; not yet run) use one arena, each
    buffer as large as the largest of theirs with that number: schedules that never run at the
    same time (a plan's forward and backward) then hold the memory of one."""
    present = [b for b in planned if b is not None]
    if len(present) < 2:
        return
    sizes = [max((b.sizes[i] for b in present if i < len(b.sizes)), default=0)
             for i in range(max(len(b.sizes) for b in present))]
    arena = _Arena(sizes)
    for b in present:
        b.arena = arena


def _view(raw: np.ndarray, shape: tuple, dtype: np.dtype) -> np.ndarray:
    return raw[:int(np.prod(shape)) * dtype.itemsize].view(dtype).reshape(shape)


def plan(steps: tuple, reads: list, keep, meta, exclude=frozenset()) -> Buffers | None:
    """The buffers of a schedule of ``steps`` (``(step, needs)`` pairs) whose step k reads the
    slots ``reads[k]``; ``keep``: slots that outlive the schedule; ``meta[s]``: slot s's
    (shape, dtype); ``exclude``: steps whose node is kept after the schedule. None: no value
    qualifies (see the module docstring).

    A value takes the smallest free buffer that holds it; with none large enough, the largest
    free one, grown to fit; with none free, a new one."""
    if not config.reuse_buffers:
        return None
    last: dict[int, int] = {}
    readers: dict[int, list] = {}
    for k, rs in enumerate(reads):
        for s in rs:
            last[s] = k
            readers.setdefault(s, []).append(k)
    kept = set(keep)
    free: list[int] = []
    sizes: list[int] = []
    into: list[tuple | None] = [None] * len(steps)
    held: dict[int, int] = {}  # slot -> its buffer
    release: dict[int, list] = {}  # step -> buffers free after it
    for k, (step, _) in enumerate(steps):
        s = _candidate(k, step, steps, readers, kept, meta, exclude)
        if s is not None:
            shape, dtype = tuple(meta[s][0]), np.dtype(meta[s][1])
            need = int(np.prod(shape)) * dtype.itemsize
            fitting = [b for b in free if sizes[b] >= need]
            if fitting:
                b = min(fitting, key=lambda b: sizes[b])
            elif free:
                b = max(free, key=lambda b: sizes[b])
                sizes[b] = need
            else:
                b = len(sizes)
                sizes.append(need)
            if b in free:
                free.remove(b)
            into[k], held[s] = (b, shape, dtype), b
            release.setdefault(last.get(s, k), []).append(b)
        free.extend(release.pop(k, ()))
    if not sizes:
        return None
    checks = tuple(tuple(sorted({held[s] for s in rs if s in held})) for rs in reads)
    return Buffers(tuple(into), tuple(sizes), checks)


def _candidate(k: int, step: Any, steps: tuple, readers: dict, kept: set, meta, exclude) -> int | None:
    """The slot step k makes that may live in a buffer, or None."""
    if step.effect is not None or len(step.outs) != 1 or type(step.template) not in WRITES_INTO or k in exclude:
        return None
    s = step.outs[0]
    if s in kept:
        return None
    shape, dtype = meta[s]
    if dtype is None or int(np.prod(shape)) * np.dtype(dtype).itemsize < config.buffer_min_bytes:
        return None
    for r in readers.get(s, ()):
        reader = steps[r][0]
        if r in exclude or reader.effect is not None or may_view(reader.template):
            return None
    return s


def may_view(template: Any) -> bool:
    """Whether an operator's output may be a view of its first input: it says so by ``_is_view``
    before it runs, or it is one of ``MAY_VIEW``."""
    return bool(template._is_view) or type(template) in MAY_VIEW


def unalias(out: Any, raw: list) -> Any:
    """``out``, or a copy of it where it is a view of one of the byte arrays ``raw``."""
    if isinstance(out, np.ndarray):
        base = out.base
        for a in raw:
            if base is a:
                return out.copy()
    return out
