"""Which batch-norm backward is faster: the dedicated ``Normalize`` operator or autograd through
the composition of differentiable operators?  (BatchNorm2d training, input (64, 16, 28, 28).)

    .venv/bin/python bench/bn_backward_probe.py [--repeats 15] [--threads 1]

Each variant runs forward + backward of sum(y * g) w.r.t. input, weight and bias; the variants
(and PyTorch, for scale) are timed in alternating rounds; medians and minima of wall-clock
and of process CPU time are reported (CPU time and minima are the steadier figures on a shared
machine). A second
table times the double-backward path (create_graph=True), which the dedicated operator runs as
the same composition, so both should be close there.
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--shape", type=int, nargs=4, default=(64, 16, 28, 28))
    args = parser.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import time

    import numpy as np
    import torch

    import chainrule as cr
    from chainrule.ops import normalization as N

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    shape = tuple(args.shape)
    c = shape[1]
    x_np = rng.standard_normal(shape).astype(np.float32)
    g_np = rng.standard_normal(shape).astype(np.float32)
    w_np = rng.uniform(0.5, 1.5, c).astype(np.float32)
    b_np = rng.standard_normal(c).astype(np.float32)
    axes = (0, 2, 3)
    n = shape[0] * shape[2] * shape[3]

    def composite(x, w, b):
        mu = cr.sum(x, axes, keepdim=True) * (1.0 / n)
        xc = x - mu
        var = cr.sum(xc * xc, axes, keepdim=True) * (1.0 / n)
        return xc * cr.rsqrt(var + 1e-5) * w.reshape(c, 1, 1) + b.reshape(c, 1, 1)

    def dedicated(x, w, b):
        return N.batch_norm(x, None, None, w, b, training=True)

    def ours(fn, create_graph):
        def run():
            x = cr.tensor(x_np, requires_grad=True)
            w = cr.tensor(w_np, requires_grad=True)
            b = cr.tensor(b_np, requires_grad=True)
            y = fn(x, w, b)
            grads = cr.autograd.grad(y, [x, w, b], cr.tensor(g_np), create_graph=create_graph)
            if create_graph:  # a gradient penalty: d/dw of ||dL/dx||^2
                cr.autograd.grad(cr.sum(grads[0] * grads[0]), [w])
        return run

    def theirs(create_graph):
        def run():
            x = torch.tensor(x_np, requires_grad=True)
            w = torch.tensor(w_np, requires_grad=True)
            b = torch.tensor(b_np, requires_grad=True)
            y = torch.nn.functional.batch_norm(x, None, None, w, b, training=True)
            grads = torch.autograd.grad(y, [x, w, b], torch.tensor(g_np), create_graph=create_graph)
            if create_graph:
                torch.autograd.grad((grads[0] * grads[0]).sum(), [w])
        return run

    for create_graph in (False, True):
        variants = {"dedicated Normalize op": ours(dedicated, create_graph),
                    "composition of ops": ours(composite, create_graph),
                    "PyTorch (reference)": theirs(create_graph)}
        times: dict[str, list[float]] = {k: [] for k in variants}
        cpu: dict[str, list[float]] = {k: [] for k in variants}
        for fn in variants.values():
            fn()  # warm-up
        names = list(variants)
        for r in range(args.repeats):
            for name in (names if r % 2 == 0 else names[::-1]):
                t0, c0 = time.perf_counter(), time.process_time()
                variants[name]()
                times[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
        title = "double backward (gradient penalty)" if create_graph else "forward + backward"
        print(f"\nBN2d training {shape} float32, {title}, {args.threads} thread(s), {args.repeats} rounds")
        print(f"  {'':<24} {'wall median':>12} {'wall min':>10} {'cpu median':>12} {'cpu min':>10}")
        for name in names:
            row = [1e3 * f(v[name]) for v in (times, cpu) for f in (np.median, np.min)]
            print(f"  {name:<24} " + " ".join(f"{v:9.2f} ms" for v in row))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
