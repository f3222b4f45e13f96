"""CIFAR-10 from its local binary version (``cifar-10-batches-bin``; the pickled version is not read)."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from ._common import DatasetFileError, VisionDataset, check_labels, find_files, missing_files_error

_RECORD = 1 + 3 * 32 * 32  # one label byte, then 1024 red, 1024 green and 1024 blue bytes (row-major)


def read_cifar_bin(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read a CIFAR-10 binary batch: images ``(N, 32, 32, 3)`` uint8 (HWC) and labels ``(N,)`` int64."""
    raw = np.fromfile(os.fspath(path), dtype=np.uint8)
    if raw.size == 0 or raw.size % _RECORD != 0:
        raise DatasetFileError(
            f"{path}: {raw.size} bytes is not a whole number of CIFAR-10 records of {_RECORD} bytes")
    records = raw.reshape(-1, _RECORD)
    labels = check_labels(records[:, 0], 10, f"{path} (is this a CIFAR-100 file?)")
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


class CIFAR10(VisionDataset):
    """CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes.

    Reads the binary version: ``data_batch_1.bin`` ... ``data_batch_5.bin`` (train) or
    ``test_batch.bin`` (test) in ``root/cifar-10-batches-bin`` (or in ``root`` itself), with class
    names from ``batches.meta.txt`` when present. Nothing is downloaded: a missing file raises
    ``FileNotFoundError`` saying where to get it and where to put it.

    Samples are ``(image, label)``: the image a uint8 NumPy array ``32 x 32 x 3`` (HWC, what
    torchvision's PIL image holds; ``ToTensor()`` makes it ``3 x 32 x 32`` floats), the label an int.
    ``data`` is the uint8 array ``(N, 32, 32, 3)`` and ``targets`` a list of ints, as in torchvision.
    """

    base_folder = "cifar-10-batches-bin"
    source = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz (the binary version)"
    train_list = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_list = ["test_batch.bin"]
    meta_file = "batches.meta.txt"
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def __init__(self, root: str | os.PathLike, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        super().__init__(root, transform, target_transform)
        self.train = train
        root_dir = os.fspath(root)  # self.root, known here to be given
        folders = [os.path.join(root_dir, self.base_folder), root_dir]
        names = self.train_list if train else self.test_list
        paths = find_files(folders, names)
        if paths is None:
            raise missing_files_error(
                type(self).__name__, names, folders, self.source,
                f"extract the archive into {self.root} (it creates {self.base_folder}/)")
        parts = [read_cifar_bin(p) for p in paths]
        self.data = np.concatenate([images for images, _ in parts])
        self.targets = np.concatenate([labels for _, labels in parts]).tolist()
        meta = os.path.join(os.path.dirname(paths[0]), self.meta_file)
        if os.path.isfile(meta):
            with open(meta, encoding="utf-8") as f:
                names_in_file = [line.strip() for line in f if line.strip()]
            if len(names_in_file) == 10:
                self.classes = names_in_file

    def __len__(self) -> int:
        return self.data.shape[0]

    def __getitem__(self, index: int) -> tuple:
        return self._apply(self.data[index].copy(), self.targets[index])
