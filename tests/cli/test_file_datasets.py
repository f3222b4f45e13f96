"""The file-based datasets through the command: small fake MNIST (IDX) and CIFAR-10 (binary) files
stand in for the real ones, which are never downloaded."""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.cli.datasets import get_dataset_spec, load_splits
from tests.data.test_datasets import write_cifar, write_idx

from .helpers import run_cli

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _fake_mnist(root, n_train=40, n_test=12):
    rng = np.random.default_rng(0)
    folder = root / "MNIST" / "raw"
    folder.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, n).astype(np.uint8))


def _fake_cifar(root, per_batch=6, n_test=8):
    rng = np.random.default_rng(1)
    folder = root / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    for name, n in [(f"data_batch_{i}.bin", per_batch) for i in range(1, 6)] + [("test_batch.bin", n_test)]:
        write_cifar(folder / name, rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, n))


def test_mnist_lenet5_end_to_end(tmp_path, capsys):
    _fake_mnist(tmp_path / "data")
    status, out, err = run_cli(capsys, "train", "--model", "lenet5", "--data", "mnist", "--data-root",
                               str(tmp_path / "data"), "--epochs", "1", "--no-progress", "--no-plots",
                               "--out", str(tmp_path / "run"))
    assert status == 0, err
    assert "lenet5 (61,706 parameters) on mnist: 36 train / 4 validation / 12 test images" in out


def test_mnist_splits_are_normalised_with_the_dataset_statistics(tmp_path):
    _fake_mnist(tmp_path)
    spec = get_dataset_spec("mnist")
    splits = load_splits(spec, str(tmp_path), seed=0, val_fraction=0.25)
    raw = cr.data.datasets.MNIST(tmp_path, train=False).data.numpy()
    expected = (raw[:, None].astype(np.float32) / 255 - np.float32(0.1307)) / np.float32(0.3081)
    np.testing.assert_allclose(splits.test.images, expected, rtol=1e-6, atol=1e-6)
    assert splits.test.images.dtype == np.float32
    assert (len(splits.train), len(splits.val)) == (30, 10)


def test_cifar10_resnet_with_augmentation_and_rgb_plots(tmp_path, capsys):
    _fake_cifar(tmp_path / "data")
    status, out, err = run_cli(capsys, "train", "--model", "resnet", "--data", "cifar10", "--data-root",
                               str(tmp_path / "data"), "--epochs", "1", "--batch-size", "8", "--no-progress",
                               "--out", str(tmp_path / "run"))
    assert status == 0, err
    assert "27 train / 3 validation / 8 test images" in out
    for name in ("filters.png", "feature_maps.png", "curves.png", "confusion_matrix.png"):
        assert (tmp_path / "run" / name).read_bytes().startswith(PNG_MAGIC)


def test_augmentation_changes_training_batches_only(tmp_path):
    _fake_cifar(tmp_path)
    spec = get_dataset_spec("cifar10")
    augment = spec.augment(cr.Generator().manual_seed(0))
    splits = load_splits(spec, str(tmp_path), seed=0, val_fraction=0.1, augment=augment)
    images, labels = splits.train[list(range(len(splits.train)))]
    assert tuple(images.shape) == (27, 3, 32, 32) and labels.dtype == cr.int64
    assert not np.array_equal(images.numpy(), splits.train.images)  # random crops and flips moved pixels
    val_images, _ = splits.val[[0, 1, 2]]
    np.testing.assert_array_equal(val_images.numpy(), splits.val.images)
