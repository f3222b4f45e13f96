"""Index and weight tables that operators build from sizes alone (Python ints, never the data).

They are small, computed once per call on the host with NumPy, and shared by every backend: an
operator moves a table to its arrays' module with ``xp.asarray`` (a copy to the device, later, on
a GPU). Keeping them here leaves no ``np.`` computation in the operator files
(``tests/test_import_rules.py`` checks that pooling, resampling and padding do not import NumPy).

An operator marks the table it keeps (as an attribute, or wrapped in a tensor) with
``size_only``, after its last conversion: a graph capture (``chainrule.compile``) may then keep it
as a constant of the recorded graph, since the sizes it came from are part of the graph's
signature; any other array an operator holds must come from the recorded computation.
"""

from __future__ import annotations

import weakref

import numpy as np

from .windows import Window

__all__ = ["adaptive_bounds", "adaptive_taps", "averaging_matrix", "avg_divisor", "is_size_only", "linear_matrix",
           "nearest_index", "pad_runs", "pad_source_map", "size_only"]

_SIZE_ONLY: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # id -> array, while it lives


def size_only(a):
    """Mark the array ``a`` as computed from sizes and hyper-parameters alone; returns ``a``."""
    _SIZE_ONLY[id(a)] = a
    return a


def is_size_only(a) -> bool:
    """Whether ``a`` itself was marked by ``size_only``."""
    return _SIZE_ONLY.get(id(a)) is a


# ---- pooling -------------------------------------------------------------------------------------


def adaptive_bounds(size: int, out: int) -> tuple[list, list]:
    """The adaptive windows ``[floor(i*S/P), ceil((i+1)*S/P))`` of one axis as (starts, ends)."""
    starts = [(i * size) // out for i in range(out)]
    ends = [-((-(i + 1) * size) // out) for i in range(out)]
    return starts, ends


def adaptive_taps(size: int, out: int) -> np.ndarray:
    """(P, k) input positions of the adaptive windows of one axis, k the longest window; shorter
    windows repeat their last position (which changes neither the maximum nor which comes first)."""
    starts, ends = adaptive_bounds(size, out)
    k = max(e - b for b, e in zip(starts, ends))
    return np.minimum(np.asarray(starts)[:, None] + np.arange(k)[None, :], np.asarray(ends)[:, None] - 1)


def averaging_matrix(size: int, out: int, dtype) -> np.ndarray:
    """(P, S) matrix A of adaptive average pooling along one axis: ``A[i, b_i:e_i] = 1/(e_i - b_i)``."""
    starts, ends = adaptive_bounds(size, out)
    a = np.zeros((out, size))
    for i, (b, e) in enumerate(zip(starts, ends)):
        a[i, b:e] = 1.0 / (e - b)
    return a.astype(dtype)


def avg_divisor(win: Window, count_include_pad: bool) -> np.ndarray:
    """PyTorch's average-pool divisor per output position: the window clipped to the padded input
    (count_include_pad) or to the input itself; a product of per-axis counts (float64)."""
    div = np.ones((), dtype=np.float64)
    for a in range(win.nd):
        p = np.arange(win.out_size[a])
        start = p * win.stride[a] - win.pad[a]
        end = np.minimum(start + win.kernel[a], win.in_size[a] + win.pad[a])
        if count_include_pad:
            count = end - start
        else:
            count = np.minimum(end, win.in_size[a]) - np.maximum(start, 0)
        div = np.multiply.outer(div, count.astype(np.float64))
    return div


# ---- resampling ----------------------------------------------------------------------------------


def nearest_index(n_in: int, n_out: int, scale: float) -> np.ndarray:
    """src = min(floor(dst * scale), n_in - 1) (PyTorch's 'nearest', not 'nearest-exact')."""
    # in float32, as PyTorch's CPU kernel computes it (the rounding decides ties such as 3 * 1/3)
    src = np.floor(np.arange(n_out, dtype=np.float32) * np.float32(scale)).astype(np.int64)
    return np.minimum(src, n_in - 1)


def linear_matrix(n_in: int, n_out: int, scale: float, align_corners: bool) -> np.ndarray:
    """The (n_out, n_in) matrix of 1-d linear interpolation weights (float64)."""
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        src = np.maximum((dst + 0.5) * scale - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    m = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    np.add.at(m, (rows, i0), 1.0 - lam)
    np.add.at(m, (rows, i1), lam)
    return m


# ---- padding -------------------------------------------------------------------------------------


def pad_source_map(mode: str, n: int, before: int, after: int) -> np.ndarray:
    """Source position in the input of every position of a padded dimension ('reflect',
    'replicate' or 'circular'; negative widths crop)."""
    if mode == "circular":
        # PyTorch crops first, then wraps around what is left
        lo, hi = max(-before, 0), n - max(-after, 0)
        m = hi - lo
        k = np.arange(-max(before, 0), m + max(after, 0))
        return lo + np.mod(k, m) if m > 0 else k[:0]
    j = np.arange(-before, n + after)
    if mode == "reflect":
        return np.where(j < 0, -j, np.where(j >= n, 2 * (n - 1) - j, j))
    return np.clip(j, 0, n - 1)  # replicate


def pad_runs(src: np.ndarray) -> list:
    """Split a source map into runs ``src[p0:p1] = s0 + step * k`` with ``step`` in (1, -1, 0)."""
    runs = []
    p, n = 0, len(src)
    while p < n:
        step = int(src[p + 1] - src[p]) if p + 1 < n else 1
        if step not in (-1, 0, 1):
            step = 1
        q = p + 1
        while q < n and src[q] - src[q - 1] == step:
            q += 1
        runs.append((p, q, int(src[p]), step))
        p = q
    return runs
