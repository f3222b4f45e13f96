"""Pooling layers: max, average, adaptive average/max pooling and max unpooling.

One N-d class per kind; the 1/2/3-d classes set the number of spatial dimensions, which picks
``_single``/``_pair``/``_triple`` and ``F.<kind>_pool{n}d``. Hyper-parameters are stored as given
(PyTorch's attributes and ``repr``) and checked once in the constructor, where a bad value is
reported; the shape of each input is checked at call time with the layer named in the message.

Output size along each spatial axis: ``floor((L + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1``
(``ceil`` with ``ceil_mode``, dropping a last window that would start in the right padding).
"""

from __future__ import annotations

import numbers

from ...kernels.windows import pool_out_size
from ...tensor import Tensor
from .. import functional as F
from ..module import Module
from ._utils import NTUPLE, check_spatial_input


class _WindowPoolNd(Module):
    """Max and average pooling: a window slides over the spatial axes."""

    _dims = 0
    _dilated = True

    def _windows(self) -> tuple[tuple[int, ...], ...]:
        """(kernel_size, stride, padding, dilation) as tuples, validated."""
        name = type(self).__name__
        tup = NTUPLE[self._dims]
        k = tup(self.kernel_size, "kernel_size", name, minimum=1)
        stride = self.stride
        s = k if stride is None or (not isinstance(stride, numbers.Number) and len(stride) == 0) else \
            tup(stride, "stride", name, minimum=1)
        p = tup(self.padding, "padding", name, minimum=0)
        d = tup(getattr(self, "dilation", 1), "dilation", name, minimum=1)
        for pi, ki, di in zip(p, k, d):
            if pi > (di * (ki - 1) + 1) // 2:
                raise ValueError(
                    f"{name}: padding should be at most half of the effective kernel size, but got "
                    f"padding={self.padding}, kernel_size={self.kernel_size}"
                    + (f" and dilation={self.dilation}" if self._dilated else ""))
        return k, s, p, d

    def _check(self, input: Tensor) -> tuple[tuple[int, ...], ...]:
        """Check the input's rank and size; returns ``_windows()``."""
        check_spatial_input(self, input, self._dims)
        k, s, p, d = self._windows()
        spatial = tuple(input.shape[-self._dims:])
        out = tuple(pool_out_size(n, kk, ss, dd, pp, self.ceil_mode)
                    for n, kk, ss, pp, dd in zip(spatial, k, s, p, d))
        if any(o <= 0 for o in out):
            raise RuntimeError(f"{self!r}: input of spatial size {spatial} gives an output of size "
                               f"{out}; the input is too small for the window")
        return k, s, p, d


class _MaxPoolNd(_WindowPoolNd):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode
        self._windows()

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")

    def forward(self, input: Tensor):
        k, s, p, d = self._check(input)
        pool = getattr(F, f"max_pool{self._dims}d")
        return pool(input, k, s, p, d, ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool1d(_MaxPoolNd):
    """``out[n, c, l] = max_{0 <= m < k} x_pad[n, c, stride * l + dilation * m]`` (padding with -inf)."""

    _dims = 1


class MaxPool2d(_MaxPoolNd):
    """``out[n, c, i, j] = max_{p, q} x_pad[n, c, s_h i + d_h p, s_w j + d_w q]`` (padding with -inf).

    ``return_indices=True`` also returns the flat index (within each H*W plane) of every maximum,
    as ``MaxUnpool2d`` takes it.
    """

    _dims = 2


class MaxPool3d(_MaxPoolNd):
    """3-d max pooling; as ``MaxPool2d`` along each of D, H, W."""

    _dims = 3


class _AvgPoolNd(_WindowPoolNd):
    _dilated = False
    _normalise_attrs = False  # AvgPool1d stores tuples, AvgPool2d/3d the arguments as given

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        if divisor_override is not None and (isinstance(divisor_override, bool)
                                             or not isinstance(divisor_override, int) or divisor_override == 0):
            raise ValueError(f"{type(self).__name__}: divisor_override must be a non-zero int or None, "
                             f"got {divisor_override!r}")
        self.divisor_override = divisor_override
        k, s, p, _ = self._windows()
        if self._normalise_attrs:
            self.kernel_size, self.stride, self.padding = k, s, p

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Tensor) -> Tensor:
        k, s, p, _ = self._check(input)
        pool = getattr(F, f"avg_pool{self._dims}d")
        if self._dims == 1:  # PyTorch's avg_pool1d takes no divisor_override
            return pool(input, k, s, p, self.ceil_mode, self.count_include_pad)
        return pool(input, k, s, p, self.ceil_mode, self.count_include_pad, self.divisor_override)


class AvgPool1d(_AvgPoolNd):
    """``out[n, c, l] = (1 / k) sum_{0 <= m < k} x_pad[n, c, stride * l + m]`` (zero padding).

    ``count_include_pad=False`` divides by the number of non-padding elements instead of ``k``.
    """

    _dims = 1
    _normalise_attrs = True

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """``out[n, c, i, j] = (1 / (k_h k_w)) sum_{p, q} x_pad[n, c, s_h i + p, s_w j + q]`` (zero padding).

    The divisor is ``divisor_override`` when given, else the window size (only the non-padding
    elements of it with ``count_include_pad=False``).
    """

    _dims = 2


class AvgPool3d(_AvgPoolNd):
    """3-d average pooling; as ``AvgPool2d`` along each of D, H, W."""

    _dims = 3


class _AdaptivePoolNd(Module):
    """Pooling to a fixed output size: output cell ``i`` of an axis of length ``L`` pools the
    input range ``[floor(i L / out), ceil((i + 1) L / out))``. ``None`` keeps the input size."""

    _dims = 0
    _kind = ""

    def _sizes(self) -> tuple:
        name = type(self).__name__
        size = self.output_size
        items = tuple(size) if isinstance(size, (tuple, list)) else (size,) * self._dims
        if len(items) != self._dims:
            raise ValueError(f"{name}: output_size must be an int, None or a tuple of {self._dims}, got {size!r}")
        for v in items:
            if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1):
                raise ValueError(f"{name}: output_size must hold positive ints (or None to keep the "
                                 f"input size), got {size!r}")
        return items

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def _pool(self, x: Tensor, sizes: tuple):
        raise NotImplementedError

    def forward(self, input: Tensor):
        check_spatial_input(self, input, self._dims)
        return self._pool(input, self._sizes())


class _AdaptiveAvgPoolNd(_AdaptivePoolNd):
    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size
        self._sizes()

    def _pool(self, x: Tensor, sizes: tuple):
        return getattr(F, f"adaptive_avg_pool{self._dims}d")(x, sizes if self._dims > 1 else sizes[0])


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average pooling of (N, C, L) to (N, C, output_size)."""

    _dims = 1


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average pooling of (N, C, H, W) to (N, C, *output_size); ``AdaptiveAvgPool2d(1)`` is global
    average pooling."""

    _dims = 2


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Average pooling of (N, C, D, H, W) to (N, C, *output_size)."""

    _dims = 3


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices
        self._sizes()

    def _pool(self, x: Tensor, sizes: tuple):
        fn = getattr(F, f"adaptive_max_pool{self._dims}d")
        return fn(x, sizes if self._dims > 1 else sizes[0], self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, L) to (N, C, output_size)."""

    _dims = 1


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, H, W) to (N, C, *output_size)."""

    _dims = 2


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, D, H, W) to (N, C, *output_size)."""

    _dims = 3


class _MaxUnpoolNd(Module):
    """The partial inverse of max pooling: each value goes to the position its index names
    (as returned by ``MaxPool(return_indices=True)``), zeros elsewhere.

    Default output size per axis: ``(L - 1) stride - 2 padding + kernel_size``.
    """

    _dims = 0

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        name = type(self).__name__
        tup = NTUPLE[self._dims]
        self.kernel_size = tup(kernel_size, "kernel_size", name, minimum=1)
        self.stride = tup(stride if stride is not None else kernel_size, "stride", name, minimum=1)
        self.padding = tup(padding, "padding", name, minimum=0)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        check_spatial_input(self, input, self._dims)
        if not isinstance(indices, Tensor) or tuple(indices.shape) != tuple(input.shape):
            got = list(indices.shape) if isinstance(indices, Tensor) else type(indices).__name__
            raise RuntimeError(f"{self!r} expected indices of the input's shape {list(input.shape)} "
                               f"(as returned by max pooling with return_indices=True), got {got}")
        if indices.dtype.is_floating_point:
            raise RuntimeError(f"{self!r} expected int64 indices, got {indices.dtype}")
        if output_size is not None and len(output_size) in (self._dims + 1, self._dims + 2):
            output_size = tuple(output_size)[-self._dims:]  # drop the batch/channel sizes
        unpool = getattr(F, f"max_unpool{self._dims}d")
        return unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool1d(_MaxUnpoolNd):
    """Inverse of ``MaxPool1d``: ``out[n, c, indices[n, c, l]] = input[n, c, l]``."""

    _dims = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """Inverse of ``MaxPool2d``: ``out.flatten(-2)[n, c, indices[n, c, i, j]] = input[n, c, i, j]``."""

    _dims = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """Inverse of ``MaxPool3d``, with indices into each flattened D*H*W volume."""

    _dims = 3


__all__ = [
    "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
]
