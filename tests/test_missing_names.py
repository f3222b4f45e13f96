"""PyTorch names added for textbook and tutorial code, beyond what the operator table checks:
that every name exists, error types and messages, index grids, sampling (seeded, distribution),
Tensor methods and in-place variants, all against PyTorch 2.13."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.autograd import gradcheck, gradgradcheck

TOP_NAMES = (
    "atleast_1d atleast_2d atleast_3d column_stack hsplit vsplit dsplit tensor_split rot90 diag diag_embed diagflat "
    "diagonal tril_indices triu_indices cartesian_prod combinations vander unravel_index index_copy index_fill "
    "index_put index_reduce masked_scatter scatter_reduce select_scatter slice_scatter narrow_copy as_strided "
    "broadcast_shapes range tensordot kron inner vdot chain_matmul addmv addr addbmm baddbmm block_diag cdist "
    "pdist dist renorm diff put multinomial bernoulli poisson finfo iinfo promote_types result_type can_cast "
    "is_floating_point is_complex is_nonzero is_same_size typename strided sparse_coo preserve_format "
    "contiguous_format channels_last channels_last_3d layout memory_format is_inference_mode_enabled "
    "set_num_interop_threads get_num_interop_threads set_float32_matmul_precision get_float32_matmul_precision "
    "pi e inf nan newaxis conj resolve_conj resolve_neg is_conj is_neg real imag is_signed is_inference detach fill "
    "zero_ empty_strided get_device asarray binomial diagonal_scatter split_with_sizes unsafe_split unsafe_chunk "
    "FloatTensor DoubleTensor HalfTensor ByteTensor CharTensor ShortTensor IntTensor LongTensor BoolTensor "
    "set_default_tensor_type random nonzero_static is_storage"
).split()
TENSOR_NAMES = (
    "unfold reshape_as unsqueeze_ squeeze_ t_ transpose_ sum_to_size fill_diagonal_ index_copy index_copy_ "
    "index_fill index_fill_ index_put index_put_ index_reduce index_reduce_ masked_scatter masked_scatter_ put put_ "
    "scatter_reduce scatter_reduce_ select_scatter slice_scatter resize_ resize_as_ apply_ char H mH nbytes itemsize "
    "is_sparse layout get_device diag diagonal diag_embed diagflat diff where square_ addmm_ addmv addmv_ addr addr_ "
    "addbmm addbmm_ baddbmm baddbmm_ renorm renorm_ dist kron inner vdot tensor_split hsplit vsplit dsplit rot90 "
    "narrow_copy as_strided is_complex is_nonzero is_same_size multinomial bernoulli geometric_ log_normal_ cauchy_ "
    "conj resolve_conj resolve_neg is_conj is_neg real imag is_signed is_inference storage_offset pin_memory "
    "is_pinned is_cpu is_quantized is_meta swapaxes_ swapdims_ diagonal_scatter split_with_sizes unsafe_split "
    "unsafe_chunk map_ new nonzero_static "
).split() + [name + "_" for name in (
    "acos acosh arccos arccosh arcsin arcsinh arctan arctanh asin asinh atan atanh cos cosh sin sinh tan ceil trunc "
    "frac reciprocal rsqrt log2 log10 negative absolute sgn fix eq ne lt le gt ge greater greater_equal less "
    "less_equal not_equal logical_and logical_or logical_xor logical_not bitwise_and bitwise_or bitwise_xor "
    "bitwise_not divide multiply subtract true_divide floor_divide remainder fmod hypot atan2 arctan2 cumsum cumprod "
    "tril triu").split()]


@pytest.mark.parametrize("name", TOP_NAMES)
def test_top_level_name_exists_as_in_torch(name):
    assert hasattr(torch, name)
    assert hasattr(cr, name), f"chainrule.{name} is missing"


@pytest.mark.parametrize("name", TENSOR_NAMES)
def test_tensor_name_exists_as_in_torch(name):
    assert hasattr(torch.Tensor, name)
    assert hasattr(cr.Tensor, name), f"chainrule.Tensor.{name} is missing"


def _outcome(f, L):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "ok", f(L)
        except Exception as e:  # noqa: BLE001 (the point is to compare whatever is raised)
            return type(e).__name__, str(e).replace("torch.", "chainrule.")


def _t(L, a, **kw):
    return L.tensor(np.asarray(a), **kw)


_A = np.arange(12.0).reshape(3, 4)
# calls both libraries must refuse with the same exception type and message
_ERRORS = {
    "hsplit_indivisible": lambda L: L.hsplit(_t(L, _A), 3),
    "vsplit_1d": lambda L: L.vsplit(_t(L, [1.0, 2.0]), 1),
    "dsplit_2d": lambda L: L.dsplit(_t(L, _A), 2),
    "tensor_split_0d": lambda L: L.tensor_split(_t(L, 1.0), 2),
    "tensor_split_zero": lambda L: L.tensor_split(_t(L, _A), 0),
    "rot90_same_dims": lambda L: L.rot90(_t(L, _A), 1, [1, 1]),
    "rot90_three_dims": lambda L: L.rot90(_t(L, _A), 1, [0, 1, 0]),
    "diag_3d": lambda L: L.diag(_t(L, np.ones((2, 2, 2)))),
    "diagonal_same": lambda L: L.diagonal(_t(L, _A), 0, 1, 1),
    "combinations_2d": lambda L: L.combinations(_t(L, _A)),
    "cartesian_prod_2d": lambda L: L.cartesian_prod(_t(L, _A)),
    "vander_2d": lambda L: L.vander(_t(L, _A)),
    "block_diag_3d": lambda L: L.block_diag(_t(L, np.ones((2, 2, 2)))),
    "diff_0d": lambda L: L.diff(_t(L, 1.0)),
    "unfold_too_big": lambda L: _t(L, _A).unfold(1, 5, 1),
    "unfold_step0": lambda L: _t(L, _A).unfold(1, 2, 0),
    "as_strided_oob": lambda L: L.as_strided(_t(L, _A), (4, 4), (4, 1)),
    "sum_to_size": lambda L: _t(L, _A).sum_to_size(2, 4),
    "broadcast_shapes": lambda L: L.broadcast_shapes((2, 3), (4,)),
    "tril_indices_float": lambda L: L.tril_indices(3, 3, dtype=L.float32),
    "tril_indices_negative": lambda L: L.tril_indices(-1, 2),
    "unravel_index_float": lambda L: L.unravel_index(_t(L, [1.0]), (3, 4)),
    "unravel_index_negative_shape": lambda L: L.unravel_index(_t(L, 3), (-1,)),
    "index_fill_1d_value": lambda L: L.index_fill(_t(L, _A), 0, _t(L, [0]), _t(L, [1.0, 2.0])),
    "scatter_reduce_bad_reduce": lambda L: L.scatter_reduce(_t(L, _A), 0, _t(L, [[0]]), _t(L, _A), "maximum"),
    "masked_scatter_int_mask": lambda L: L.masked_scatter(_t(L, _A), _t(L, _A) * 0, _t(L, _A)),
    "masked_scatter_short_source": lambda L: L.masked_scatter(_t(L, _A), _t(L, _A) > -1, _t(L, [1.0])),
    "fill_diagonal_1d": lambda L: _t(L, [1.0, 2.0]).fill_diagonal_(0),
    "fill_diagonal_unequal": lambda L: _t(L, np.ones((2, 3, 2))).fill_diagonal_(0),
    "addr_2d_vec": lambda L: L.addr(_t(L, _A), _t(L, _A), _t(L, [1.0])),
    "cdist_1d": lambda L: L.cdist(_t(L, [1.0]), _t(L, _A)),
    "cdist_columns": lambda L: L.cdist(_t(L, _A), _t(L, np.ones((2, 3)))),
    "pdist_3d": lambda L: L.pdist(_t(L, np.ones((2, 2, 2)))),
    "renorm_1d": lambda L: L.renorm(_t(L, [1.0, 2.0]), 2, 0, 1.0),
    "vdot_2d": lambda L: L.vdot(_t(L, _A), _t(L, _A)),
    "multinomial_3d": lambda L: L.multinomial(_t(L, np.ones((2, 2, 2))), 1),
    "multinomial_too_many": lambda L: L.multinomial(_t(L, [1.0, 1.0]), 3),
    "multinomial_negative": lambda L: L.multinomial(_t(L, [1.0, -1.0]), 1),
    "multinomial_zero_sum": lambda L: L.multinomial(_t(L, [0.0, 0.0]), 1),
    "multinomial_long": lambda L: L.multinomial(_t(L, [1, 2]), 1),
    "multinomial_zero_samples": lambda L: L.multinomial(_t(L, [1.0, 2.0]), 0),
    "bernoulli_p_range": lambda L: L.bernoulli(_t(L, [0.5]), 1.5),
    "bernoulli_long": lambda L: L.bernoulli(_t(L, [1, 0])),
    "poisson_negative": lambda L: L.poisson(_t(L, [-1.0])),
    "geometric_p": lambda L: _t(L, [1.0]).geometric_(1.5),
    "log_normal_std": lambda L: _t(L, [1.0]).log_normal_(0, 0),
    "cauchy_sigma": lambda L: _t(L, [1.0]).cauchy_(0, -1),
    "cauchy_long": lambda L: _t(L, [1]).cauchy_(),
    "finfo_int": lambda L: L.finfo(L.int32),
    "iinfo_float": lambda L: L.iinfo(L.float32),
    "iinfo_bool": lambda L: L.iinfo(L.bool),
    "is_nonzero_many": lambda L: L.is_nonzero(_t(L, [1.0, 2.0])),
    "is_nonzero_empty": lambda L: L.is_nonzero(_t(L, np.ones(0))),
    "H_1d": lambda L: _t(L, [1.0]).H,
    "mH_1d": lambda L: _t(L, [1.0]).mH,
    "resize_requires_grad": lambda L: _t(L, [1.0], requires_grad=True).resize_(2),
    "apply_requires_grad": lambda L: _t(L, [1.0], requires_grad=True).apply_(lambda v: v),
    "unsqueeze_leaf": lambda L: _t(L, [1.0], requires_grad=True).unsqueeze_(0),
    "interop_threads": lambda L: L.set_num_interop_threads(0),
    "index_copy_neg": lambda L: L.index_copy(_t(L, _A), 0, _t(L, [-1]), _t(L, _A[:1])),
    "index_copy_2d_index": lambda L: L.index_copy(_t(L, _A), 0, _t(L, [[0]]), _t(L, _A[:1])),
    "index_copy_int32": lambda L: L.index_copy(_t(L, _A), 0, _t(L, [0]).int(), _t(L, _A[:1])),
    "index_copy_count": lambda L: L.index_copy(_t(L, _A), 0, _t(L, [0, 1]), _t(L, _A[:1])),
    "index_copy_slice": lambda L: L.index_copy(_t(L, _A), 0, _t(L, [0]), _t(L, _A[:1, :3])),
    "index_copy_dtype": lambda L: L.index_copy(_t(L, _A), 0, _t(L, [0]), _t(L, _A[:1]).float()),
    "index_fill_oob": lambda L: L.index_fill(_t(L, _A), 1, _t(L, [4]), 5.0),
    "index_fill_int32": lambda L: L.index_fill(_t(L, _A), 1, _t(L, [1]).int(), 5.0),
    "index_put_dtype": lambda L: L.index_put(_t(L, _A), (_t(L, [0]),), _t(L, [1.0]).float()),
    "index_put_shape": lambda L: L.index_put(_t(L, _A), (_t(L, [0, 1]),), _t(L, np.ones(3))),
    "index_put_oob": lambda L: L.index_put(_t(L, _A), (_t(L, [5]),), _t(L, [1.0])),
    "index_put_too_many": lambda L: L.index_put(_t(L, _A), (_t(L, [0]), _t(L, [0]), _t(L, [0])), _t(L, [1.0])),
    "put_oob": lambda L: L.put(_t(L, _A), _t(L, [12]), _t(L, [1.0])),
    "put_count": lambda L: L.put(_t(L, _A), _t(L, [1, 2]), _t(L, [1.0])),
    "put_dtype": lambda L: L.put(_t(L, _A), _t(L, [1]), _t(L, [1.0]).float()),
    "index_reduce_sum": lambda L: L.index_reduce(_t(L, _A), 0, _t(L, [0]), _t(L, _A[:1]), "sum"),
    "index_reduce_dtype": lambda L: L.index_reduce(_t(L, _A), 0, _t(L, [0]), _t(L, _A[:1]).float(), "amax"),
    "scatter_reduce_oob": lambda L: L.scatter_reduce(_t(L, _A), 0, _t(L, [[5]]), _t(L, _A), "sum"),
    "scatter_reduce_dtype": lambda L: L.scatter_reduce(_t(L, _A), 0, _t(L, [[0]]), _t(L, _A).float(), "sum"),
    "select_scatter_shape": lambda L: L.select_scatter(_t(L, _A), _t(L, [1.0]), 0, 0),
    "select_scatter_oob": lambda L: L.select_scatter(_t(L, _A), _t(L, _A[0]), 0, 3),
    "slice_scatter_shape": lambda L: L.slice_scatter(_t(L, _A), _t(L, _A), 0, 1),
    "masked_scatter_dtype": lambda L: L.masked_scatter(_t(L, _A), _t(L, _A) > 0, _t(L, _A).float()),
    "tensordot_mismatch": lambda L: L.tensordot(_t(L, _A), _t(L, _A), ([1], [0])),
    "tensordot_lens": lambda L: L.tensordot(_t(L, _A), _t(L, _A), ([1, 0], [0])),
    "tensordot_dims_big": lambda L: L.tensordot(_t(L, _A), _t(L, _A), 3),
    "inner_mismatch": lambda L: L.inner(_t(L, _A), _t(L, _A.T)),
    "vdot_len": lambda L: L.vdot(_t(L, [1.0, 2]), _t(L, [1.0])),
    "vdot_dtype": lambda L: L.vdot(_t(L, [1.0]), _t(L, [1.0]).float()),
    "addmv_shape": lambda L: L.addmv(_t(L, [1.0]), _t(L, _A), _t(L, [1.0])),
    "addbmm_2d": lambda L: L.addbmm(_t(L, _A), _t(L, _A), _t(L, _A)),
    "baddbmm_2d": lambda L: L.baddbmm(_t(L, _A), _t(L, _A), _t(L, _A)),
    "chain_matmul_1d": lambda L: L.chain_matmul(_t(L, _A), _t(L, [1.0])),
    "cdist_int": lambda L: L.cdist(_t(L, _A).long(), _t(L, _A).long()),
    "cdist_neg_p": lambda L: L.cdist(_t(L, _A), _t(L, _A), -1),
    "dist_int": lambda L: L.dist(_t(L, _A).long(), _t(L, _A).long()),
    "renorm_neg_max": lambda L: L.renorm(_t(L, _A), 2, 0, -1.0),
    "renorm_int": lambda L: L.renorm(_t(L, _A).long(), 2, 0, 1.0),
    "diag_embed_same": lambda L: L.diag_embed(_t(L, _A), 0, 1, 1),
    "as_strided_len": lambda L: L.as_strided(_t(L, _A), (2,), (1, 1)),
    "narrow_copy_oob": lambda L: L.narrow_copy(_t(L, _A), 1, 3, 2),
    "diff_neg_n": lambda L: L.diff(_t(L, _A), -1),
    "diff_prepend_scalar": lambda L: L.diff(_t(L, _A), prepend=_t(L, 1.0)),
    "rot90_1d": lambda L: L.rot90(_t(L, [1.0])),
    "tensor_split_float_tensor": lambda L: L.tensor_split(_t(L, _A), _t(L, 2.0)),
    "range_bad": lambda L: L.range(3, 1),
    "fill_diagonal_leaf": lambda L: _t(L, _A, requires_grad=True).fill_diagonal_(0),
    "log_normal_long": lambda L: _t(L, [1]).log_normal_(),
    "multinomial_inf": lambda L: L.multinomial(_t(L, [1.0, np.inf]), 1),
    "bernoulli_nan": lambda L: L.bernoulli(_t(L, [np.nan])),
    "squeeze_dim": lambda L: _t(L, _A).squeeze_(5),
    "t_3d": lambda L: _t(L, np.ones((2, 2, 2))).t_(),
    "bernoulli_tensor_p_range": lambda L: _t(L, np.ones(3)).bernoulli_(_t(L, [0.0, 1.0, 2.0])),
    "bernoulli_tensor_p_shape": lambda L: _t(L, np.ones(3)).bernoulli_(_t(L, [0.0, 1.0])),
    "exponential_lambda": lambda L: _t(L, np.ones(3)).exponential_(0),
}


@pytest.mark.parametrize("name", sorted(_ERRORS))
def test_error_as_torch(name):
    want = _outcome(_ERRORS[name], torch)
    got = _outcome(_ERRORS[name], cr)
    assert want[0] != "ok"
    assert got == want


# ---- values without gradients ------------------------------------------------------------------
_VALUES = {
    "tril_indices": lambda L: L.tril_indices(3, 4),
    "tril_indices_offset": lambda L: L.tril_indices(4, 3, -1),
    "triu_indices": lambda L: L.triu_indices(3, 5, 2),
    "triu_indices_int32": lambda L: L.triu_indices(3, 3, dtype=L.int32),
    "unravel_index": lambda L: L.unravel_index(_t(L, [[0, 5], [11, 7]]), (3, 4)),
    "unravel_index_scalar": lambda L: L.unravel_index(_t(L, 9), (2, 5)),
    "unravel_index_negative": lambda L: L.unravel_index(_t(L, -1), (3, 4)),
    "range": lambda L: L.range(1, 4),
    "range_step": lambda L: L.range(0, 1, 0.25, dtype=L.float64),
    "range_int": lambda L: L.range(5, 1, -2, dtype=L.int64),
    "tensor_split_indices": lambda L: L.tensor_split(L.arange(10), [3, 1, 12, -2]),
    "tensor_split_tensor": lambda L: L.tensor_split(L.arange(7), L.tensor(3)),
    "combinations_r0": lambda L: L.combinations(_t(L, [1.0, 2.0]), 0),
    "combinations_too_long": lambda L: L.combinations(_t(L, [1.0, 2.0]), 3),
    "cartesian_prod_single": lambda L: L.cartesian_prod(_t(L, [1, 2])),
    "vander_int": lambda L: L.vander(_t(L, [1, 2, 3]), 4),
    "diff_bool": lambda L: L.diff(_t(L, [True, False, False])),
    "block_diag_int_float": lambda L: L.block_diag(_t(L, [[1, 2]]), _t(L, [3.0])),
    "atleast_1d_many": lambda L: L.atleast_1d(_t(L, 1.0), _t(L, [2.0])),
    "diag_int": lambda L: L.diag(_t(L, [1, 2]), -1),
    "kron_int": lambda L: L.kron(_t(L, [[1, 2]]), _t(L, [[3], [4]])),
    "scatter_reduce_int_mean": lambda L: L.scatter_reduce(_t(L, [10, 20, 30]), 0, _t(L, [0, 0, 2]),
                                                         _t(L, [1, 2, 4]), "mean"),
    "scatter_reduce_int32_index": lambda L: L.scatter_reduce(_t(L, _A), 1, _t(L, [[0, 0]]).int(), _t(L, _A), "prod"),
    "scatter_reduce_max_alias": lambda L: L.scatter_reduce(_t(L, [0.0, 0.0]), 0, _t(L, [0, 0]), _t(L, [5.0, -3.0]),
                                                          "max"),
    "scatter_reduce_int_amax_excl": lambda L: L.scatter_reduce(_t(L, [10, 20, 30]), 0, _t(L, [0, 0, 2]),
                                                              _t(L, [1, 2, 4]), "amax", include_self=False),
    "index_reduce_int32_index": lambda L: L.index_reduce(_t(L, _A), 0, _t(L, [0, 0]).int(), _t(L, _A[:2]), "amin"),
    "cdist_zero_p": lambda L: L.cdist(_t(L, _A), _t(L, _A[::-1].copy()), p=0),
    "inner_matrix_vector": lambda L: L.inner(_t(L, _A), _t(L, [1.0, 0.0, 2.0, 1.0])),
    "tensordot_tensor_dims": lambda L: L.tensordot(_t(L, _A), _t(L, _A.T.copy()), 1),
    "broadcast_shapes": lambda L: tuple(L.broadcast_shapes((2, 1, 3), (4, 1), 3)),
    "promote_types": lambda L: str(L.promote_types(L.int32, L.float16)).split(".")[-1],
}


@pytest.mark.parametrize("name", sorted(_VALUES))
def test_values_as_torch(name):
    want = _outcome(_VALUES[name], torch)
    got = _outcome(_VALUES[name], cr)
    assert got[0] == want[0] == "ok", (got, want)
    w, g = want[1], got[1]
    if isinstance(w, str):
        assert g == w
        return
    ws, gs = (w, g) if isinstance(w, tuple) else ((w,), (g,))
    assert len(ws) == len(gs)
    for a, b in zip(ws, gs):
        if isinstance(a, int):
            assert a == b
            continue
        assert tuple(b.shape) == tuple(a.shape)
        assert b.dtype.name == str(a.dtype).replace("torch.", "")
        np.testing.assert_allclose(b.numpy(), a.numpy())


def test_range_warns_as_deprecated():
    with pytest.warns(UserWarning, match="deprecated"):
        cr.range(0, 2)


# ---- gradients the table cannot compare with torch --------------------------------------------------
def _leaf(shape, seed=0):
    rng = np.random.default_rng(seed)
    return cr.tensor(rng.uniform(0.5, 2.0, size=shape), dtype=cr.float64, requires_grad=True)


def test_vander_gradients():
    x = _leaf((4,))  # torch's own vander backward raises; check against the formula and numerically
    assert gradcheck(lambda v: cr.vander(v), (x,)) and gradgradcheck(lambda v: cr.vander(v, 3, True), (x,))
    cr.vander(x, 3, increasing=True).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 + 2 * x.detach().numpy())


def test_scatter_reduce_gradient_with_index_smaller_than_src():
    x, s = _leaf((3, 4)), _leaf((3, 5), 1)
    idx = cr.tensor([[0, 0], [3, 1]])
    for r in ("sum", "prod", "mean", "amax"):
        assert gradcheck(lambda a, b, r=r: a.scatter_reduce(1, idx, b, r), (x, s))


def test_index_put_accumulate_repeats_gradient():
    x, v = _leaf((3, 4)), _leaf((4,), 1)
    idx = (cr.tensor([0, 2, 0, 0]), cr.tensor([1, 1, 1, 3]))
    assert gradcheck(lambda a, b: cr.index_put(a, idx, b, accumulate=True), (x, v))
    assert gradgradcheck(lambda a, b: cr.index_put(a, idx, b, accumulate=True) ** 2, (x, v))


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_distance_gradient_at_zero_distance_as_torch(p):
    a = np.array([[1.0, 2.0], [0.5, -1.0]])
    b = np.array([[1.0, 2.0], [3.0, 0.0]])  # row 0 of a equals row 0 of b
    xa, xb = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    cr.cdist(xa, xb, p).sum().backward()
    torch.cdist(ta, tb, p).sum().backward()
    np.testing.assert_allclose(xa.grad.numpy(), ta.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(xb.grad.numpy(), tb.grad.numpy(), atol=1e-12)
    xa.grad = None
    ta.grad = None
    cr.dist(xa[0], xb[0], p).backward()
    torch.dist(ta[0], tb[0], p).backward()
    np.testing.assert_allclose(xa.grad.numpy(), ta.grad.numpy(), atol=1e-12)


# ---- sampling ------------------------------------------------------------------------------------------
def test_multinomial_seeded_and_distributed():
    p = cr.tensor([0.1, 0.0, 0.6, 0.3])
    g1, g2 = cr.Generator().manual_seed(7), cr.Generator().manual_seed(7)
    a = cr.multinomial(p, 4000, replacement=True, generator=g1)
    assert a.dtype is cr.int64 and tuple(a.shape) == (4000,)
    assert cr.equal(a, cr.multinomial(p, 4000, replacement=True, generator=g2))
    freq = np.bincount(a.numpy(), minlength=4) / 4000
    np.testing.assert_allclose(freq, [0.1, 0.0, 0.6, 0.3], atol=0.03)
    cr.manual_seed(3)
    b = p.multinomial(3)
    cr.manual_seed(3)
    assert cr.equal(b, cr.multinomial(p, 3))
    assert sorted(b.tolist()) == [0, 2, 3]  # without replacement: distinct, weight-0 category last


def test_multinomial_rows_without_replacement_first_pick_frequencies():
    w = cr.tensor([[1.0, 3.0], [3.0, 1.0]])
    g = cr.Generator().manual_seed(0)
    firsts = np.stack([cr.multinomial(w, 2, generator=g).numpy() for _ in range(2000)])
    assert (np.sort(firsts, axis=2) == [[0, 1], [0, 1]]).all()
    np.testing.assert_allclose((firsts[:, :, 0] == 1).mean(0), [0.75, 0.25], atol=0.04)


def test_bernoulli_and_poisson():
    g = cr.Generator().manual_seed(1)
    p = cr.full((20000,), 0.3, dtype=cr.float64, requires_grad=True)
    y = cr.bernoulli(p, generator=g)
    assert y.dtype is cr.float64 and abs(float(y.mean()) - 0.3) < 0.02
    assert y.grad_fn.name() == torch.bernoulli(torch.full((2,), 0.3, requires_grad=True)).grad_fn.name()
    y.sum().backward()
    assert float(p.grad.abs().sum()) == 0.0
    z = cr.ones(20000).bernoulli(0.25, generator=g)
    assert abs(float(z.mean()) - 0.25) < 0.02
    w = cr.empty(10000, 3).bernoulli_(cr.tensor([0.0, 1.0, 0.5]), generator=g)
    assert w[:, 0].sum().item() == 0 and w[:, 1].sum().item() == 10000 and abs(w[:, 2].mean().item() - 0.5) < 0.03
    rate = cr.full((20000,), 3.0)
    k = cr.poisson(rate, g)
    assert k.dtype is cr.float32 and abs(float(k.mean()) - 3.0) < 0.1 and abs(float(k.var()) - 3.0) < 0.2
    assert float((k - k.round()).abs().max()) == 0.0


@pytest.mark.parametrize("fill,mean", [(lambda t, g: t.geometric_(0.25, generator=g), 4.0),
                                       (lambda t, g: t.log_normal_(0.0, 0.5, generator=g), math.exp(0.125)),
                                       (lambda t, g: t.exponential_(2.0, generator=g), 0.5)])
def test_inplace_fills_distribution(fill, mean):
    t = cr.empty(40000, dtype=cr.float64)
    assert fill(t, cr.Generator().manual_seed(5)) is t
    assert abs(float(t.mean()) - mean) / mean < 0.03
    u = cr.empty(40000, dtype=cr.float64)
    fill(u, cr.Generator().manual_seed(5))
    assert cr.equal(t, u)


def test_cauchy_median_and_quartiles():
    t = cr.empty(40000, dtype=cr.float64).cauchy_(1.0, 2.0, generator=cr.Generator().manual_seed(2))
    q = np.quantile(t.numpy(), [0.25, 0.5, 0.75])
    np.testing.assert_allclose(q, [-1.0, 1.0, 3.0], atol=0.1)


# ---- Tensor methods and in-place variants ----------------------------------------------------------------
def _pair(a, requires_grad=False):
    return (cr.tensor(a, dtype=cr.float64, requires_grad=requires_grad),
            torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad))


def _same(c, t):
    assert tuple(c.shape) == tuple(t.shape)
    np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("expr", [
    "x.char()", "x.H", "x.mH", "x.where(x > 1, x * 0)", "x.clone().square_()", "x.clone().t_()",
    "x.clone().transpose_(0, 1)", "x.clone().unsqueeze_(1)", "x.clone().unsqueeze_(0).squeeze_()",
    "x.clone().resize_(2, 2)", "x.clone().resize_(4, 4)", "x.clone().resize_as_(x[0])",
    "x.clone().fill_diagonal_(-1.0)", "L.ones(7, 3).fill_diagonal_(5.0, wrap=True)",
    "L.ones(7, 3).fill_diagonal_(5.0)", "L.ones(3, 3, 3).fill_diagonal_(2.0)",
    "x.clone().index_copy_(0, L.tensor([2, 0]), x[:2] * 2)", "x.clone().index_fill_(1, L.tensor([0, 3]), 7.0)",
    "x.clone().index_put_((L.tensor([0, 0]), L.tensor([1, 1])), L.tensor([1.0, 2.0], dtype=L.float64), True)",
    "x.clone().index_reduce_(0, L.tensor([1, 1]), x[:2], 'prod', include_self=False)",
    "x.clone().scatter_reduce_(1, L.tensor([[0, 0], [1, 1], [3, 3]]), x[:, :2] + 1, 'amin')",
    "x.clone().masked_scatter_(x > 3, L.arange(12.0, dtype=L.float64))",
    "x.clone().put_(L.tensor([0, 11]), L.tensor([9.0, 8.0], dtype=L.float64))",
    "x[:, :3].clone().addmm_(x, x.t(), beta=0.5)", "x[0].clone().addmv_(x.t(), x[:, 0], alpha=2)",
    "x.clone().addr_(x[:, 0], x[0])", "x[:, :3].clone().addbmm_(x[None, :, :2], x[None, :2, :3])",
    "x[None].clone().baddbmm_(x[None, :, :2], x[None, :2, :])", "x.clone().renorm_(2, 0, 5.0)",
    "x.clone().apply_(lambda v: v * 2 + 1)", "x.unfold(0, 2, 1)", "x.reshape_as(x.t())",
    "x.sum_to_size(3, 1)", "x.diagonal(1)", "x.diag()", "x.diff(dim=0)", "x.narrow_copy(0, 1, 2)",
    "x.as_strided((3, 3), (1, 3))", "x.rot90(1, [1, 0])", "x.tensor_split(2)[1]", "x.hsplit([1, 2])[2]",
    "x.kron(x[:1])", "x[0].inner(x[1])", "x[0].vdot(x[1])", "x.dist(x * 2, 1)",
])
def test_method_as_torch(expr):
    x, tx = _pair(np.arange(12.0).reshape(3, 4) / 3.0)
    got = eval(expr, {"x": x, "L": cr})
    want = eval(expr, {"x": tx, "L": torch})
    assert got.dtype.name == str(want.dtype).split(".")[-1]
    _same(got, want)


def test_nbytes_itemsize_and_resize_shrink_keeps_elements():
    x, tx = _pair(np.arange(6.0).reshape(2, 3))
    assert (x.nbytes, x.itemsize) == (tx.nbytes, tx.itemsize)
    y = x.resize_(4)
    assert y is x and x.tolist() == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize("expr", [
    "(x * 1).unsqueeze_(0).sum(1).pow(2).sum()", "(x * 1).t_().pow(3).sum()",
    "(x * 1).transpose_(0, 1).sin().sum()", "(x * 1).square_().sum()",
    "(x * 1).index_fill_(1, L.tensor([1]), 0.0).pow(2).sum()",
    "(x * 1).index_copy_(0, L.tensor([1]), x[:1] * 3).pow(2).sum()",
    "(x * 1).masked_scatter_(x > 1, x.flip(0) * 2).pow(2).sum()",
    "(x * 1).scatter_reduce_(0, L.tensor([[1, 0, 1]]), x[:1] * 2, 'prod').sum()",
    "(x * 1).put_(L.tensor([3, 4]), x[0, :2] * 3, accumulate=True).pow(2).sum()",
    "(x * 1).renorm_(2, 1, 1.0).pow(2).sum()", "(x * 1).addmm_(x, x.t()).pow(2).sum()",
    "(x * 1).fill_diagonal_(2.0).pow(2).sum()",
])
def test_inplace_recorded_in_graph_as_torch(expr):
    x, tx = _pair(np.arange(1.0, 10.0).reshape(3, 3) / 4.0, requires_grad=True)
    eval(expr, {"x": x, "L": cr}).backward()
    eval(expr, {"x": tx, "L": torch}).backward()
    _same(x.grad, tx.grad)


def test_inplace_shape_change_names_its_node_as_torch():
    x, tx = _pair(np.ones((2, 3)), requires_grad=True)
    for expr in ("(x * 1).unsqueeze_(0)", "(x * 1).t_()", "(x * 1).transpose_(0, 1)", "(x * 1).square_()"):
        assert eval(expr, {"x": x}).grad_fn.name() == eval(expr, {"x": tx}).grad_fn.name(), expr


def test_tensor_split_and_splits_match_torch_shapes():
    x, tx = _pair(np.arange(24.0).reshape(2, 3, 4))
    for expr in ("x.tensor_split(3, dim=2)", "x.tensor_split([1, 2], 1)", "x.tensor_split(L.tensor([1, 3]), 2)",
                 "x.hsplit(3)", "x.vsplit([1])", "x.dsplit([1, 3])"):
        got, want = eval(expr, {"x": x, "L": cr}), eval(expr, {"x": tx, "L": torch})
        assert len(got) == len(want), expr
        for g, w in zip(got, want):
            _same(g, w)


def test_views_share_memory_as_torch():
    results = []
    for L in (cr, torch):
        x = L.arange(12.0).reshape(3, 4)
        x.diagonal().fill_(-1.0)
        x.diagonal(1).add_(10.0)
        x.unfold(1, 2, 2).mul_(2.0)
        L.as_strided(x, (2, 2), (1, 4), 1).zero_()
        y = L.arange(12.0).reshape(3, 4)
        L.diag(y).fill_(100.0)  # diag of a matrix is a copy in both
        x.tensor_split(2, dim=1)[1].neg_()
        results.append((x.numpy().copy(), y.numpy().copy()))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_view_of_a_tensor_requiring_grad_keeps_gradients():
    x, tx = _pair(np.arange(12.0).reshape(3, 4) / 5.0, requires_grad=True)
    for expr in ("(x.diagonal(1) * x.unfold(1, 3, 1)[:, 0, 0]).sum()", "(L.as_strided(x, (3, 3), (2, 1), 1) ** 2).sum()",
                 "x.unfold(0, 2, 1).unfold(1, 2, 2).pow(2).sum()"):
        x.grad, tx.grad = None, None
        eval(expr, {"x": x, "L": cr}).backward()
        eval(expr, {"x": tx, "L": torch}).backward()
        _same(x.grad, tx.grad)
    assert gradgradcheck(lambda v: v.unfold(1, 2, 1).diagonal(0, 0, 2) ** 2, (x,))


@pytest.mark.parametrize("expr", [
    "x.sin_()", "x.acos_()", "x.arctanh_()", "x.ceil_()", "x.frac_()", "x.reciprocal_()", "x.rsqrt_()",
    "x.log2_()", "x.negative_()", "x.absolute_()", "x.sgn_()", "x.fix_()", "x.eq_(y)", "x.lt_(0.5)",
    "x.greater_equal_(y)", "x.logical_and_(y)", "x.logical_not_()", "x.divide_(y)", "x.divide_(y, rounding_mode='floor')",
    "x.multiply_(2)", "x.subtract_(y, alpha=2)", "x.true_divide_(y)", "x.floor_divide_(y)", "x.remainder_(y)",
    "x.fmod_(y)", "x.hypot_(y)", "x.atan2_(y)", "x.arctan2_(y)", "x.cumsum_(1)", "x.cumprod_(dim=0)", "x.tril_()",
    "x.triu_(1)", "x.swapaxes_(0, 1)", "x.swapdims_(1, 0)", "xi.bitwise_and_(yi)", "xi.bitwise_not_()",
    "xi.bitwise_xor_(3)", "xi.cumsum_(0)", "xi.eq_(yi)",
])
def test_inplace_variants_as_torch(expr):
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.1, 0.9, (3, 4)), rng.uniform(0.1, 0.9, (3, 4))
    ia, ib = rng.integers(-5, 5, (3, 4)), rng.integers(1, 5, (3, 4))
    envs = []
    for L in (cr, torch):
        env = {"x": L.tensor(a), "y": L.tensor(b), "xi": L.tensor(ia), "yi": L.tensor(ib)}
        before = {k: v for k, v in env.items()}
        out = eval(expr, env)
        assert out is before[expr.split(".")[0]]  # returns self
        assert out._version == ([1] if L is cr else 1)
        envs.append(out)
    got, want = envs
    assert got.dtype.name == str(want.dtype).split(".")[-1]
    _same(got, want)


@pytest.mark.parametrize("expr", ["(x * 1).sin_().sum()", "(x * 1).cumprod_(1).sum()", "(x * 1).hypot_(x * 2).sum()",
                                  "(x * 1).tril_(-1).pow(2).sum()", "(x * 1).divide_(x + 1).sum()",
                                  "(x * 1).swapaxes_(0, 1).cumsum(0).pow(2).sum()"])
def test_inplace_variants_gradients_as_torch(expr):
    x, tx = _pair(np.arange(1.0, 10.0).reshape(3, 3) / 4.0, requires_grad=True)
    eval(expr, {"x": x}).backward()
    eval(expr, {"x": tx}).backward()
    _same(x.grad, tx.grad)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.sin_()


def test_complex_stand_ins_constants_and_predicates_as_torch():
    for L in (cr, torch):
        x = L.arange(6.0).reshape(2, 3)
        assert L.real(x) is x and x.real is x and x.conj() is x and L.conj(x) is x
        assert x.resolve_conj() is x and L.resolve_neg(x) is x and not x.is_conj() and not L.is_neg(x)
        assert L.is_signed(x) and not L.ones(2, dtype=L.uint8).is_signed() and not L.ones(2, dtype=L.bool).is_signed()
        assert x.is_cpu and not x.is_inference() and not L.is_inference(x) and not x.is_quantized and not x.is_meta
        assert (x[:, 1:].storage_offset(), x[1].storage_offset(), x.t().storage_offset()) == (1, 3, 0)
        assert L.get_device(x) == -1 and not L.detach(x).requires_grad
        assert L.fill(x, 2.0).tolist() == [[2.0] * 3] * 2 and x[0, 1].item() == 1.0
        assert L.zero_(x.clone()).sum().item() == 0
        s = L.empty_strided((2, 3), (1, 2))
        assert tuple(s.shape) == (2, 3) and s.stride() == (1, 2)
        assert L is torch or (x.pin_memory() is x and not x.is_pinned())
        assert x[L.newaxis].shape == (1, 2, 3)
    assert (cr.pi, cr.e, cr.inf) == (torch.pi, torch.e, torch.inf) and math.isnan(cr.nan) and cr.newaxis is None
    for L in (cr, torch):
        with pytest.raises(RuntimeError, match="imag is not implemented"):
            L.imag(L.ones(2))


def test_legacy_tensor_types_as_torch():
    for L in (cr, torch):
        assert L.FloatTensor.dtype is L.float32 and L.LongTensor.dtype is L.int64
        assert tuple(L.FloatTensor(2, 3).shape) == (2, 3) and L.FloatTensor(2, 3).dtype is L.float32
        assert L.LongTensor([1, 2]).tolist() == [1, 2] and L.LongTensor([1, 2]).dtype is L.int64
        assert tuple(L.DoubleTensor().shape) == (0,)
        x = L.ones(2)
        assert isinstance(x, L.FloatTensor) and not isinstance(x, L.LongTensor) and isinstance(x.long(), L.LongTensor)
        assert x.type(L.LongTensor).dtype is L.int64 and x.type(L.FloatTensor) is x
        alias = L.FloatTensor(x)
        alias[0] = 5.0
        assert x[0].item() == 5.0
        x[0] = 1.0
        with pytest.raises(TypeError):
            L.FloatTensor(x.long())
        with warnings.catch_warnings(record=True) as seen:  # torch warns once per process
            warnings.simplefilter("always")
            L.set_default_tensor_type(L.DoubleTensor)
        assert L is torch or any("deprecated" in str(w.message) for w in seen)
        try:
            assert L.get_default_dtype() is L.float64 and L.ones(1).dtype is L.float64
            with warnings.catch_warnings(), pytest.raises(TypeError, match="only floating-point types"):
                warnings.simplefilter("ignore")
                L.set_default_tensor_type(L.LongTensor)
        finally:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                L.set_default_tensor_type("torch.FloatTensor")
        assert L.get_default_dtype() is L.float32
    assert repr(cr.FloatTensor) == repr(torch.FloatTensor).replace("torch.", "chainrule.")


def test_random_module_seed_state_and_fork_rng():
    for L in (cr, torch):
        L.random.manual_seed(3)
        assert L.random.initial_seed() == 3
        a = L.rand(3)
        state = L.random.get_rng_state()
        with L.random.fork_rng():
            L.rand(10)
        b = L.rand(3)
        L.random.set_rng_state(state)
        assert L.equal(L.rand(3), b)
        L.random.manual_seed(3)
        assert L.equal(L.rand(3), a)


def test_binomial_asarray_as_torch():
    g = cr.Generator().manual_seed(4)
    count, prob = cr.full((20000,), 10.0, dtype=cr.float64), cr.full((20000,), 0.3, dtype=cr.float64)
    k = cr.binomial(count, prob, g)
    assert k.dtype is cr.float64 and abs(k.mean().item() - 3.0) < 0.05 and abs(k.var().item() - 2.1) < 0.1
    for L in (cr, torch):
        c = L.tensor([5.0, 10.0], requires_grad=True)
        y = L.binomial(c, L.tensor([0.0, 1.0]))
        assert y.tolist() == [0.0, 10.0]
        with pytest.raises(RuntimeError, match="not implemented"):
            y.sum().backward()
        with pytest.raises(ValueError, match="floating-point dtypes for count"):
            L.binomial(L.tensor([5]), L.tensor([0.5]))
        a = L.ones(2)
        assert L.asarray(a) is a and L.asarray(a, copy=True) is not a
        n = np.ones(2)
        t = L.asarray(n)
        n[0] = 5.0
        assert t.tolist() == [5.0, 1.0] and t.dtype is L.float64
        assert L.asarray([1, 2]).dtype is L.int64 and L.asarray(3.0).dtype is L.float32
        assert L.asarray(a, requires_grad=True).requires_grad
        with pytest.raises(ValueError, match="can't alias"):
            L.asarray(a, dtype=L.long, copy=False)


def test_new_map_nonzero_static_as_torch():
    for L in (cr, torch):
        x = L.ones(2, dtype=L.float64)
        assert x.new(2, 3).dtype is L.float64 and tuple(x.new(2, 3).shape) == (2, 3)
        assert x.new([1, 2]).tolist() == [1.0, 2.0] and x.new([1, 2]).dtype is L.float64
        assert tuple(x.new().shape) == (0,) and tuple(x.new(L.Size([2, 2])).shape) == (2, 2)
        y = L.tensor([1.0, 2.0, 3.0])
        assert y.map_(L.tensor([10.0, 20.0, 30.0]), lambda a, b: a + b) is y and y.tolist() == [11.0, 22.0, 33.0]
        y.map_(L.tensor(2.0), lambda a, b: a * b)
        assert y.tolist() == [22.0, 44.0, 66.0]
        with pytest.raises(RuntimeError, match="expanded size"):
            y.map_(L.tensor([1.0, 2.0]), lambda a, b: a)
        m = L.tensor([[0, 1], [1, 1]])
        assert L.nonzero_static(m, size=4).tolist() == [[0, 1], [1, 0], [1, 1], [-1, -1]]
        assert L.nonzero_static(m, size=1, fill_value=-5).tolist() == [[0, 1]]
        assert m.nonzero_static(size=0).shape == (0, 2) and not L.is_storage(m)


def test_is_contiguous_memory_format_reads_the_strides_as_torch():
    for L in (cr, torch):
        x = L.ones(2, 3, 4, 5)
        nhwc = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
        assert x.is_contiguous() and not x.is_contiguous(memory_format=L.channels_last)
        assert nhwc.is_contiguous(memory_format=L.channels_last) and not nhwc.is_contiguous()
        assert L.ones(2, 1, 1, 1).is_contiguous(memory_format=L.channels_last)
        assert not L.ones(3).is_contiguous(memory_format=L.channels_last)
        v = L.ones(2, 3, 4, 5, 6).permute(0, 2, 3, 4, 1).contiguous().permute(0, 4, 1, 2, 3)
        assert v.is_contiguous(memory_format=L.channels_last_3d)
        assert x.is_contiguous(memory_format=L.contiguous_format)
