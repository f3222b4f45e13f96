"""MNIST and Fashion-MNIST, read from local IDX files (plain or gzipped)."""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from collections.abc import Callable

import numpy as np

from ...tensor import Tensor
from ._common import DatasetFileError, VisionDataset, check_labels, check_pixels, find_files, missing_files_error

# IDX type codes -> big-endian NumPy dtypes
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (LeCun's format; gzipped when the name ends in ``.gz``) into an array.

    Layout: two zero bytes, a type code (0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float,
    0x0E double), the number of dimensions, each dimension as a big-endian int32, then the data.
    A file that does not follow it (bad magic, truncated, sizes that disagree, a corrupt ``.gz``)
    raises ``DatasetFileError`` naming the file.
    """
    path = os.fspath(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise DatasetFileError(f"{path} is not an IDX file: bad magic number {raw[:4].hex() or '(empty file)'}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetFileError(f"{path}: truncated IDX header ({len(raw)} bytes, {ndim} dimensions announced)")
    dims = struct.unpack(">" + "I" * ndim, raw[4:header])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = math.prod(dims) * dtype.itemsize  # Python ints: huge dimensions cannot wrap around
    if len(raw) - header != expected:
        raise DatasetFileError(f"{path}: IDX header announces shape {dims} ({expected:,} bytes of data) "
                               f"but the file holds {len(raw) - header:,} bytes")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def _read_bytes(path: str) -> bytes:
    """The file's bytes, gunzipped when the name ends in ``.gz``; a corrupt archive names the file."""
    if not path.endswith(".gz"):
        with open(path, "rb") as f:
            return f.read()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError
        raise DatasetFileError(f"{path}: not a readable gzip file ({e or type(e).__name__})") from None


class MNIST(VisionDataset):
    """The MNIST handwritten digits (60,000 training and 10,000 test 28x28 grey images).

    Files (each may also be gzipped, with ``.gz`` added): ``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, looked up in
    ``root/MNIST/raw`` (torchvision's layout), ``root/MNIST`` or ``root``. Nothing is downloaded:
    a missing file raises ``FileNotFoundError`` saying where to get it and where to put it.

    Samples are ``(image, label)``: the image a uint8 NumPy array ``H x W`` (what torchvision's PIL
    image holds; ``ToTensor()`` makes it a ``1 x 28 x 28`` float Tensor), the label an int.
    ``data`` (uint8, N x 28 x 28) and ``targets`` (int64) are Tensors.
    """

    source = "https://ossci-datasets.s3.amazonaws.com/mnist/ (a mirror of http://yann.lecun.com/exdb/mnist/)"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]
    files = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

    def __init__(self, root: str | os.PathLike, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        super().__init__(root, transform, target_transform)
        self.train = train
        name = type(self).__name__
        root_dir = os.fspath(root)  # self.root, known here to be given
        folders = [os.path.join(root_dir, name, "raw"), os.path.join(root_dir, name), root_dir]
        names = self.files[bool(train)]
        paths = find_files(folders, names, suffixes=("", ".gz"))
        if paths is None:
            raise missing_files_error(
                name, [n + "[.gz]" for n in names], folders, self.source,
                "keep them gzipped or not, and put them in one of those folders")
        images, labels = read_idx(paths[0]), read_idx(paths[1])
        if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise DatasetFileError(f"{name}: expected images (N, H, W) and labels (N,), got {images.shape} and "
                                   f"{labels.shape} from {paths[0]} and {paths[1]}")
        if images.shape[0] == 0:
            raise DatasetFileError(f"{name}: {paths[0]} holds no images")
        # checked here, not in the middle of an epoch: NaN cast to uint8, or label 12 of 10 classes
        self.data = Tensor._make(np.ascontiguousarray(check_pixels(images, paths[0])))
        self.targets = Tensor._make(check_labels(labels, len(self.classes), paths[1]))

    def __len__(self) -> int:
        return self.data._data.shape[0]

    def __getitem__(self, index: int) -> tuple:
        img = self.data._data[index].copy()
        return self._apply(img, int(self.targets._data[index]))


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: the same file names and format as MNIST, in ``root/FashionMNIST/raw``."""

    source = "https://github.com/zalandoresearch/fashion-mnist (data/fashion/*.gz)"
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
