"""Type information as PyTorch's: ``finfo``/``iinfo``, ``promote_types``, ``can_cast``,
``result_type``, ``typename`` and the predicates, the layout and memory-format constants, and the
inference-mode, interop-thread and matmul-precision switches (``chainrule/_dtype_info.py``)."""

from __future__ import annotations

import pytest
import torch

import chainrule as cr

_DTYPES = ["float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool"]


@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo_as_torch(name):
    a, b = cr.finfo(getattr(cr, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(a, attr) == getattr(b, attr), attr
    assert repr(a) == repr(b)


@pytest.mark.parametrize("name", ["int8", "uint8", "int16", "int32", "int64"])
def test_iinfo_as_torch(name):
    a, b = cr.iinfo(getattr(cr, name)), torch.iinfo(getattr(torch, name))
    assert (a.bits, a.max, a.min, a.dtype) == (b.bits, b.max, b.min, b.dtype)
    assert repr(a) == repr(b)


def test_finfo_default_follows_default_dtype():
    assert cr.finfo() == cr.finfo(cr.float32)
    cr.set_default_dtype(cr.float64)
    try:
        assert cr.finfo().eps == torch.finfo(torch.float64).eps
    finally:
        cr.set_default_dtype(cr.float32)


@pytest.mark.parametrize("a", _DTYPES)
def test_promote_types_and_can_cast_as_torch(a):
    ta = getattr(torch, a)
    ca = cr.bool if a == "bool" else getattr(cr, a)
    for b in _DTYPES:
        tb = getattr(torch, b)
        cb = cr.bool if b == "bool" else getattr(cr, b)
        assert cr.promote_types(ca, cb).name == str(torch.promote_types(ta, tb)).split(".")[-1], (a, b)
        assert cr.can_cast(ca, cb) == torch.can_cast(ta, tb), (a, b)


@pytest.mark.parametrize("args", [("f32", 2), ("i32", 2.5), ("i32", "i64_0d"), ("b", True), (2, 3.0), ("f16", "f64_0d"),
                                  ("u8", "i8"), (True, 2)])
def test_result_type_as_torch(args):
    def make(L, a):
        if not isinstance(a, str):
            return a
        dt = {"f32": "float32", "i32": "int32", "i64_0d": "int64", "b": "bool", "f16": "float16",
              "f64_0d": "float64", "u8": "uint8", "i8": "int8"}[a]
        shape = () if a.endswith("0d") else (2,)
        return L.ones(shape, dtype=getattr(L, dt))

    want = torch.result_type(*(make(torch, a) for a in args))
    got = cr.result_type(*(make(cr, a) for a in args))
    assert got.name == str(want).split(".")[-1]


def test_typename_predicates_and_constants():
    x = cr.ones(2, 3)
    assert cr.typename(x) == "chainrule.FloatTensor" and cr.typename(x.long()) == "chainrule.LongTensor"
    assert cr.typename(3) == "int" and cr.typename(cr.nn.Linear(1, 1)).endswith(".Linear")
    assert cr.typename(cr.nn.Parameter(cr.ones(1))) == "chainrule.FloatTensor"
    assert cr.is_floating_point(x) and not cr.is_floating_point(x.long()) and not cr.is_complex(x)
    assert cr.is_nonzero(cr.tensor([2])) and not cr.is_nonzero(cr.tensor(0.0))
    assert cr.is_same_size(x, cr.zeros(2, 3)) and not x.is_same_size(cr.zeros(3, 2))
    for name in ("strided", "sparse_coo", "contiguous_format", "preserve_format", "channels_last",
                 "channels_last_3d"):
        assert repr(getattr(cr, name)) == repr(getattr(torch, name)).replace("torch.", "chainrule.")
    assert isinstance(cr.strided, cr.layout) and isinstance(cr.channels_last, cr.memory_format)
    assert x.layout is cr.strided and x.is_sparse is False and x.get_device() == -1
    y = cr.ones(1, 2, 3, 4)
    assert cr.equal(y.contiguous(memory_format=cr.channels_last), y)
    assert cr.equal(y.clone(memory_format=cr.contiguous_format), y)
    assert cr.equal(y.to(memory_format=cr.channels_last), y)
    assert cr.equal(x.new_zeros(2, layout=cr.strided), cr.zeros(2))
    assert cr.equal(cr.zeros(2, layout=cr.strided), cr.zeros(2))


def test_inference_mode_flag_threads_and_precision():
    assert not cr.is_inference_mode_enabled()
    with cr.inference_mode():
        assert cr.is_inference_mode_enabled() and not cr.is_grad_enabled()
        with cr.inference_mode(False):
            assert not cr.is_inference_mode_enabled()
        assert cr.is_inference_mode_enabled()
    assert not cr.is_inference_mode_enabled()
    old = cr.get_num_interop_threads()
    cr.set_num_interop_threads(3)
    assert cr.get_num_interop_threads() == 3
    cr.set_num_interop_threads(old)
    assert cr.get_float32_matmul_precision() == torch.get_float32_matmul_precision() == "highest"
    cr.set_float32_matmul_precision("medium")
    assert cr.get_float32_matmul_precision() == "medium"
    with pytest.warns(UserWarning, match="no effect"):
        cr.set_float32_matmul_precision("fast")
    assert cr.get_float32_matmul_precision() == "medium"
    cr.set_float32_matmul_precision("highest")
