"""chainrule.distributed in one process (MPI singleton): the API, errors, and DDP/SyncBatchNorm at world size 1."""

import sys

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn
from chainrule.nn.parallel import DistributedDataParallel as DDP

pytest.importorskip("mpi4py")


@pytest.fixture
def group():
    dist.init_process_group("mpi")
    yield dist.GroupMember.WORLD
    dist.destroy_process_group()


def test_unknown_backend_lists_the_existing_ones():
    with pytest.raises(ValueError, match=r"Invalid backend: 'nccl'.*\['mpi'\]"):
        dist.init_process_group("nccl")


def test_missing_mpi4py_says_how_to_install(monkeypatch):
    from chainrule.distributed import _mpi

    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(RuntimeError, match=r"pip install chainrule\[distributed\]"):
        _mpi.mpi()


def test_not_initialized_errors_as_torch():
    assert not dist.is_initialized()
    with pytest.raises(ValueError) as ours:
        dist.get_rank()
    with pytest.raises(ValueError) as theirs:
        torch.distributed.get_rank()
    assert "Default process group has not been initialized" in str(ours.value)
    assert "Default process group has not been initialized" in str(theirs.value)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DDP(nn.Linear(2, 2))


def test_single_rank_group(group):
    assert dist.is_available() and dist.is_initialized()
    assert dist.get_rank() == 0 and dist.get_world_size() == 1 and dist.get_backend() == "mpi"
    with pytest.raises(ValueError, match="twice"):
        dist.init_process_group("mpi")
    t = cr.tensor([1.0, 2.0])
    for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX, dist.ReduceOp.MIN, dist.ReduceOp.PRODUCT):
        v = t._version_number
        dist.all_reduce(t, op)
        assert t._version_number > v  # an in-place write, as PyTorch counts it
        np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])
    w = dist.all_reduce(t, async_op=True)
    assert w.wait() and w.is_completed()
    out = [cr.zeros(2)]
    dist.all_gather(out, t)
    np.testing.assert_array_equal(out[0].numpy(), [1.0, 2.0])
    with pytest.raises(ValueError, match="one tensor per rank of the group \\(1\\), got 2"):
        dist.all_gather([cr.zeros(2), cr.zeros(2)], t)
    with pytest.raises(ValueError, match="ReduceOp.AVG needs a floating-point tensor"):
        dist.all_reduce(cr.tensor([1, 2]), dist.ReduceOp.AVG)
    with pytest.raises(TypeError, match="must be a Tensor"):
        dist.all_reduce(np.ones(2))
    with pytest.raises(ValueError, match="``gather_list`` must be specified on destination rank"):
        dist.gather(t, None, dst=0)
    with pytest.raises(ValueError, match="rank 1 is not part of the process group"):
        dist.broadcast(t, src=1)
    g = dist.new_group([0])
    assert dist.get_world_size(g) == 1
    with pytest.raises(ValueError, match="out of range"):
        dist.new_group([3])


def test_ddp_at_world_size_one_is_the_module(group):
    cr.manual_seed(0)
    ref = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    ddp = DDP(nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)))
    ddp.module.load_state_dict(ref.state_dict())
    assert list(ddp.state_dict()) == ["module." + k for k in ref.state_dict()]
    x = cr.randn(5, 4)
    ref(x).square().sum().backward()
    ddp(x).square().sum().backward()
    for a, b in zip(ref.parameters(), ddp.parameters()):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    with pytest.raises(ValueError, match="bucket_cap_mb must be a positive number"):
        DDP(nn.Linear(2, 2), bucket_cap_mb=0)
    with pytest.raises(TypeError, match="expects an nn.Module"):
        DDP(lambda x: x)


def test_ddp_buckets_in_reverse_parameter_order(group):
    net = nn.Sequential(*[nn.Linear(256, 256) for _ in range(6)])  # 6 x 257 KB
    ddp = DDP(net, bucket_cap_mb=0.5)
    first = ddp._buckets[0].indices
    assert first[0] == len(list(net.parameters())) - 1  # the last parameter is in the first bucket
    assert len(ddp._buckets) > 1
    order = [i for b in ddp._buckets for i in b.indices]
    assert order == sorted(order, reverse=True)


@pytest.mark.parametrize("dims", [(6, 3), (6, 3, 5), (4, 3, 2, 2)])
def test_sync_batchnorm_without_peers_is_batchnorm(group, dims):
    cr.manual_seed(0)
    bn = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d}[len(dims)](3)
    sync = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(bn))[0]
    assert isinstance(sync, nn.SyncBatchNorm) and sync.weight is bn.weight
    ref = {2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm1d, 4: torch.nn.BatchNorm2d}[len(dims)](3)
    x = np.random.default_rng(0).standard_normal(dims).astype(np.float32)
    y = sync(cr.tensor(x, requires_grad=True))
    yt = ref(torch.tensor(x))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(sync.running_var.numpy(), ref.running_var.numpy(), rtol=1e-5)


def test_sync_batchnorm_input_check():
    with pytest.raises(ValueError, match="expected at least 2D input \\(got 1D input\\)"):
        nn.SyncBatchNorm(3)(cr.ones(3))


def test_differentiable_all_reduce_gradcheck(group):
    from chainrule.autograd import gradcheck, gradgradcheck
    from chainrule.distributed.nn import functional as dist_fn

    x = cr.tensor(np.random.default_rng(0).standard_normal((3, 2)), dtype=cr.float64, requires_grad=True)
    assert gradcheck(lambda t: dist_fn.all_reduce(t * t) * t, (x,))
    assert gradgradcheck(lambda t: dist_fn.all_reduce(t * t) * t, (x,))
    with pytest.raises(ValueError, match="ReduceOp.SUM only"):
        dist_fn.all_reduce(x, dist.ReduceOp.MAX)
