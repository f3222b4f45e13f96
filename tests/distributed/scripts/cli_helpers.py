"""Run under ``mpiexec -n K``: chainrule.cli.distributed against one process.

Checks: the ranks' shares of every global batch partition it; K ranks training through
``wrap_model`` on those shares (uneven shares; with ``nobn`` also a last batch smaller than K)
end with the weights of one process on the global batches; ``evaluate_sharded`` and ``combine_epoch`` equal the
single-process numbers. Prints CHECK lines on rank 0; exits 1 on a mismatch.
"""

import sys

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.backend import Generator
from chainrule.cli import distributed as D
from chainrule.cli.datasets import ArrayDataset, make_loader
from chainrule.cli.trainer import evaluate, train_epoch


def net():
    cr.manual_seed(5)
    if sys.argv[1:2] == ["nobn"]:
        return nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 4))
    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 4))


def main():
    ctx = D.setup(force=True)
    k = ctx.world_size
    g = np.random.default_rng(0)
    # argv: bn|nobn, then the number of samples (batches of 2K + 1; 4K + 2 + 1 leaves a last batch of
    # one sample, smaller than K: padded with weight 0, exact without batch norm only)
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 4 * k + 1
    data = ArrayDataset(g.standard_normal((n, 1, 6, 6)).astype(np.float32), g.integers(0, 4, n))
    ok = True

    loader = make_loader(data, 2 * k + 1, shuffle=True, generator=Generator().manual_seed(3))
    mine = D.shard_loader(ctx, loader)
    probe = D.shard_loader(ctx, make_loader(data, 2 * k + 1, shuffle=True, generator=Generator().manual_seed(3)))
    shares = list(probe.sampler)
    everyone = D._gather_ints(ctx, np.asarray([i for b in shares for i in b] + [-1] * 0))
    ref_batches = list(make_loader(data, 2 * k + 1, shuffle=True, generator=Generator().manual_seed(3)).sampler)
    flat = [i for b in ref_batches for i in b]
    ok_part = sorted(everyone.tolist()) == sorted(flat + [b[r % len(b)] for b in ref_batches for r in range(k)
                                                          if len(b) * (r + 1) // k == len(b) * r // k])
    ok &= ok_part

    model = net()
    train_model = D.wrap_model(ctx, model, mine)
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    result = None
    for epoch in (1, 2):
        result = D.combine_epoch(ctx, train_epoch(train_model, mine, opt, epoch=epoch, epochs=2, progress=False))
    ev = D.evaluate_sharded(ctx, evaluate, model, data, 3)
    if ctx.is_main():
        ref = net()
        ref_opt = cr.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
        ref_loader = make_loader(data, 2 * k + 1, shuffle=True, generator=Generator().manual_seed(3))
        for epoch in (1, 2):
            ref_result = train_epoch(ref, ref_loader, ref_opt, epoch=epoch, epochs=2, progress=False)
        worst = max(float(np.max(np.abs(a.detach().numpy() - b.detach().numpy()) / (1e-6 + np.abs(b.detach().numpy()))))
                    for a, b in zip(model.state_dict().values(), ref.state_dict().values())
                    if a.dtype.is_floating_point)
        ok_w = worst < 1e-4
        ref_ev = evaluate(ref, make_loader(data, 3))
        ok_e = (np.array_equal(ev.predictions, ref_ev.predictions) and np.array_equal(ev.targets, ref_ev.targets)
                and abs(ev.loss - ref_ev.loss) < 1e-4 * abs(ref_ev.loss) + 1e-6 and ev.accuracy == ref_ev.accuracy)
        ok_c = result.images == ref_result.images + sum(1 for b in ref_batches for r in range(k)
                                                        if len(b) * (r + 1) // k == len(b) * r // k)
        print(f"CHECK shards_partition_batches {'ok' if ok_part else 'MISMATCH'}", flush=True)
        print(f"CHECK wrap_model_equals_global_batch max_rel_err={worst:.2e} {'ok' if ok_w else 'MISMATCH'}", flush=True)
        print(f"CHECK evaluate_sharded {'ok' if ok_e else 'MISMATCH'}", flush=True)
        print(f"CHECK combine_epoch_counts {'ok' if ok_c else 'MISMATCH'}", flush=True)
        ok &= ok_w and ok_e and ok_c
    flag = cr.tensor([0 if ok else 1])
    import chainrule.distributed as dist

    dist.all_reduce(flag)
    ctx.done = True  # every rank got here: the exit hook of setup() must not abort
    sys.exit(int(flag.item()) != 0)


if __name__ == "__main__":
    main()
