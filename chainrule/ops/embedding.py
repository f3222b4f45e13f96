"""``embedding``: rows of a weight matrix picked by integer indices (a lookup table).

``out[..., :] = weight[input[...], :]``. The forward is ``index_select`` along dimension 0, so the
gradient is its adjoint ``index_add``: each row of ``weight`` collects the gradients of every
position that looked it up. ``padding_idx`` and ``scale_grad_by_freq`` only reweight that
gradient, done by ``EmbeddingGradScale`` (identity forward, gradient times a factor it makes from the
indices).
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd import capture
from ..autograd.function import FunctionNode, named_output
from ..tensor import Tensor
from .scatter import IndexSelectBy
from .shape import reshape


class EmbeddingGradScale(FunctionNode):
    """``y = rows`` (the looked-up rows, (n, D)); ``dL/drows = factor * dL/dy``, with ``factor`` per
    looked-up position made from the indices (the second input, which gets no gradient) in
    ``forward``: 0 where the index is ``padding_idx``, ``1 / count`` of the index with
    ``scale_grad_by_freq``, 1 elsewhere. A compiled graph makes it from each call's indices."""

    def __init__(self, num: int, padding_idx: int | None, by_freq: bool):
        self.num, self.padding_idx, self.by_freq = num, padding_idx, by_freq

    def forward(self, rows, index):
        xp = self.xp
        flat = index.reshape(-1).astype(np.int64, copy=False)
        factor = xp.ones(flat.shape, dtype=rows.dtype)
        if self.by_freq:
            factor = factor / xp.bincount(flat, minlength=self.num)[flat]
        if self.padding_idx is not None:
            factor = xp.where(flat == self.padding_idx, 0, factor)
        self.factor = factor.astype(rows.dtype, copy=False)[:, None]
        return rows.copy()

    def backward(self, gy):
        return gy * Tensor._make(self.factor), None


def _check_rows(index, num: int) -> None:
    if index.size:
        lo, hi = int(index.min()), int(index.max())
        if lo < 0 or hi >= num:
            raise IndexError(f"index {lo if lo < 0 else hi} is out of range for an embedding table of {num} rows")


def _renorm_(weight: Tensor, input: Tensor, max_norm: float, norm_type: float) -> None:
    """Rescale (in place, untracked) the looked-up rows whose ``norm_type``-norm exceeds ``max_norm``
    (PyTorch's ``embedding_renorm_``). Run through ``capture.effect``: a compiled graph repeats it
    with each call's indices."""
    w = weight._data
    xp = backend.array_module(w)
    index = input._data.reshape(-1).astype(np.int64, copy=False)
    _check_rows(index, w.shape[0])
    rows = xp.unique(index)
    norms = (xp.abs(w[rows]) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
    w[rows] = w[rows] * scale[:, None]
    weight._bump_version()


_renorm_.reads_only = (1,)  # type: ignore[attr-defined]  # the indices (capture.effect)


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
    if padding_idx is not None:
        if isinstance(padding_idx, bool) or not isinstance(padding_idx, numbers.Integral):
            raise TypeError(f"embedding(): padding_idx must be an int, got {padding_idx!r}")
        if not -num <= padding_idx < num:
            raise ValueError(f"Padding_idx must be within num_embeddings (got {padding_idx} for {num} rows)")
        padding_idx = int(padding_idx) % num
    if max_norm is not None:
        capture.effect(_renorm_, weight, input, float(max_norm), float(norm_type))
    # one operator looks the rows up and checks the indices: a graph capture replays it with new ones
    rows = IndexSelectBy(0, table=True).apply(weight, input)
    if padding_idx is not None or scale_grad_by_freq:
        rows = EmbeddingGradScale(num, padding_idx, bool(scale_grad_by_freq)).apply(rows, input)
    return reshape(rows, tuple(idx.shape) + (weight.shape[1],))


__all__: list[str] = []  # nn.functional only (torch.embedding has another signature)

TENSOR_METHODS: list[str] = []
