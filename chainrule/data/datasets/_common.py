"""What the image datasets share: transforms, locating local files, and the missing-file message."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from ...utils.data import Dataset


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
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}"]  # type: ignore[arg-type]
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
