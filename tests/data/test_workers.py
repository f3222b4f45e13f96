"""DataLoader with worker processes: order, seeding, sharding, errors and shutdown, against PyTorch."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import chainrule as cr
from chainrule.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset, _worker, get_worker_info
from tests.threads import force_two_threads


class Squares(Dataset):
    """Deterministic: sample i is (i, i*i) as a float tensor and an int."""

    def __init__(self, n: int = 10, lib=cr) -> None:
        self.n, self.lib = n, lib

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        return self.lib.tensor([float(i), float(i * i)]), i


class Noisy(Dataset):
    """A random augmentation from each of the three global generators a worker seeds."""

    def __len__(self) -> int:
        return 6

    def __getitem__(self, i: int):
        return cr.tensor([float(i), cr.rand(1).item(), float(np.random.rand()), random.random()])


class WhoAmI(Dataset):
    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int):
        info = get_worker_info()
        return np.array([i, info.id, info.num_workers, info.seed - info.id, os.getpid()], dtype=np.int64)


class Sharded(IterableDataset):
    """Each worker reads every num_workers-th item, starting at its id (PyTorch's recipe)."""

    lib, data = cr, cr.utils.data

    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self):
        info = self.data.get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter([self.lib.tensor(i) for i in range(start, self.n, step)])


class TorchSharded(tud.IterableDataset):
    lib, data = torch, tud
    __init__, __iter__ = Sharded.__init__, Sharded.__iter__


class Failing(Dataset):
    def __init__(self, lib=cr) -> None:
        self.lib = lib

    def __len__(self) -> int:
        return 6

    def __getitem__(self, i: int):
        if i == 3:
            raise ValueError(f"sample {i} is corrupt")
        return self.lib.tensor(i)


class MissingKey(Dataset):
    def __len__(self) -> int:
        return 2

    def __getitem__(self, i: int):
        return {}["label"]


def batches(loader) -> list:
    return [(x.tolist(), y.tolist()) for x, y in loader]


def test_same_batches_with_and_without_workers():
    ds = Squares(11)
    runs = []
    for nw in (0, 2, 3):
        g = cr.Generator().manual_seed(7)
        loader = DataLoader(ds, batch_size=3, shuffle=True, generator=g, num_workers=nw)
        runs.append([batches(loader) for _ in range(2)])  # two epochs: each draws a new order
    assert runs[0] == runs[1] == runs[2]
    assert runs[0][0] != runs[0][1]
    assert sorted(i for _, ys in runs[0][0] for i in ys) == list(range(11))


def test_sequential_order_matches_pytorch():
    ours = batches(DataLoader(Squares(10), batch_size=4, num_workers=2, drop_last=True))
    theirs = batches(tud.DataLoader(Squares(10, torch), batch_size=4, num_workers=2, drop_last=True))
    assert ours == theirs


def test_worker_info_seeds_and_round_robin():
    cr.manual_seed(0)
    rows = np.concatenate([b.numpy() for b in DataLoader(WhoAmI(), batch_size=2, num_workers=2)])
    assert rows[:, 0].tolist() == list(range(8))
    assert rows[:, 1].tolist() == [0, 0, 1, 1, 0, 0, 1, 1]  # whole batches, round robin
    assert set(rows[:, 2]) == {2}
    assert len(set(rows[:, 3])) == 1  # seed = base_seed + worker id
    assert len(set(rows[:, 4])) == 2 and os.getpid() not in set(rows[:, 4])
    assert get_worker_info() is None
    cr.manual_seed(0)
    again = np.concatenate([b.numpy() for b in DataLoader(WhoAmI(), batch_size=2, num_workers=2)])
    assert again[0, 3] == rows[0, 3]  # the base seed comes from the seeded global generator


def test_worker_info_is_frozen_like_pytorch():
    info = cr.utils.data.WorkerInfo(id=0, num_workers=1, seed=5, dataset=None)
    with pytest.raises(RuntimeError, match="Cannot assign attributes to WorkerInfo objects"):
        info.id = 3
    assert repr(info) == "WorkerInfo(id=0, num_workers=1, seed=5, dataset=None)"


def test_random_augmentations_reproducible_and_distinct_per_worker():
    def run(seed):
        cr.manual_seed(seed)
        loader = DataLoader(Noisy(), batch_size=3, num_workers=2)
        return [np.concatenate([b.numpy() for b in loader]) for _ in range(2)]

    a, b, c = run(1), run(1), run(2)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0][:, 1:], a[1][:, 1:])  # a new epoch draws new seeds
    assert not np.array_equal(a[0][:, 1:], c[0][:, 1:])
    # batch 0 comes from worker 0 and batch 1 from worker 1: different streams for every generator
    assert np.all(a[0][0, 1:] != a[0][3, 1:])


def test_worker_init_fn_runs_in_each_worker(tmp_path):
    def init(worker_id):
        (tmp_path / f"w{worker_id}").write_text(str(get_worker_info().num_workers))
        np.random.seed(100 + worker_id)

    out = np.concatenate([b.numpy() for b in DataLoader(Noisy(), batch_size=3, num_workers=2, worker_init_fn=init)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w0", "w1"]
    assert (tmp_path / "w1").read_text() == "2"
    assert out[0, 2] == np.random.RandomState(100).rand()  # worker_init_fn runs after the seeding
    with pytest.raises(TypeError, match="worker_init_fn should be callable"):
        DataLoader(Noisy(), num_workers=2, worker_init_fn=3)


@pytest.mark.parametrize("batch_size", [None, 2, 3])
def test_iterable_dataset_sharding_matches_pytorch(batch_size):
    ours = [b.tolist() for b in DataLoader(Sharded(9), batch_size=batch_size, num_workers=2)]
    theirs = [b.tolist() for b in tud.DataLoader(TorchSharded(9), batch_size=batch_size, num_workers=2)]
    assert ours == theirs


def test_persistent_workers_keep_their_processes():
    loader = DataLoader(WhoAmI(), batch_size=4, num_workers=2, persistent_workers=True)
    pids = [{int(p) for b in loader for p in b[:, 4].tolist()} for _ in range(3)]
    assert pids[0] == pids[1] == pids[2] and len(pids[0]) == 2
    fresh = DataLoader(WhoAmI(), batch_size=4, num_workers=2)
    assert {int(p) for b in fresh for p in b[:, 4].tolist()}.isdisjoint(pids[0])
    # an epoch abandoned half way: the next one still starts from the beginning
    it = iter(loader)
    next(it)
    assert [b[:, 0].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_break_shuts_workers_down():
    it = iter(DataLoader(Squares(40), batch_size=2, num_workers=2))
    next(it)
    workers = list(it._workers)
    assert all(w.is_alive() for w in workers)
    del it
    for w in workers:
        w.join(timeout=10)
    assert not any(w.is_alive() for w in workers)


def test_worker_exception_reraised_with_worker_id_and_traceback():
    with pytest.raises(ValueError) as ours:
        list(DataLoader(Failing(), batch_size=2, num_workers=2))
    torch_iter = iter(tud.DataLoader(Failing(torch), batch_size=2, num_workers=2))
    with pytest.raises(ValueError) as theirs:
        list(torch_iter)
    torch_iter._shutdown_workers()  # PyTorch leaves its workers running after a worker error
    first = "Caught ValueError in DataLoader worker process 1."
    assert str(theirs.value).splitlines()[0] == first == str(ours.value).splitlines()[0]
    assert "Original Traceback (most recent call last):" in str(ours.value)
    assert "in __getitem__" in str(ours.value) and "ValueError: sample 3 is corrupt" in str(ours.value)


def test_key_error_message_is_readable():
    with pytest.raises(KeyError) as err:
        list(DataLoader(MissingKey(), num_workers=2))
    assert str(err.value).startswith("Caught KeyError in DataLoader worker process 0.\nOriginal Traceback")


def test_batch_that_cannot_be_sent_back():
    with pytest.raises(RuntimeError, match="(?s)worker process 0.*cannot be sent to the main process"):
        list(DataLoader(Squares(4), batch_size=2, num_workers=2, collate_fn=lambda b: (lambda: b)))


class Unpicklable(Dataset):
    def __init__(self) -> None:
        self.transform = lambda x: x + 1

    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int):
        return self.transform(cr.tensor(float(i)))


def test_spawn_context():
    # a TensorDataset crosses a 'spawn' start: tensors travel as arrays
    ds = TensorDataset(cr.arange(12.0).reshape(6, 2), cr.arange(6))
    out = batches(DataLoader(ds, batch_size=4, num_workers=2, multiprocessing_context="spawn"))
    assert out == [([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]], [0, 1, 2, 3]), ([[8.0, 9.0], [10.0, 11.0]], [4, 5])]
    with pytest.raises(RuntimeError, match=r"cannot send the dataset Unpicklable .* started with 'spawn'.*lambda"):
        iter(DataLoader(Unpicklable(), num_workers=2, multiprocessing_context="spawn"))
    # with 'fork' nothing is sent: the same dataset works
    assert [b.item() for b in DataLoader(Unpicklable(), num_workers=2)] == [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(TypeError, match="tensors are not pickled"):  # plain pickle still refuses tensors
        import pickle

        pickle.dumps(cr.ones(1))


class ConvTransform(Dataset):
    """A transform that runs chainrule operators (a convolution, a matrix product) in the worker."""

    def __init__(self) -> None:
        self.w = cr.randn(4, 3, 3, 3)

    def __len__(self) -> int:
        return 6

    def __getitem__(self, i: int):
        x = cr.full((2, 3, 16, 16), float(i))
        y = cr.nn.functional.conv2d(x, self.w, padding=1)
        return (y.flatten(1) @ y.flatten(1).T).sum()


def test_chainrule_ops_in_forked_workers_do_not_deadlock(monkeypatch):
    force_two_threads(monkeypatch)
    ds = ConvTransform()
    ds[0]  # the parent's thread pool is running when the workers are forked
    expected = [ds[i].item() for i in range(6)]
    got = [b.tolist() for b in DataLoader(ds, batch_size=2, num_workers=2, timeout=60)]
    np.testing.assert_allclose(np.concatenate(got), expected, rtol=1e-5)


class Slow(Dataset):
    def __len__(self) -> int:
        return 2

    def __getitem__(self, i: int):
        import time

        time.sleep(1)
        return i


class Dying(Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int):
        os._exit(3)


def test_timeout_and_dead_worker(monkeypatch):
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.3 seconds"):
        list(DataLoader(Slow(), num_workers=1, timeout=0.3))
    monkeypatch.setattr(_worker, "_STATUS_INTERVAL", 0.2)
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+.*\) exited unexpectedly"):
        list(DataLoader(Dying(), num_workers=2))


def test_prefetch_factor_and_argument_checks():
    ds = Squares(9)
    assert batches(DataLoader(ds, batch_size=2, num_workers=2, prefetch_factor=1)) == batches(DataLoader(ds, batch_size=2))
    cases = [
        dict(num_workers=0, prefetch_factor=2),
        dict(num_workers=0, persistent_workers=True),
        dict(num_workers=0, multiprocessing_context="spawn"),
        dict(num_workers=2, multiprocessing_context="nope"),
        dict(num_workers=2, multiprocessing_context=3),
        dict(num_workers=-1),
    ]
    for kw in cases:
        with pytest.raises((ValueError, TypeError)) as theirs:
            tud.DataLoader(Squares(3, torch), **kw)
        with pytest.raises(theirs.type) as ours:
            DataLoader(ds, **kw)
        assert str(ours.value) == str(theirs.value), kw
