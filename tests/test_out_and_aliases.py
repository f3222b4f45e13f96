"""``out=`` and the NumPy keyword aliases (``axis=``, ``keepdims=``), checked call by call against PyTorch.

Every exported function with a sample call (tests/op_samples.py) is called under both libraries
with ``out=`` and with the aliases; chainrule must accept exactly what PyTorch 2.13 accepts, give
the same values, and fail with the same exception (and, for the common messages, the same text).
"""

from __future__ import annotations

import functools
import inspect
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import ops

from .op_samples import METHOD_SAMPLES, SAMPLES, call, numpy_of

torch = pytest.importorskip("torch")

# messages chainrule reproduces word for word; others are compared by exception type only
_SAME_TEXT = ("result type", "Expected out tensor to have dtype", "Found dtype", "torch.cat()")
_DTYPES = ("float64", "int64", "bool", "float16")
# PyTorch's mean says "result type Float" for a float64 input: a quirk not copied
_TEXT_DIFFERS = {"mean"}


def _cases(pred=lambda name: True):
    return [(n, i) for n in sorted(SAMPLES) if hasattr(torch, n) and pred(n) for i in range(len(SAMPLES[n]))]


def _empty_out(L, result, dtype=None):
    if isinstance(result, tuple):
        return (L.empty(0, dtype=getattr(L, dtype or str(result[0].dtype).split(".")[-1])),
                L.empty(0, dtype=L.int64))
    return L.empty(0, dtype=getattr(L, dtype or str(result.dtype).split(".")[-1]))


def _outcome(fn):
    """('ok', value) or (exception type, message) of calling ``fn``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "ok", fn()
        except (TypeError, RuntimeError, NotImplementedError, IndexError) as e:
            return type(e), str(e)


def _torch_accepts_out(name: str, variant: int) -> bool:
    r = call(torch, name, variant)
    if isinstance(r, tuple) and not hasattr(r, "values"):
        return False
    return _outcome(lambda: call(torch, name, variant, out=_empty_out(torch, r)))[0] == "ok"


@pytest.mark.parametrize("name,variant", _cases())
def test_out_accepted_exactly_where_torch_accepts_it(name, variant):
    expected = call(torch, name, variant)
    if not _torch_accepts_out(name, variant):
        dummy = chainrule.empty(0)
        with pytest.raises(TypeError):
            call(chainrule, name, variant, out=dummy)
        return
    result = call(chainrule, name, variant)
    out = _empty_out(chainrule, result)
    returned = call(chainrule, name, variant, out=out)
    if isinstance(out, tuple):
        assert tuple(returned) == out and all(o is r for o, r in zip(out, returned))
        assert type(returned).__name__ == type(result).__name__
    else:
        assert returned is out and out._version == [1]
    for got, want in zip(np.atleast_1d(numpy_of(returned)) if isinstance(out, tuple) else [numpy_of(returned)],
                         np.atleast_1d(numpy_of(expected)) if isinstance(out, tuple) else [numpy_of(expected)]):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def _dtype_cases():
    """(name, variant, out dtype) for every out= call PyTorch accepts, with each dtype but the result's."""
    cases = []
    for name, variant in _cases():
        if _torch_accepts_out(name, variant):
            r = call(torch, name, variant)
            res_dtype = str((r[0] if isinstance(r, tuple) else r).dtype).split(".")[-1]
            cases += [(name, variant, d) for d in _DTYPES if d != res_dtype]
    return cases


@pytest.mark.parametrize("name,variant,dtype", _dtype_cases())
def test_out_dtype_rules_match_torch(name, variant, dtype):
    r = call(torch, name, variant)
    want = _outcome(lambda: call(torch, name, variant, out=_empty_out(torch, r, dtype)))
    got = _outcome(lambda: call(chainrule, name, variant,
                                out=_empty_out(chainrule, call(chainrule, name, variant), dtype)))
    if want[0] == "ok":
        assert got[0] == "ok", got
        np.testing.assert_allclose(numpy_of(got[1]).astype(np.float64), numpy_of(want[1]).astype(np.float64),
                                   rtol=1e-3, atol=1e-3)
    else:
        assert got[0] is want[0], (got, want)
        if want[1].startswith(_SAME_TEXT) and name not in _TEXT_DIFFERS:
            assert got[1] == want[1]


def test_out_table_has_no_function_torch_lacks_out_for():
    accepted = {n for n, i in _cases() if _torch_accepts_out(n, i)}
    assert set(ops._keywords.OUT_RULES) == accepted


def test_every_function_with_an_out_overload_in_torch_has_a_sample():
    """So that a newly exported function cannot miss out=: PyTorch's schema lists its out overloads."""
    own_out = {"normal"}  # takes out= itself (tests/test_random_grid.py)
    missing = []
    for name in ops.FUNCTIONS:
        schemas = torch._C._jit_get_schemas_for_operator(f"aten::{name}")
        if any(a.is_out for sc in schemas for a in sc.arguments) and name not in SAMPLES and name not in own_out:
            missing.append(name)
    assert not missing, f"add sample calls to tests/op_samples.py for {missing}"


def test_out_is_resized_with_torch_warning_and_version_bump():
    x, y = chainrule.randn(2, 3), chainrule.randn(2, 3)
    out = chainrule.empty(3)
    with pytest.warns(UserWarning, match=r"An output with one or more elements was resized since it had shape \[3\], "
                                         r"which does not match the required output shape \[2, 3\]"):
        r = chainrule.add(x, y, out=out)
    assert r is out and out.shape == (2, 3) and out._version == [1]
    np.testing.assert_array_equal(out.numpy(), (x + y).numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chainrule.matmul(x, y.t(), out=chainrule.empty(0))  # empty: resized silently
        same = chainrule.empty(2, 3)
        chainrule.mul(x, y, out=same)  # right shape: written in place
    np.testing.assert_array_equal(same.numpy(), (x * y).numpy())


def test_out_writes_through_views():
    base = chainrule.zeros(2, 3)
    chainrule.add(chainrule.ones(3), 1.0, out=base[0])
    np.testing.assert_array_equal(base.numpy(), [[2, 2, 2], [0, 0, 0]])


@pytest.mark.parametrize("L", [torch, chainrule], ids=["torch", "chainrule"])
def test_out_refuses_autograd(L):
    x = L.randn(2, 3, requires_grad=True)
    msg = r"add\(\): functions with out=\.\.\. arguments don't support automatic differentiation, but one of the " \
          r"arguments requires grad\."
    with pytest.raises(RuntimeError, match=msg):
        L.add(x, 1.0, out=L.empty(0))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        L.cat([x, x.detach()], out=L.empty(0))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        L.add(x.detach(), 1.0, out=L.empty(0, requires_grad=True))
    with L.no_grad():
        out = L.empty(0)
        L.add(x, 1.0, out=out)
    assert out.shape == (2, 3) and not out.requires_grad


@pytest.mark.parametrize("L", [torch, chainrule], ids=["torch", "chainrule"])
def test_out_type_errors(L):
    x = L.ones(2)
    with pytest.raises(TypeError, match="argument 'out' must be Tensor, not list"):
        L.add(x, x, out=[1])
    with pytest.raises(TypeError):
        L.sum(x, out=L.empty(0))  # PyTorch has out= on sum only with dim


def test_out_pair_for_values_and_indices():
    a = np.random.default_rng(1).standard_normal((3, 4))
    for name, kw in (("max", {"dim": 1}), ("min", {"dim": 0, "keepdim": True}), ("sort", {"dim": 1}),
                     ("topk", {"k": 2}), ("kthvalue", {"k": 2}), ("median", {"dim": 1})):
        outs = (chainrule.empty(0, dtype=chainrule.float64), chainrule.empty(0, dtype=chainrule.int64))
        got = getattr(chainrule, name)(chainrule.tensor(a), **kw, out=outs)
        want = getattr(torch, name)(torch.tensor(a), **kw)
        assert got.values is outs[0] and got.indices is outs[1]
        np.testing.assert_allclose(got.values.numpy(), want.values.numpy())
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    with pytest.raises(TypeError, match="tuple of two Tensors"):
        chainrule.max(chainrule.tensor(a), 1, out=chainrule.empty(0))


_FACTORIES = [
    ("zeros", lambda L, **k: L.zeros(2, 3, **k)),
    ("ones", lambda L, **k: L.ones((2, 3), **k)),
    ("full", lambda L, **k: L.full((2, 3), 7, **k)),
    ("arange", lambda L, **k: L.arange(1, 7, 2, **k)),
    ("linspace", lambda L, **k: L.linspace(0, 1, 5, **k)),
    ("logspace", lambda L, **k: L.logspace(0, 2, 3, **k)),
    ("eye", lambda L, **k: L.eye(3, 2, **k)),
]


@pytest.mark.parametrize("name,make", _FACTORIES, ids=[n for n, _ in _FACTORIES])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_factory_out_takes_out_dtype_and_warns_as_torch(name, make, dtype):
    """The result takes out's dtype; a resize warns only where PyTorch warns (arange), with its text."""
    with warnings.catch_warnings(record=True) as torch_warnings:
        warnings.simplefilter("always")
        want = make(torch, out=torch.empty(5, dtype=getattr(torch, dtype)))
    out = chainrule.empty(5, dtype=getattr(chainrule, dtype))
    with warnings.catch_warnings(record=True) as our_warnings:
        warnings.simplefilter("always")
        got = make(chainrule, out=out)
    assert got is out and got.dtype is getattr(chainrule, dtype)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    assert [str(w.message).split(" (Triggered")[0] for w in our_warnings] == \
        [str(w.message).split(" (Triggered")[0] for w in torch_warnings]


@pytest.mark.parametrize("L", [torch, chainrule], ids=["torch", "chainrule"])
def test_factory_out_errors(L):
    with pytest.raises(RuntimeError, match=r"dtype Double does not match dtype of out parameter \(Float\)"):
        L.zeros(2, out=L.empty(0), dtype=L.float64)
    with pytest.raises(RuntimeError, match=r"aten::ones\(\): functions with out=\.\.\. arguments don't support"):
        L.ones(2, 3, out=L.empty(0, requires_grad=True))


def test_random_factories_with_out_are_reproducible():
    for make in (lambda g, **k: chainrule.rand(3, generator=g, **k),
                 lambda g, **k: chainrule.randn(3, generator=g, **k),
                 lambda g, **k: chainrule.randint(0, 9, (3,), generator=g, **k),
                 lambda g, **k: chainrule.randperm(3, generator=g, **k),
                 lambda g, **k: chainrule.normal(0.0, 1.0, (3,), generator=g, **k)):
        plain = make(chainrule.Generator().manual_seed(3))
        out = chainrule.empty(0, dtype=plain.dtype)
        assert make(chainrule.Generator().manual_seed(3), out=out) is out
        np.testing.assert_array_equal(out.numpy(), plain.numpy())


# ---- axis= / keepdims= ----------------------------------------------------------------------------
def _renamed(kwargs: dict) -> dict:
    k = dict(kwargs)
    if "dim" in k:
        k["axis"] = k.pop("dim")
    if "keepdim" in k:
        k["keepdims"] = k.pop("keepdim")
    return k


def _takes_dim(fn) -> bool:
    params = inspect.signature(fn).parameters
    return "dim" in params or "keepdim" in params


def test_every_function_and_method_with_dim_has_a_sample():
    functions = [n for n, f in ops.FUNCTIONS.items() if _takes_dim(f)]
    names = [n for mod in ops.FAMILIES for n in mod.TENSOR_METHODS] + list(ops.inplace.METHODS)
    methods = [n for n in names if _takes_dim(getattr(chainrule.Tensor, n))]
    missing = [n for n in functions + methods if n not in SAMPLES and n not in METHOD_SAMPLES]
    assert not missing, f"add sample calls to tests/op_samples.py for {missing}"


def _alias_cases(method: bool):
    names = [n for n in SAMPLES if n in ops.FUNCTIONS and _takes_dim(ops.FUNCTIONS[n])]
    if method:
        names = [n for n in names if hasattr(chainrule.Tensor, n)] + list(METHOD_SAMPLES)
    return [n for n in sorted(names) if hasattr(torch.Tensor if method else torch, n)]


def _alias_call(L, name: str, method: bool, rename: bool):
    args, kwargs = SAMPLES[METHOD_SAMPLES.get(name, name)][0](L)
    kwargs = _renamed(kwargs) if rename else kwargs
    if method:
        return getattr(args[0], name)(*args[1:], **kwargs)
    return getattr(L, name)(*args, **kwargs)


def _flat(result) -> list:
    return [np.asarray(a) for a in (numpy_of(result) if isinstance(result, (tuple, list)) else [numpy_of(result)])]


@pytest.mark.parametrize("method", [False, True], ids=["function", "method"])
def test_alias_set_matches_torch(method):
    """chainrule accepts axis=/keepdims= on exactly the functions (and methods) where PyTorch does."""
    torch_set, ours = set(), set()
    for name in _alias_cases(method):
        t = _outcome(functools.partial(_alias_call, torch, name, method, True))
        c = _outcome(functools.partial(_alias_call, chainrule, name, method, True))
        assert t[0] in ("ok", TypeError) and c[0] in ("ok", TypeError), (name, t, c)
        if t[0] == "ok":
            torch_set.add(name)
        if c[0] == "ok":
            ours.add(name)
        if t[0] == c[0] == "ok":  # the alias gives what dim=/keepdim= give
            for got, want in zip(_flat(c[1]), _flat(t[1])):
                np.testing.assert_allclose(got, want, err_msg=name)
    assert ours == torch_set
    assert len(torch_set) > 30


@pytest.mark.parametrize("L", [torch, chainrule], ids=["torch", "chainrule"])
def test_alias_with_its_name_twice_is_an_error(L):
    x = L.ones(2, 3)
    with pytest.raises(TypeError):
        L.sum(x, dim=0, axis=1)
    with pytest.raises(TypeError):
        x.mean(1, keepdim=True, keepdims=True)


def test_alias_textbook_forms():
    a = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    for L in (torch, chainrule):
        x = L.tensor(a)
        r = (x.exp() / x.exp().sum(axis=1, keepdims=True), L.softmax(x, axis=1), x.argmax(axis=1),
             L.cumsum(x, axis=0), x.max(axis=1).values, L.cat([x, x], axis=0), x.std(axis=0, keepdims=True))
        if L is torch:
            want = [numpy_of(v) for v in r]
        else:
            for g, w in zip([numpy_of(v) for v in r], want):
                np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_aliases_keep_the_graph():
    a = np.random.default_rng(4).standard_normal((3, 4))
    grads = []
    for L in (torch, chainrule):
        x = L.tensor(a, requires_grad=True)
        (x.softmax(axis=1) * x.logsumexp(axis=0, keepdims=True) + L.cumsum(x, axis=1)).sum().backward()
        grads.append(numpy_of(x.grad))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12)


def test_functional_alias_set_matches_torch():
    """torch.nn.functional: only its natively bound functions (cosine_similarity ...) take the aliases."""
    F = chainrule.nn.functional
    names = [n for n in dir(F) if not n.startswith("_") and callable(getattr(F, n))
             and not isinstance(getattr(F, n), type)]
    names = [n for n in names if hasattr(torch.nn.functional, n) and _has_signature_with_dim(getattr(F, n))]
    assert set(names) - set(SAMPLES) == set(), "add sample calls to tests/op_samples.py"
    accepted = {}
    for L in (torch, chainrule):
        accepted[L.__name__] = set()
        for name in names:
            args, kwargs = SAMPLES[name][0](L)
            if _outcome(functools.partial(getattr(L.nn.functional, name), *args, **_renamed(kwargs)))[0] == "ok":
                accepted[L.__name__].add(name)
    assert accepted["chainrule"] == accepted["torch"] and accepted["torch"]


def _has_signature_with_dim(fn) -> bool:
    try:
        return _takes_dim(fn)
    except (TypeError, ValueError):
        return False
