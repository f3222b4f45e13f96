"""Datasets: scikit-learn digits split, and MNIST / CIFAR-10 readers on small files written here."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from sklearn.datasets import load_digits

import chainrule
from chainrule.data import transforms as T
from chainrule.data.datasets import CIFAR10, MNIST, Digits, FashionMNIST, read_idx
from chainrule.utils.data import DataLoader


@pytest.fixture(scope="module")
def digits_pair():
    return Digits(train=True), Digits(train=False)


def test_digits_split_is_disjoint_stratified_and_deterministic(digits_pair):
    train, test = digits_pair
    reference = load_digits()
    assert len(train) + len(test) == 1797
    assert not set(train.indices.tolist()) & set(test.indices.tolist())
    labels = reference.target
    for c in range(10):
        n_c = int((labels == c).sum())
        n_test = int((test.targets.numpy() == c).sum())
        assert n_test == round(0.2 * n_c)  # 20% of every class
    again = Digits(train=False)
    np.testing.assert_array_equal(again.indices, test.indices)


def test_digits_samples(digits_pair):
    train, _ = digits_pair
    reference = load_digits()
    img, label = train[5]
    assert isinstance(img, chainrule.Tensor) and img.shape == (1, 8, 8) and img.dtype == chainrule.float32
    assert isinstance(label, int)
    k = train.indices[5]
    np.testing.assert_allclose(img.numpy()[0], reference.images[k] / 16.0, rtol=1e-7)
    assert label == reference.target[k]
    data = train.data.numpy()
    assert data.shape == (len(train), 1, 8, 8) and data.min() == 0.0 and data.max() == 1.0
    assert train.targets.dtype == chainrule.int64
    img[0, 0, 0] = 99.0  # samples are copies
    assert train[5][0].numpy()[0, 0, 0] != 99.0


def test_digits_with_transforms_and_loader():
    ds = Digits(transform=T.Normalize([0.5], [0.5]), target_transform=lambda y: y + 100)
    img, label = ds[0]
    assert label >= 100 and img.numpy().min() >= -1.0
    g = chainrule.Generator().manual_seed(0)
    loader = DataLoader(Digits(train=False, transform=T.RandomCrop(8, padding=1, generator=g)),
                        batch_size=64, shuffle=True, generator=g)
    batches = list(loader)
    assert len(batches) == len(loader) == 6
    x, y = batches[0]
    assert x.shape == (64, 1, 8, 8) and x.dtype == chainrule.float32 and y.dtype == chainrule.int64


def write_idx(path, array: np.ndarray, type_code: int = 0x08) -> None:
    """IDX: 0, 0, type code, ndim, big-endian int32 dims, big-endian data."""
    dtype = {0x08: ">u1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4"}[type_code]
    payload = bytes([0, 0, type_code, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    payload += array.astype(dtype).tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(payload)


def make_mnist(folder, n, gz, rng, prefix="train"):
    images = rng.integers(0, 256, size=(n, 6, 5), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_idx_files(tmp_path, gz):
    rng = np.random.default_rng(0)
    images, labels = make_mnist(tmp_path / "MNIST" / "raw", 7, gz, rng)
    timages, tlabels = make_mnist(tmp_path / "MNIST" / "raw", 3, gz, rng, prefix="t10k")
    train, test = MNIST(tmp_path), MNIST(str(tmp_path), train=False)
    assert len(train) == 7 and len(test) == 3
    assert train.data.dtype == chainrule.uint8 and train.targets.dtype == chainrule.int64
    np.testing.assert_array_equal(train.data.numpy(), images)
    np.testing.assert_array_equal(test.targets.numpy(), tlabels)
    img, label = train[2]
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8 and label == labels[2]
    tensor_ds = MNIST(tmp_path, transform=T.ToTensor())
    x, y = next(iter(DataLoader(tensor_ds, batch_size=4)))
    assert x.shape == (4, 1, 6, 5) and x.dtype == chainrule.float32
    np.testing.assert_allclose(x.numpy()[:, 0], images[:4] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y.numpy(), labels[:4])


def test_fashion_mnist_folder_and_root_itself(tmp_path):
    rng = np.random.default_rng(1)
    images, _ = make_mnist(tmp_path / "FashionMNIST" / "raw", 4, True, rng)
    ds = FashionMNIST(tmp_path)
    np.testing.assert_array_equal(ds.data.numpy(), images)
    assert ds.classes[9] == "Ankle boot"
    flat = tmp_path / "flat"
    images, _ = make_mnist(flat, 2, False, rng)
    np.testing.assert_array_equal(MNIST(flat).data.numpy(), images)


def test_mnist_missing_files_say_where(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        MNIST(tmp_path / "nowhere", train=False)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte" in message and "t10k-labels-idx1-ubyte" in message
    assert "never downloads" in message and "MNIST" in message and "raw" in message
    with pytest.raises(FileNotFoundError, match="never downloads"):
        MNIST(tmp_path, download=True)


def test_read_idx_types_and_errors(tmp_path):
    values = np.arange(-6, 6, dtype=np.int32).reshape(3, 4)
    write_idx(tmp_path / "ints.idx", values, 0x0C)
    np.testing.assert_array_equal(read_idx(tmp_path / "ints.idx"), values)
    floats = np.linspace(0, 1, 5, dtype=np.float32)
    write_idx(tmp_path / "f.idx", floats, 0x0D)
    np.testing.assert_array_equal(read_idx(tmp_path / "f.idx"), floats)
    (tmp_path / "bad.idx").write_bytes(b"\x12\x34\x08\x01\x00\x00\x00\x01\x00")
    with pytest.raises(ValueError, match="bad magic number"):
        read_idx(tmp_path / "bad.idx")
    (tmp_path / "short.idx").write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + b"\x00" * 4)
    with pytest.raises(ValueError, match="announces shape"):
        read_idx(tmp_path / "short.idx")


def write_cifar(path, images_hwc: np.ndarray, labels: np.ndarray) -> None:
    """CIFAR-10 binary records: label byte, then the red, green and blue planes (32x32 row-major)."""
    with open(path, "wb") as f:
        for img, label in zip(images_hwc, labels):
            f.write(bytes([int(label)]))
            for channel in range(3):
                f.write(img[:, :, channel].tobytes())


def test_cifar10_reads_binary_batches(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    all_images, all_labels = [], []
    for i in range(1, 6):
        images = rng.integers(0, 256, size=(2 + i, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, size=2 + i)
        write_cifar(folder / f"data_batch_{i}.bin", images, labels)
        all_images.append(images)
        all_labels.append(labels)
    test_images = rng.integers(0, 256, size=(4, 32, 32, 3), dtype=np.uint8)
    write_cifar(folder / "test_batch.bin", test_images, np.arange(4))
    (folder / "batches.meta.txt").write_text("\n".join(f"class{i}" for i in range(10)) + "\n\n")

    train, test = CIFAR10(tmp_path), CIFAR10(tmp_path, train=False)
    np.testing.assert_array_equal(train.data, np.concatenate(all_images))
    assert train.targets == np.concatenate(all_labels).tolist()
    assert len(test) == 4 and test.targets == [0, 1, 2, 3] and test.classes[3] == "class3"
    img, label = test[1]
    assert img.shape == (32, 32, 3) and img.dtype == np.uint8 and label == 1
    np.testing.assert_array_equal(img, test_images[1])
    x = T.ToTensor()(img)
    assert x.shape == (3, 32, 32)
    np.testing.assert_allclose(x.numpy()[2, 5, 7], test_images[1, 5, 7, 2] / 255.0, rtol=1e-6)


def test_cifar10_missing_and_malformed(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        CIFAR10(tmp_path)
    message = str(info.value)
    assert "cifar-10-batches-bin" in message and "data_batch_1.bin" in message and "cifar-10-binary.tar.gz" in message
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    (folder / "test_batch.bin").write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match="not a whole number of CIFAR-10 records"):
        CIFAR10(tmp_path, train=False)
