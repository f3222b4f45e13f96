"""Per-op fixed costs of chainrule's autograd hot path, without a profiler in the way.

``python -m bench.overhead`` times (timeit, best of several runs) the pieces one element-wise op
on a 16-element tensor goes through - the raw NumPy kernel, Tensor creation, the array-module
and grad-mode checks, a node's construction, the whole op with and without recording - and the
backward pass per node, each next to PyTorch's figure where one exists. Workload 6 of
``python -m bench`` is the end-to-end version; this is the breakdown that guides the engine work.
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable

import numpy as np

from .workloads import op_mix


def best_us(fn: Callable[[], object], number: int, repeat: int = 7) -> float:
    """Best time of one call in microseconds (min over ``repeat`` runs of ``number`` calls)."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


_KINDS = {
    "y * w": lambda fw, y, w: y * w,
    "y + w": lambda fw, y, w: y + w,
    "tanh(y)": lambda fw, y, w: fw.tanh(y),
    "y * 0.5": lambda fw, y, w: y * 0.5,
}


def chain_per_op_us(fw, kind: str, n: int = 1000, repeat: int = 9) -> tuple[float, float]:
    """(forward us per op, backward us per node) of an ``n``-op chain of one op kind (best of repeat)."""
    op = _KINDS[kind]
    rng = np.random.default_rng(0)
    x = fw.from_numpy(rng.standard_normal(16, dtype=np.float32)).requires_grad_(True)
    w = fw.from_numpy(rng.uniform(0.99, 1.01, 16).astype(np.float32))  # no overflow over the chain
    best_f = best_b = float("inf")
    for _ in range(repeat):
        t0 = timeit.default_timer()
        y = x
        for _ in range(n):
            y = op(fw, y, w)
        loss = y.sum()
        t1 = timeit.default_timer()
        x.grad = None
        loss.backward()
        t2 = timeit.default_timer()
        best_f, best_b = min(best_f, t1 - t0), min(best_b, t2 - t1)
    return best_f / n * 1e6, best_b / n * 1e6


def _numpy_forward_backward(x: np.ndarray, w: np.ndarray, n_ops: int, backward: bool) -> None:
    # the same arithmetic on raw arrays: what the kernels alone cost
    half = np.float32(0.5)
    y, saved = x, []
    for _ in range(n_ops // 4):
        y = np.tanh(y * w + w)
        saved.append(y)
        y = y * half
    y.sum()
    if backward:
        g = np.ones_like(x)
        for t in reversed(saved):
            g = g * half
            g = g * (np.float32(1) - t * t)
            g = g * w


def numpy_kernels(n_ops: int = 1000, repeat: int = 7) -> tuple[float, float]:
    """(forward, backward) us per op of workload 6's arithmetic on raw arrays: the kernels alone."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal(16, dtype=np.float32)
    b = rng.standard_normal(16, dtype=np.float32)
    fwd = min(timeit.repeat(lambda: _numpy_forward_backward(a, b, n_ops, False), number=1, repeat=repeat))
    both = min(timeit.repeat(lambda: _numpy_forward_backward(a, b, n_ops, True), number=1, repeat=repeat))
    return fwd / n_ops * 1e6, (both - fwd) / n_ops * 1e6


def decompose(fw, kernels: tuple[float, float], n_ops: int = 1000, repeat: int = 7) -> dict:
    """Split one run of workload 6 into kernels, dispatch, graph recording and backward (us per op)."""
    rng = np.random.default_rng(0)
    x = fw.from_numpy(rng.standard_normal(16, dtype=np.float32)).requires_grad_(True)
    w = fw.from_numpy(rng.standard_normal(16, dtype=np.float32))

    def forward():
        return op_mix(fw, x, w, n_ops).sum()

    def full():
        x.grad = None
        forward().backward()

    def fwd_no_grad():
        with fw.no_grad():
            forward()

    def best(fn) -> float:
        return min(timeit.repeat(fn, number=1, repeat=repeat)) / n_ops * 1e6

    total, recorded, plain = best(full), best(forward), best(fwd_no_grad)
    return {
        "forward+backward": total,
        "forward, recorded": recorded,
        "  kernels (same arithmetic in numpy)": kernels[0],
        "  dispatch (wrappers, apply, Tensor)": plain - kernels[0],
        "  recording (graph nodes, saving)": recorded - plain,
        "backward": total - recorded,
        "  kernels (numpy) ": kernels[1],
        "  engine + backward ops' dispatch": total - recorded - kernels[1],
    }


def measure(number: int = 20000) -> list[tuple[str, float, float | None]]:
    """Rows (what, chainrule us, PyTorch us or None)."""
    import threading

    import torch

    import chainrule
    from chainrule.autograd import grad_mode
    from chainrule.backend import array_module
    from chainrule.tensor import Tensor

    rng = np.random.default_rng(0)
    a = rng.standard_normal(16, dtype=np.float32)
    b = rng.standard_normal(16, dtype=np.float32)
    g, w = chainrule.from_numpy(a.copy()), chainrule.from_numpy(b.copy())
    tg, tw = torch.from_numpy(a.copy()), torch.from_numpy(b.copy())

    def fresh_thread_grad_mode() -> float:
        # a thread that never switched grad mode reads the default through a failed lookup
        out = []
        th = threading.Thread(target=lambda: out.append(best_us(grad_mode.is_grad_enabled, number)))
        th.start()
        th.join()
        return out[0]

    rows = [("numpy a * b (16 float32: the kernel itself)", best_us(lambda: a * b, number), None),
            ("Tensor._make(array) | torch.from_numpy", best_us(lambda: Tensor._make(a), number),
             best_us(lambda: torch.from_numpy(a), number)),
            ("backend.array_module(a, b)", best_us(lambda: array_module(a, b), number), None),
            ("is_grad_enabled(), thread that never switched it", fresh_thread_grad_mode(), None)]
    with chainrule.set_grad_enabled(False), torch.no_grad():
        rows += [("is_grad_enabled(), after a switch", best_us(grad_mode.is_grad_enabled, number),
                  best_us(torch.is_grad_enabled, number)),
                 ("g * w with grad mode off (as in backward)", best_us(lambda: g * w, number),
                  best_us(lambda: tg * tw, number))]
    for kind in _KINDS:
        (of, ob), (tf, tb) = chain_per_op_us(chainrule, kind), chain_per_op_us(torch, kind)
        rows += [(f"{kind}: forward per op, recorded", of, tf), (f"{kind}: backward per node", ob, tb)]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20000, help="calls per timing run")
    args = parser.parse_args(argv)
    import torch

    import chainrule

    rows = measure(args.number)
    print(f"{'us per call (best of 7 or 9 runs)':50} {'chainrule':>10} {'PyTorch':>10} {'ratio':>7}")
    for what, ours, theirs in rows:
        ref = "-" if theirs is None else f"{theirs:8.2f}us"
        ratio = "-" if theirs is None else f"{ours / theirs:6.1f}x"
        print(f"{what:50} {ours:8.2f}us {ref:>10} {ratio:>7}")
    kernels = numpy_kernels()
    ours, theirs = decompose(chainrule, kernels), decompose(torch, kernels)
    print(f"\n{'workload 6 split, us per op (best of 7)':50} {'chainrule':>10} {'PyTorch':>10}")
    for key in ours:
        print(f"{key:50} {ours[key]:8.2f}us {theirs[key]:8.2f}us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
