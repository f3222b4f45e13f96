"""DistributedSampler against torch.utils.data.distributed.DistributedSampler."""

import itertools

import pytest
import torch
from torch.utils.data.distributed import DistributedSampler as TorchSampler

from chainrule.utils.data.distributed import DistributedSampler


@pytest.mark.parametrize("n,k,drop_last", list(itertools.product([1, 5, 7, 8, 10, 13], [1, 2, 3, 4], [False, True])))
def test_unshuffled_shards_equal_torch(n, k, drop_last):
    data = list(range(n))
    for r in range(k):
        ours = DistributedSampler(data, num_replicas=k, rank=r, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(data, num_replicas=k, rank=r, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs) and ours.total_size == theirs.total_size


@pytest.mark.parametrize("n,k,drop_last", [(10, 3, False), (10, 3, True), (2, 5, False), (16, 4, False)])
def test_shuffled_shards_pad_and_stride_as_torch(n, k, drop_last):
    """The permutation is ours; padding, cutting and striding must be torch's applied to it."""
    data = list(range(n))
    shards = [list(DistributedSampler(data, k, r, shuffle=True, seed=7, drop_last=drop_last)) for r in range(k)]
    lengths = [len(TorchSampler(data, k, r, shuffle=True, drop_last=drop_last)) for r in range(k)]
    assert [len(s) for s in shards] == lengths
    interleaved = [shards[r][i] for i in range(lengths[0]) for r in range(k)]
    # torch's rule on a permutation p: p padded by its own head (or cut), then index j goes to rank j % k
    perm = interleaved[:n] if not drop_last else None
    if perm is not None:
        assert sorted(perm) == data
        ext = (perm * (1 + len(interleaved) // n))[: len(interleaved)]
        assert interleaved == ext
    else:
        assert len(set(interleaved)) == len(interleaved) and set(interleaved) <= set(data)


def test_epochs_and_ranks():
    data = list(range(20))
    a = DistributedSampler(data, 2, 0, seed=3)
    b = DistributedSampler(data, 2, 1, seed=3)
    first = list(a)
    assert first == list(DistributedSampler(data, 2, 0, seed=3))  # same seed, same epoch: same order
    assert sorted(first + list(b)) == data
    a.set_epoch(1)
    assert list(a) != first


def test_errors_match_torch():
    for bad in (-1, 2):
        with pytest.raises(ValueError) as ours:
            DistributedSampler([1, 2], num_replicas=2, rank=bad)
        with pytest.raises(ValueError) as theirs:
            TorchSampler([1, 2], num_replicas=2, rank=bad)
        assert str(ours.value) == str(theirs.value)


def test_defaults_need_a_process_group():
    import chainrule.distributed as dist

    if dist.is_initialized():
        pytest.skip("a process group is initialised in this process")
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler([1, 2, 3])
    assert torch.__version__  # torch raises the same ValueError here (its default group is missing too)
