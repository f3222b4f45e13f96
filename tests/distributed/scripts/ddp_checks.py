"""Run under ``mpiexec -n K``: DDP on K ranks against one process with the whole batch.

Each check trains K replicas with DistributedDataParallel + DistributedSampler(shuffle=False),
per-rank batch B/K, and (on rank 0) one plain model with batch B from the same start (rank 0's
initial weights: the ranks start from different ones, DDP's broadcast must make them equal).
Prints one ``CHECK name max_rel_err`` line per check on rank 0; exits 1 on any mismatch.
"""

import sys

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn
from chainrule.nn.parallel import DistributedDataParallel as DDP
from chainrule.utils.data import DataLoader, TensorDataset
from chainrule.utils.data.distributed import DistributedSampler

RTOL, ATOL = 1e-4, 1e-6
B, N = 8, 32


def mlp():
    return nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 3))


def bn_net():
    # no conv bias: batch norm cancels it, its gradient is rounding noise that Adam would amplify
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(64, 3))


def data(kind):
    g = np.random.default_rng(0)
    x = g.standard_normal((N, 10) if kind == "mlp" else (N, 2, 4, 4)).astype(np.float32)
    y = g.integers(0, 3, N)
    return TensorDataset(cr.tensor(x), cr.tensor(y))


def make_opt(name, params):
    if name == "sgd":
        return cr.optim.SGD(params, lr=0.1, momentum=0.9)
    return cr.optim.Adam(params, lr=0.01)


def train(model, loader, opt, epochs, accumulate=1, ddp=None, sampler=None):
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        if sampler is not None:
            sampler.set_epoch(epoch)
        batches = list(loader)
        for j in range(0, len(batches), accumulate):
            opt.zero_grad()
            group = batches[j: j + accumulate]
            for k, (x, y) in enumerate(group):
                last = k == len(group) - 1
                if ddp is not None and not last:
                    with ddp.no_sync():
                        loss_fn(model(x), y).backward()
                else:
                    loss_fn(model(x), y).backward()
            opt.step()


def compare(name, ref_state, got_state):
    worst, where = 0.0, ""
    ok = True
    for key, ref in ref_state.items():
        got = got_state["module." + key].numpy()
        ref = ref.numpy()
        if ref.dtype.kind != "f":
            ok &= bool(np.array_equal(ref, got))
            continue
        err = np.abs(got - ref) / (ATOL + np.abs(ref))
        if float(err.max()) > worst:
            worst, where = float(err.max()), key
        ok &= bool(np.allclose(got, ref, rtol=RTOL, atol=ATOL))
    print(f"CHECK {name} max_rel_err={worst:.2e} ({where}) {'ok' if ok else 'MISMATCH'}", flush=True)
    return ok


def replicas_equal(state):
    """Every rank must end with bit-identical parameters."""
    ok = True
    for t in state.values():
        if not t.dtype.is_floating_point:
            continue
        outs = [cr.zeros_like(t) for _ in range(dist.get_world_size())]
        dist.all_gather(outs, t.contiguous())
        ok &= all(np.array_equal(o.numpy(), outs[0].numpy()) for o in outs)
    return ok


def check(name, kind, opt_name, epochs=2, accumulate=1, sync_bn=False):
    rank, k = dist.get_rank(), dist.get_world_size()
    ds = data(kind)
    build = mlp if kind == "mlp" else bn_net
    cr.manual_seed(100 + rank)
    local = build()
    if sync_bn:
        local = nn.SyncBatchNorm.convert_sync_batchnorm(local)
    ddp = DDP(local)
    sampler = DistributedSampler(ds, shuffle=False)
    loader = DataLoader(ds, batch_size=B // k // accumulate if accumulate > 1 else B // k, sampler=sampler)
    train(ddp, loader, make_opt(opt_name, ddp.parameters()), epochs, accumulate, ddp, sampler)
    state = ddp.state_dict()
    same = replicas_equal(state)
    if rank != 0:
        return True
    cr.manual_seed(100)
    ref = build()
    ref_loader = DataLoader(ds, batch_size=B // accumulate if accumulate > 1 else B, shuffle=False)
    train(ref, ref_loader, make_opt(opt_name, ref.parameters()), epochs, accumulate)
    if not same:
        print(f"CHECK {name} replicas differ MISMATCH", flush=True)
    return compare(name, ref.state_dict(), state) and same


def unused_parameters():
    """find_unused_parameters: a branch unused everywhere keeps grad None; one used on rank 0 only is averaged."""
    rank, k = dist.get_rank(), dist.get_world_size()

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 2)
            self.b = nn.Linear(4, 2)
            self.never = nn.Linear(4, 2)

        def forward(self, x, use_b):
            return self.a(x) + (self.b(x) if use_b else 0)

    cr.manual_seed(0)
    net = DDP(Net(), find_unused_parameters=True)
    x = cr.ones(3, 4)
    net(x, rank == 0).sum().backward()
    ok = net.module.never.weight.grad is None
    expected_b = np.full((2, 4), 3.0 / k, dtype=np.float32)
    ok &= np.allclose(net.module.b.weight.grad.numpy(), expected_b)
    ok &= np.allclose(net.module.a.weight.grad.numpy(), np.full((2, 4), 3.0, dtype=np.float32))
    try:  # without the flag, an unused parameter is reported at the next forward
        plain = DDP(Net())
        plain(x, True).sum().backward()
        plain(x, True)
        ok = False
    except RuntimeError as e:
        ok &= "never.weight" in str(e) and "find_unused_parameters=True" in str(e)
    if rank == 0:
        print(f"CHECK unused_parameters {'ok' if ok else 'MISMATCH'}", flush=True)
    return ok


def syncbn_gradients():
    """float64: SyncBatchNorm on this rank's slice gives the slice of BatchNorm's output and input
    gradient on the whole batch, and the ranks' weight/bias gradients sum to BatchNorm's."""
    rank, k = dist.get_rank(), dist.get_world_size()
    g = np.random.default_rng(4)
    x = g.standard_normal((2 * k, 3, 2, 2))
    w_out = g.standard_normal(x.shape)  # L = sum(w_out * y): a loss that weighs every output
    lo, hi = 2 * rank, 2 * rank + 2
    sync = nn.SyncBatchNorm(3, dtype=cr.float64)
    ref = nn.BatchNorm2d(3, dtype=cr.float64)
    weight = g.standard_normal(3)
    for m in (sync, ref):
        m.weight.data = cr.tensor(weight)
        m.bias.data = cr.tensor(np.arange(3.0))
    xs = cr.tensor(x[lo:hi], requires_grad=True)
    ys = sync(xs)
    (ys * cr.tensor(w_out[lo:hi])).sum().backward()
    xr = cr.tensor(x, requires_grad=True)
    yr = ref(xr)
    (yr * cr.tensor(w_out)).sum().backward()
    ok = np.allclose(ys.detach().numpy(), yr.detach().numpy()[lo:hi], rtol=1e-10, atol=1e-12)
    ok &= np.allclose(xs.grad.numpy(), xr.grad.numpy()[lo:hi], rtol=1e-9, atol=1e-12)
    for mine, whole in ((sync.weight.grad, ref.weight.grad), (sync.bias.grad, ref.bias.grad)):
        total = mine.clone()
        dist.all_reduce(total)
        ok &= np.allclose(total.numpy(), whole.numpy(), rtol=1e-10, atol=1e-12)
    ok &= np.allclose(sync.running_var.numpy(), ref.running_var.numpy(), rtol=1e-12)
    ok &= np.allclose(sync.running_mean.numpy(), ref.running_mean.numpy(), rtol=1e-12, atol=1e-15)
    if rank == 0:
        print(f"CHECK syncbn_gradients_float64 {'ok' if ok else 'MISMATCH'}", flush=True)
    return bool(ok)


def kept_gradients():
    """A .grad kept by the user past the next backward is not overwritten (bucket memory is reused
    only when no gradient of the last iteration is alive)."""
    rank = dist.get_rank()
    cr.manual_seed(0)
    net = DDP(mlp(), bucket_cap_mb=0.001)
    x = cr.ones(2, 10) * (rank + 1)
    kept = None
    ok = True
    for step in range(3):
        net.zero_grad()
        (net(x) * (step + 1)).sum().backward()
        if step == 0:
            kept = [p.grad for p in net.parameters()]
            copies = [g.numpy().copy() for g in kept]
    ok &= all(np.array_equal(g.numpy(), c) for g, c in zip(kept, copies))
    ok &= all(np.allclose(p.grad.numpy(), 3 * c) for p, c in zip(net.parameters(), copies))
    if rank == 0:
        print(f"CHECK kept_gradients {'ok' if ok else 'MISMATCH'}", flush=True)
    return ok


def mismatched_models():
    """Different parameter shapes across ranks raise at construction, on every rank, naming the ranks."""
    rank, k = dist.get_rank(), dist.get_world_size()
    try:
        DDP(nn.Linear(4, 3 if rank == k - 1 else 2))
        ok = False
    except RuntimeError as e:
        ok = "'weight' has shape (2, 4)" in str(e) and f"(3, 4) (chainrule.float32) on rank {k - 1}" in str(e)
    if rank == 0:
        print(f"CHECK mismatched_models {'ok' if ok else 'MISMATCH'}", flush=True)
    return ok


def main():
    dist.init_process_group("mpi")
    which = sys.argv[1:] or ["sgd", "adam", "syncbn", "no_sync", "unused", "mismatch", "kept", "syncbn_grad"]
    ok = True
    if "sgd" in which:
        ok &= check("mlp_sgd_momentum", "mlp", "sgd")
    if "adam" in which:
        ok &= check("mlp_adam", "mlp", "adam")
    if "syncbn" in which:
        ok &= check("syncbn_sgd_momentum", "bn", "sgd", sync_bn=True)
        ok &= check("syncbn_adam", "bn", "adam", sync_bn=True)
    if "no_sync" in which:
        ok &= check("no_sync_accumulate", "mlp", "sgd", accumulate=2)
    if "unused" in which:
        ok &= unused_parameters()
    if "syncbn_grad" in which:
        ok &= syncbn_gradients()
    if "kept" in which:
        ok &= kept_gradients()
    if "mismatch" in which:
        ok &= mismatched_models()
    dist.destroy_process_group()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
