"""What the image datasets share: transforms, locating local files, and the missing-file message."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...utils.data import Dataset


class DatasetFileError(ValueError):
    """A dataset file that exists but cannot be used: truncated, corrupt, or holding impossible values.

    The message names the file and what is wrong with it. A ``ValueError``, so code that caught the
    readers' errors before keeps working; the ``chainrule`` command turns it into a one-line error.
    """


class VisionDataset(Dataset):
    """Base of the image datasets: ``(image, target)`` samples passed through the optional transforms.

    Subclasses set ``classes`` (the class names, by label) and ``train`` (which split was read).
    """

    classes: list[str]
    train: bool

    def __init__(self, root: str | os.PathLike | None, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        self.root = os.fspath(root) if root is not None else None
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:  # as torchvision's VisionDataset; every dataset here defines it
        raise NotImplementedError

    def _apply(self, img: Any, target: Any) -> tuple[Any, Any]:
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}"]
        if self.root is not None:
            lines.append(f"    Root location: {self.root}")
        lines += [f"    {line}" for line in self.extra_repr().splitlines()]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)


def find_files(folders: Sequence[str], names: Sequence[str], suffixes: Sequence[str] = ("",)) -> list[str] | None:
    """The paths of all ``names`` in the first folder holding every one of them (each with any suffix)."""
    for folder in folders:
        paths = []
        for name in names:
            path = next((os.path.join(folder, name + s) for s in suffixes
                         if os.path.isfile(os.path.join(folder, name + s))), None)
            if path is None:
                break
            paths.append(path)
        else:
            return paths
    return None


def missing_files_error(dataset: str, names: Sequence[str], folders: Sequence[str], source: str,
                        how: str) -> FileNotFoundError:
    """A FileNotFoundError naming the files, where they were looked for and where to get them."""
    return FileNotFoundError(
        f"{dataset}: dataset files not found. Looked for {', '.join(names)} in: {', '.join(folders)}. "
        f"chainrule never downloads data: get the files from {source}, {how} "
        f"(expected location: {folders[0]})")


def check_labels(labels: np.ndarray, num_classes: int, path: str) -> np.ndarray:
    """``labels`` as int64 after checking that each is an integer in ``[0, num_classes)``."""
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)) or not np.all(labels == np.round(labels)):
            raise DatasetFileError(f"{path}: labels must be whole numbers, found {_first_bad(labels)}")
    elif labels.dtype.kind not in "iu":
        raise DatasetFileError(f"{path}: labels must be integers, got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)]
        raise DatasetFileError(f"{path}: label {bad.flat[0]:g} out of range 0-{num_classes - 1} "
                               f"({bad.size} of {labels.size} labels)")
    return labels.astype(np.int64)


def check_pixels(images: np.ndarray, path: str) -> np.ndarray:
    """``images`` as uint8 after checking that each value is a whole number in 0-255 (no NaN, no wrap-around)."""
    if images.dtype == np.uint8:
        return images
    if images.dtype.kind == "f":
        ok = np.isfinite(images) & (images == np.round(images))
    else:
        ok = np.ones(images.shape, dtype=bool)
    ok &= (images >= 0) & (images <= 255)
    if not np.all(ok):
        raise DatasetFileError(f"{path}: pixel values must be whole numbers in 0-255, found "
                               f"{_first_bad(images[~ok])} ({np.count_nonzero(~ok)} such values)")
    return images.astype(np.uint8)


def _first_bad(values: np.ndarray) -> str:
    flat = values.reshape(-1)
    if flat.dtype.kind == "f":
        bad = flat[~np.isfinite(flat) | (flat != np.round(flat))]
        return f"{(bad if bad.size else flat)[0]:g}"
    return f"{flat[0]}"
