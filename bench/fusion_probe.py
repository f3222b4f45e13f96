"""Inference time of a small ResNet before and after folding its batch norms (``fuse_bn``).

    .venv/bin/python bench/fusion_probe.py [--batch 32] [--size 32] [--width 16] [--repeats 15] [--threads 1]

The ResNet (3 stages of basic blocks, conv/BN pairs inside Sequentials) runs in eval mode under
``no_grad``; the unfused and fused copies are timed in alternating rounds (order swapped each
round). Reported: medians and minima of wall-clock time, the median of the per-round differences,
and the same for the process's CPU time (with one thread, CPU time is what a shared machine
disturbs least), plus the largest relative difference of the two outputs.
"""

from __future__ import annotations

import argparse
import os
import sys


def build(nn, width: int):
    class BasicBlock(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int = 1):
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
            self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                             if stride != 1 or cin != cout else nn.Identity())
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.relu(self.body(x) + self.shortcut(x))

    class SmallResNet(nn.Module):
        def __init__(self):
            super().__init__()
            w = width
            self.stem = nn.Sequential(nn.Conv2d(3, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU())
            self.stages = nn.Sequential(
                BasicBlock(w, w), BasicBlock(w, w),
                BasicBlock(w, 2 * w, 2), BasicBlock(2 * w, 2 * w),
                BasicBlock(2 * w, 4 * w, 2), BasicBlock(4 * w, 4 * w))
            self.fc = nn.Linear(4 * w, 10)

        def forward(self, x):
            return self.fc(self.stages(self.stem(x)).mean((2, 3)))

    return SmallResNet()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import time

    import numpy as np

    import chainrule as cr
    import chainrule.nn as nn
    from chainrule.nn.utils import fuse_bn

    cr.manual_seed(0)
    rng = np.random.default_rng(0)
    model = build(nn, args.width)
    shape = (args.batch, 3, args.size, args.size)
    for _ in range(3):  # training-mode passes give the batch norms real running statistics
        model(cr.tensor(rng.standard_normal(shape).astype(np.float32)))
    model.eval()
    fused = fuse_bn(model)
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    x = cr.tensor(rng.standard_normal(shape).astype(np.float32))
    variants = {"unfused": model, "fused": fused}
    clocks = {"wall": time.perf_counter, "cpu": time.process_time}
    times = {c: {k: [] for k in variants} for c in clocks}
    with cr.no_grad():
        outs = {k: m(x).numpy() for k, m in variants.items()}  # also the warm-up
        names = list(variants)
        for r in range(args.repeats):
            for name in (names if r % 2 == 0 else names[::-1]):
                w0, c0 = time.perf_counter(), time.process_time()
                variants[name](x)
                times["wall"][name].append(time.perf_counter() - w0)
                times["cpu"][name].append(time.process_time() - c0)
    ref = outs["unfused"]
    rel = float(np.max(np.abs(outs["fused"] - ref)) / np.max(np.abs(ref)))
    print(f"small ResNet (width {args.width}, {n_bn} BatchNorm2d), input {shape} float32, eval + no_grad, "
          f"{args.threads} thread(s), {args.repeats} rounds")
    for clock in clocks:
        t = {k: 1e3 * np.array(v) for k, v in times[clock].items()}
        for stat, fn in (("median", np.median), ("min", np.min)):
            unf, fus = float(fn(t["unfused"])), float(fn(t["fused"]))
            print(f"  {clock:<4} {stat:<6} unfused {unf:8.2f} ms   fused {fus:8.2f} ms   ({unf / fus:.2f}x, "
                  f"{100 * (1 - fus / unf):.1f}% less time)")
        # both run back to back in each round: the median of the per-round differences cancels
        # the slow swings of a shared machine better than the difference of the medians
        diff = float(np.median(t["unfused"] - t["fused"]))
        print(f"  {clock:<4} paired median saving {diff:.2f} ms ({100 * diff / float(np.median(t['unfused'])):.1f}%)")
    print(f"  max |fused - unfused| / max |unfused| = {rel:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
