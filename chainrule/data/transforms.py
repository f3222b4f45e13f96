"""Image transforms with torchvision's names, on NumPy arrays or chainrule Tensors.

Images are ``(..., C, H, W)`` arrays (``ToTensor`` excepted: it takes ``H x W x C`` pictures). A
transform returns the same kind of object it was given: an array for an array, a Tensor for a
Tensor. Random transforms draw from ``generator`` (a ``chainrule.Generator``), or from the global
generator (``chainrule.manual_seed``) when none is given.

Transforms are data preprocessing and run outside autograd: only ``Normalize`` accepts a tensor
that requires grad (it then uses differentiable operators); the random crops and flips refuse one.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import backend
from ..backend import Generator
from ..tensor import Tensor


def _unwrap(img: Any, who: str) -> tuple[Any, bool]:
    """The raw array of ``img`` and whether it was a Tensor (to wrap the result the same way)."""
    if isinstance(img, Tensor):
        if img.requires_grad:
            raise RuntimeError(
                f"{who} is a data transform and does not record gradients, but got a tensor that requires grad; "
                "apply it before setting requires_grad, or to tensor.detach()")
        return img._data, True
    if isinstance(img, np.ndarray):
        return img, False
    raise TypeError(f"{who} expects a NumPy array or a chainrule Tensor of shape (..., C, H, W), "
                    f"got {type(img).__name__}")


def _wrap(arr: Any, as_tensor: bool) -> Any:
    return Tensor._make(arr) if as_tensor else arr


def _check_image(arr: Any, who: str) -> None:
    if arr.ndim < 2:
        raise ValueError(f"{who} expects an image of shape (..., H, W), got an array of shape {tuple(arr.shape)}")


class Compose:
    """Apply ``transforms`` one after the other."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        lines = [f"    {t}" for t in self.transforms]
        return self.__class__.__name__ + "(\n" + "\n".join(lines) + "\n)"


class Lambda:
    """Wrap a user function as a transform."""

    def __init__(self, lambd: Callable) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class ToTensor:
    """Picture ``H x W x C`` (or ``H x W``) -> Tensor ``C x H x W``; uint8 values are scaled to [0, 1].

    ``x / 255`` in the default float dtype for uint8 input; other dtypes keep their values and dtype
    (as torchvision). Accepts NumPy arrays and anything NumPy can view as an array (PIL images).
    """

    def __call__(self, pic: Any) -> Tensor:
        if isinstance(pic, Tensor):
            raise TypeError("pic should be PIL Image or ndarray. Got a chainrule Tensor (it is already converted)")
        if not isinstance(pic, np.ndarray) and not hasattr(pic, "__array_interface__"):
            raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic).__name__}")
        arr = np.asarray(pic)
        if arr.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {arr.ndim} dimensions.")
        if arr.ndim == 2:
            arr = arr[:, :, None]
        chw = np.ascontiguousarray(arr.transpose(2, 0, 1))
        if chw.dtype == np.uint8:
            dt = backend.get_default_dtype().np
            out = chw.astype(dt)
            out /= dt.type(255)
            return Tensor._make(out)
        if chw.dtype == np.bool_:  # a binary picture: True is white
            return Tensor._make(chw.astype(backend.get_default_dtype().np))
        return Tensor._make(chw)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class Normalize:
    """Per channel: ``out[c] = (x[c] - mean[c]) / std[c]`` on ``(..., C, H, W)`` float images."""

    def __init__(self, mean: Sequence[float] | float, std: Sequence[float] | float, inplace: bool = False) -> None:
        self.mean = list(mean) if isinstance(mean, Sequence) else [mean]
        self.std = list(std) if isinstance(std, Sequence) else [std]
        self.inplace = inplace

    def __call__(self, tensor: Any) -> Any:
        is_tensor = isinstance(tensor, Tensor)
        if not is_tensor and not isinstance(tensor, np.ndarray):
            raise TypeError(f"Normalize expects a NumPy array or a chainrule Tensor, got {type(tensor).__name__}")
        arr = tensor._data if is_tensor else tensor
        if arr.dtype.kind != "f":
            raise TypeError(f"Input tensor should be a float tensor. Got {backend.from_numpy_dtype(arr.dtype)}.")
        if arr.ndim < 3:
            raise ValueError(
                f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = {tuple(arr.shape)}.")
        channels = arr.shape[-3]
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, channels):
                raise ValueError(f"Normalize got {len(values)} {name} values for an image with {channels} channels")
        xp = backend.array_module(arr)
        mean = xp.asarray(self.mean, dtype=arr.dtype).reshape(-1, 1, 1)
        std = xp.asarray(self.std, dtype=arr.dtype).reshape(-1, 1, 1)
        if (std == 0).any():
            raise ValueError(
                f"std evaluated to zero after conversion to {backend.from_numpy_dtype(arr.dtype)}, "
                "leading to division by zero.")
        if is_tensor and tensor.requires_grad:
            if self.inplace:
                raise RuntimeError("Normalize(inplace=True) cannot modify a tensor that requires grad")
            return (tensor - Tensor._make(mean)) / Tensor._make(std)
        if self.inplace:
            arr -= mean
            arr /= std
            if is_tensor:
                tensor._bump_version()
            return tensor
        return _wrap((arr - mean) / std, is_tensor)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(mean={self.mean}, std={self.std})"


_PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def _check_padding_mode(mode: str) -> None:
    if mode not in _PADDING_MODES:
        raise ValueError(f"Padding mode should be either constant, edge, reflect or symmetric, got {mode!r}")


def _padding_sides(padding: int | Sequence[int]) -> tuple[int, int, int, int]:
    """torchvision's padding spec -> (left, top, right, bottom)."""
    if isinstance(padding, (int, numbers.Integral)):
        p = int(padding)
        return p, p, p, p
    padding = [int(p) for p in padding]
    if len(padding) == 1:
        return padding[0], padding[0], padding[0], padding[0]
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return padding[0], padding[1], padding[2], padding[3]
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")


def _pad(arr: Any, sides: tuple[int, int, int, int], fill: float | Sequence[float], mode: str):
    left, top, right, bottom = sides
    if min(sides) < 0:
        raise ValueError(f"padding must be non-negative, got {sides}")
    xp = backend.array_module(arr)
    if mode == "constant":
        h, w = arr.shape[-2:]
        out = xp.empty(arr.shape[:-2] + (top + h + bottom, left + w + right), dtype=arr.dtype)
        fill_arr = xp.asarray(fill, dtype=arr.dtype)
        out[...] = fill_arr.reshape(-1, 1, 1) if fill_arr.ndim == 1 else fill_arr  # per channel or one value
        out[..., top:top + h, left:left + w] = arr
        return out
    widths = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
    return xp.pad(arr, widths, mode=mode)


class Pad:
    """Pad the last two dimensions: ``padding`` is an int, ``(left/right, top/bottom)`` or
    ``(left, top, right, bottom)``; ``padding_mode`` is constant (with ``fill``), edge, reflect or symmetric.
    """

    def __init__(self, padding: int | Sequence[int], fill: float | Sequence[float] = 0,
                 padding_mode: str = "constant") -> None:
        _check_padding_mode(padding_mode)
        self.padding = padding
        self.sides = _padding_sides(padding)
        self.fill = fill
        self.padding_mode = padding_mode

    def __call__(self, img: Any) -> Any:
        arr, is_tensor = _unwrap(img, "Pad")
        _check_image(arr, "Pad")
        return _wrap(_pad(arr, self.sides, self.fill, self.padding_mode), is_tensor)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode})"


def _pair(size: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(size, (int, numbers.Integral)):
        return int(size), int(size)
    size = tuple(int(s) for s in size)
    if len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError("Please provide only two dimensions (h, w) for size.")
    return size


class RandomCrop:
    """Crop a random ``size`` window (same window for every leading dimension), after optional padding.

    ``padding`` as in :class:`Pad`; ``pad_if_needed`` pads an image smaller than ``size`` first.
    The top-left corner is uniform over all positions that keep the window inside the image.
    """

    def __init__(self, size: int | Sequence[int], padding: int | Sequence[int] | None = None,
                 pad_if_needed: bool = False, fill: float | Sequence[float] = 0, padding_mode: str = "constant", *,
                 generator: Generator | None = None) -> None:
        _check_padding_mode(padding_mode)
        self.size = _pair(size)
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode
        self.generator = generator

    def get_params(self, arr: Any) -> tuple[int, int, int, int]:
        """``(top, left, height, width)`` of a random window of ``self.size`` inside ``arr``."""
        h, w = arr.shape[-2:]
        th, tw = self.size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        if h == th and w == tw:
            return 0, 0, h, w
        rng = backend.rng(self.generator)
        i = int(rng.integers(0, h - th + 1))
        j = int(rng.integers(0, w - tw + 1))
        return i, j, th, tw

    def __call__(self, img: Any) -> Any:
        arr, is_tensor = _unwrap(img, "RandomCrop")
        _check_image(arr, "RandomCrop")
        if self.padding is not None:
            arr = _pad(arr, _padding_sides(self.padding), self.fill, self.padding_mode)
        th, tw = self.size
        if self.pad_if_needed:
            h, w = arr.shape[-2:]
            if w < tw or h < th:
                extra_w, extra_h = max(tw - w, 0), max(th - h, 0)
                arr = _pad(arr, (extra_w, extra_h, extra_w, extra_h), self.fill, self.padding_mode)
        i, j, th, tw = self.get_params(arr)
        xp = backend.array_module(arr)
        return _wrap(xp.ascontiguousarray(arr[..., i:i + th, j:j + tw]), is_tensor)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(size={self.size}, padding={self.padding})"


class _RandomFlip:
    axis: int

    def __init__(self, p: float = 0.5, *, generator: Generator | None = None) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p should be a probability in [0, 1], got {p}")
        self.p = p
        self.generator = generator

    def __call__(self, img: Any) -> Any:
        arr, is_tensor = _unwrap(img, type(self).__name__)
        _check_image(arr, type(self).__name__)
        if not backend.rng(self.generator).random() < self.p:
            return img
        xp = backend.array_module(arr)
        return _wrap(xp.ascontiguousarray(xp.flip(arr, axis=self.axis)), is_tensor)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    """Mirror the image left-right (last dimension) with probability ``p``."""

    axis = -1


class RandomVerticalFlip(_RandomFlip):
    """Mirror the image top-bottom (second-to-last dimension) with probability ``p``."""

    axis = -2


__all__ = ["Compose", "Lambda", "ToTensor", "Normalize", "Pad", "RandomCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip"]
