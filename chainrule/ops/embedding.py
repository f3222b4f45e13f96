"""``embedding``: rows of a weight matrix picked by integer indices (a lookup table).

``out[..., :] = weight[input[...], :]``. The forward is ``index_select`` along dimension 0, so the
gradient is its adjoint ``index_add``: each row of ``weight`` collects the gradients of every
position that looked it up. ``padding_idx`` and ``scale_grad_by_freq`` only reweight that
gradient, done by ``GradScale`` (identity forward, gradient times a constant).
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd.function import FunctionNode, named_output
from ..tensor import Tensor
from .scatter import IndexSelect, IndexSelectBy
from .shape import reshape


class GradScale(FunctionNode):
    """y = x, dL/dx = factor * dL/dy with a constant ``factor`` (broadcast against x)."""

    def __init__(self, factor):
        self.factor = factor

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return gy * Tensor._make(self.factor.astype(gy._data.dtype, copy=False))


def _renorm_(weight: Tensor, index, max_norm: float, norm_type: float) -> None:
    """Rescale (in place, untracked) the looked-up rows whose ``norm_type``-norm exceeds ``max_norm``."""
    xp = backend.array_module(weight._data)
    rows = xp.unique(index)
    w = weight._data
    norms = (xp.abs(w[rows]) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
    w[rows] = w[rows] * scale[:, None]  # PyTorch's embedding_renorm_: an untracked in-place update


@named_output("EmbeddingBackward0")
def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """``weight[input]``: input (*) integer indices, weight (V, D) -> output (*, D).

    ``padding_idx``: that row receives no gradient. ``max_norm``: rows looked up whose norm is
    above it are rescaled to norm ``max_norm`` in place before the lookup (as PyTorch). With
    ``scale_grad_by_freq`` each row's gradient is divided by how often it occurs in ``input``.
    ``sparse=True`` is accepted; the gradient is returned dense (same values).
    """
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError("embedding(): input and weight must be Tensors")
    idx = input._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; "
            f"but got {input.dtype} instead (while checking arguments for embedding)")
    if weight.ndim != 2:
        raise RuntimeError(f"'weight' must be 2-D, got a {weight.ndim}-D tensor of shape {list(weight.shape)}")
    num = weight.shape[0]
    if padding_idx is None and max_norm is None and not scale_grad_by_freq:
        # the plain lookup is one operator that checks the rows itself: a graph capture replays it
        rows = IndexSelectBy(0, table=True).apply(weight, input)
        return reshape(rows, tuple(idx.shape) + (weight.shape[1],))
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= num:
            raise IndexError(f"index {lo if lo < 0 else hi} is out of range for an embedding table of {num} rows")
    if padding_idx is not None:
        if isinstance(padding_idx, bool) or not isinstance(padding_idx, numbers.Integral):
            raise TypeError(f"embedding(): padding_idx must be an int, got {padding_idx!r}")
        if not -num <= padding_idx < num:
            raise ValueError(f"Padding_idx must be within num_embeddings (got {padding_idx} for {num} rows)")
        padding_idx = int(padding_idx) % num
    flat = idx.reshape(-1).astype(np.int64, copy=False)
    if max_norm is not None:
        _renorm_(weight, flat, float(max_norm), float(norm_type))
    rows = IndexSelect(0, flat).apply(weight)
    if padding_idx is not None or scale_grad_by_freq:
        xp = backend.array_module(flat)
        factor = xp.ones(flat.shape, dtype=weight._data.dtype)
        if scale_grad_by_freq:
            counts = xp.bincount(flat, minlength=num)
            factor = factor / counts[flat]
        if padding_idx is not None:
            factor = xp.where(flat == padding_idx, 0, factor)
        rows = GradScale(factor[:, None]).apply(rows)
    return reshape(rows, tuple(idx.shape) + (weight.shape[1],))


__all__: list[str] = []  # nn.functional only (torch.embedding has another signature)

TENSOR_METHODS: list[str] = []
