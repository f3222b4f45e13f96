"""The 8x8 handwritten digits that ship with scikit-learn (no download, 1,797 images)."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from ...tensor import Tensor
from ._common import VisionDataset


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint train/test index arrays with ``round(test_fraction * n_c)`` test samples of each class ``c``.

    Deterministic for a given ``seed``; both index arrays are sorted.
    """
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = int(round(test_fraction * idx.size))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


class Digits(VisionDataset):
    """scikit-learn's copy of the UCI optical-recognition digits: 1,797 grey 8x8 images of 0-9.

    Samples are ``(image, label)``: the image a float32 Tensor of shape ``(1, 8, 8)`` with values
    in [0, 1] (the original 0-16 intensities divided by 16), the label an int. ``train`` picks one
    side of a fixed stratified split (``test_fraction`` of each class, 20% by default, chosen with
    ``split_seed``): train and test never share an image. ``data`` (N, 1, 8, 8) and ``targets``
    (N,) hold the whole split as Tensors.

    The data come from ``sklearn.datasets.load_digits``, installed with scikit-learn, so ``root``
    and ``download`` are accepted for a torchvision-like signature and not needed.
    """

    classes = [str(d) for d in range(10)]

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False, *, test_fraction: float = 0.2,
                 split_seed: int = 0) -> None:
        super().__init__(root, transform, target_transform)
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
        from sklearn.datasets import load_digits  # heavy import, only when the dataset is used

        bunch = load_digits()
        images = (bunch.images.astype(np.float32) / np.float32(16.0)).reshape(-1, 1, 8, 8)
        labels = bunch.target.astype(np.int64)
        train_idx, test_idx = stratified_split(labels, test_fraction, split_seed)
        idx = train_idx if train else test_idx
        self.train = train
        self.indices = idx  # positions in load_digits() order
        self.data = Tensor._make(np.ascontiguousarray(images[idx]))
        self.targets = Tensor._make(labels[idx])

    def __len__(self) -> int:
        return self.targets._data.shape[0]

    def __getitem__(self, index: int) -> tuple:
        img = Tensor._make(self.data._data[index].copy())  # a copy: in-place transforms must not edit the dataset
        return self._apply(img, int(self.targets._data[index]))
