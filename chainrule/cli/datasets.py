"""The datasets the ``chainrule`` command knows by name, and their train/validation/test splits.

Every split is held in memory as normalised float32 arrays ``(N, C, H, W)`` with int64 labels:
normalising once up front costs less than doing it per sample in every epoch. The validation
set is a seeded, held-out part of the training set; the test set is the dataset's own test split.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..backend import Generator
from ..data import datasets as ds
from ..data import transforms as T
from ..tensor import Tensor
from ..utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler
from ._common import CLIError


@dataclass(frozen=True)
class DatasetSpec:
    """What the trainer needs to know about a dataset before it reads a single image."""

    name: str
    description: str
    in_channels: int
    input_size: int
    classes: tuple[str, ...]
    mean: tuple[float, ...]  # per channel, of the training images scaled to [0, 1]
    std: tuple[float, ...]
    load: Callable[[str, bool], tuple[np.ndarray, np.ndarray]] = field(repr=False)
    augment: Callable[[Generator], Callable] | None = field(default=None, repr=False)

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def _load_digits(root: str, train: bool) -> tuple[np.ndarray, np.ndarray]:
    d = ds.Digits(train=train)
    return d.data.numpy(), d.targets.numpy()


def _load_idx(cls: type) -> Callable[[str, bool], tuple[np.ndarray, np.ndarray]]:
    def load(root: str, train: bool) -> tuple[np.ndarray, np.ndarray]:
        d = cls(root, train=train)
        images = d.data.numpy().astype(np.float32)[:, None] / np.float32(255)
        return images, d.targets.numpy()
    return load


def _load_cifar10(root: str, train: bool) -> tuple[np.ndarray, np.ndarray]:
    d = ds.CIFAR10(root, train=train)
    images = d.data.transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255)
    return np.ascontiguousarray(images), np.asarray(d.targets, dtype=np.int64)


def _cifar_augment(generator: Generator) -> Callable:
    return T.Compose([T.RandomCrop(32, padding=4, generator=generator),
                      T.RandomHorizontalFlip(generator=generator)])


_DIGITS = tuple(str(d) for d in range(10))

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec for spec in (
        DatasetSpec("digits", "scikit-learn's 8x8 handwritten digits (1,797 images, no files needed)",
                    1, 8, _DIGITS, (0.3055,), (0.3761,), _load_digits),
        DatasetSpec("mnist", "MNIST 28x28 digits (IDX files under DATA_ROOT/MNIST/raw)",
                    1, 28, _DIGITS, (0.1307,), (0.3081,), _load_idx(ds.MNIST)),
        DatasetSpec("fashion-mnist", "Fashion-MNIST 28x28 clothes (IDX files under DATA_ROOT/FashionMNIST/raw)",
                    1, 28, tuple(ds.FashionMNIST.classes), (0.2860,), (0.3530,), _load_idx(ds.FashionMNIST)),
        DatasetSpec("cifar10", "CIFAR-10 32x32 colour images (binary version under DATA_ROOT/cifar-10-batches-bin)",
                    3, 32, tuple(ds.CIFAR10.classes), (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616),
                    _load_cifar10, _cifar_augment),
    )
}


def get_dataset_spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; available datasets: {', '.join(DATASETS)}")
    return DATASETS[name]


class ArrayDataset(Dataset):
    """``(image, label)`` samples from in-memory arrays, with an optional per-sample ``transform``.

    Indexing with a list of indices returns a whole batch ``(images, labels)`` gathered with one
    indexing operation (PyTorch's idiom for batched datasets: a ``DataLoader`` with
    ``batch_size=None`` and a ``BatchSampler`` as its sampler, see ``make_loader``).
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform: Callable | None = None) -> None:
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return self.labels.shape[0]

    def __getitem__(self, index: int | list[int]) -> tuple[Tensor, Tensor | int]:
        if isinstance(index, list):
            idx = np.asarray(index, dtype=np.int64)
            images = self.images[idx]
            if self.transform is not None:
                images = np.stack([self.transform(img) for img in images])
            return Tensor._make(images), Tensor._make(self.labels[idx])
        img = self.images[index]
        if self.transform is not None:
            img = self.transform(img)
        return Tensor._make(np.ascontiguousarray(img)), int(self.labels[index])


def make_loader(dataset: ArrayDataset, batch_size: int, shuffle: bool = False,
                generator: Generator | None = None) -> DataLoader:
    """Batches of ``dataset`` in sampler order (a new permutation from ``generator`` each epoch when ``shuffle``)."""
    order = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
    return DataLoader(dataset, batch_size=None, sampler=BatchSampler(order, batch_size, drop_last=False))


@dataclass
class Splits:
    train: ArrayDataset
    val: ArrayDataset | None
    test: ArrayDataset


def _normalise(images: np.ndarray, spec: DatasetSpec) -> np.ndarray:
    mean = np.asarray(spec.mean, dtype=np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(spec.std, dtype=np.float32).reshape(1, -1, 1, 1)
    return np.ascontiguousarray((images - mean) / std, dtype=np.float32)


def load_splits(spec: DatasetSpec, root: str, *, seed: int, val_fraction: float, train_limit: int | None = None,
                test_limit: int | None = None, augment: Callable | None = None, need_train: bool = True) -> Splits:
    """Normalised train / validation / test splits.

    The training images are shuffled with ``seed``; the first ``train_limit`` of them (all when
    None) are kept, and ``round(val_fraction * n)`` of those become the validation set. The test
    set is the first ``test_limit`` test images. ``augment`` (a per-sample transform) applies to
    the training split only.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise CLIError(f"the validation fraction must be in [0, 1), got {val_fraction}")
    if test_limit is not None and test_limit < 1:
        raise CLIError(f"--test-limit must be a positive number of images, got {test_limit}")
    images, labels = spec.load(root, False)
    n_test = labels.shape[0] if test_limit is None else min(test_limit, labels.shape[0])
    if n_test == 0:
        raise CLIError(f"the {spec.name} test set under '{root}' holds no images")
    test = ArrayDataset(_normalise(images[:n_test], spec), labels[:n_test])
    if not need_train:
        empty = ArrayDataset(test.images[:0], test.labels[:0])
        return Splits(empty, None, test)
    images, labels = spec.load(root, True)
    order = np.random.default_rng(seed).permutation(labels.shape[0])
    if train_limit is not None:
        order = order[:train_limit]
    n_val = int(round(val_fraction * order.size))
    if order.size - n_val < 1:
        raise CLIError(f"no training images left: {order.size} images, {n_val} of them held out for validation "
                       "(lower --val-fraction or raise --train-limit)")
    images = _normalise(images, spec)
    val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
    train = ArrayDataset(images[train_idx], labels[train_idx], augment)
    val = ArrayDataset(images[val_idx], labels[val_idx]) if n_val else None
    return Splits(train, val, test)
