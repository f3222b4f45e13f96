"""Datasets, samplers, collation and DataLoader, checked against torch.utils.data where they are deterministic."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import chainrule
from chainrule.utils import data as cdata
from chainrule.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    random_split,
)


def plain(x):
    """A framework-neutral view of a collated batch: tensors become (dtype name, array)."""
    if isinstance(x, torch.Tensor):
        return ("tensor", str(x.dtype).replace("torch.", ""), x.numpy().tolist())
    if isinstance(x, chainrule.Tensor):
        return ("tensor", x.dtype.name, x.numpy().tolist())
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, [plain(v) for v in x])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [plain(v) for v in x])
    return x


Point = collections.namedtuple("Point", ["x", "y"])

BATCHES = {
    "float32 arrays": [np.arange(6, dtype=np.float32).reshape(2, 3) + i for i in range(3)],
    "uint8 arrays": [np.full((2, 2), i, dtype=np.uint8) for i in range(4)],
    "ints": [3, 1, 4],
    "floats": [0.5, 1.5],
    "bools": [True, False, True],
    "numpy scalars": [np.float32(1.5), np.float32(2.5)],
    "numpy int64 scalars": [np.int64(7), np.int64(9)],
    "strings": ["a", "bc"],
    "tuples": [(np.ones(2, dtype=np.float32) * i, i) for i in range(3)],
    "lists": [[i, float(i)] for i in range(3)],
    "dicts": [{"img": np.zeros((1, 2), dtype=np.float64) + i, "label": i, "name": f"s{i}"} for i in range(2)],
    "namedtuples": [Point(i, np.array([i, i], dtype=np.int32)) for i in range(3)],
    "nested": [({"a": (i, [i, i + 1])}, np.float64(i)) for i in range(2)],
}


@pytest.mark.parametrize("name", list(BATCHES))
def test_default_collate_matches_torch(name):
    batch = BATCHES[name]
    ours = default_collate(batch)
    theirs = tdata.default_collate(batch)
    assert plain(ours) == plain(theirs)


def test_default_collate_stacks_chainrule_tensors_and_checks_sizes():
    batch = [chainrule.tensor([1.0, 2.0]), chainrule.tensor([3.0, 4.0])]
    out = default_collate(batch)
    assert out.shape == (2, 2) and out.dtype == chainrule.float32 and out.tolist() == [[1, 2], [3, 4]]
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object(), object()])


def test_default_convert_matches_torch():
    sample = {"x": np.ones((2, 2), dtype=np.float32), "t": (np.int64(3), "s"), "n": 1.5}
    assert plain(cdata.default_convert(sample)) == plain(tdata.default_convert(sample))


def make_xy(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return x, y


def test_tensor_dataset_and_loader_batches():
    x, y = make_xy(10)
    ds = TensorDataset(chainrule.tensor(x), chainrule.tensor(y))
    assert len(ds) == 10 and ds[3][0].tolist() == x[3].tolist() and ds[3][1].item() == 3
    for drop_last, expected in ((False, [4, 4, 2]), (True, [4, 4])):
        loader = DataLoader(ds, batch_size=4, drop_last=drop_last)
        batches = list(loader)
        assert len(loader) == len(expected) == len(batches)
        assert [b[0].shape[0] for b in batches] == expected
        assert batches[0][0].dtype == chainrule.float32 and batches[0][1].dtype == chainrule.int64
        np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), x[: sum(expected)])
        t_loader = tdata.DataLoader(tdata.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=4,
                                    drop_last=drop_last)
        assert len(t_loader) == len(loader)
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        TensorDataset(chainrule.zeros(3, 2), chainrule.zeros(4))


def test_shuffle_is_reproducible_and_changes_every_epoch():
    x, y = make_xy(20)
    ds = TensorDataset(chainrule.tensor(x), chainrule.tensor(y))

    def epochs(seed, n=3):
        g = chainrule.Generator().manual_seed(seed)
        loader = DataLoader(ds, batch_size=6, shuffle=True, generator=g)
        return [np.concatenate([b[1].numpy() for b in loader]).tolist() for _ in range(n)]

    a, b, c = epochs(0), epochs(0), epochs(1)
    assert a == b  # same seed, same sequence of epochs
    assert a != c
    assert a[0] != a[1] != a[2]  # a new order every epoch
    for order in a:
        assert sorted(order) == list(range(20))  # each epoch is a permutation
    # without a generator the global seed decides
    chainrule.manual_seed(5)
    first = [b[1].tolist() for b in DataLoader(ds, batch_size=20, shuffle=True)]
    chainrule.manual_seed(5)
    again = [b[1].tolist() for b in DataLoader(ds, batch_size=20, shuffle=True)]
    assert first == again


def test_no_autobatching_and_custom_collate():
    x, y = make_xy(4)
    ds = TensorDataset(chainrule.tensor(x), chainrule.tensor(y))
    samples = list(DataLoader(ds, batch_size=None))
    assert len(samples) == 4 and samples[2][0].shape == (3,)
    assert len(DataLoader(ds, batch_size=None)) == 4
    lengths = list(DataLoader(ds, batch_size=3, collate_fn=len))
    assert lengths == [3, 1]


def test_samplers_and_batch_sampler():
    ds = list(range(10))
    assert list(SequentialSampler(ds)) == list(range(10))
    g = chainrule.Generator().manual_seed(3)
    s = RandomSampler(ds, generator=g)
    assert sorted(s) == list(range(10)) and len(s) == 10
    more = list(RandomSampler(ds, num_samples=25, generator=g))
    assert len(more) == 25 and sorted(more[:10]) == list(range(10)) and sorted(more[10:20]) == list(range(10))
    repl = list(RandomSampler(ds, replacement=True, num_samples=200, generator=g))
    assert len(repl) == 200 and set(repl) <= set(range(10)) and len(set(repl)) == 10
    sub = list(SubsetRandomSampler([5, 7, 9], generator=g))
    assert sorted(sub) == [5, 7, 9]
    for drop_last in (False, True):
        ours = list(BatchSampler(SequentialSampler(ds), 3, drop_last))
        theirs = list(tdata.BatchSampler(tdata.SequentialSampler(ds), 3, drop_last))
        assert ours == theirs
        assert len(BatchSampler(SequentialSampler(ds), 3, drop_last)) == len(theirs)
    loader = DataLoader(ds, batch_sampler=BatchSampler(SequentialSampler(ds), 4, False))
    assert [b.tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    loader = DataLoader(ds, sampler=[9, 8, 7], batch_size=2)
    assert [b.tolist() for b in loader] == [[9, 8], [7]]


def test_weighted_random_sampler():
    g = chainrule.Generator().manual_seed(0)
    draws = np.array(list(WeightedRandomSampler([0.0, 1.0, 3.0], 4000, generator=g)))
    counts = np.bincount(draws, minlength=3)
    assert counts[0] == 0 and 0.70 < counts[2] / 4000 < 0.80
    no_repl = list(WeightedRandomSampler([1.0, 1.0, 1.0, 1.0], 4, replacement=False, generator=g))
    assert sorted(no_repl) == [0, 1, 2, 3]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"num_workers": -1}, "num_workers option should be non-negative"),
    ({"sampler": [0, 1], "shuffle": True}, "sampler option is mutually exclusive with shuffle"),
    ({"batch_sampler": [[0, 1]], "batch_size": 2}, "batch_sampler option is mutually exclusive with batch_size"),
    ({"batch_sampler": [[0, 1]], "drop_last": True}, "batch_sampler option is mutually exclusive"),
    ({"batch_size": None, "drop_last": True}, "batch_size=None option disables auto-batching"),
    ({"persistent_workers": True}, "persistent_workers option needs num_workers > 0"),
])
def test_loader_argument_errors_match_torch(kwargs, message):
    ds = list(range(4))
    with pytest.raises(ValueError, match=message):
        DataLoader(ds, **kwargs)
    with pytest.raises(ValueError, match=message):
        tdata.DataLoader(ds, **kwargs)


def test_sampler_argument_errors():
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value"):
        BatchSampler(range(3), 2, 1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        RandomSampler(range(3), replacement=1)


def test_loader_attributes_are_frozen():
    loader = DataLoader(list(range(4)), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        loader.batch_size = 3
    loader.num_workers = 0  # other attributes may change


def test_num_workers_runs_in_process_with_same_batches():
    x, y = make_xy(9)
    ds = TensorDataset(chainrule.tensor(x), chainrule.tensor(y))
    g1, g2 = chainrule.Generator().manual_seed(1), chainrule.Generator().manual_seed(1)
    a = [b[1].tolist() for b in DataLoader(ds, batch_size=4, shuffle=True, generator=g1)]
    b = [b[1].tolist() for b in DataLoader(ds, batch_size=4, shuffle=True, generator=g2, num_workers=2)]
    assert a == b


def test_getitems_is_used_for_whole_batches():
    class Counting(Dataset):
        def __init__(self):
            self.calls = []

        def __len__(self):
            return 5

        def __getitem__(self, i):
            raise AssertionError("__getitem__ should not be called when __getitems__ exists")

        def __getitems__(self, indices):
            self.calls.append(list(indices))
            return [np.float32(i) for i in indices]

    ds = Counting()
    out = [b.tolist() for b in DataLoader(ds, batch_size=2)]
    assert out == [[0.0, 1.0], [2.0, 3.0], [4.0]] and ds.calls == [[0, 1], [2, 3], [4]]
    sub = Subset(ds, [4, 0])
    assert [b.tolist() for b in DataLoader(sub, batch_size=2)] == [[4.0, 0.0]]


def test_subset_concat_and_random_split():
    base = list(range(10, 20))
    sub = Subset(base, [3, 1, 7])
    assert [sub[i] for i in range(3)] == [13, 11, 17] and len(sub) == 3
    cat = ConcatDataset([base, [100, 101]])
    assert len(cat) == 12 and cat[10] == 100 and cat[-1] == 101 and cat[0] == 10
    assert cat.cumulative_sizes == tdata.ConcatDataset([base, [100, 101]]).cumulative_sizes

    g = chainrule.Generator().manual_seed(0)
    parts = random_split(base, [3, 7], generator=g)
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    again = random_split(base, [3, 7], generator=chainrule.Generator().manual_seed(0))
    assert again[0].indices == parts[0].indices
    for n, fractions in ((10, [0.33, 0.33, 0.34]), (7, [0.5, 0.5]), (11, [0.1, 0.2, 0.7])):
        ours = [len(p) for p in random_split(list(range(n)), fractions)]
        theirs = [len(p) for p in tdata.random_split(list(range(n)), fractions)]
        assert ours == theirs
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset"):
        random_split(base, [3, 3])


def test_lengthless_datasets_and_fractional_counts_raise_type_errors_as_torch():
    class NoLen(Dataset):
        def __getitem__(self, index):
            return index

    class NoLenTorch(tdata.Dataset):
        def __getitem__(self, index):
            return index

    with pytest.raises(TypeError, match="object of type 'NoLenTorch' has no len()"):
        tdata.ConcatDataset([NoLenTorch()])
    with pytest.raises(TypeError, match="object of type 'NoLen' has no len()"):
        ConcatDataset([NoLen()])
    with pytest.raises(TypeError, match="object of type 'NoLen' has no len()"):
        random_split(NoLen(), [1])
    loader = DataLoader(NoLen(), batch_size=2)  # as PyTorch: the sampler asks for the length when iterated
    with pytest.raises(TypeError, match="object of type 'NoLen' has no len()"):
        next(iter(loader))
    with pytest.raises(TypeError):  # counts that are not fractions must be integers
        tdata.random_split(list(range(5)), [2.5, 2.5])
    with pytest.raises(TypeError, match="must be integers, got 2.5"):
        random_split(list(range(5)), [2.5, 2.5])


def test_iterable_dataset_batching():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    loader = DataLoader(Stream(), batch_size=3)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]] and len(loader) == 3
    assert len(DataLoader(Stream(), batch_size=3, drop_last=True)) == 2
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert list(DataLoader(Stream(), batch_size=None))[4] == 4
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Stream(), shuffle=True)
    chained = list(Stream() + Stream())
    assert chained == list(range(7)) * 2
