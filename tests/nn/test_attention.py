"""Attention against PyTorch 2.13: ``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention``.

Comparisons run in float64. The tolerances (rtol 1e-10, atol 1e-12) allow for the order of the
sums inside the matrix products and softmax (PyTorch scales q and k by sqrt(scale) each, we
scale the scores once; its CPU kernel computes the softmax blockwise): differences of a few
units in the last place, ~1e-15 relative, a thousand times below the tolerance. A wrong mask,
scale or head split moves results by O(1).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn  # noqa: F401  (makes cr.nn available)
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck

RTOL, ATOL = 1e-10, 1e-12


def _np(t) -> np.ndarray:
    return t.detach().numpy()


def _close(ours, theirs, what: str = "") -> None:
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=RTOL, atol=ATOL, err_msg=what)


def _both(array, grad: bool = False):
    """The same array as a chainrule and a torch tensor (float arrays require grad with ``grad``)."""
    g = grad and array.dtype.kind == "f"
    return (cr.tensor(array.copy(), requires_grad=g), torch.tensor(array.copy(), requires_grad=g))


def _grads(out_ours, out_theirs, wrt_ours, wrt_theirs, seed: int = 1):
    """Gradients of <out, c> for one random cotangent c (the same for both libraries)."""
    c = np.random.default_rng(seed).standard_normal(tuple(out_theirs.shape))
    go = cr.autograd.grad(out_ours, wrt_ours, cr.tensor(c), allow_unused=True)
    gt = torch.autograd.grad(out_theirs, wrt_theirs, torch.tensor(c), allow_unused=True)
    return go, gt


# ---- scaled_dot_product_attention -------------------------------------------------------------------

# (query, key, value) shapes: 2-D, 3-D and 4-D, L != S, Ev != E, batch dimensions that broadcast
SHAPES = {
    "2d": ((3, 4), (5, 4), (5, 6)),
    "3d": ((2, 3, 4), (2, 5, 4), (2, 5, 6)),
    "4d": ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5)),
    "4d_L>S": ((1, 2, 7, 4), (1, 2, 3, 4), (1, 2, 3, 4)),
    "broadcast": ((2, 3, 3, 4), (3, 5, 4), (1, 5, 6)),
}


def _qkv(shapes, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def _mask_for(shapes, kind: str, seed: int = 2):
    L, S = shapes[0][-2], shapes[1][-2]
    rng = np.random.default_rng(seed)
    if kind == "bool":
        m = rng.random((L, S)) > 0.4
        m[:, 0] = True  # every query keeps a key (fully masked rows are tested on their own)
        return m
    if kind == "bool_full":  # the scores' full shape
        lead = np.broadcast_shapes(shapes[0][:-2], shapes[1][:-2])
        m = rng.random(lead + (L, S)) > 0.4
        m[..., 0] = True
        return m
    return rng.standard_normal((L, S))  # float: an additive bias


def _compare_sdpa(arrays, mask=None, **kw):
    ours = [_both(a, grad=True) for a in arrays]
    m = _both(mask, grad=True) if mask is not None else (None, None)
    yo = F.scaled_dot_product_attention(*[o for o, _ in ours], attn_mask=m[0], **kw)
    yt = TF.scaled_dot_product_attention(*[t for _, t in ours], attn_mask=m[1], **kw)
    _close(yo, yt, "output")
    wo = [o for o, _ in ours] + ([m[0]] if m[0] is not None and m[0].requires_grad else [])
    wt = [t for _, t in ours] + ([m[1]] if m[1] is not None and m[1].requires_grad else [])
    go, gt = _grads(yo, yt, wo, wt)
    for name, a, b in zip(["query", "key", "value", "attn_mask"], go, gt):
        _close(a, b, f"gradient of {name}")
    return yo


@pytest.mark.parametrize("shape_id", list(SHAPES))
@pytest.mark.parametrize("variant", ["plain", "scale", "causal", "bool", "bool_full", "float"])
def test_sdpa_matches_torch(shape_id, variant):
    shapes = SHAPES[shape_id]
    arrays = _qkv(shapes)
    if variant in ("bool", "bool_full", "float"):
        _compare_sdpa(arrays, _mask_for(shapes, variant))
    else:
        kw = {"plain": {}, "scale": {"scale": 0.37}, "causal": {"is_causal": True}}[variant]
        _compare_sdpa(arrays, **kw)


@pytest.mark.parametrize("L,S", [(3, 5), (5, 3), (4, 4)])
def test_is_causal_is_the_upper_left_lower_triangle(L, S):
    q, k, v = _qkv(((2, L, 4), (2, S, 4), (2, S, 3)))
    y = _compare_sdpa([q, k, v], is_causal=True)
    tri = np.tril(np.ones((L, S), dtype=bool))  # query i sees keys 0..i, whatever L and S
    _close(y, F.scaled_dot_product_attention(cr.tensor(q), cr.tensor(k), cr.tensor(v), attn_mask=cr.tensor(tri)))


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_fully_masked_rows_give_zeros_and_zero_gradients_as_torch(kind):
    q, k, v = _qkv(((2, 4, 3), (2, 5, 3), (2, 5, 2)))
    allowed = np.random.default_rng(3).random((2, 4, 5)) > 0.5
    allowed[:, :, 0] = True
    allowed[0, 1] = False  # no key for query 1 of sample 0
    allowed[1, 3] = False
    mask = allowed if kind == "bool" else np.where(allowed, 0.5, -np.inf)
    y = _compare_sdpa([q, k, v], mask)
    assert np.all(_np(y)[0, 1] == 0) and np.all(_np(y)[1, 3] == 0)
    qs = cr.tensor(q, requires_grad=True)
    F.scaled_dot_product_attention(qs, cr.tensor(k), cr.tensor(v), attn_mask=cr.tensor(mask)).sum().backward()
    assert np.all(np.isfinite(qs.grad.numpy())) and np.all(qs.grad.numpy()[0, 1] == 0)


def test_bool_and_float_masks_agree():
    q, k, v = _qkv(((2, 3, 4), (2, 5, 4), (2, 5, 4)))
    m = _mask_for(((3, 4), (5, 4)), "bool")
    args = [cr.tensor(a) for a in (q, k, v)]
    yb = F.scaled_dot_product_attention(*args, attn_mask=cr.tensor(m))
    yf = F.scaled_dot_product_attention(*args, attn_mask=cr.tensor(np.where(m, 0.0, -np.inf)))
    np.testing.assert_array_equal(yb.numpy(), yf.numpy())


def test_enable_gqa_repeats_key_and_value_heads():
    q, k, v = _qkv(((2, 6, 3, 4), (2, 2, 5, 4), (2, 3, 5, 4)))
    _compare_sdpa([q, k, v], enable_gqa=True)
    # heads 0-2 of the query share key head 0, heads 3-5 key head 1 (repeat_interleave)
    y = F.scaled_dot_product_attention(*[cr.tensor(a) for a in (q, k, v)], enable_gqa=True)
    ref = F.scaled_dot_product_attention(cr.tensor(q), cr.tensor(np.repeat(k, 3, 1)), cr.tensor(np.repeat(v, 2, 1)))
    np.testing.assert_array_equal(y.numpy(), ref.numpy())


def test_dropout_p0_is_the_identity_and_p1_gives_zeros():
    arrays = _qkv(SHAPES["3d"])
    args = [cr.tensor(a) for a in arrays]
    np.testing.assert_array_equal(F.scaled_dot_product_attention(*args, dropout_p=0.0).numpy(),
                                  F.scaled_dot_product_attention(*args).numpy())
    q = cr.tensor(arrays[0], requires_grad=True)
    y = F.scaled_dot_product_attention(q, *args[1:], dropout_p=1.0)
    assert np.all(y.detach().numpy() == 0)
    yt = TF.scaled_dot_product_attention(*[torch.tensor(a) for a in arrays], dropout_p=1.0)
    assert np.all(yt.numpy() == 0)
    y.sum().backward()
    assert np.all(q.grad.numpy() == 0)


def test_dropout_is_seeded_inverted_and_drops_weights():
    """With V = I the output is the (dropped) weight matrix itself: each entry is 0 or w / (1 - p),
    a fraction p of them 0; the same seed draws the same mask. (PyTorch's generator differs, so
    properties are compared, not values.)"""
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal((8, 64, 4)), rng.standard_normal((8, 64, 4))
    eye = cr.tensor(np.broadcast_to(np.eye(64), (8, 64, 64)).copy())
    args, p = (cr.tensor(q), cr.tensor(k), eye), 0.3
    w = F.scaled_dot_product_attention(*args).numpy()
    cr.manual_seed(7)
    a = F.scaled_dot_product_attention(*args, dropout_p=p).numpy()
    cr.manual_seed(7)
    b = F.scaled_dot_product_attention(*args, dropout_p=p).numpy()
    c = F.scaled_dot_product_attention(*args, dropout_p=p).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    kept = a != 0
    assert abs(1 - kept.mean() - p) < 0.02  # 32768 Bernoulli draws: the standard deviation is 0.0025
    np.testing.assert_allclose(a[kept], w[kept] / (1 - p), rtol=1e-12)


def test_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(5)

    def t(*shape):
        return cr.tensor(rng.standard_normal(shape), requires_grad=True)

    q, k, v, bias = t(2, 3, 4), t(2, 5, 4), t(2, 5, 2), t(3, 5)
    keep = cr.tensor(_mask_for(((3, 4), (5, 4)), "bool"))
    assert gradcheck(lambda a, b, c, m: F.scaled_dot_product_attention(a, b, c, attn_mask=m), (q, k, v, bias))
    assert gradgradcheck(lambda a, b, c, m: F.scaled_dot_product_attention(a, b, c, attn_mask=m), (q, k, v, bias))
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=keep), (q, k, v))
    assert gradgradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True, scale=0.5),
                         (q, k, v))


def _sdpa_outcome(lib, fn_name, call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call(lib, getattr(lib.nn.functional, fn_name))
            return "ok", ""
        except Exception as e:  # noqa: BLE001 (the point is to compare whatever is raised)
            return type(e).__name__, str(e).replace("torch.", "chainrule.")


def _r(lib, *shape, dtype="float32"):
    return lib.ones(*shape, dtype=getattr(lib, dtype))


# calls both libraries refuse with the same exception type and message
SDPA_ERRORS = {
    "causal_and_mask": lambda L, f: f(_r(L, 2, 3, 4), _r(L, 2, 5, 4), _r(L, 2, 5, 4),
                                      attn_mask=_r(L, 3, 5, dtype="bool"), is_causal=True),
    "query_1d": lambda L, f: f(_r(L, 4), _r(L, 5, 4), _r(L, 5, 4)),
    "key_1d": lambda L, f: f(_r(L, 3, 4), _r(L, 4), _r(L, 4)),
    "dtypes_differ": lambda L, f: f(_r(L, 2, 3, 4), _r(L, 2, 5, 4, dtype="float64"), _r(L, 2, 5, 4)),
    "int_mask": lambda L, f: f(_r(L, 2, 3, 4), _r(L, 2, 5, 4), _r(L, 2, 5, 4), attn_mask=_r(L, 3, 5, dtype="int64")),
    "mask_dtype": lambda L, f: f(_r(L, 2, 3, 4), _r(L, 2, 5, 4), _r(L, 2, 5, 4),
                                 attn_mask=_r(L, 3, 5, dtype="float64")),
    "mask_shape": lambda L, f: f(_r(L, 2, 3, 4), _r(L, 2, 5, 4), _r(L, 2, 5, 4), attn_mask=_r(L, 3, 4, dtype="bool")),
    "dropout_p": lambda L, f: f(_r(L, 2, 3, 4), _r(L, 2, 5, 4), _r(L, 2, 5, 4), dropout_p=1.5),
    "gqa_indivisible": lambda L, f: f(_r(L, 1, 4, 3, 4), _r(L, 1, 3, 5, 4), _r(L, 1, 3, 5, 4), enable_gqa=True),
    "not_a_tensor": lambda L, f: f([1.0], _r(L, 3, 5, 4), _r(L, 3, 5, 4)),
}


@pytest.mark.parametrize("case", list(SDPA_ERRORS))
def test_sdpa_errors_as_torch(case):
    ours = _sdpa_outcome(cr, "scaled_dot_product_attention", SDPA_ERRORS[case])
    theirs = _sdpa_outcome(torch, "scaled_dot_product_attention", SDPA_ERRORS[case])
    assert ours[0] == theirs[0] != "ok"
    if case == "gqa_indivisible":  # PyTorch's message stops at "... the number of heads in "
        assert ours[1].startswith(theirs[1])
    elif case != "not_a_tensor":  # PyTorch's argument parser words it differently
        assert ours[1] == theirs[1]


def test_sdpa_shape_errors_are_runtime_errors():
    for shapes in [((2, 3, 4), (2, 5, 3), (2, 5, 4)), ((2, 3, 4), (2, 5, 4), (2, 6, 4)),
                   ((2, 3, 4), (3, 5, 4), (3, 5, 4))]:
        with pytest.raises(RuntimeError):
            F.scaled_dot_product_attention(*[cr.ones(*s) for s in shapes])
    with pytest.raises(RuntimeError, match="floating"):
        F.scaled_dot_product_attention(*[cr.ones(2, 3, 4, dtype=cr.int64)] * 3)


def test_sdpa_keeps_float32():
    y = F.scaled_dot_product_attention(cr.ones(2, 3, 4), cr.ones(2, 5, 4), cr.ones(2, 5, 4), is_causal=True)
    assert y.dtype == cr.float32


# ---- MultiheadAttention --------------------------------------------------------------------------


def _pair(seed: int = 0, **kwargs):
    """A torch MultiheadAttention and a chainrule one holding its weights (through its state dict
    as NumPy arrays), both float64."""
    torch.manual_seed(seed)
    theirs = torch.nn.MultiheadAttention(**kwargs).double()
    ours = cr.nn.MultiheadAttention(**kwargs).to(cr.float64)
    sd = theirs.state_dict()
    assert list(ours.state_dict()) == list(sd)
    ours.load_state_dict({k: cr.from_numpy(v.detach().numpy().copy()) for k, v in sd.items()})
    return ours, theirs


def _compare_mha(module_kwargs: dict, inputs: dict, call_kwargs: dict | None = None, masks: dict | None = None,
                 same: str = "", train: bool = False):
    """Outputs, attention weights and the gradients of inputs, float masks and parameters.

    ``inputs``: name -> array for query/key/value; ``same``: "qkv" passes one tensor as all
    three (self-attention), "kv" one tensor as key and value."""
    ours, theirs = _pair(**module_kwargs)
    ours.train(train)
    theirs.train(train)
    ti = {n: _both(a, grad=True) for n, a in inputs.items()}
    tm = {n: _both(a, grad=True) for n, a in (masks or {}).items()}

    def args(i):
        q = ti["query"][i]
        k = q if same == "qkv" else ti["key"][i]
        v = k if same in ("qkv", "kv") else ti["value"][i]
        return (q, k, v), {n: m[i] for n, m in tm.items()}

    (qo, ko, vo), mo = args(0)
    (qt, kt, vt), mt = args(1)
    out_o, w_o = ours(qo, ko, vo, **mo, **(call_kwargs or {}))
    out_t, w_t = theirs(qt, kt, vt, **mt, **(call_kwargs or {}))
    _close(out_o, out_t, "attn_output")
    if w_t is None:
        assert w_o is None
    else:
        assert tuple(w_o.shape) == tuple(w_t.shape)
        _close(w_o, w_t, "attn_weights")
    names = [n for n in ti] + [n for n, m in tm.items() if m[1].requires_grad]
    wrt_o = [ti[n][0] for n in ti] + [tm[n][0] for n in names[len(ti):]]
    wrt_t = [ti[n][1] for n in ti] + [tm[n][1] for n in names[len(ti):]]
    po, pt = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(po) == list(pt)
    go, gt = _grads(out_o, out_t, wrt_o + list(po.values()), wrt_t + list(pt.values()))
    for name, a, b in zip(names + list(pt), go, gt):
        if b is None:
            assert a is None or not np.any(_np(a)), f"gradient of {name} should be zero"
        else:
            _close(a, b, f"gradient of {name}")
    return out_o, w_o


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


E, H, L, S, N = 8, 2, 4, 5, 3


def _padding(kind: str, n: int = N, s: int = S):
    pad = np.zeros((n, s), dtype=bool)
    pad[0, -2:] = True  # the last two keys of sample 0 are padding
    pad[-1, 1] = True
    return pad if kind == "bool" else np.where(pad, -np.inf, 0.0) + _x(n, s, seed=9) * 0.1


def test_self_attention():
    _compare_mha(dict(embed_dim=E, num_heads=H), {"query": _x(L, N, E)}, same="qkv")


def test_self_attention_batch_first():
    _compare_mha(dict(embed_dim=E, num_heads=H, batch_first=True), {"query": _x(N, L, E)}, same="qkv")


@pytest.mark.parametrize("batch_first", [False, True])
def test_cross_attention_with_kdim_vdim(batch_first):
    shape = (lambda *s: (s[1], s[0], s[2])) if batch_first else (lambda *s: s)
    _compare_mha(dict(embed_dim=E, num_heads=4, kdim=3, vdim=6, batch_first=batch_first),
                 {"query": _x(*shape(L, N, E)), "key": _x(*shape(S, N, 3), seed=1),
                  "value": _x(*shape(S, N, 6), seed=2)})


def test_cross_attention_shared_key_value():
    _compare_mha(dict(embed_dim=E, num_heads=H), {"query": _x(L, N, E), "key": _x(S, N, E, seed=1)}, same="kv")


def test_unbatched():
    _compare_mha(dict(embed_dim=E, num_heads=H), {"query": _x(L, E), "key": _x(S, E, seed=1),
                                                   "value": _x(S, E, seed=2)},
                 masks={"key_padding_mask": _padding("bool")[0], "attn_mask": _x(H, L, S, seed=3)})


@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize("need_weights", [True, False])
def test_key_padding_mask(kind, need_weights):
    _compare_mha(dict(embed_dim=E, num_heads=H), {"query": _x(L, N, E), "key": _x(S, N, E, seed=1),
                                                   "value": _x(S, N, E, seed=2)},
                 {"need_weights": need_weights}, masks={"key_padding_mask": _padding(kind)})


@pytest.mark.parametrize("mask", ["bool2d", "float2d", "bool3d", "float3d"])
@pytest.mark.parametrize("need_weights", [True, False])
def test_attn_mask(mask, need_weights):
    shape = (L, S) if mask.endswith("2d") else (N * H, L, S)
    m = np.random.default_rng(4).random(shape) > 0.3
    m[..., 0] = False  # True = not attended: each query keeps key 0
    m = m if mask.startswith("bool") else np.where(m, -np.inf, 0.0) + _x(*shape, seed=5) * 0.1
    _compare_mha(dict(embed_dim=E, num_heads=H), {"query": _x(L, N, E), "key": _x(S, N, E, seed=1),
                                                   "value": _x(S, N, E, seed=2)},
                 {"need_weights": need_weights}, masks={"attn_mask": m})


@pytest.mark.parametrize("need_weights", [True, False])
def test_attn_mask_and_key_padding_mask_together(need_weights):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mismatched mask types: deprecated in both libraries
        _compare_mha(dict(embed_dim=E, num_heads=H, batch_first=True), {"query": _x(N, L, E)},
                     {"need_weights": need_weights},
                     masks={"attn_mask": np.triu(np.ones((L, L), dtype=bool), 1), "key_padding_mask": _padding("float",
                                                                                                            s=L)},
                     same="qkv")


def test_is_causal_hint():
    causal = np.triu(np.ones((L, L), dtype=bool), 1)
    for need_weights in (True, False):
        _compare_mha(dict(embed_dim=E, num_heads=H), {"query": _x(L, N, E)},
                     {"need_weights": need_weights, "is_causal": True}, masks={"attn_mask": causal}, same="qkv")


def test_average_attn_weights_false():
    _, w = _compare_mha(dict(embed_dim=E, num_heads=H), {"query": _x(L, N, E), "key": _x(S, N, E, seed=1),
                                                         "value": _x(S, N, E, seed=2)},
                        {"average_attn_weights": False})
    assert tuple(w.shape) == (N, H, L, S)


@pytest.mark.parametrize("options", [dict(add_bias_kv=True), dict(add_zero_attn=True),
                                     dict(add_bias_kv=True, add_zero_attn=True, kdim=3, vdim=6),
                                     dict(bias=False)])
@pytest.mark.parametrize("need_weights", [True, False])
def test_bias_kv_zero_attn_and_no_bias(options, need_weights):
    kd, vd = options.get("kdim", E), options.get("vdim", E)
    masks = {"key_padding_mask": _padding("bool"), "attn_mask": np.random.default_rng(6).random((L, S)) > 0.8}
    _compare_mha(dict(embed_dim=E, num_heads=H, **options),
                 {"query": _x(L, N, E), "key": _x(S, N, kd, seed=1), "value": _x(S, N, vd, seed=2)},
                 {"need_weights": need_weights}, masks=masks)


def test_fully_masked_query_as_torch():
    """A query row with every key masked: NaN weights with need_weights (a plain softmax), zeros
    through scaled_dot_product_attention without, in both libraries."""
    m = np.zeros((L, L), dtype=bool)
    m[1] = True
    for need_weights in (True, False):
        ours, theirs = _pair(embed_dim=E, num_heads=H)
        x = _x(L, N, E)
        yo, _ = ours(*[cr.tensor(x)] * 3, attn_mask=cr.tensor(m), need_weights=need_weights)
        yt, _ = theirs(*[torch.tensor(x)] * 3, attn_mask=torch.tensor(m), need_weights=need_weights)
        assert np.isnan(_np(yt)[1]).all() == need_weights
        np.testing.assert_allclose(_np(yo), _np(yt), rtol=RTOL, atol=ATOL)  # NaNs in the same places


def test_dropout_in_training_only():
    ours, _ = _pair(embed_dim=E, num_heads=H, dropout=0.5)
    x = cr.tensor(_x(L, N, E))
    ours.eval()
    a, _ = ours(x, x, x)
    b, _ = ours(x, x, x)
    np.testing.assert_array_equal(_np(a), _np(b))
    ours.train()
    for need_weights in (True, False):
        cr.manual_seed(3)
        c, wc = ours(x, x, x, need_weights=need_weights)
        cr.manual_seed(3)
        d, _ = ours(x, x, x, need_weights=need_weights)
        np.testing.assert_array_equal(c.detach().numpy(), d.detach().numpy())
        assert not np.allclose(_np(c), _np(a))
        if need_weights:  # the returned weights are the dropped ones, as in PyTorch
            assert (wc.detach().numpy() == 0).any()


@pytest.mark.parametrize("options", [{}, dict(kdim=3, vdim=5), dict(add_bias_kv=True, bias=False)])
def test_state_dict_keys_shapes_and_initialisation(options):
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(E, H, **options)
    ours = cr.nn.MultiheadAttention(E, H, **options)
    sd_o, sd_t = ours.state_dict(), theirs.state_dict()
    assert list(sd_o) == list(sd_t)
    assert [tuple(v.shape) for v in sd_o.values()] == [tuple(v.shape) for v in sd_t.values()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert repr(ours) == repr(theirs)
    assert isinstance(ours.out_proj, cr.nn.Linear) and type(ours.out_proj).__name__ == type(theirs.out_proj).__name__
    if "kdim" in options:
        assert ours.in_proj_weight is None and ours.q_proj_weight is not None
        bounds = {"q_proj_weight": math.sqrt(6 / (E + E)), "k_proj_weight": math.sqrt(6 / (E + 3)),
                  "v_proj_weight": math.sqrt(6 / (E + 5))}
    else:
        bounds = {"in_proj_weight": math.sqrt(6 / (E + 3 * E))}  # xavier_uniform_ over the packed (3E, E)
    for name, bound in bounds.items():
        w = sd_o[name].numpy()
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.5 * bound
    if options.get("bias", True):
        assert not sd_o["in_proj_bias"].numpy().any() and not sd_o["out_proj.bias"].numpy().any()
    if options.get("add_bias_kv"):
        assert sd_o["bias_k"].numpy().std() > 0  # xavier_normal_: std sqrt(2 / (E + E)) = 0.35


def _outcome(lib, call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call(lib)
            return "ok", ""
        except Exception as e:  # noqa: BLE001 (the point is to compare whatever is raised)
            return type(e).__name__, str(e).replace("torch.", "chainrule.")


def _mha_call(lib, q=(L, N, E), k=(S, N, E), v=(S, N, E), module=None, **kw):
    m = lib.nn.MultiheadAttention(**(module or dict(embed_dim=E, num_heads=H)))
    return m(lib.ones(*q), lib.ones(*k), lib.ones(*v), **kw)


def _bool(lib, *shape):
    return lib.zeros(*shape, dtype=lib.bool)


MHA_ERRORS = {
    "not_divisible": lambda L_: L_.nn.MultiheadAttention(10, 3),
    "zero_embed_dim": lambda L_: L_.nn.MultiheadAttention(0, 2),
    "zero_heads": lambda L_: L_.nn.MultiheadAttention(8, 0),
    "query_4d": lambda L_: _mha_call(L_, q=(1, L, N, E)),
    "key_2d_for_3d_query": lambda L_: _mha_call(L_, k=(S, E), v=(S, E)),
    "key_3d_for_2d_query": lambda L_: _mha_call(L_, q=(L, E)),
    "attn_mask_2d_shape": lambda L_: _mha_call(L_, attn_mask=_bool(L_, L, S + 1)),
    "attn_mask_3d_shape": lambda L_: _mha_call(L_, attn_mask=_bool(L_, N, L, S)),
    "attn_mask_4d": lambda L_: _mha_call(L_, attn_mask=_bool(L_, 1, N * H, L, S)),
    "attn_mask_3d_unbatched": lambda L_: _mha_call(L_, q=(L, E), k=(S, E), v=(S, E), attn_mask=_bool(L_, 1, L, S)),
    "key_padding_mask_rank": lambda L_: _mha_call(L_, key_padding_mask=_bool(L_, N)),
    "key_padding_mask_batch": lambda L_: _mha_call(L_, key_padding_mask=_bool(L_, N + 1, S)),
    "key_padding_mask_length": lambda L_: _mha_call(L_, key_padding_mask=_bool(L_, N, S + 1)),
    "int_key_padding_mask": lambda L_: _mha_call(L_, key_padding_mask=L_.zeros(N, S, dtype=L_.int64)),
    "causal_without_mask": lambda L_: _mha_call(L_, is_causal=True),
    "wrong_embed_dim": lambda L_: _mha_call(L_, q=(L, N, E + 1)),
    "key_value_shapes": lambda L_: _mha_call(L_, v=(S + 1, N, E)),
    "separate_key_value_dims": lambda L_: _mha_call(L_, module=dict(embed_dim=E, num_heads=H, kdim=3, vdim=3),
                                                    k=(S, N, 3), v=(S + 1, N, 3)),
    "kdim_mismatch": lambda L_: _mha_call(L_, module=dict(embed_dim=E, num_heads=H, kdim=3), k=(S, N, 4)),
}


@pytest.mark.parametrize("case", list(MHA_ERRORS))
def test_mha_errors_as_torch(case):
    ours, theirs = _outcome(cr, MHA_ERRORS[case]), _outcome(torch, MHA_ERRORS[case])
    assert theirs[0] != "ok"
    assert ours == theirs


def test_mismatched_mask_types_warn_as_torch():
    for lib in (cr, torch):
        with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask is deprecated"):
            _mha_call(lib, key_padding_mask=_bool(lib, N, S), attn_mask=lib.zeros(L, S))


def test_a_few_sgd_steps_reduce_the_loss():
    """A one-layer attention model learns to copy the value at the query's position."""
    cr.manual_seed(0)
    mha = cr.nn.MultiheadAttention(8, 2, batch_first=True)
    head = cr.nn.Linear(8, 8)
    params = list(mha.parameters()) + list(head.parameters())
    opt = cr.optim.SGD(params, lr=0.3)
    x = cr.tensor(_x(4, 6, 8).astype(np.float32))
    losses = []
    for _ in range(30):
        opt.zero_grad()
        out, _ = mha(x, x, x, need_weights=False)
        loss = F.mse_loss(head(out), x)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(np.isfinite(losses)) and losses[-1] < 0.7 * losses[0]


class _Block(cr.nn.Module):
    """A pre-norm transformer block, as course code writes it."""

    def __init__(self):
        super().__init__()
        self.norm = cr.nn.LayerNorm(E)
        self.attn = cr.nn.MultiheadAttention(E, H, batch_first=True, add_bias_kv=True)
        self.ff = cr.nn.Linear(E, E)

    def forward(self, x, pad):
        h = self.norm(x)
        causal = cr.triu(cr.ones(x.shape[1], x.shape[1], dtype=cr.bool), 1)
        a, w = self.attn(h, h, h, key_padding_mask=pad, attn_mask=causal)
        b, _ = self.attn(h, h, h, attn_mask=causal, need_weights=False, is_causal=True)
        y = x + a + b
        return (y + cr.relu(self.ff(y))).sum() + w.sum()


@pytest.mark.parametrize("backend", ["inductor", "eager"])
def test_compiled_module_replays_and_equals_eager(backend):
    cr.manual_seed(0)
    model = _Block().to(cr.float64)
    run = cr.compile(model, backend=backend)
    for seed in range(4):
        pad = np.zeros((N, L), dtype=bool)
        pad[seed % N, -1] = True
        results = []
        for f in (run, model):
            x = cr.tensor(_x(N, L, E, seed=seed), requires_grad=True)
            loss = f(x, cr.tensor(pad))
            grads = cr.autograd.grad(loss, [x] + list(model.parameters()))
            results.append([loss.detach().numpy()] + [g.numpy() for g in grads])
        for got, want in zip(*results):
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)  # fused kernels may reorder sums
    assert run._compiled_call.failures() == [], run._compiled_call.failures()


def test_compiled_sdpa_replays_with_new_masks():
    def fn(q, k, v, m):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m).sum()

    run = cr.compile(fn)
    for seed in range(3):
        q, k, v = _qkv(SHAPES["3d"], seed=seed)
        m = _mask_for(SHAPES["3d"], "bool", seed=seed)
        m[seed % 3] = False  # a fully masked row, in another place each call
        outs = []
        for f in (run, fn):
            args = [cr.tensor(a, requires_grad=True) for a in (q, k, v)]
            y = f(*args, cr.tensor(m))
            outs.append([y.detach().numpy()] + [g.numpy() for g in cr.autograd.grad(y, args)])
        for got, want in zip(*outs):
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
    assert run._compiled.failures() == [], run._compiled.failures()
