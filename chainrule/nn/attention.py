"""``MultiheadAttention`` (PyTorch's ``torch.nn.MultiheadAttention``): parameters, state-dict keys,
initialisation and forward as in PyTorch; the computation is ``F.multi_head_attention_forward``
(chainrule.ops.attention)."""

from __future__ import annotations

import numbers
from typing import Any

from .. import _factory, backend
from ..ops.attention import _canonical_mask, _none_or_dtype, multi_head_attention_forward
from ..ops.elementwise import add
from ..ops.shape import expand, reshape, transpose
from ..tensor import Tensor
from . import init
from .layers._utils import check_float_dtype
from .layers.linear import Linear
from .module import Module
from .parameter import Parameter


class NonDynamicallyQuantizableLinear(Linear):
    """``Linear`` under PyTorch's name for ``MultiheadAttention.out_proj`` (a marker class there,
    which keeps quantisation tools from swapping it; nothing differs here)."""


def _check_positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"MultiheadAttention: {name} must be an int, got {type(value).__name__} ({value!r})")


class MultiheadAttention(Module):
    """Multi-head attention: out = [head_1 ... head_H] W_o^T + b_o, head_h = softmax(Q_h K_h^T /
    sqrt(d) + M) V_h with d = embed_dim / num_heads and Q = query W_q^T + b_q, K = key W_k^T + b_k,
    V = value W_v^T + b_v, each split into H heads of d features.

    Parameters as in PyTorch: ``in_proj_weight`` (3E, E) = [W_q; W_k; W_v] when key and value
    have embed_dim features, else ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim),
    ``v_proj_weight`` (E, vdim); ``in_proj_bias`` (3E,); ``out_proj`` (a Linear E -> E);
    ``bias_k``, ``bias_v`` (1, 1, E) with ``add_bias_kv``. Initialisation (PyTorch's): W_q, W_k,
    W_v ~ xavier_uniform_ (U(-a, a), a = sqrt(6 / (fan_in + fan_out)), over the packed (3E, E)
    matrix when packed), biases 0, ``out_proj.weight`` Linear's default, ``bias_k``/``bias_v``
    ~ xavier_normal_. Inputs are (L, N, E) (``batch_first``: (N, L, E)) or unbatched (L, E).
    """

    embed_dim: int
    kdim: int
    vdim: int
    num_heads: int
    head_dim: int
    dropout: float
    batch_first: bool
    add_zero_attn: bool
    _qkv_same_embed_dim: bool
    in_proj_weight: Parameter | None
    q_proj_weight: Parameter | None
    k_proj_weight: Parameter | None
    v_proj_weight: Parameter | None
    in_proj_bias: Parameter | None
    bias_k: Parameter | None
    bias_v: Parameter | None
    out_proj: NonDynamicallyQuantizableLinear

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: Any = None, dtype: Any = None):
        _check_positive_int("embed_dim", embed_dim)
        _check_positive_int("num_heads", num_heads)
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        for name, value in (("kdim", kdim), ("vdim", vdim)):
            if value is not None:
                _check_positive_int(name, value)
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0.0 <= dropout <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout}")
        super().__init__()
        backend.check_device(device)
        dt = check_float_dtype("MultiheadAttention", dtype)
        self.embed_dim = int(embed_dim)
        self.kdim = int(kdim) if kdim is not None else self.embed_dim
        self.vdim = int(vdim) if vdim is not None else self.embed_dim
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.num_heads = int(num_heads)
        self.dropout = float(dropout)
        self.batch_first = batch_first
        self.head_dim = self.embed_dim // self.num_heads
        if self.head_dim * self.num_heads != self.embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        E = self.embed_dim
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(_factory.empty(E, E, dtype=dt))
            self.k_proj_weight = Parameter(_factory.empty(E, self.kdim, dtype=dt))
            self.v_proj_weight = Parameter(_factory.empty(E, self.vdim, dtype=dt))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(_factory.empty(3 * E, E, dtype=dt))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(_factory.empty(3 * E, dtype=dt))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(E, E, bias=bias, dtype=dt)
        if add_bias_kv:
            self.bias_k = Parameter(_factory.empty(1, 1, E, dtype=dt))
            self.bias_v = Parameter(_factory.empty(1, 1, E, dtype=dt))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """xavier_uniform_ in-projections, zero biases (out_proj's too), xavier_normal_ bias_k/v."""
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
            if w is not None:  # the packed weight, or the three separate ones
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        """Attend from ``query`` (L, N, E) to ``key`` (S, N, kdim) / ``value`` (S, N, vdim).

        ``key_padding_mask`` (N, S): True (or -inf) marks padding keys no query attends to.
        ``attn_mask`` (L, S) or (N * num_heads, L, S): True (or -inf) = not attended; float
        masks are added to the scores. ``is_causal`` is a hint that ``attn_mask`` is the causal
        mask (it must be given). Returns (attn_output, attn_weights): weights (N, L, S)
        averaged over heads, (N, num_heads, L, S) with ``average_attn_weights=False``, or None
        with ``need_weights=False``. Dropout acts on the attention weights in training mode.
        """
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise TypeError(f"{self.__class__.__name__}.forward(): argument '{name}' must be Tensor, not "
                                f"{type(t).__name__}")
        batched = query.ndim == 3
        key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask),
                                           "attn_mask", query.dtype)
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if self.batch_first and batched:  # the functional form is sequence-first
            if key is value:
                if query is key:
                    query = key = value = transpose(query, 1, 0)
                else:
                    query, key = transpose(query, 1, 0), transpose(key, 1, 0)
                    value = key
            else:
                query, key, value = (transpose(x, 1, 0) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        attn_output, attn_weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and batched:
            attn_output = transpose(attn_output, 1, 0)
        return attn_output, attn_weights

    def merge_masks(self, attn_mask: Tensor | None, key_padding_mask: Tensor | None,
                    query: Tensor) -> tuple[Tensor | None, int | None]:
        """One (N, num_heads, L, L) mask from ``attn_mask`` and ``key_padding_mask`` (self-attention,
        batch first, masks already float), and its type: None, 1 (padding only) or 2 (merged)."""
        mask_type: int | None = None
        merged: Tensor | None = None
        if key_padding_mask is not None:
            mask_type, merged = 1, key_padding_mask
        if attn_mask is not None:
            batch_size, seq_len, _ = query.shape
            mask_type = 2
            if attn_mask.ndim == 3:
                merged = reshape(attn_mask, (batch_size, -1, seq_len, seq_len))
            else:
                merged = expand(reshape(attn_mask, (1, 1, seq_len, seq_len)), batch_size, self.num_heads, -1, -1)
            if key_padding_mask is not None:
                padding = expand(reshape(key_padding_mask, (batch_size, 1, 1, seq_len)), -1, self.num_heads, -1, -1)
                merged = add(merged, padding)
        return merged, mask_type

    def extra_repr(self) -> str:
        return ""  # PyTorch prints only the out_proj child


__all__ = ["MultiheadAttention"]
