"""Shape and indexing behaviour outside the operator table: memory sharing, in-place writes,
PyTorch's error messages, edge cases (0-d, empty, legacy forms)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck


def _pair(shape, seed=0, dtype=np.float64):
    a = np.random.default_rng(seed).uniform(-2, 2, size=shape).astype(dtype)
    return cr.tensor(a), torch.tensor(a)


def _error(fn, *args):
    with pytest.raises(Exception) as info:
        fn(*args)
    return info.type, str(info.value)


def _same_error(ours, theirs, exact: bool = True):
    """Both raise the same exception type; with ``exact``, with the same message."""
    t_ours, m_ours = _error(ours)
    t_theirs, m_theirs = _error(theirs)
    assert issubclass(t_ours, t_theirs) or issubclass(t_theirs, t_ours), (t_ours, t_theirs)
    if exact:
        assert m_ours == m_theirs.split("\n")[0]
    return m_ours


# ---- memory sharing ---------------------------------------------------------------------------
def test_view_shares_memory_and_reshape_copies_only_when_needed():
    x = cr.arange(12.0).reshape(3, 4)
    v = x.view(4, 3)
    r = x.reshape(2, 6)
    with cr.no_grad():
        x.add_(1.0)
    assert v[0, 0].item() == 1.0 and r[0, 0].item() == 1.0
    xt = x.t()
    copy = xt.reshape(-1)  # not expressible as a view of the transposed memory
    with cr.no_grad():
        x.mul_(0.0)
    assert copy.sum().item() == sum(range(1, 13))
    assert xt.sum().item() == 0.0


def test_view_of_noncontiguous_raises_like_torch():
    x, tx = _pair((3, 4))
    _same_error(lambda: x.t().view(-1), lambda: tx.t().view(-1))
    assert x.t().view(4, 3).shape == (4, 3)  # a view that keeps the layout is allowed


def test_basic_indexing_narrow_select_are_views_advanced_is_copy():
    x = cr.zeros(3, 4)
    views = [x[1], x[:, 1:3], x.narrow(1, 0, 2), x.select(0, 2), x[None, ..., 0], x.unsqueeze(0), x.flatten()]
    copy = x[[0, 1]]
    flipped = x.flip(0)
    with cr.no_grad():
        x.fill_(5.0)
    for v in views:
        assert np.all(v.numpy() == 5.0)
    assert np.all(copy.numpy() == 0.0) and np.all(flipped.numpy() == 0.0)


def test_split_pieces_are_views_sharing_the_version_counter():
    x = cr.randn(4, 3, requires_grad=True)
    y = x * 1.0
    a, b = y.split(2)
    assert a._base is y and b._base is y
    w = y.sin()  # saves y for its backward
    with pytest.raises(RuntimeError, match="Output 1 of Split is a view and is being modified inplace"):
        b.mul_(2.0)  # PyTorch's refusal for a piece of a multi-output view
    with cr.no_grad():
        b.mul_(2.0)  # writes into y's memory and bumps its version
    assert y._version_number > 0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        w.sum().backward()


def test_unbind_and_chunk_edges_match_torch():
    x, tx = _pair((0, 3))
    assert x.unbind(0) == () and len(tx.unbind(0)) == 0
    assert [p.shape for p in x.chunk(4)] == [tuple(p.shape) for p in tx.chunk(4)]
    assert [p.shape for p in x.split(2)] == [tuple(p.shape) for p in tx.split(2)]


# ---- x[index] = value ---------------------------------------------------------------------------
@pytest.mark.parametrize("index", [
    (1,), (slice(None), 2), (Ellipsis, 0), ([1, 0],), (0, slice(None), [1, 3]), ([1, 0], slice(None), [0, 3]),
    (1, None, [0, 2]), (slice(None), 1, [3, 0]),
])
def test_setitem_under_no_grad_matches_torch(index):
    x, tx = _pair((2, 3, 4))
    x.requires_grad_()
    target_shape = tuple(tx[index].shape)
    v = np.random.default_rng(1).standard_normal(target_shape)
    with cr.no_grad():
        x[index] = cr.tensor(v)
    with torch.no_grad():
        tx[index] = torch.tensor(v)
    np.testing.assert_array_equal(x.detach().numpy(), tx.numpy())
    assert x._version_number == 1


def test_setitem_with_mask_and_tensor_index():
    x, tx = _pair((3, 4))
    m = x > 0
    x[m] = 0.0
    tx[tx > 0] = 0.0
    idx = cr.tensor([2, 0])
    x[idx, 1] = cr.tensor([7.0, 8.0], dtype=cr.float64)
    tx[torch.tensor([2, 0]), 1] = torch.tensor([7.0, 8.0], dtype=torch.float64)
    np.testing.assert_array_equal(x.numpy(), tx.numpy())


def test_setitem_on_a_leaf_requiring_grad_raises_under_grad_mode():
    x = cr.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        x[0] = 1.0


def test_inplace_scatter_forms_match_torch():
    idx = [[0, 2, 0]]
    for name, args in [("scatter_", (0, idx, "src")), ("scatter_add_", (0, idx, "src")),
                       ("index_add_", (1, [2, 2, 0], "src3"))]:
        x, tx = _pair((3, 3))
        s, ts = _pair((1, 3) if args[2] == "src" else (3, 3), seed=2)
        dim, i = args[0], args[1]
        getattr(x, name)(dim, cr.tensor(i), s)
        getattr(tx, name)(dim, torch.tensor(i), ts)
        np.testing.assert_allclose(x.numpy(), tx.numpy(), rtol=1e-12)


def test_inplace_scatter_add_on_non_leaf_is_recorded():
    x, tx = _pair((3, 4))
    s, ts = _pair((2, 4), seed=3)
    for t in (x, tx, s, ts):
        t.requires_grad_()
    idx = [[0, 2, 0, 1], [2, 2, 1, 0]]
    y = x * 2.0
    y.scatter_add_(0, cr.tensor(idx), s)
    ty = tx * 2.0
    ty.scatter_add_(0, torch.tensor(idx), ts)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(s.grad.numpy(), ts.grad.numpy(), rtol=1e-12)


# ---- edge cases -------------------------------------------------------------------------------------
def test_zero_dim_indexing():
    x, tx = _pair(())
    for idx in [(), None, Ellipsis, (None, Ellipsis)]:
        assert x[idx].shape == tuple(tx[idx].shape)
    assert x[cr.tensor(True)].shape == tuple(tx[torch.tensor(True)].shape)
    message = _same_error(lambda: x[0], lambda: tx[0], exact=False)
    assert message.startswith("invalid index of a 0-dim tensor")


def test_zero_dim_gather_nonzero():
    x, tx = _pair(())
    i = cr.tensor(0)
    np.testing.assert_array_equal(cr.gather(x, 0, i).numpy(), torch.gather(tx, 0, torch.tensor(0)).numpy())
    for v in (0.0, 3.0):
        a, ta = cr.tensor(v), torch.tensor(v)
        assert a.nonzero().shape == tuple(ta.nonzero().shape)
        assert [t.tolist() for t in a.nonzero(as_tuple=True)] == [t.tolist() for t in ta.nonzero(as_tuple=True)]


def test_legacy_forms():
    x, tx = _pair((3, 4))
    empty, tempty = _pair((0,))
    np.testing.assert_array_equal(cr.cat([empty, x], 1).numpy(), torch.cat([tempty, tx], 1).numpy())
    byte = np.array([1, 0, 1], dtype=np.uint8)
    with pytest.warns(UserWarning):
        expected = tx[torch.tensor(byte)]
    np.testing.assert_array_equal(x[cr.tensor(byte)].numpy(), expected.numpy())


def test_dtypes_are_kept():
    x32 = cr.randn(3, 4)
    i = cr.tensor([0, 2])
    assert cr.index_add(x32, 0, i, cr.ones(2, 4), alpha=2.5).dtype == cr.float32
    assert x32.masked_fill(x32 > 0, 1.5).dtype == cr.float32
    assert x32.masked_fill(x32 > 0, cr.tensor(1.5, dtype=cr.float64)).dtype == cr.float32
    assert F.pad(x32.unsqueeze(0), (1, 1), mode="reflect").dtype == cr.float32
    assert F.pad(x32, (1, 1), value=0.5).dtype == cr.float32
    assert cr.cat([x32, cr.tensor([[1, 2, 3, 4]])]).dtype == cr.float32
    n = cr.tensor([1, 2, 3])
    tn = torch.tensor([1, 2, 3])
    m = cr.tensor([True, False, True])
    tm = torch.tensor([True, False, True])
    np.testing.assert_array_equal(n.masked_fill(m, 1.7).numpy(), tn.masked_fill(tm, 1.7).numpy())
    np.testing.assert_array_equal(F.pad(n, (1, 1), value=2.5).numpy(), TF.pad(tn, (1, 1), value=2.5).numpy())
    assert cr.cat([cr.tensor([True]), cr.tensor([2], dtype=cr.int32)]).dtype == cr.int32


def test_scatter_add_with_src_larger_than_index_has_padded_gradient():
    # torch's backward fails here (its src gradient has the index's shape); ours is zero outside
    x = cr.randn(3, 4, dtype=cr.float64, requires_grad=True)
    src = cr.randn(3, 5, dtype=cr.float64, requires_grad=True)
    idx = cr.tensor([[0, 1], [2, 0]])
    assert gradcheck(lambda a, s: cr.scatter_add(a, 1, idx, s), [x, src])
    assert gradgradcheck(lambda a, s: cr.scatter_add(a, 1, idx, s), [x, src])
    (g,) = cr.autograd.grad(cr.scatter(x, 1, idx, src).sum(), [src])
    expected = np.zeros((3, 5))
    expected[:2, :2] = 1.0
    np.testing.assert_array_equal(g.numpy(), expected)


def test_masked_fill_value_gradient_matches_torch():
    x, tx = _pair((3, 4))
    v, tv = _pair((), seed=5)
    for t in (x, tx, v, tv):
        t.requires_grad_()
    cr.masked_fill(x, x > 0, v).sum().backward()
    torch.masked_fill(tx, tx > 0, tv).sum().backward()
    assert v.grad.item() == pytest.approx(tv.grad.item())


# ---- error messages ---------------------------------------------------------------------------
def _x():
    return _pair((3, 4))


ERRORS_EXACT = {
    "getitem_int": (lambda x: x[5], lambda t: t[5]),
    "getitem_neg": (lambda x: x[-4], lambda t: t[-4]),
    "getitem_second": (lambda x: x[0, 7], lambda t: t[0, 7]),
    "getitem_list": (lambda x: x[[0, 5]], lambda t: t[[0, 5]]),
    "getitem_tensor": (lambda x: x[cr.tensor([0, 5])], lambda t: t[torch.tensor([0, 5])]),
    "too_many": (lambda x: x[0, 0, 0], lambda t: t[0, 0, 0]),
    "neg_step": (lambda x: x[::-1], lambda t: t[::-1]),
    "float_index": (lambda x: x[cr.tensor([1.0])], lambda t: t[torch.tensor([1.0])]),
    "mask_shape": (lambda x: x[cr.tensor([True, False])], lambda t: t[torch.tensor([True, False])]),
    "cat_ndim": (lambda x: cr.cat([x, x[None]]), lambda t: torch.cat([t, t[None]])),
    "cat_empty": (lambda x: cr.cat([]), lambda t: torch.cat([])),
    "cat_dim": (lambda x: cr.cat([x], 2), lambda t: torch.cat([t], 2)),
    "cat_0d": (lambda x: cr.cat([x[0, 0]]), lambda t: torch.cat([t[0, 0]])),
    "stack_shapes": (lambda x: cr.stack([x, x[:2]]), lambda t: torch.stack([t, t[:2]])),
    "stack_empty": (lambda x: cr.stack([]), lambda t: torch.stack([])),
    "split_sizes": (lambda x: x.split([1, 1]), lambda t: t.split([1, 1])),
    "split_zero": (lambda x: x.split(0), lambda t: t.split(0)),
    "chunk_zero": (lambda x: x.chunk(0), lambda t: t.chunk(0)),
    "narrow_start": (lambda x: x.narrow(1, 5, 1), lambda t: t.narrow(1, 5, 1)),
    "narrow_length": (lambda x: x.narrow(1, 2, 3), lambda t: t.narrow(1, 2, 3)),
    "narrow_negative": (lambda x: x.narrow(1, 1, -1), lambda t: t.narrow(1, 1, -1)),
    "select": (lambda x: x.select(1, 4), lambda t: t.select(1, 4)),
    "repeat_dims": (lambda x: x.repeat(2), lambda t: t.repeat(2)),
    "repeat_negative": (lambda x: x.repeat(2, -1), lambda t: t.repeat(2, -1)),
    "tril_1d": (lambda x: x[0].tril(), lambda t: t[0].tril()),
    "unsqueeze_dim": (lambda x: x.unsqueeze(3), lambda t: t.unsqueeze(3)),
    "flatten_order": (lambda x: x.flatten(1, 0), lambda t: t.flatten(1, 0)),
    "unflatten_sizes": (lambda x: x.unflatten(1, (3, -1)), lambda t: t.unflatten(1, (3, -1))),
    "movedim_repeat": (lambda x: x.movedim((0, 0), (0, 1)), lambda t: t.movedim((0, 0), (0, 1))),
    "movedim_len": (lambda x: x.movedim((0, 1), (1,)), lambda t: t.movedim((0, 1), (1,))),
    "flip_repeat": (lambda x: x.flip(0, 0), lambda t: t.flip(0, 0)),
    "roll_align": (lambda x: x.roll((1, 2), (0,)), lambda t: t.roll((1, 2), (0,))),
    "gather_bounds": (lambda x: x.gather(1, cr.tensor([[0, 5]])), lambda t: t.gather(1, torch.tensor([[0, 5]]))),
    "gather_negative": (lambda x: x.gather(1, cr.tensor([[-1]])), lambda t: t.gather(1, torch.tensor([[-1]]))),
    "gather_ndim": (lambda x: x.gather(1, cr.tensor([0])), lambda t: t.gather(1, torch.tensor([0]))),
    "gather_size": (lambda x: x.gather(1, cr.zeros(4, 2, dtype=cr.int64)),
                    lambda t: t.gather(1, torch.zeros(4, 2, dtype=torch.int64))),
    "gather_float": (lambda x: x.gather(1, cr.zeros(3, 2)), lambda t: t.gather(1, torch.zeros(3, 2))),
    "scatter_add_bounds": (lambda x: x.scatter_add(0, cr.tensor([[3]]), cr.ones(1, 1, dtype=cr.float64)),
                           lambda t: t.scatter_add(0, torch.tensor([[3]]), torch.ones(1, 1, dtype=torch.float64))),
    "scatter_add_src": (lambda x: x.scatter_add(0, cr.zeros(2, 2, dtype=cr.int64), cr.ones(1, 1, dtype=cr.float64)),
                        lambda t: t.scatter_add(0, torch.zeros(2, 2, dtype=torch.int64),
                                                torch.ones(1, 1, dtype=torch.float64))),
    "scatter_dtype": (lambda x: x.scatter(0, cr.zeros(1, 1, dtype=cr.int64), cr.ones(1, 1)),
                      lambda t: t.scatter(0, torch.zeros(1, 1, dtype=torch.int64), torch.ones(1, 1))),
    "index_select_2d": (lambda x: x.index_select(0, cr.zeros(2, 2, dtype=cr.int64)),
                        lambda t: t.index_select(0, torch.zeros(2, 2, dtype=torch.int64))),
    "index_add_bounds": (lambda x: x.index_add(1, cr.tensor([0, 4]), cr.ones(3, 2, dtype=cr.float64)),
                         lambda t: t.index_add(1, torch.tensor([0, 4]), torch.ones(3, 2, dtype=torch.float64))),
    "index_add_count": (lambda x: x.index_add(1, cr.tensor([0, 1]), cr.ones(3, 3, dtype=cr.float64)),
                        lambda t: t.index_add(1, torch.tensor([0, 1]), torch.ones(3, 3, dtype=torch.float64))),
    "take_bounds": (lambda x: x.take(cr.tensor([12])), lambda t: t.take(torch.tensor([12]))),
    "take_along_dim_ndim": (lambda x: cr.take_along_dim(x, cr.tensor([0]), 1),
                            lambda t: torch.take_along_dim(t, torch.tensor([0]), 1)),
    "masked_fill_value": (lambda x: x.masked_fill(x > 0, cr.ones(1)), lambda t: t.masked_fill(t > 0, torch.ones(1))),
    "masked_select_mask": (lambda x: x.masked_select(x), lambda t: t.masked_select(t)),
    "pad_odd": (lambda x: F.pad(x, (1, 2, 3)), lambda t: TF.pad(t, (1, 2, 3))),
    "pad_long": (lambda x: F.pad(x, (1,) * 6), lambda t: TF.pad(t, (1,) * 6)),
    "pad_mode": (lambda x: F.pad(x, (1, 1), mode="foo"), lambda t: TF.pad(t, (1, 1), mode="foo")),
    "pad_value": (lambda x: F.pad(x, (1, 1), mode="reflect", value=1.0),
                  lambda t: TF.pad(t, (1, 1), mode="reflect", value=1.0)),
    "pad_reflect_size": (lambda x: F.pad(x[None], (4, 0), mode="reflect"),
                         lambda t: TF.pad(t[None], (4, 0), mode="reflect")),
    "pad_circular_wrap": (lambda x: F.pad(x[None], (5, 0), mode="circular"),
                          lambda t: TF.pad(t[None], (5, 0), mode="circular")),
    "pad_dims_1d": (lambda x: F.pad(x[0], (1, 1), mode="replicate"), lambda t: TF.pad(t[0], (1, 1), mode="replicate")),
    "pad_dims_4d": (lambda x: F.pad(x[None, None], (1, 1), mode="reflect"),
                    lambda t: TF.pad(t[None, None], (1, 1), mode="reflect")),
    "pad_crop": (lambda x: F.pad(x, (-3, -2)), lambda t: TF.pad(t, (-3, -2))),
    "pad_empty": (lambda x: F.pad(x[None, :, :0], (1, 1), mode="replicate"),
                  lambda t: TF.pad(t[None, :, :0], (1, 1), mode="replicate")),
}


@pytest.mark.parametrize("name", sorted(ERRORS_EXACT))
def test_error_messages_match_torch(name):
    ours, theirs = ERRORS_EXACT[name]
    x, tx = _x()
    _same_error(lambda: ours(x), lambda: theirs(tx))


def test_masked_fill_mask_dtype_error():
    x, tx = _x()
    message = _same_error(lambda: x.masked_fill(x, 1.0), lambda: tx.masked_fill(tx, 1.0), exact=False)
    # torch names the dtype in C++ ("double"); we use chainrule's name
    assert message == "masked_fill_ only supports boolean masks, but got mask with dtype chainrule.float64"


def test_bounds_error_of_advanced_index_names_the_indexed_dimension():
    x, tx = _x()
    _same_error(lambda: x[:, [0, 9]], lambda: tx[:, [0, 9]], exact=False)
    assert _error(lambda: x[:, [0, 9]])[1] == "index 9 is out of bounds for dimension 1 with size 4"
    assert _error(lambda: x.index_select(1, cr.tensor([0, 4])))[1] == \
        "index 4 is out of bounds for dimension 1 with size 4"


def test_cat_error_names_dim_and_shapes():
    x = cr.zeros(2, 3)
    y = cr.zeros(2, 4)
    t_ours, message = _error(lambda: cr.cat([x, y], 0))
    _, expected = _error(lambda: torch.cat([torch.zeros(2, 3), torch.zeros(2, 4)], 0))
    assert t_ours is RuntimeError
    assert message.startswith(expected.rstrip("."))
    assert "dimension 0" in message and "[2, 3]" in message and "[2, 4]" in message


def test_one_hot_matches_torch():
    idx = np.array([[0, 3], [2, 1]])
    for n in (-1, 5):
        ours = F.one_hot(cr.tensor(idx), n)
        theirs = TF.one_hot(torch.tensor(idx), n)
        assert ours.dtype is cr.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(cr.tensor([4]), 3)
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(cr.tensor([1.0]), 3)
