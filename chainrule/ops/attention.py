"""Attention: ``scaled_dot_product_attention`` and ``multi_head_attention_forward`` (PyTorch's
``torch.nn.functional`` names and signatures).

Both are compositions of differentiable operators (matmul, softmax, where, dropout, linear ...),
so first and higher derivatives come from those operators' own backwards, and ``compile``
records them like any other sequence of operators: every branch below depends on shapes, dtypes
and arguments, never on values.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import _factory, backend
from ..tensor import Size, Tensor
from ._util import check_tensor
from .dropout import dropout
from .elementwise import where
from .join import cat, chunk, split
from .linalg import bmm, matmul
from .linear import linear
from .pad import pad
from .reduction import all as _all
from .reduction import mean
from .shape import expand, permute, repeat, reshape, squeeze, transpose, tril, unflatten, unsqueeze
from .softmax import softmax
from .special_math import isneginf

_NEG_INF = float("-inf")
# the C++ names PyTorch's messages give dtypes ("query.dtype: float key.dtype: double")
_CPP_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}


def _cpp(t: Tensor) -> str:
    return _CPP_NAMES.get(t.dtype.name, t.dtype.name)


def _check_sdpa(query, key, value, attn_mask, dropout_p, is_causal) -> None:
    for name, t in (("query", query), ("key", key), ("value", value)):
        check_tensor(t, "scaled_dot_product_attention", name)
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
            f"{query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead.")
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{_cpp(query)} key.dtype: {_cpp(key)} and value.dtype: {_cpp(value)} instead.")
    if not query.is_floating_point():
        raise RuntimeError(f"scaled_dot_product_attention: expected floating-point query, key and value, "
                           f"got {query.dtype}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(
            f"scaled_dot_product_attention: query and key must have the same embedding size (last dimension), "
            f"got query {list(query.shape)} and key {list(key.shape)}")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: key and value must have the same sequence length (dimension -2), "
            f"got key {list(key.shape)} and value {list(value.shape)}")
    if attn_mask is not None:
        check_tensor(attn_mask, "scaled_dot_product_attention", "attn_mask")
        if attn_mask.dtype != query.dtype and attn_mask._data.dtype != np.bool_:
            raise RuntimeError(
                "Expected attn_mask dtype to be bool or float or to match query dtype, but got attn_mask.dtype: "
                f"{_cpp(attn_mask)} and  query.dtype: {_cpp(query)} instead.")
        if is_causal:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                               "is_causal=True")
    if isinstance(dropout_p, bool) or not isinstance(dropout_p, numbers.Real) or not 0.0 <= float(dropout_p) <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")


def _check_broadcast(a: tuple, b: tuple) -> None:
    """PyTorch's error when the mask ``b`` does not broadcast against the scores ``a``."""
    for i in range(1, min(len(a), len(b)) + 1):
        if a[-i] != b[-i] and a[-i] != 1 and b[-i] != 1:
            raise RuntimeError(f"The size of tensor a ({a[-i]}) must match the size of tensor b ({b[-i]}) at "
                               f"non-singleton dimension {max(len(a), len(b)) - i}")


def _repeat_heads(query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor]:
    """Grouped-query attention: each key/value head serves ``Hq / Hkv`` consecutive query heads."""
    if min(query.ndim, key.ndim, value.ndim) < 3:
        return key, value
    hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
    if hq % hk or hq % hv:
        raise RuntimeError("Number of heads in key and value must divide the number of heads in query")

    def spread(t: Tensor, h: int) -> Tensor:  # repeat_interleave(hq // h, dim=-3) as one expand
        if h == hq:
            return t
        lead, tail = tuple(t.shape[:-3]), tuple(t.shape[-2:])
        wide = expand(unsqueeze(t, -3), *lead, h, hq // h, *tail)
        return reshape(wide, (*lead, hq, *tail))

    return spread(key, hk), spread(value, hv)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q K^T * scale + M) V over the last two dimensions, batch dimensions broadcast.

    Q (..., L, E), K (..., S, E), V (..., S, Ev) -> (..., L, Ev); ``scale`` defaults to 1/sqrt(E).
    ``attn_mask``: bool (True = the query may attend to that key, False adds -inf) or a float
    bias of Q's dtype added to the scores; it broadcasts to (..., L, S). ``is_causal``: query i
    attends to keys j <= i (the mask ``tril(ones(L, S))``, aligned at the upper left as in
    PyTorch when L != S). A row whose every key is masked gives zeros (and zero gradients), as
    PyTorch's ``_safe_softmax``. ``dropout_p > 0`` drops attention weights (always: this
    function has no training flag; ``nn.MultiheadAttention`` passes 0 in eval mode).
    ``enable_gqa``: K and V may have fewer heads (dimension -3) than Q, a divisor of Q's; each is
    repeated to Q's number of heads.
    """
    _check_sdpa(query, key, value, attn_mask, dropout_p, is_causal)
    if enable_gqa:
        key, value = _repeat_heads(query, key, value)
    L, S = query.shape[-2], key.shape[-2]
    scale_factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    scores = matmul(query, transpose(key, -2, -1)) * scale_factor
    if is_causal:
        scores = where(tril(_factory.ones(L, S, dtype=backend.bool_)), scores, _NEG_INF)
    if attn_mask is not None:
        _check_broadcast(tuple(scores.shape), tuple(attn_mask.shape))
        scores = where(attn_mask, scores, _NEG_INF) if attn_mask._data.dtype == np.bool_ else scores + attn_mask
    if is_causal or attn_mask is not None:
        # a row with no key to attend to: zeros, not softmax's 0/0 (its scores are replaced by 0 first,
        # so that the softmax backward sees finite values and the row's gradient is zero)
        dead = _all(isneginf(scores), -1, keepdim=True)
        weights = where(dead, 0.0, softmax(where(dead, 0.0, scores), -1))
    else:
        weights = softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, float(dropout_p), training=True)
    return matmul(weights, value)


# ---- nn.MultiheadAttention's functional form -------------------------------------------------------

def _canonical_mask(mask: Tensor | None, mask_name: str, other_type, other_name: str, target_type,
                    check_other: bool = True) -> Tensor | None:
    """A bool mask (True = masked out) as a float bias of ``target_type`` (-inf where True)."""
    if mask is None:
        return None
    check_tensor(mask, "multi_head_attention_forward", mask_name)
    is_bool = mask._data.dtype == np.bool_
    if not is_bool and not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for "
                      "both instead.", stacklevel=3)
    if is_bool:
        return where(mask, _factory.full((), _NEG_INF, dtype=target_type), _factory.zeros((), dtype=target_type))
    return mask


def _none_or_dtype(input: Tensor | None):
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or chainrule.Tensor")


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads: int) -> bool:
    """PyTorch's checks of the ranks of the inputs and masks; True for batched (3-D) inputs."""
    if query.ndim not in (2, 3):
        raise AssertionError(
            f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D query tensor")
    batched = query.ndim == 3
    what = "batched (3-D)" if batched else "unbatched (2-D)"
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(
            f"For {what} `query`, expected `key` and `value` to be {query.ndim}-D but found {key.ndim}-D and "
            f"{value.ndim}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise AssertionError(
            f"For {what} `query`, expected `key_padding_mask` to be `None` or {query.ndim - 1}-D but found "
            f"{key_padding_mask.ndim}-D tensor instead")
    if attn_mask is not None:
        if attn_mask.ndim not in (2, 3):
            raise AssertionError(
                f"For {what} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found {attn_mask.ndim}-D "
                "tensor instead")
        expected = (num_heads, query.shape[0], key.shape[0])
        if not batched and attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
            raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape!r}")
    return batched


def _in_projection_packed(q: Tensor, k: Tensor, v: Tensor, w: Tensor, b: Tensor | None) -> tuple:
    """q W_q^T + b_q, k W_k^T + b_k, v W_v^T + b_v with W = [W_q; W_k; W_v] packed along dimension 0
    (one product when q, k and v are the same tensor, two when k and v are)."""
    E = q.shape[-1]
    if k is v and q is k:
        proj = unflatten(linear(q, w, b), -1, (3, E))
        return tuple(proj[..., i, :] for i in range(3))
    if k is v:
        w_q, w_kv = split(w, [E, 2 * E])
        b_q, b_kv = split(b, [E, 2 * E]) if b is not None else (None, None)
        kv = unflatten(linear(k, w_kv, b_kv), -1, (2, E))
        return linear(q, w_q, b_q), kv[..., 0, :], kv[..., 1, :]
    w_q, w_k, w_v = chunk(w, 3)
    b_q, b_k, b_v = chunk(b, 3) if b is not None else (None, None, None)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None) -> tuple:
    Eq, Ek, Ev = q.shape[-1], k.shape[-1], v.shape[-1]
    for name, w, shape in (("query", w_q, (Eq, Eq)), ("key", w_k, (Eq, Ek)), ("value", w_v, (Eq, Ev))):
        if tuple(w.shape) != shape:
            raise AssertionError(f"expecting {name} weights shape of {shape}, but got {w.shape!r}")
    for name, b in (("query", b_q), ("key", b_k), ("value", b_v)):
        if b is not None and tuple(b.shape) != (Eq,):
            raise AssertionError(f"expecting {name} bias shape of {(Eq,)}, but got {b.shape!r}")
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _check_static(t: Tensor, name: str, heads: int, head_dim: int) -> Tensor:
    if t.shape[0] != heads:
        raise AssertionError(f"expecting {name}.size(0) of {heads}, but got {t.shape[0]}")
    if t.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {t.shape[2]}")
    return t


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None, bias_v: Tensor | None,
        add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor, out_proj_bias: Tensor | None,
        training: bool = True, key_padding_mask: Tensor | None = None, need_weights: bool = True,
        attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False,
        q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
        v_proj_weight: Tensor | None = None, static_k: Tensor | None = None, static_v: Tensor | None = None,
        average_attn_weights: bool = True, is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention (PyTorch's ``F.multi_head_attention_forward``), sequence-first.

    query (L, N, E), key (S, N, Ek), value (S, N, Ev) (or unbatched without N). Per head h:
    head_h = softmax(Q_h K_h^T / sqrt(E/H) + M) V_h with Q = query W_q^T + b_q (likewise K, V);
    out = [head_1 ... head_H] W_o^T + b_o. Masks: bool True (or -inf) = not attended;
    ``key_padding_mask`` (N, S) masks keys per sample, ``attn_mask`` (L, S) or (N*H, L, S) per
    query. Returns (out (L, N, E), weights (N, L, S) averaged over heads, (N, H, L, S) with
    ``average_attn_weights=False``, or None when ``need_weights=False``).
    """
    batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = unsqueeze(query, 1), unsqueeze(key, 1), unsqueeze(value, 1)
        if key_padding_mask is not None:
            key_padding_mask = unsqueeze(key_padding_mask, 0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask),
                                       "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # scaled_dot_product_attention builds the causal mask itself
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False  # the hint no longer describes the merged mask
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {Size(key.shape[:2])!r} do not match value's "
                                 f"{Size(value.shape[:2])!r}")
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is None")
        b_q, b_k, b_v = chunk(in_proj_bias, 3) if in_proj_bias is not None else (None, None, None)
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight, b_q, b_k, b_v)
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {key.shape!r} does not match value shape {value.shape!r}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)

    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape!r}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = unsqueeze(attn_mask, 0)
        elif tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape!r}, but should be "
                               f"{(bsz * num_heads, tgt_len, src_len)}.")
    if bias_k is not None and bias_v is not None:  # one more key and value, learnt, for every sample
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cat([k, repeat(bias_k, 1, bsz, 1)])
        v = cat([v, repeat(bias_v, 1, bsz, 1)])
        attn_mask = pad(attn_mask, (0, 1)) if attn_mask is not None else None
        key_padding_mask = pad(key_padding_mask, (0, 1)) if key_padding_mask is not None else None
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")

    # (len, N, E) -> (N*H, len, head_dim)
    q = transpose(reshape(q, (tgt_len, bsz * num_heads, head_dim)), 0, 1)
    k = (transpose(reshape(k, (k.shape[0], bsz * num_heads, head_dim)), 0, 1) if static_k is None
         else _check_static(static_k, "static_k", bsz * num_heads, head_dim))
    v = (transpose(reshape(v, (v.shape[0], bsz * num_heads, head_dim)), 0, 1) if static_v is None
         else _check_static(static_v, "static_v", bsz * num_heads, head_dim))
    if add_zero_attn:  # one more key and value, zero, that every query can attend to
        k = cat([k, _factory.zeros(bsz * num_heads, 1, head_dim, dtype=k.dtype)], 1)
        v = cat([v, _factory.zeros(bsz * num_heads, 1, head_dim, dtype=v.dtype)], 1)
        attn_mask = pad(attn_mask, (0, 1)) if attn_mask is not None else None
        key_padding_mask = pad(key_padding_mask, (0, 1)) if key_padding_mask is not None else None
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            dim, want = (0, bsz) if key_padding_mask.shape[0] != bsz else (1, src_len)
            raise AssertionError(f"Expected key_padded_mask.shape[{dim}] to be {want}, but got "
                                 f"{key_padding_mask.shape[dim]}")
        key_padding_mask = reshape(expand(reshape(key_padding_mask, (bsz, 1, 1, src_len)), -1, num_heads, -1, -1),
                                   (bsz * num_heads, 1, src_len))
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0

    if need_weights:  # the weights themselves are returned: a plain softmax (a fully masked row is NaN)
        scores = bmm(q * math.sqrt(1.0 / head_dim), transpose(k, -2, -1))
        if attn_mask is not None:
            scores = attn_mask + scores
        weights = softmax(scores, -1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = reshape(transpose(bmm(weights, v), 0, 1), (tgt_len * bsz, embed_dim))
        out = reshape(linear(out, out_proj_weight, out_proj_bias), (tgt_len, bsz, -1))
        weights = reshape(weights, (bsz, num_heads, tgt_len, src_len))
        if average_attn_weights:
            weights = mean(weights, 1)
        if not batched:
            out, weights = squeeze(out, 1), squeeze(weights, 0)
        return out, weights

    if attn_mask is not None:
        attn_mask = (unsqueeze(attn_mask, 0) if attn_mask.shape[0] == 1
                     else reshape(attn_mask, (bsz, num_heads, -1, src_len)))
    q = reshape(q, (bsz, num_heads, tgt_len, head_dim))
    k = reshape(k, (bsz, num_heads, src_len, head_dim))
    v = reshape(v, (bsz, num_heads, src_len, head_dim))
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = reshape(permute(out, 2, 0, 1, 3), (bsz * tgt_len, embed_dim))
    out = reshape(linear(out, out_proj_weight, out_proj_bias), (tgt_len, bsz, -1))
    if not batched:
        out = squeeze(out, 1)
    return out, None


__all__: list[str] = []  # nn.functional only (PyTorch has no torch.scaled_dot_product_attention)

TENSOR_METHODS: list[str] = []
