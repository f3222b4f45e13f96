"""DLPack and the NumPy array protocol: zero-copy both ways with NumPy and PyTorch.

Each round trip is checked by writing through one side and reading through the other.
"""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn

DTYPES = ["float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool"]


def _values(dtype: str, shape=(2, 3)) -> np.ndarray:
    return (np.arange(np.prod(shape)).reshape(shape) % 2).astype(dtype) if dtype == "bool" else \
        np.arange(np.prod(shape)).reshape(shape).astype(dtype)


# ---- chainrule -> other ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_from_dlpack_shares_memory(dtype):
    t = cr.from_numpy(_values(dtype).copy())
    a = np.from_dlpack(t)
    assert a.dtype == np.dtype(dtype) and a.shape == (2, 3)
    a[1, 2] = 1
    t[0, 0] = 1
    assert t[1, 2].item() == 1 and a[0, 0] == 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_from_dlpack_shares_memory(dtype):
    t = cr.from_numpy(_values(dtype).copy())
    tt = torch.from_dlpack(t)
    assert str(tt.dtype) == f"torch.{dtype}" and tuple(tt.shape) == (2, 3)
    tt[1, 2] = 1
    t[0, 0] = 1
    assert t[1, 2].item() == 1 and tt[0, 0].item() == 1


@pytest.mark.parametrize("make", [
    lambda: cr.arange(12.).reshape(3, 4).t(),
    lambda: cr.arange(24.).reshape(2, 3, 4)[:, ::2, 1:],
    lambda: cr.tensor(5.0),
    lambda: cr.zeros(0, 3),
    lambda: cr.arange(4.).expand(3, 4),
], ids=["transposed", "strided", "0-d", "empty", "broadcast"])
def test_torch_reads_views_with_their_strides(make):
    t = make()
    tt = torch.from_dlpack(t)
    np.testing.assert_array_equal(tt.numpy(), t.numpy())
    assert tt.stride() == t.stride()


def test_torch_as_tensor_and_tensor_accept_chainrule_tensors():
    t = cr.arange(6.).reshape(2, 3)
    shared = torch.as_tensor(t)  # used to fail with "len() of a 0-d tensor"
    shared[0, 0] = -1
    assert t[0, 0].item() == -1
    copied = torch.tensor(t)
    copied[0, 1] = -2
    assert t[0, 1].item() == 1
    assert torch.as_tensor(cr.tensor(3.0)).item() == 3.0


def test_legacy_capsule_round_trip():
    t = cr.arange(4.)
    tt = torch.utils.dlpack.from_dlpack(cr.utils.dlpack.to_dlpack(t))
    tt[0] = 9
    assert t[0].item() == 9
    src = torch.arange(4.)
    back = cr.utils.dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(src))
    src[1] = 7  # a DLPack 0.x capsule cannot say the memory is writable: NumPy makes it read-only
    assert back[1].item() == 7
    with pytest.raises(RuntimeError, match="read-only"):
        back[1] = 0


def test_dlpack_device_matches_torch():
    assert cr.ones(2).__dlpack_device__() == tuple(int(v) for v in torch.ones(2).__dlpack_device__())


def test_export_refuses_tensors_that_require_grad_like_torch():
    for t in (cr.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)):
        with pytest.raises(BufferError, match="Can't export tensors that require gradient, use tensor.detach()"):
            t.__dlpack__()
    torch.from_dlpack(cr.ones(2, requires_grad=True).detach())  # detached is fine


def test_stream_must_be_an_int():
    with pytest.raises(TypeError, match="stream must be"):
        cr.ones(2).__dlpack__(stream="x")
    with pytest.raises(TypeError, match="stream must be"):
        torch.ones(2).__dlpack__(stream="x")


# ---- other -> chainrule ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_from_dlpack_of_torch_shares_memory(dtype):
    src = torch.from_numpy(_values(dtype).copy())
    for t in (cr.from_dlpack(src), cr.as_tensor(src), cr.utils.dlpack.from_dlpack(src)):
        assert t.dtype is getattr(cr, "bool_" if dtype == "bool" else dtype)
        t[1, 2] = 1
        src[0, 0] = 1
        assert src[1, 2].item() == 1 and t[0, 0].item() == 1
        src[1, 2] = 0
        src[0, 0] = 0


def test_from_dlpack_of_numpy_shares_memory():
    a = np.arange(6.0).reshape(2, 3)[:, ::-1]  # negative strides too
    t = cr.from_dlpack(a)
    a[0, 0] = 100
    assert t[0, 0].item() == 100
    assert cr.from_dlpack(t) is t


def test_tensor_copies_a_dlpack_producer():
    src = torch.arange(3.0)
    t = cr.tensor(src)
    t[0] = 5
    assert src[0].item() == 0
    assert cr.tensor(torch.ones(2, requires_grad=True)).tolist() == [1.0, 1.0]
    assert cr.tensor(src, dtype=cr.float64).dtype is cr.float64


def test_from_dlpack_errors_name_the_problem():
    with pytest.raises(TypeError, match="from_dlpack: expected an object with __dlpack__"):
        cr.from_dlpack([1, 2])
    with pytest.raises(TypeError, match=r"dtype torch.bfloat16"):
        cr.from_dlpack(torch.ones(2, dtype=torch.bfloat16))


# ---- the NumPy array protocol ------------------------------------------------------------------
def test_asarray_shares_memory_without_grad():
    t = cr.arange(3.0)
    a = np.asarray(t)
    a[0] = 4
    assert t[0].item() == 4
    b = np.array(t)  # np.array copies
    b[1] = 8
    assert t[1].item() == 1
    assert np.asarray(t, dtype=np.float64).dtype == np.float64


def test_asarray_refuses_grad_like_torch():
    msg = "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
    with pytest.raises(RuntimeError) as ours:
        np.asarray(cr.ones(2, requires_grad=True))
    with pytest.raises(RuntimeError) as theirs:
        np.asarray(torch.ones(2, requires_grad=True))
    assert str(ours.value) == str(theirs.value) == msg


# ---- PyTorch weights without a file ------------------------------------------------------------
def test_load_state_dict_from_torch_and_numpy():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Flatten(),
                             torch.nn.Linear(8, 3))
    with torch.no_grad():
        tm[1].running_mean.uniform_()
    m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))
    result = m.load_state_dict(tm.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    tm.eval()
    m.eval()
    x = np.random.default_rng(0).random((2, 1, 4, 4), dtype=np.float32)
    np.testing.assert_allclose(m(cr.from_numpy(x)).detach().numpy(), tm(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-6, atol=1e-6)
    # copies, not views: changing the torch weights afterwards leaves ours alone
    with torch.no_grad():
        tm[3].weight.zero_()
    assert float(m[3].weight.abs().sum()) > 0
    m2 = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))
    m2.load_state_dict({k: v.numpy() for k, v in m.state_dict().items()})
    np.testing.assert_array_equal(m2[0].weight.detach().numpy(), m[0].weight.detach().numpy())
