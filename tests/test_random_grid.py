"""``normal`` (four overloads), ``meshgrid``, ``repeat_interleave``, ``size=`` on factories and the
``*_like`` keywords, compared with PyTorch 2.13 (values, shapes, dtypes, warnings, errors) and,
for the differentiable ones, with gradcheck/gradgradcheck in float64.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule
from chainrule.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

BOTH = pytest.mark.parametrize("L", [torch, chainrule], ids=["torch", "chainrule"])


def _np(t):
    return t.detach().numpy()


# ---- normal --------------------------------------------------------------------------------------
def _normal_overloads(L):
    m, s = L.zeros(2, 3), L.full((2, 3), 2.0)
    return {
        "tensor_tensor": lambda **k: L.normal(m, s, **k),
        "tensor_float": lambda **k: L.normal(m, 2.0, **k),
        "tensor_default_std": lambda **k: L.normal(m, **k),
        "float_tensor": lambda **k: L.normal(0.0, s, **k),
        "float_float": lambda **k: L.normal(0.0, 2.0, (2, 3), **k),
        "float_float_size_kw": lambda **k: L.normal(0.0, 2.0, size=(2, 3), **k),
        "broadcast": lambda **k: L.normal(L.zeros(2, 1), L.ones(3), **k),
    }


@pytest.mark.parametrize("form", list(_normal_overloads(chainrule)))
def test_normal_overloads_shapes_dtypes_and_generator(form):
    want = _normal_overloads(torch)[form]()
    make = _normal_overloads(chainrule)[form]
    got = make()
    assert tuple(got.shape) == tuple(want.shape) and got.dtype.name == str(want.dtype).split(".")[-1]
    a = make(generator=chainrule.Generator().manual_seed(5))
    b = make(generator=chainrule.Generator().manual_seed(5))
    c = make(generator=chainrule.Generator().manual_seed(6))
    np.testing.assert_array_equal(_np(a), _np(b))
    assert not np.array_equal(_np(a), _np(c))
    chainrule.manual_seed(11)
    d = make()
    chainrule.manual_seed(11)
    np.testing.assert_array_equal(_np(d), _np(make()))


def test_normal_moments():
    g = chainrule.Generator().manual_seed(0)
    n = 200_000
    x = chainrule.normal(1.5, 0.5, (n,), generator=g)
    assert abs(x.mean().item() - 1.5) < 5 * 0.5 / n ** 0.5
    assert abs(x.std().item() - 0.5) < 0.01
    mean = chainrule.tensor([[-2.0], [3.0]]).expand(2, n)
    std = chainrule.tensor([[0.1], [4.0]]).expand(2, n)
    y = chainrule.normal(mean, std, generator=g).numpy()
    np.testing.assert_allclose(y.mean(1), [-2.0, 3.0], atol=5 * 4.0 / n ** 0.5)
    np.testing.assert_allclose(y.std(1), [0.1, 4.0], rtol=0.01)
    z = chainrule.normal(0.0, chainrule.full((n,), 3.0), generator=g).numpy()
    assert abs(z.std() - 3.0) < 0.03 and abs(z.mean()) < 5 * 3.0 / n ** 0.5


def test_normal_float_float_draws_as_randn():
    a = chainrule.normal(0.0, 1.0, (4, 5), generator=chainrule.Generator().manual_seed(2))
    b = chainrule.randn(4, 5, generator=chainrule.Generator().manual_seed(2))
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@BOTH
def test_normal_keywords_of_the_float_float_form(L):
    x = L.normal(0.0, 1.0, size=(3,), dtype=L.float64, requires_grad=True)
    assert x.dtype == L.float64 and x.requires_grad and x.grad_fn is None
    out = L.empty(4, dtype=L.float64)
    assert L.normal(L.zeros(4), 1.0, out=out) is out and out.dtype == L.float64
    out = L.empty(0)
    assert L.normal(L.zeros(4), L.ones(4), out=out) is out and tuple(out.shape) == (4,)
    out = L.empty(0)
    assert L.normal(0.0, 1.0, size=(2, 2), out=out) is out and tuple(out.shape) == (2, 2)


@BOTH
def test_normal_errors(L):
    m, s = L.zeros(2, 3), L.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"normal expects all elements of std >= 0\.0"):
        L.normal(m, -s)
    with pytest.raises(RuntimeError, match=r"normal expects all elements of std >= 0\.0"):
        L.normal(-1.0, -s)
    with pytest.raises(RuntimeError, match=r"normal expects std >= 0\.0, but found std -1$"):
        L.normal(m, -1.0)
    with pytest.raises(RuntimeError, match=r"normal expects std >= 0\.0, but found std -0\.5$"):
        L.normal(0.0, -0.5, (2,))
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(6\) must match the size of tensor b \(3\) at "
                                           r"non-singleton dimension 1"):
        L.normal(L.zeros(6), L.ones(2, 3))
    with pytest.raises(TypeError):
        L.normal(0.0, 1.0)  # a float mean and std need size
    with pytest.raises(TypeError):
        L.normal(m, s, dtype=L.float64)
    with pytest.raises(NotImplementedError, match="\"normal_kernel_cpu\" not implemented for 'Long'"):
        L.normal(m.long(), s)
    with pytest.raises(NotImplementedError, match="\"normal_kernel_cpu\" not implemented for 'Long'"):
        L.normal(0.0, 1.0, size=(2,), out=L.empty(0, dtype=L.int64))


@pytest.mark.parametrize("form", ["tensor_tensor", "tensor_float", "float_tensor"])
def test_normal_gradient_is_zero_as_in_torch(form):
    """PyTorch does not reparameterise normal(): the sample has a grad_fn, the gradients are zeros."""
    grads = {}
    for L in (torch, chainrule):
        m = L.zeros(2, 3, dtype=L.float64, requires_grad=True)
        s = L.ones(2, 3, dtype=L.float64, requires_grad=True)
        args = {"tensor_tensor": (m, s), "tensor_float": (m, 2.0), "float_tensor": (0.0, s)}[form]
        y = L.normal(*args)
        assert y.requires_grad and y.grad_fn is not None
        (y * y).sum().backward()
        grads[L.__name__] = [None if t.grad is None else _np(t.grad) for t in (m, s)]
    for got, want in zip(grads["chainrule"], grads["torch"]):
        assert (got is None) == (want is None)
        if want is not None:
            np.testing.assert_array_equal(got, want)


def test_normal_inplace_method():
    x = chainrule.empty(100_000, dtype=chainrule.float64)
    assert x.normal_(2.0, 3.0, generator=chainrule.Generator().manual_seed(0)) is x
    assert abs(x.mean().item() - 2.0) < 0.05 and abs(x.std().item() - 3.0) < 0.05
    a = chainrule.empty(5).normal_(generator=chainrule.Generator().manual_seed(1))
    b = chainrule.empty(5).normal_(generator=chainrule.Generator().manual_seed(1))
    np.testing.assert_array_equal(a.numpy(), b.numpy())


# ---- meshgrid ------------------------------------------------------------------------------------
_GRIDS = [((2,), (3,)), ((2,), (3,), (4,)), ((3,),), ((), (4,)), ((1,), (5,), ())]


@pytest.mark.parametrize("shapes", _GRIDS)
@pytest.mark.parametrize("indexing", ["ij", "xy"])
@pytest.mark.parametrize("as_list", [False, True])
def test_meshgrid_matches_torch(shapes, indexing, as_list):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    results = []
    for L in (torch, chainrule):
        ts = [L.tensor(a) for a in arrays]
        results.append(L.meshgrid(ts, indexing=indexing) if as_list else L.meshgrid(*ts, indexing=indexing))
    assert len(results[0]) == len(results[1])
    for want, got in zip(*results):
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_array_equal(_np(got), _np(want))


@BOTH
def test_meshgrid_without_indexing_warns_and_uses_ij(L):
    with pytest.warns(UserWarning, match="torch.meshgrid: in an upcoming release, it will be required to pass the "
                                         "indexing argument"):
        a, b = L.meshgrid(L.arange(2), L.arange(3))
    assert tuple(a.shape) == (2, 3) and _np(a)[:, 0].tolist() == [0, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        L.meshgrid(L.arange(2), L.arange(3), indexing="ij")


@BOTH
def test_meshgrid_errors(L):
    with pytest.raises(RuntimeError, match='torch.meshgrid: indexing must be one of "xy" or "ij", but received: foo'):
        L.meshgrid(L.arange(2), indexing="foo")
    with pytest.raises(RuntimeError, match="meshgrid expects a non-empty TensorList"):
        L.meshgrid(indexing="ij")
    with pytest.raises(RuntimeError, match="torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got"):
        L.meshgrid(L.zeros(2, 2), indexing="ij")
    with pytest.raises(RuntimeError, match="meshgrid expects all tensors to have the same dtype"):
        L.meshgrid(L.arange(2), L.arange(3.0), indexing="ij")


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_gradcheck(indexing):
    rng = np.random.default_rng(1)
    xs = [chainrule.tensor(rng.standard_normal(n), requires_grad=True) for n in (2, 3, 4)]

    def f(*ts):
        grids = chainrule.meshgrid(*ts, indexing=indexing)
        return sum(g * (i + 1.5) for i, g in enumerate(grids)) ** 2

    assert gradcheck(f, xs)
    assert gradgradcheck(f, xs)
    # the gradient matches PyTorch's (a sum over the broadcast axes)
    tx = [torch.tensor(_np(x), requires_grad=True) for x in xs]
    torch.stack(torch.meshgrid(*tx, indexing=indexing)).pow(3).sum().backward()
    chainrule.stack(chainrule.meshgrid(*xs, indexing=indexing)).pow(3).sum().backward()
    for a, b in zip(xs, tx):
        np.testing.assert_allclose(_np(a.grad), b.grad.numpy(), rtol=1e-12)


# ---- repeat_interleave ---------------------------------------------------------------------------
_RI = {
    "int_flat": lambda L, x: L.repeat_interleave(x, 2),
    "int_dim0": lambda L, x: L.repeat_interleave(x, 3, dim=0),
    "int_dim_neg": lambda L, x: L.repeat_interleave(x, 2, dim=-1),
    "int_axis": lambda L, x: L.repeat_interleave(x, 2, axis=1),
    "tensor_dim0": lambda L, x: L.repeat_interleave(x, L.tensor([1, 0]), dim=0),
    "tensor_dim1": lambda L, x: L.repeat_interleave(x, L.tensor([2, 0, 1]), dim=1),
    "tensor_0d": lambda L, x: L.repeat_interleave(x, L.tensor(2), dim=1),
    "tensor_flat": lambda L, x: L.repeat_interleave(x, L.tensor([1, 2, 0, 1, 1, 3])),
    "output_size": lambda L, x: L.repeat_interleave(x, L.tensor([2, 0, 1]), dim=1, output_size=3),
    "int_output_size": lambda L, x: L.repeat_interleave(x, 2, dim=1, output_size=6),
    "method": lambda L, x: x.repeat_interleave(2, dim=0),
    "method_tensor": lambda L, x: x.repeat_interleave(L.tensor([3, 1]), 0, output_size=4),
    "zero": lambda L, x: L.repeat_interleave(x, 0, dim=1),
}


@pytest.mark.parametrize("case", list(_RI))
def test_repeat_interleave_matches_torch(case):
    a = np.arange(6.0).reshape(2, 3)
    want = _RI[case](torch, torch.tensor(a))
    got = _RI[case](chainrule, chainrule.tensor(a))
    assert tuple(got.shape) == tuple(want.shape) and got.dtype.name == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(_np(got), _np(want))


@BOTH
def test_repeat_interleave_single_tensor_and_scalar_forms(L):
    np.testing.assert_array_equal(_np(L.repeat_interleave(L.tensor([1, 2, 0, 3]))), [0, 1, 1, 3, 3, 3])
    assert L.repeat_interleave(L.tensor([2, 1]), output_size=3).tolist() == [0, 0, 1]
    assert L.repeat_interleave(L.tensor(5), 3).tolist() == [5, 5, 5]
    assert L.repeat_interleave(L.tensor([1, 2]), L.tensor([0, 2])).tolist() == [2, 2]


@BOTH
def test_repeat_interleave_errors(L):
    x = L.arange(6).view(2, 3)
    with pytest.raises(RuntimeError, match="repeats must have the same size as input along dim, but got "
                                           r"repeats.size\(0\) = 2 and input.size\(0\) = 3"):
        L.repeat_interleave(L.arange(3), L.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="repeats can not be negative"):
        L.repeat_interleave(L.arange(3), L.tensor([1, -2, 1]))
    with pytest.raises(RuntimeError, match="Repeats must be non-negative"):
        L.repeat_interleave(L.arange(3), -1)
    with pytest.raises(RuntimeError, match="repeats must be 0-dim or 1-dim tensor"):
        L.repeat_interleave(x, L.tensor([[1, 2]]), dim=0)
    with pytest.raises(RuntimeError, match="Invalid output_size, expected 6 but got 5"):
        L.repeat_interleave(x, 2, dim=1, output_size=5)
    with pytest.raises(RuntimeError, match="allocated size does not match required size"):
        L.repeat_interleave(L.arange(3), L.tensor([1, 2, 1]), output_size=5)
    with pytest.raises(NotImplementedError, match="\"repeat_interleave_cpu\" not implemented for 'Float'"):
        L.repeat_interleave(L.tensor([1.0, 2.0]))
    with pytest.raises(IndexError, match="Dimension out of range"):
        L.repeat_interleave(x, 2, dim=2)


@pytest.mark.parametrize("repeats", [2, "tensor"])
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_repeat_interleave_gradcheck(repeats, dim):
    x = chainrule.tensor(np.random.default_rng(3).standard_normal((2, 3)), requires_grad=True)
    if repeats == "tensor":
        n = 6 if dim is None else x.shape[dim]
        repeats = chainrule.tensor(np.arange(n) % 3)

    def f(t):
        return chainrule.repeat_interleave(t, repeats, dim=dim) ** 2

    assert gradcheck(f, [x])
    assert gradgradcheck(f, [x])


# ---- size= and the *_like keywords --------------------------------------------------------------
_SIZE_KW = {
    "zeros": lambda L: L.zeros(size=(2, 3)),
    "ones": lambda L: L.ones(size=[2]),
    "empty": lambda L: L.empty(size=(2, 3), dtype=L.float64),
    "rand": lambda L: L.rand(size=(2, 3)),
    "randn": lambda L: L.randn(size=(4,), dtype=L.float64),
    "full": lambda L: L.full(size=(2,), fill_value=3),
    "full_float": lambda L: L.full(fill_value=1.5, size=(2, 2)),
    "randint": lambda L: L.randint(0, 5, size=(2,)),
    "randint_high": lambda L: L.randint(5, size=(2, 3)),
    "randint_high_kw": lambda L: L.randint(high=5, size=(2,)),
    "zeros_like": lambda L: L.zeros_like(L.ones(2, 3), dtype=L.int64),
    "ones_like": lambda L: L.ones_like(L.ones(2), requires_grad=True),
    "full_like": lambda L: L.full_like(L.ones(2), 7, dtype=L.float64),
    "empty_like": lambda L: L.empty_like(L.ones(2, 2), requires_grad=True),
    "rand_like": lambda L: L.rand_like(L.ones(3), dtype=L.float64, requires_grad=True),
    "randn_like": lambda L: L.randn_like(L.ones(3), generator=L.Generator()),
    "randint_like": lambda L: L.randint_like(L.ones(3), 5),
    "randint_like_low_high": lambda L: L.randint_like(L.ones(3), 1, 5, dtype=L.int64),
    "randint_like_high_kw": lambda L: L.randint_like(L.ones(3), high=5),
}


@pytest.mark.parametrize("case", list(_SIZE_KW))
def test_size_and_like_keywords_match_torch(case):
    want, got = _SIZE_KW[case](torch), _SIZE_KW[case](chainrule)
    assert tuple(got.shape) == tuple(want.shape)
    assert got.dtype.name == str(want.dtype).split(".")[-1]
    assert got.requires_grad == want.requires_grad
    if case.startswith(("zeros", "ones", "full")):
        np.testing.assert_array_equal(_np(got), _np(want))
    if case.startswith("randint"):
        assert ((_np(got) >= 0) & (_np(got) < 5)).all()


@BOTH
def test_size_given_twice_and_positional_dtype_are_errors(L):
    with pytest.raises(TypeError):
        L.randn(2, size=(3,))
    with pytest.raises(TypeError):
        L.zeros(2, size=(3,))
    with pytest.raises(TypeError):
        L.zeros_like(L.ones(2), L.float64)  # dtype is keyword-only


def test_like_generators_are_deterministic():
    x = chainrule.ones(4)
    for fn in (chainrule.rand_like, chainrule.randn_like):
        a = fn(x, generator=chainrule.Generator().manual_seed(9))
        b = fn(x, generator=chainrule.Generator().manual_seed(9))
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    a = chainrule.randint_like(x, 100, generator=chainrule.Generator().manual_seed(9))
    b = chainrule.randint_like(x, 100, generator=chainrule.Generator().manual_seed(9))
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_grad_fn_names_match_torch():
    names = []
    for L in (torch, chainrule):
        x = L.arange(6.0, requires_grad=True)
        m = x.view(2, 3)
        ys = (L.repeat_interleave(m, 2), L.repeat_interleave(m, 2, dim=1), L.repeat_interleave(m, L.tensor([1, 2]), dim=0),
              L.meshgrid(x, x, indexing="ij")[0], L.normal(m, 1.0), L.normal(m, m.detach().abs()),
              L.normal(0.0, m.abs()))
        names.append([y.grad_fn.name() for y in ys])
    assert names[1] == names[0]
