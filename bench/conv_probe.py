"""Probe: one 3x3 conv2d forward+backward, chainrule against PyTorch, in one process.

    .venv/bin/python bench/conv_probe.py [--threads T] [--repeat R]

Prints, for x (8, 64, 56, 56), w (64, 64, 3, 3), padding 1, float32:

* the best-of-R wall time of forward+backward (gradients of x and w) for chainrule and PyTorch,
  interleaved so that machine load hits both alike, and their ratio;
* chainrule's GFLOP/s (3 convolutions' worth: 3 * 2*N*O*C*k*k*H*W) as a fraction of the float32
  matmul throughput NumPy reaches here (best of R 2048^3 products) in the same run;
* where chainrule's time goes (forward, input gradient, weight gradient);
* the peak extra memory of one forward+backward, each library in a fresh process after a small
  warm-up call: peak RSS during the call (VmHWM, reset just before) minus RSS before it, and for
  NumPy also the tracemalloc peak of its allocations.

Not a test; numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import time

N, C, O, H, W, K = 8, 64, 64, 56, 56, 3
FLOPS = 3 * 2 * N * O * C * K * K * H * W  # forward, input gradient, weight gradient


def _status(field: str) -> int:
    """A size from /proc/self/status (VmRSS: resident now, VmHWM: peak resident), in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak_rss() -> None:
    """Restart the kernel's peak-RSS counter (VmHWM) at the current RSS (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _set_threads(n: int) -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(n)
    import torch

    torch.set_num_threads(n)


def _inputs():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W), dtype=np.float32)
    w = (rng.standard_normal((O, C, K, K), dtype=np.float32) * 0.05).astype(np.float32)
    g = rng.standard_normal((N, O, H, W), dtype=np.float32)
    return x, w, g


def _step(fw, x, w, g):
    """Forward+backward of ``conv2d(x, w, padding=1)`` in ``fw`` (chainrule or torch); returns (x.grad, w.grad)."""
    xs = fw.tensor(x, requires_grad=True)
    ws = fw.tensor(w, requires_grad=True)
    gs = fw.tensor(g)

    def step():
        xs.grad = ws.grad = None
        y = fw.nn.functional.conv2d(xs, ws, padding=1)
        y.backward(gs)
        return xs.grad, ws.grad

    return step


def _framework(which: str):
    return importlib.import_module("chainrule" if which == "ours" else "torch")


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _parts(x, w, g, repeat: int) -> dict:
    """Best-of times of chainrule's three operators on raw arrays."""
    import numpy as np

    from chainrule.kernels.windows import Window
    from chainrule.ops import conv as cv

    win = Window((H, W), (H, W), (K, K), (1, 1), (1, 1), (1, 1))
    return {
        "forward": _best(lambda: cv.conv_forward(np, x, w, win, 1), repeat),
        "input_grad": _best(lambda: cv.conv_input(np, g, w, win, 1), repeat),
        "weight_grad": _best(lambda: cv.conv_weight(np, x, g, win, 1, C), repeat),
    }


def timing(threads: int, repeat: int) -> dict:
    import numpy as np

    _set_threads(threads)
    x, w, g = _inputs()
    ours, theirs = _step(_framework("ours"), x, w, g), _step(_framework("torch"), x, w, g)
    a = np.random.default_rng(1).standard_normal((2048, 2048), dtype=np.float32)
    b = np.random.default_rng(2).standard_normal((2048, 2048), dtype=np.float32)
    ours(), theirs(), a @ b  # warm up
    t_ours = t_theirs = t_mm = float("inf")
    for _ in range(repeat):  # interleaved, so load changes affect all three alike
        t_ours = min(t_ours, _best(ours, 1))
        t_theirs = min(t_theirs, _best(theirs, 1))
        t_mm = min(t_mm, _best(lambda: a @ b, 1))
    # check both compute the same gradients
    gx, gw = ours()
    tx, tw = theirs()
    err = max(float(np.abs(gx.numpy() - tx.numpy()).max()), float(np.abs(gw.numpy() - tw.numpy()).max()))
    peak = 2 * 2048 ** 3 / t_mm / 1e9
    ours_gflops = FLOPS / t_ours / 1e9
    return {
        "threads": threads,
        "ours_ms": t_ours * 1e3,
        "torch_ms": t_theirs * 1e3,
        "ratio": t_ours / t_theirs,
        "numpy_matmul_gflops": peak,
        "ours_gflops": ours_gflops,
        "torch_gflops": FLOPS / t_theirs / 1e9,
        "ours_fraction_of_matmul_peak": ours_gflops / peak,
        "max_abs_diff_vs_torch": err,
        "parts_ms": {k: v * 1e3 for k, v in _parts(x, w, g, repeat).items()},
    }


def memory(which: str, threads: int) -> dict:
    """Peak extra memory of one forward+backward (run in a fresh process per library)."""
    import tracemalloc

    _set_threads(threads)
    x, w, g = _inputs()
    fw = _framework(which)
    _step(fw, x[:1, :, :8, :8], w, g[:1, :, :8, :8])()  # load the libraries and their thread pools first
    step = _step(fw, x, w, g)
    base = _status("VmRSS")
    _reset_peak_rss()
    if which == "ours":
        tracemalloc.start()
    step()
    out = {"peak_extra_rss_mb": (_status("VmHWM") - base) / 2**20}
    if which == "ours":
        out["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--mem", choices=["ours", "torch"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.mem:
        print(json.dumps(memory(args.mem, args.threads)))
        return
    result = timing(args.threads, args.repeat)
    for which in ("ours", "torch"):
        out = subprocess.run([sys.executable, __file__, "--mem", which, "--threads", str(args.threads)],
                             capture_output=True, text=True, check=True).stdout
        result[f"memory_{which}"] = json.loads(out)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
