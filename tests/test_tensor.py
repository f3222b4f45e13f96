"""Tensor creation, dtypes and promotion, attributes, conversion and printing (PyTorch's conventions)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_creation_accepts_varargs_and_tuple(name):
    fn = getattr(cr, name)
    a, b = fn(2, 3), fn((2, 3))
    assert a.shape == b.shape == (2, 3)
    assert a.dtype is cr.float32
    assert fn(2, dtype=cr.float64).dtype is cr.float64


def test_tensor_dtype_inference_matches_torch():
    cases = [[1.0, 2.0], [1, 2], [True, False], [1, 2.5], 3.0, 3, np.arange(3, dtype=np.int32),
             np.ones(2, dtype=np.float64), np.ones(2, dtype=np.float32)]
    for data in cases:
        ours = cr.tensor(data)
        theirs = torch.tensor(data)
        assert ours.dtype.name == str(theirs.dtype).replace("torch.", ""), data
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_tensor_copies_but_from_numpy_shares():
    a = np.zeros(3, dtype=np.float32)
    t, s = cr.tensor(a), cr.from_numpy(a)
    a[0] = 5
    assert t[0].item() == 0 and s[0].item() == 5
    assert cr.as_tensor(a).numpy() is a


def test_factories_match_torch():
    np.testing.assert_array_equal(cr.arange(5).numpy(), torch.arange(5).numpy())
    assert cr.arange(5).dtype is cr.int64 and cr.arange(0.0, 1.0, 0.25).dtype is cr.float32
    np.testing.assert_allclose(cr.arange(0, 1, 0.1).numpy(), torch.arange(0, 1, 0.1).numpy())
    np.testing.assert_allclose(cr.linspace(-1, 1, 7).numpy(), torch.linspace(-1, 1, 7).numpy(), atol=1e-7)
    np.testing.assert_array_equal(cr.eye(3, 4).numpy(), torch.eye(3, 4).numpy())
    np.testing.assert_array_equal(cr.full((2, 2), 7).numpy(), torch.full((2, 2), 7).numpy())
    assert cr.full((2,), 7).dtype is cr.int64 and cr.full((2,), 7.0).dtype is cr.float32
    x = cr.ones(2, 3, dtype=cr.float64)
    for fn in (cr.zeros_like, cr.ones_like, cr.empty_like, cr.rand_like, cr.randn_like):
        y = fn(x)
        assert y.shape == x.shape and y.dtype is cr.float64
    r = cr.randint(0, 10, (100,))
    assert r.dtype is cr.int64 and r.min().item() >= 0 and r.max().item() < 10


def test_manual_seed_and_generators_are_reproducible():
    cr.manual_seed(3)
    a = cr.randn(4)
    cr.manual_seed(3)
    b = cr.randn(4)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    g1, g2 = cr.Generator().manual_seed(7), cr.Generator().manual_seed(7)
    np.testing.assert_array_equal(cr.rand(5, generator=g1).numpy(), cr.rand(5, generator=g2).numpy())
    state = g1.get_state()
    x = cr.rand(3, generator=g1)
    g1.set_state(state)
    np.testing.assert_array_equal(cr.rand(3, generator=g1).numpy(), x.numpy())


@pytest.mark.parametrize(
    "make_a, make_b",
    [
        (lambda m: m.ones(3, dtype=m.float32), lambda m: 2.5),
        (lambda m: m.ones(3, dtype=m.int64), lambda m: 2.5),
        (lambda m: m.ones(3, dtype=m.int64), lambda m: 2),
        (lambda m: m.ones(3, dtype=m.int32), lambda m: m.ones(3, dtype=m.int64)),
        (lambda m: m.ones(3, dtype=m.float32), lambda m: m.ones(3, dtype=m.float64)),
        (lambda m: m.ones(3, dtype=m.float32), lambda m: m.tensor(2.0, dtype=m.float64)),
        (lambda m: m.ones(3, dtype=m.int64), lambda m: m.tensor(2.0, dtype=m.float64)),
        (lambda m: m.ones(3, dtype=m.bool), lambda m: 3),
        (lambda m: m.ones(3, dtype=m.float32), lambda m: np.float64(2.0)),
    ],
)
def test_type_promotion_matches_torch(make_a, make_b):
    for op in (lambda a, b: a + b, lambda a, b: a * b):
        ours = op(make_a(cr), make_b(cr))
        theirs = op(make_a(torch), make_b(torch))
        assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")


def test_division_of_integers_gives_float32():
    assert (cr.tensor([1, 2]) / 2).dtype is cr.float32
    assert (cr.tensor([1, 2]) / cr.tensor([2, 4])).dtype is cr.float32


def test_float32_never_upcast_by_python_scalars():
    x = cr.ones(3, requires_grad=True)
    y = (x * 0.1 + 2.0) ** 2 / 3.0 - 1.0
    y = y.exp().log().sqrt().tanh().sigmoid()
    assert y.dtype is cr.float32
    y.sum().backward()
    assert x.grad.dtype is cr.float32


def test_conversions():
    x = cr.tensor([[1.5, 2.0]])
    assert x.double().dtype is cr.float64 and x.long().dtype is cr.int64 and x.float() is x
    assert x.to(cr.float64).dtype is cr.float64 and x.to("cpu") is x
    assert x.to(cr.tensor([1], dtype=cr.int32)).dtype is cr.int32
    assert x.tolist() == [[1.5, 2.0]] and x[0, 1].item() == 2.0
    assert isinstance(np.asarray(x), np.ndarray)
    assert len(x) == 1 and [t.shape for t in x] == [(2,)]
    assert float(cr.tensor(2.5)) == 2.5 and int(cr.tensor(3)) == 3
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        bool(cr.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        cr.tensor([1.0, 2.0]).item()


def test_cast_is_differentiable():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * 3
    y.sum().backward()
    assert x.grad.dtype is cr.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_attributes():
    x = cr.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(-1) == 4
    assert x.ndim == 3 and x.dim() == 3 and x.numel() == 24
    assert str(x.device) == "cpu" and x.is_leaf and x.grad is None and x.grad_fn is None
    assert repr(x.shape) == "chainrule.Size([2, 3, 4])"
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.size(3)


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="floating point"):
        cr.tensor([1, 2], requires_grad=True)
    x = cr.ones(2, requires_grad=True)
    y = x * 2
    assert not y.is_leaf and y.requires_grad
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad = False
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    assert x.detach().numpy().shape == (2,)


def test_repr_like_torch():
    assert repr(cr.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(cr.tensor([1.5, 2.25])) == "tensor([1.5000, 2.2500])"
    assert repr(cr.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(cr.tensor([1.0], dtype=cr.float64)) == "tensor([1.], dtype=chainrule.float64)"
    assert repr(cr.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert "grad_fn=<MulBackward0>" in repr(cr.tensor([1.0], requires_grad=True) * 2)


def test_in_place_ops_under_no_grad_keep_identity_and_dtype():
    w = cr.ones(3, requires_grad=True)
    data_id = id(w._data)
    with cr.no_grad():
        w.mul_(0.5).add_(cr.ones(3), alpha=2).sub_(1).div_(2)
        w.clamp_(0.0, 0.7)
    assert id(w._data) == data_id and w.dtype is cr.float32
    np.testing.assert_allclose(w.detach().numpy(), [0.7, 0.7, 0.7])
    x = cr.zeros(4)
    x.fill_(2).uniform_(0, 1)
    assert ((x >= 0) & (x < 1)).all().item()
    x.zero_()
    x.copy_(cr.tensor([1, 2, 3, 4]))
    np.testing.assert_array_equal(x.numpy(), [1, 2, 3, 4])
    with pytest.raises(RuntimeError, match="can't be cast"):
        cr.zeros(2, dtype=cr.int64).add_(1.5)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        cr.zeros(2).add_(cr.ones(3, 2))
    cr.manual_seed(0)
    n = cr.empty(20000).normal_(1.0, 2.0)
    assert abs(n.mean().item() - 1.0) < 0.05 and abs(n.std().item() - 2.0) < 0.05


def test_setitem_requires_no_grad_for_leaves_that_require_grad():
    x = cr.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        x[0] = 1.0
    with cr.no_grad():
        x[0] = 1.0
    y = cr.zeros(2, 3)
    y[:, 1] = cr.tensor([4.0, 5.0])
    y[y > 4] = -1
    np.testing.assert_array_equal(y.numpy(), [[0, 4, 0], [0, -1, 0]])


def test_set_num_threads_limits_blas():
    from threadpoolctl import threadpool_info

    before = cr.get_num_threads()
    try:
        cr.set_num_threads(1)
        assert cr.get_num_threads() == 1
        assert all(i["num_threads"] == 1 for i in threadpool_info() if i["user_api"] == "blas")
        with pytest.raises(ValueError, match="positive integer"):
            cr.set_num_threads(0)
    finally:
        cr.set_num_threads(before)


@pytest.mark.parametrize("data", [[1.5, -2.0], [1.0, -12.0], [[1.5, 2.0], [-3.0, 4.0]], [float("nan"), 1.0],
                                  [float("inf"), -1.0, 2.5], [1e-5, 2.0], [1e9, -1.0], [14.7781, 0.0, -806.8576]])
def test_repr_aligns_like_torch(data):
    assert repr(cr.tensor(data)) == repr(torch.tensor(data)).replace("torch.", "chainrule.")
