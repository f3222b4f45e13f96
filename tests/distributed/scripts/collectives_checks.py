"""Run under ``mpiexec -n K``: every collective against NumPy on every ReduceOp and dtype.

Each rank builds every rank's input from a shared seed, so it knows the expected result. Prints
``CHECK name ok|MISMATCH`` lines on rank 0 (rank 0 also reports the other ranks' failures) and
exits 1 on any mismatch.
"""

import sys
import warnings

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule.distributed import ReduceOp

DTYPES = ["float32", "float64", "float16", "int8", "int16", "int32", "int64", "uint8", "bool"]
REDUCE = {ReduceOp.SUM: np.sum, ReduceOp.PRODUCT: np.prod, ReduceOp.MIN: np.min, ReduceOp.MAX: np.max,
          ReduceOp.AVG: np.mean, ReduceOp.BAND: np.bitwise_and.reduce, ReduceOp.BOR: np.bitwise_or.reduce,
          ReduceOp.BXOR: np.bitwise_xor.reduce}
failures: list[str] = []


def inputs(dtype, shape=(3, 5), seed=0):
    g = np.random.default_rng(seed)
    k = dist.get_world_size()
    if dtype == "bool":
        return g.integers(0, 2, (k, *shape)).astype(bool)
    if dtype in ("int8", "uint8"):  # small values: products of K of them stay in range
        return g.integers(1, 4, (k, *shape)).astype(dtype)
    return g.integers(1, 6, (k, *shape)).astype(dtype) if dtype.startswith(("int", "uint")) \
        else (g.standard_normal((k, *shape)) + 2).astype(dtype)


def expect(name, got, want, dtype):
    tol = {"float16": 2e-3, "float32": 1e-6, "float64": 1e-12}.get(dtype, 0)
    if got.dtype != np.dtype(dtype) or not np.allclose(got.astype(np.float64), np.asarray(want, np.float64),
                                                       rtol=tol, atol=tol):
        failures.append(f"{name} on rank {dist.get_rank()}")


def reduced(op, xs, dtype):
    if dtype == "bool":
        fn = {ReduceOp.SUM: np.any, ReduceOp.MAX: np.any, ReduceOp.BOR: np.any, ReduceOp.PRODUCT: np.all,
              ReduceOp.MIN: np.all, ReduceOp.BAND: np.all, ReduceOp.BXOR: np.bitwise_xor.reduce}[op]
        return fn(xs, axis=0)
    if op is ReduceOp.AVG:
        return np.mean(xs.astype(np.float64), axis=0).astype(dtype)
    return REDUCE[op](xs, axis=0).astype(dtype)


def valid(op, dtype):
    floating = dtype.startswith("float")
    if op is ReduceOp.AVG:
        return floating
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR):
        return not floating
    return True


def all_reduce_table():
    r = dist.get_rank()
    for dtype in DTYPES:
        xs = inputs(dtype)
        for op in ReduceOp:
            t = cr.from_numpy(xs[r].copy())
            if not valid(op, dtype):
                try:
                    dist.all_reduce(t, op)
                    failures.append(f"all_reduce {op} {dtype} did not raise")
                except ValueError:
                    pass
                continue
            before = t._data
            dist.all_reduce(t, op)
            if t._data is not before:
                failures.append("all_reduce replaced the tensor's buffer")
            expect(f"all_reduce {op.name} {dtype}", t.numpy(), reduced(op, xs, dtype), dtype)
            # non-contiguous input: written back in place through a copy
            base = cr.from_numpy(np.ascontiguousarray(np.stack([xs[r], xs[r]], axis=1)))
            view = base[:, 0]
            dist.all_reduce(view, op)
            expect(f"all_reduce non-contiguous {op.name} {dtype}", base.numpy()[:, 0], reduced(op, xs, dtype), dtype)
    print_check("all_reduce_every_op_and_dtype")


def other_collectives():
    r, k = dist.get_rank(), dist.get_world_size()
    for dtype in DTYPES:
        xs = inputs(dtype, seed=1)
        t = cr.from_numpy(xs[r].copy())
        dist.broadcast(t, src=k - 1)
        expect(f"broadcast {dtype}", t.numpy(), xs[k - 1], dtype)
        outs = [cr.from_numpy(np.zeros_like(xs[0])) for _ in range(k)]
        dist.all_gather(outs, cr.from_numpy(xs[r].copy()))
        for i in range(k):
            expect(f"all_gather {dtype}", outs[i].numpy(), xs[i], dtype)
        big = cr.from_numpy(np.zeros((k * 3, 5), dtype=dtype))
        dist.all_gather_into_tensor(big, cr.from_numpy(xs[r].copy()))
        expect(f"all_gather_into_tensor {dtype}", big.numpy(), xs.reshape(k * 3, 5), dtype)
        gl = [cr.from_numpy(np.zeros_like(xs[0])) for _ in range(k)] if r == 0 else None
        dist.gather(cr.from_numpy(xs[r].copy()), gl, dst=0)
        if r == 0:
            for i in range(k):
                expect(f"gather {dtype}", gl[i].numpy(), xs[i], dtype)
        pieces = inputs(dtype, seed=2)  # rank 1 % k scatters its pieces
        src = 1 % k
        out = cr.from_numpy(np.zeros_like(xs[0]))
        dist.scatter(out, [cr.from_numpy(p.copy()) for p in pieces] if r == src else None, src=src)
        expect(f"scatter {dtype}", out.numpy(), pieces[r], dtype)
        if dtype == "bool":
            continue
        for op in (ReduceOp.SUM, ReduceOp.MAX, ReduceOp.MIN, ReduceOp.PRODUCT) + ((ReduceOp.AVG,) if dtype.startswith("float") else ()):
            # reduce_scatter: rank i contributes lists[i][j] for every j; rank j keeps op_i lists[i][j]
            lists = np.stack([inputs(dtype, seed=10 + i) for i in range(k)])  # (rank i, piece j, 3, 5)
            out = cr.from_numpy(np.zeros_like(xs[0]))
            dist.reduce_scatter(out, [cr.from_numpy(p.copy()) for p in lists[r]], op)
            expect(f"reduce_scatter {op.name} {dtype}", out.numpy(), reduced(op, lists[:, r], dtype), dtype)
            t = cr.from_numpy(xs[r].copy())
            dist.reduce(t, dst=0, op=op)
            expect(f"reduce {op.name} {dtype}", t.numpy(), reduced(op, xs, dtype) if r == 0 else xs[r], dtype)
    dist.barrier()
    print_check("broadcast_gather_scatter_reduce_scatter_every_dtype")


def async_handles():
    r, k = dist.get_rank(), dist.get_world_size()
    xs = inputs("float32", shape=(1000,), seed=3)
    ts = [cr.from_numpy((xs[r] * (i + 1)).copy()) for i in range(6)]
    works = [dist.all_reduce(t, ReduceOp.SUM, async_op=True) for t in ts]
    outs = [cr.zeros(1000) for _ in range(k)]
    works.append(dist.all_gather(outs, cr.from_numpy(xs[r].copy()), async_op=True))
    works.append(dist.barrier(async_op=True))
    order = list(range(len(works)))[::-1] if r % 2 == 0 else [3, 0, 6, 1, 7, 5, 2, 4]
    pending = set(order)
    # rank-dependent order; the first two are polled with is_completed() until done
    for i in order[:2]:
        while not works[i].is_completed():
            pass
        pending.discard(i)
    for i in order[2:]:
        works[i].wait()
    ok = all(w.is_completed() for w in works)
    for i, t in enumerate(ts):
        expect("async all_reduce", t.numpy(), xs.sum(0) * (i + 1), "float32")
    for i in range(k):
        expect("async all_gather", outs[i].numpy(), xs[i], "float32")
    if not ok:
        failures.append("a waited handle is not completed")
    print_check("async_handles_any_wait_order")


def groups_and_errors():
    r, k = dist.get_rank(), dist.get_world_size()
    members = [i for i in range(k) if i % 2 == 1] or [0]
    g = dist.new_group(members)
    t = cr.tensor([float(r)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dist.all_reduce(t, group=g)
    if r in members:
        expect("new_group all_reduce", t.numpy(), [float(sum(members))], "float32")
        if dist.get_world_size(g) != len(members) or dist.get_rank(g) != members.index(r):
            failures.append("new_group rank/size")
    else:
        expect("non-member unchanged", t.numpy(), [float(r)], "float32")
        if dist.get_rank(g) != -1:
            failures.append("non-member rank is not -1")
    try:  # a shape mismatch raises on every rank and names the ranks
        dist.all_reduce(cr.ones(2 if r == k - 1 else 3))
        failures.append("shape mismatch did not raise")
    except RuntimeError as e:
        if f"rank {k - 1} has shape (2,)" not in str(e) or "rank 0 has shape (3,)" not in str(e):
            failures.append(f"shape mismatch message: {e}")
    print_check("new_group_and_shape_mismatch")


def print_check(name):
    everyone = dist.get_world_size()
    flags = [cr.zeros(1, dtype=cr.int32) for _ in range(everyone)]
    dist.all_gather(flags, cr.tensor([len(failures)], dtype=cr.int32))
    if dist.get_rank() == 0:
        bad = sum(int(f.item()) for f in flags)
        print(f"CHECK {name} {'ok' if bad == 0 else 'MISMATCH'} {failures[:5]}", flush=True)


def main():
    dist.init_process_group("mpi")
    all_reduce_table()
    other_collectives()
    async_handles()
    groups_and_errors()
    flags = cr.tensor([len(failures)], dtype=cr.int64)
    dist.all_reduce(flags)
    dist.destroy_process_group()
    sys.exit(0 if int(flags.item()) == 0 else 1)


if __name__ == "__main__":
    main()
