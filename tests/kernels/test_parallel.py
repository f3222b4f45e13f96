"""chainrule's own thread pool (``chainrule.kernels._parallel``) and the convolutions that use it.

The parallel path is forced on small shapes (thread count 2, no size thresholds): every
convolution layout then gives PyTorch's results and exact second derivatives, as the serial
path does (``tests/ops/test_conv_chunks.py``), and BLAS's thread count is back to what it was afterwards.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.kernels import _parallel
from chainrule.kernels.numba import tuning as numba_tuning
from chainrule.kernels.numpy import tuning as numpy_tuning

from ..ops.test_conv_chunks import CASES, check_against_torch
from ..threads import force_two_threads

torch.set_num_threads(1)


@pytest.fixture
def forced(monkeypatch):
    """Two threads and no size thresholds, so that every region on NumPy arrays runs in parallel."""

    force_two_threads(monkeypatch)  # asserts that threads_for gives 2
    monkeypatch.setattr(numpy_tuning, "CONV_PARALLEL_MIN_MACS", 0)


@pytest.mark.parametrize("count,parts,expected", [
    (10, 2, [(0, 5), (5, 10)]),
    (7, 2, [(0, 3), (3, 7)]),  # the larger piece last: the calling thread runs it
    (5, 3, [(0, 1), (1, 3), (3, 5)]),
    (2, 4, [(0, 1), (1, 2)]),
    (1, 2, [(0, 1)]),
])
def test_split_covers_the_range_in_order(count, parts, expected):
    assert _parallel.split(count, parts) == expected


def test_parallel_for_runs_parts_on_two_threads_and_returns_them_in_order(forced):
    seen = []

    def body(a, b):
        seen.append(threading.current_thread().name)
        return list(range(a, b))

    out = _parallel.parallel_for(body, 9, 2)
    assert out == [[0, 1, 2, 3], [4, 5, 6, 7, 8]]
    assert len(set(seen)) == 2 and threading.current_thread().name in seen


def test_nested_regions_run_serially_in_the_part(forced):
    inner = []

    def body(a, b):
        inner.append(_parallel.threads_for(np, 1 << 30))
        return a

    _parallel.parallel_for(body, 4, 2)
    assert inner == [1, 1]


def test_an_error_in_a_part_is_raised_after_every_part_finished(forced):
    finished = []

    def body(a, b):
        if a == 1:  # the calling thread's part fails at once
            raise ValueError("part 1 failed")
        threading.Event().wait(0.05)
        finished.append(a)

    with pytest.raises(ValueError, match="part 1 failed"):
        _parallel.parallel_for(body, 2, 2)
    assert finished == [0]  # the worker's part had finished when the error came out


def test_an_error_in_a_workers_part_is_raised(forced):
    def body(a, b):
        if a == 0:
            raise ValueError("part 0 failed")

    with pytest.raises(ValueError, match="part 0 failed"):
        _parallel.parallel_for(body, 2, 2)


def test_a_region_started_while_another_has_the_workers_runs_serially_in_its_thread(forced):
    """Two threads starting regions at once: the second runs its parts itself, in order, with
    the same split (so the same results), instead of waiting for the workers."""
    started, release = threading.Event(), threading.Event()
    first: list = []

    def slow(a, b):
        started.set()
        release.wait(5)
        return (a, b)

    holder = threading.Thread(target=lambda: first.append(_parallel.parallel_for(slow, 4, 2)))
    holder.start()
    try:
        assert started.wait(5)
        me = threading.current_thread().name
        seen = []
        out = _parallel.parallel_for(lambda a, b: seen.append(threading.current_thread().name) or (a, b), 4, 2)
    finally:
        release.set()
        holder.join(5)
    assert out == [(0, 2), (2, 4)] and seen == [me, me]
    assert first == [[(0, 2), (2, 4)]]
    assert _parallel.parallel_for(lambda a, b: threading.current_thread().name, 2, 2)[0] != me  # workers free again


def test_a_worker_runs_the_next_region_after_a_part_that_raised(forced):
    def body(a, b):
        if a == 0:
            raise KeyError("worker part")
        return a

    with pytest.raises(KeyError):
        _parallel.parallel_for(body, 2, 2)
    assert _parallel.parallel_for(lambda a, b: (a, b), 2, 2) == [(0, 1), (1, 2)]


def test_blas_is_single_threaded_inside_a_region_and_restored_after(forced):
    from threadpoolctl import threadpool_info, threadpool_limits

    # the libraries loaded when the pool first looked (NumPy's BLAS; SciPy's may come later)
    paths = {c.filepath for c in _parallel._blas_controllers()}
    assert paths

    def blas_threads():
        return {d["num_threads"] for d in threadpool_info() if d["filepath"] in paths}

    with threadpool_limits(2, user_api="blas"):
        inside = _parallel.parallel_for(lambda a, b: blas_threads(), 2, 2)
        assert inside == [{1}, {1}]
        with _parallel.single_blas():
            assert blas_threads() == {1}
        assert blas_threads() == {2}


def test_other_array_modules_and_one_thread_stay_serial(monkeypatch):
    from chainrule import backend

    class FakeModule:
        __name__ = "cupy"

    monkeypatch.setattr(backend, "_num_threads", 2)
    assert _parallel.threads_for(FakeModule(), 1 << 30) == 1
    assert _parallel.threads_for(np, 1) == 1  # below MIN_PARALLEL_BYTES
    monkeypatch.setattr(backend, "_num_threads", 1)
    assert _parallel.threads_for(np, 1 << 30) == 1


@pytest.mark.parametrize("kernels", ["numpy", "compiled"])
@pytest.mark.parametrize("samples", [1, 2])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}{c[1]}")
def test_parallel_convolutions_give_torchs_results_and_second_derivatives(forced, monkeypatch, case, samples, kernels):
    from chainrule.kernels import _jit
    from chainrule.kernels.numba import conv as conv_jit
    from chainrule.kernels.numpy import conv as conv_kernels

    op, xs, ws, kw = case
    if kernels == "numpy":
        monkeypatch.setattr(_jit, "ENABLED", False)
    elif conv_jit._kernels(np.float64) is None:
        pytest.skip("numba not available")
    else:  # blocks of `samples` samples, parts of the batch on two threads
        monkeypatch.setattr(numba_tuning, "CONV_PARALLEL_MIN_MACS", 0)
        monkeypatch.setattr(conv_jit, "_block", lambda *a: samples)
    monkeypatch.setattr(conv_kernels, "samples_per_chunk", lambda per_sample, threads=1: samples)
    ours = check_against_torch(case, seed=5)
    fn = lambda a, b, c: getattr(F, op)(a, b, c, **kw)  # noqa: E731
    assert gradcheck(fn, ours) and gradgradcheck(fn, ours, fast_mode=True)


@pytest.mark.parametrize("kernels", ["numpy", "compiled"])
def test_a_parallel_float32_resnet_block_matches_the_serial_one(monkeypatch, kernels):
    """Same module, same input: the two paths agree to float32 rounding (sums over the batch
    are added in another order) and a second run of the parallel path repeats itself exactly."""
    from chainrule.kernels import _jit

    if kernels == "numpy":
        monkeypatch.setattr(_jit, "ENABLED", False)
    monkeypatch.setattr(numba_tuning, "CONV_PARALLEL_MIN_MACS", 0)

    cr.manual_seed(0)
    # no bias before the batch norm: its gradient is zero up to rounding noise, nothing to compare
    block = cr.nn.Sequential(cr.nn.Conv2d(8, 16, 3, padding=1, bias=False), cr.nn.BatchNorm2d(16), cr.nn.ReLU(),
                             cr.nn.Conv2d(16, 16, 3, stride=2, padding=1))
    x = cr.randn(6, 8, 12, 12)

    def run():
        block.zero_grad()
        xi = x.clone().requires_grad_()
        y = block(xi)
        y.square().sum().backward()
        return [y.detach().numpy()] + [xi.grad.numpy()] + [p.grad.numpy() for p in block.parameters()]

    serial = run()
    force_two_threads(monkeypatch)
    monkeypatch.setattr(numpy_tuning, "CONV_PARALLEL_MIN_MACS", 0)
    parallel, again = run(), run()
    for s, p, a in zip(serial, parallel, again):
        np.testing.assert_allclose(p, s, rtol=2e-5, atol=1e-5 * float(np.abs(s).max()))
        np.testing.assert_array_equal(p, a)


def test_a_region_started_before_blas_is_looked_up_runs(monkeypatch):
    """``parallel_for`` called directly, before any ``threads_for`` found the BLAS libraries."""
    from chainrule.kernels import _blas_threads

    monkeypatch.setattr(_blas_threads, "_found", None)
    assert _parallel.parallel_for(lambda lo, hi: list(range(lo, hi)), 5, 2) == [[0, 1], [2, 3, 4]]


def _in_worker_thread(fn):
    out = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]


def test_blas_is_single_threaded_inside_a_region_started_from_a_worker_thread(forced):
    # OpenBLAS ignores openblas_set_num_threads from a non-main thread: a region started there
    # used to keep BLAS at two threads, so a training loop in a thread rounded differently
    from threadpoolctl import threadpool_limits

    from chainrule.kernels import _blas_threads

    with threadpool_limits(2, user_api="blas"):
        inside = _in_worker_thread(lambda: _parallel.parallel_for(lambda a, b: _blas_threads.get_threads(), 2, 2))
        assert all(set(counts) == {1} for counts in inside), inside
        assert set(_blas_threads.get_threads()) == {2}


def test_set_num_threads_from_a_worker_thread_sets_blas():
    from chainrule.kernels import _blas_threads

    before = cr.get_num_threads()
    try:
        _in_worker_thread(lambda: cr.set_num_threads(1))
        assert set(_blas_threads.get_threads()) == {1}
        _in_worker_thread(lambda: cr.set_num_threads(2))
        assert set(_blas_threads.get_threads()) == {2}
    finally:
        cr.set_num_threads(before)


def test_a_training_step_gives_the_same_numbers_in_a_worker_thread(forced):
    # the shape where OpenBLAS's one- and two-thread products round differently on the
    # development machine: the weight gradient of a strided 3x3 convolution, batch in two parts
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 32, 4, 4)).astype(np.float32)
    w = rng.standard_normal((64, 32, 3, 3)).astype(np.float32)
    gy = rng.standard_normal((256, 64, 2, 2)).astype(np.float32)

    def grads():
        xt, wt = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=True)
        F.conv2d(xt, wt, stride=2, padding=1).backward(cr.tensor(gy))
        return xt.grad.numpy().copy(), wt.grad.numpy().copy()

    from threadpoolctl import threadpool_limits

    with threadpool_limits(2, user_api="blas"):  # BLAS's own count outside regions, as at start
        main, worker = grads(), _in_worker_thread(grads)
    for ours, theirs in zip(main, worker):
        np.testing.assert_array_equal(ours, theirs)
