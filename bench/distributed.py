"""``python -m bench.distributed``: data-parallel training on MPI, measured on this machine.

Three tables, each from ranks started with ``mpiexec -n K`` (``chainrule.distributed.launch``):

* training throughput (images/s, global batch fixed) of the small ResNet and the MLP of
  ``bench.workloads`` at 1 rank x T threads and at K ranks x 1 thread, with
  DistributedDataParallel (one SGD-momentum step per global batch);
* all-reduce bandwidth, 1 to 64 MB of float32: ``chainrule.distributed.all_reduce`` on a tensor
  (with and without its cross-rank shape check) against mpi4py's ``Allreduce`` on a NumPy
  buffer of the same size (the engine's ceiling), algorithmic bandwidth = bytes / seconds,
  median of the repeats;
* overlap: the share of the gradient all-reduce hidden behind backward. For an MLP with about
  M MB of gradients: t_bwd (backward alone, no communication), t_comm (one blocking all-reduce
  of all gradients), and t_ddp (backward with DDP, until every .grad is averaged) with buckets
  of ``bucket_cap_mb`` and with one bucket launched at the end. hidden = (t_bwd + t_comm - t_ddp) / t_comm.

Each worker prints one ``RESULT {json}`` line from rank 0; the driver collects them, prints the
tables and writes ``bench/results_distributed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_JSON = Path(__file__).resolve().parent / "results_distributed.json"


# ------------------------------------------------------------------------------------------ workers
def _sync_time(fn, repeats: int, warmup: int = 1) -> list[float]:
    import chainrule.distributed as dist

    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        dist.barrier()
        t0 = time.perf_counter()
        fn()
        dist.barrier()
        times.append(time.perf_counter() - t0)
    return times


def worker_throughput(model_name: str, batch: int, steps: int, threads: int) -> dict:
    import numpy as np

    import chainrule as cr
    import chainrule.distributed as dist
    from chainrule.nn.parallel import DistributedDataParallel as DDP

    from .workloads import mlp, resnet

    cr.set_num_threads(threads)
    dist.init_process_group("mpi")
    k, r = dist.get_world_size(), dist.get_rank()
    cr.manual_seed(0)
    model = (resnet if model_name == "resnet" else mlp)(cr)
    net = DDP(model) if k > 1 else model
    shape = (batch // k, 3, 32, 32) if model_name == "resnet" else (batch // k, 784)
    g = np.random.default_rng(r)
    x = cr.from_numpy(g.standard_normal(shape, dtype=np.float32))
    y = cr.from_numpy(g.integers(0, 10, shape[0]))
    opt = cr.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad()
        cr.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()

    times = _sync_time(lambda: [step() for _ in range(steps)], repeats=3)
    return {"model": model_name, "ranks": k, "threads": threads, "batch": batch,
            "images_per_second": batch * steps / statistics.median(times)}


def worker_bandwidth(sizes_mb: list[int], repeats: int) -> dict:
    import numpy as np
    from mpi4py import MPI

    import chainrule as cr
    import chainrule.distributed as dist

    cr.set_num_threads(1)
    dist.init_process_group("mpi")
    comm = MPI.COMM_WORLD
    rows = []
    for mb in sizes_mb:
        n = mb * 1024 * 1024 // 4
        t = cr.ones(n)
        arr = np.ones(n, dtype=np.float32)
        times: list[list[float]] = [[], [], []]  # ours, ours without the shape check, mpi4py
        for i in range(repeats + 1):  # rotated order, the first round untimed
            for which in (0, 1, 2)[i % 3:] + (0, 1, 2)[: i % 3]:
                os.environ["CHAINRULE_DISTRIBUTED_CHECKS"] = "0" if which == 1 else "1"
                comm.Barrier()
                t0 = time.perf_counter()
                if which < 2:
                    dist.all_reduce(t)
                else:
                    comm.Allreduce(MPI.IN_PLACE, arr)
                dt = time.perf_counter() - t0
                if i:
                    times[which].append(dt)
        mo, mu, mt = (statistics.median(x) for x in times)
        rows.append({"mb": mb, "ours_gb_s": mb / 1024 / mo, "unchecked_gb_s": mb / 1024 / mu,
                     "mpi4py_gb_s": mb / 1024 / mt, "ratio": mo / mt, "ratio_unchecked": mu / mt})
    return {"ranks": comm.Get_size(), "rows": rows}


def worker_overlap(width: int, batch: int, cap_mb: float, repeats: int) -> dict:
    import numpy as np
    from mpi4py import MPI

    import chainrule as cr
    import chainrule.distributed as dist
    from chainrule import nn
    from chainrule.nn.parallel import DistributedDataParallel as DDP

    cr.set_num_threads(1)
    dist.init_process_group("mpi")
    cr.manual_seed(0)

    def build():
        cr.manual_seed(0)
        return nn.Sequential(nn.Linear(784, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                             nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10))

    x = cr.from_numpy(np.random.default_rng(0).standard_normal((batch, 784), dtype=np.float32))
    y = cr.from_numpy(np.random.default_rng(1).integers(0, 10, batch))
    loss_fn = nn.CrossEntropyLoss()
    plain = build()
    grads_mb = sum(p.numel() for p in plain.parameters()) * 4 / 2**20

    def backward_of(model):
        def run():
            model.zero_grad()
            loss = loss_fn(model(x), y)
            MPI.COMM_WORLD.Barrier()  # both ranks start backward together
            t0 = time.perf_counter()
            loss.backward()
            return time.perf_counter() - t0
        return run

    flat = np.ones(sum(p.numel() for p in plain.parameters()), dtype=np.float32)

    def comm_only():
        MPI.COMM_WORLD.Barrier()
        t0 = time.perf_counter()
        MPI.COMM_WORLD.Allreduce(MPI.IN_PLACE, flat)
        return time.perf_counter() - t0

    bucketed = DDP(build(), bucket_cap_mb=cap_mb)
    at_end = DDP(build(), bucket_cap_mb=10 * grads_mb + 1)  # one bucket: launched when the last gradient is ready
    runs = [backward_of(plain), comm_only, backward_of(bucketed), backward_of(at_end)]
    times: list[list[float]] = [[] for _ in runs]
    for i in range(repeats + 1):  # interleaved, so that load from other processes hits all four alike
        for j, run in enumerate(runs):
            dt = run()
            if i:
                times[j].append(dt)
    t_bwd, t_comm, t_bucketed, t_end = (statistics.median(t) for t in times)

    def hidden(t):
        return (t_bwd + t_comm - t) / t_comm

    return {"ranks": dist.get_world_size(), "grads_mb": grads_mb, "batch": batch, "bucket_cap_mb": cap_mb,
            "buckets": len(bucketed._buckets), "t_backward_ms": 1e3 * t_bwd, "t_allreduce_ms": 1e3 * t_comm,
            "t_ddp_bucketed_ms": 1e3 * t_bucketed, "t_ddp_one_bucket_ms": 1e3 * t_end,
            "hidden_bucketed": hidden(t_bucketed), "hidden_one_bucket": hidden(t_end)}


# ------------------------------------------------------------------------------------------ driver
def _launch(ranks: int, threads: int, args: list[str], timeout: float) -> dict:
    from chainrule.distributed.launch import loopback_env, mpiexec_argv

    cmd = mpiexec_argv(ranks, ["-m", "bench.distributed", "--worker", *args, "--threads", str(threads)])
    proc = subprocess.run(cmd, env=loopback_env(threads=threads), cwd=Path(__file__).resolve().parent.parent,
                          capture_output=True, text=True, timeout=timeout)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"worker {args} failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.distributed", description=__doc__.splitlines()[0])
    p.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--ranks", type=int, default=2, help="K, the ranks of the data-parallel runs (default 2)")
    p.add_argument("--quick", action="store_true", help="fewer steps and sizes (the smoke run)")
    p.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"where to write results (default {DEFAULT_JSON})")
    a = p.parse_args(argv)
    if a.worker:
        kind, *rest = a.worker
        if kind == "throughput":
            result = worker_throughput(rest[0], int(rest[1]), int(rest[2]), a.threads or 1)
        elif kind == "bandwidth":
            result = worker_bandwidth([int(s) for s in rest[1:]], int(rest[0]))
        else:
            result = worker_overlap(int(rest[0]), int(rest[1]), float(rest[2]), int(rest[3]))
        import chainrule.distributed as dist

        if dist.get_rank() == 0:
            print("RESULT " + json.dumps(result), flush=True)
        return 0

    k = a.ranks
    steps = 2 if a.quick else 4
    results: dict = {"throughput": [], "command": "python -m bench.distributed" + (" --quick" if a.quick else "")}
    print(f"training throughput, images/s (global batch; 1 rank x {k} threads vs {k} ranks x 1 thread)")
    for model, batch in (("resnet", 64), ("mlp", 128)):
        one = _launch(1, k, ["throughput", model, str(batch), str(steps)], 300)
        many = _launch(k, 1, ["throughput", model, str(batch), str(steps)], 300)
        results["throughput"] += [one, many]
        print(f"  {model:7s} b{batch:<4d} 1x{k} threads {one['images_per_second']:8.0f}   "
              f"{k} ranks x1 {many['images_per_second']:8.0f}   ratio {many['images_per_second'] / one['images_per_second']:.2f}")
    sizes = [1, 4, 16] if a.quick else [1, 4, 16, 64]
    bw = _launch(k, 1, ["bandwidth", "3" if a.quick else "7", *map(str, sizes)], 300)
    results["bandwidth"] = bw
    print(f"all-reduce on {k} ranks, GB/s (algorithmic: bytes / seconds, median)")
    for row in bw["rows"]:
        print(f"  {row['mb']:3d} MB  chainrule {row['ours_gb_s']:6.2f} (without the shape check "
              f"{row['unchecked_gb_s']:6.2f})  mpi4py Allreduce {row['mpi4py_gb_s']:6.2f}  time ratio {row['ratio']:.2f} "
              f"({row['ratio_unchecked']:.2f})")
    ov = _launch(k, 1, ["overlap", "1024", "64", "4", "3" if a.quick else "5"], 300)
    results["overlap"] = ov
    print(f"overlap on {k} ranks: MLP with {ov['grads_mb']:.1f} MB of gradients, batch {ov['batch']} per rank")
    print(f"  backward alone {ov['t_backward_ms']:.1f} ms, one all-reduce of all gradients {ov['t_allreduce_ms']:.1f} ms")
    print(f"  DDP, {ov['buckets']} buckets of {ov['bucket_cap_mb']:g} MB: {ov['t_ddp_bucketed_ms']:.1f} ms, "
          f"hidden {100 * ov['hidden_bucketed']:.0f}% of the all-reduce")
    print(f"  DDP, one bucket at the end:  {ov['t_ddp_one_bucket_ms']:.1f} ms, hidden {100 * ov['hidden_one_bucket']:.0f}%")
    tmp = a.json.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n")
    os.replace(tmp, a.json)
    print(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
