"""Bad dataset files are refused when they are read, with a message naming the file: never cast,
trained on, or noticed in the middle of an epoch."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from chainrule.data.datasets import CIFAR10, MNIST, DatasetFileError, read_idx
from tests.data.test_datasets import write_cifar, write_idx


def _mnist(tmp_path, images, labels, image_code=0x08, label_code=0x08, gz=False):
    folder = tmp_path / "MNIST" / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    write_idx(folder / f"train-images-idx3-ubyte{suffix}", images, image_code)
    write_idx(folder / f"train-labels-idx1-ubyte{suffix}", labels, label_code)
    return folder


def _good(n=5):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, 4, 4)).astype(np.uint8), rng.integers(0, 10, n).astype(np.uint8)


def test_float_images_holding_nan_are_refused_not_cast(tmp_path):
    images, labels = _good()
    images = images.astype(np.float32)
    images[1, 2, 3] = np.nan
    folder = _mnist(tmp_path, images, labels, image_code=0x0D)
    with pytest.raises(DatasetFileError, match="pixel values must be whole numbers in 0-255, found nan") as info:
        MNIST(tmp_path)
    assert str(folder / "train-images-idx3-ubyte") in str(info.value)


@pytest.mark.parametrize("value", [256.0, -1.0, 0.5])
def test_float_images_out_of_byte_range_are_refused(tmp_path, value):
    images, labels = _good()
    images = images.astype(np.float32)
    images[0, 0, 0] = value
    _mnist(tmp_path, images, labels, image_code=0x0D)
    with pytest.raises(DatasetFileError, match="0-255"):
        MNIST(tmp_path)


def test_float_images_holding_whole_bytes_load(tmp_path):
    images, labels = _good()
    _mnist(tmp_path, images.astype(np.float32), labels, image_code=0x0D)
    np.testing.assert_array_equal(MNIST(tmp_path).data.numpy(), images)


@pytest.mark.parametrize("bad", [12, 255, 10])
def test_labels_out_of_range_are_refused_at_load(tmp_path, bad):
    images, labels = _good()
    labels[3] = bad
    folder = _mnist(tmp_path, images, labels)
    with pytest.raises(DatasetFileError, match=f"label {bad} out of range 0-9") as info:
        MNIST(tmp_path)
    assert str(folder / "train-labels-idx1-ubyte") in str(info.value)


def test_negative_and_fractional_labels_are_refused(tmp_path):
    images, labels = _good()
    _mnist(tmp_path, images, labels.astype(np.int32) - 3, label_code=0x0C)
    with pytest.raises(DatasetFileError, match="out of range"):
        MNIST(tmp_path)
    fractional = labels.astype(np.float32) + 0.5
    _mnist(tmp_path, images, fractional, label_code=0x0D)
    with pytest.raises(DatasetFileError, match="whole numbers"):
        MNIST(tmp_path)


def test_image_and_label_counts_must_agree(tmp_path):
    images, labels = _good(5)
    _mnist(tmp_path, images, labels[:4])
    with pytest.raises(DatasetFileError, match=r"expected images \(N, H, W\) and labels \(N,\)"):
        MNIST(tmp_path)


def test_empty_dataset_is_refused(tmp_path):
    _mnist(tmp_path, np.zeros((0, 4, 4), np.uint8), np.zeros(0, np.uint8))
    with pytest.raises(DatasetFileError, match="holds no images"):
        MNIST(tmp_path)


def test_truncated_idx_body_and_header(tmp_path):
    path = tmp_path / "x.idx"
    write_idx(path, np.arange(12, dtype=np.uint8).reshape(3, 4))
    raw = path.read_bytes()
    path.write_bytes(raw[:-1])
    with pytest.raises(DatasetFileError, match=rf"{path}: IDX header announces shape \(3, 4\)"):
        read_idx(path)
    path.write_bytes(raw[:9])  # the second dimension is cut
    with pytest.raises(DatasetFileError, match="truncated IDX header"):
        read_idx(path)
    path.write_bytes(b"")
    with pytest.raises(DatasetFileError, match="empty file"):
        read_idx(path)


def test_huge_dimensions_do_not_wrap_around(tmp_path):
    # 2^32-1 cubed times 8 bytes overflows int64: the check must still see a size mismatch
    path = tmp_path / "huge.idx"
    dims = (0xFFFFFFFF,) * 3 + (0x10000,) * 2
    path.write_bytes(bytes([0, 0, 0x0E, len(dims)]) + struct.pack(">" + "I" * len(dims), *dims) + b"\x00" * 8)
    with pytest.raises(DatasetFileError, match="announces shape"):
        read_idx(path)


def test_wrong_magic(tmp_path):
    path = tmp_path / "x.idx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    with pytest.raises(DatasetFileError, match=f"{path} is not an IDX file: bad magic number 89504e47"):
        read_idx(path)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "flipped"])
def test_corrupt_gzip_names_the_file(tmp_path, damage):
    path = tmp_path / "x.idx.gz"
    write_idx(path, np.arange(4000, dtype=np.uint8).reshape(40, 100) % 7)
    raw = bytearray(path.read_bytes())
    if damage == "truncated":
        raw = raw[: len(raw) // 2]
    elif damage == "garbage":
        raw = bytearray(b"not a gzip file at all")
    else:
        raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(DatasetFileError, match=f"{path}: not a readable gzip file"):
        read_idx(path)


def test_good_gzip_still_reads(tmp_path):
    path = tmp_path / "x.idx.gz"
    values = np.arange(20, dtype=np.uint8).reshape(4, 5)
    write_idx(path, values)
    with gzip.open(path) as f:
        assert f.read(4) == bytes([0, 0, 8, 2])
    np.testing.assert_array_equal(read_idx(path), values)


def _cifar_folder(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(1, 6):
        write_cifar(folder / f"data_batch_{i}.bin", rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8),
                    rng.integers(0, 10, 2))
    return folder


def test_cifar_truncated_and_bad_labels(tmp_path):
    folder = _cifar_folder(tmp_path)
    path = folder / "data_batch_3.bin"
    raw = path.read_bytes()
    path.write_bytes(raw[:-5])
    with pytest.raises(DatasetFileError, match=f"{path}: .* not a whole number of CIFAR-10 records"):
        CIFAR10(tmp_path)
    path.write_bytes(bytes([12]) + raw[1:])
    with pytest.raises(DatasetFileError, match="label 12 out of range 0-9"):
        CIFAR10(tmp_path)
