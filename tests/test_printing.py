"""Tensor printing against PyTorch 2.13: ``repr``/``str``/``format`` of a table of tensors under
each print option, compared as exact strings (``torch.`` read as ``chainrule.``)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr

rng = np.random.default_rng(0)

ARRAYS = {
    "0d_third": np.array(1 / 3),
    "0d_int_valued": np.array(3.0),
    "0d_neg_small": np.array(-2.5e-7),
    "0d_nan": np.array(np.nan),
    "1d": rng.standard_normal(5),
    "1d_integral": np.array([1.0, -2.0, 30.0]),
    "1d_integral_big": np.array([1.0, 2e9]),
    "1d_zeros": np.zeros(4),
    "1d_wide_ratio": np.array([1e-3, 2.0, 5.0]),
    "1d_ratio_1000": np.array([1.0, 1000.0]),
    "1d_ratio_1001": np.array([1.0, 1001.0]),
    "1d_tiny": np.array([1e-5, 3e-5]),
    "1d_huge": np.array([1.5e8, 2.5e8]),
    "1d_nan_inf": np.array([np.nan, np.inf, -np.inf, 1.5, 0.0]),
    "1d_only_nonfinite": np.array([np.nan, np.inf]),
    "1d_long_wraps": rng.standard_normal(30),
    "1d_summarised": np.arange(2000.0),
    "1d_summarised_mixed": np.concatenate([rng.standard_normal(1500) * 1e-6, [1e3]]),
    "2d": rng.standard_normal((3, 4)),
    "2d_wide": rng.standard_normal((3, 20)),
    "2d_summarised": rng.standard_normal((40, 40)),
    "2d_tall_summarised": rng.standard_normal((2000, 2)),
    "3d": rng.standard_normal((2, 3, 4)),
    "3d_summarised": rng.standard_normal((12, 12, 12)),
    "4d": rng.standard_normal((2, 2, 2, 3)) * 1e5,
    "4d_summarised": rng.standard_normal((7, 7, 7, 7)),
    "empty_1d": np.zeros(0),
    "empty_2d": np.zeros((0, 3)),
    "empty_3d": np.zeros((2, 0, 1)),
}
INT_ARRAYS = {
    "int_1d": np.array([1, -20, 300]),
    "int_0d": np.array(7),
    "int_2d": np.arange(12).reshape(3, 4),
    "int_summarised": np.arange(5000).reshape(50, 100),
    "int_empty": np.zeros((0,), dtype=np.int64),
}
BOOL_ARRAYS = {
    "bool_1d": np.array([True, False]),
    "bool_0d": np.array(True),
    "bool_2d": rng.standard_normal((3, 3)) > 0,
    "bool_summarised": rng.standard_normal(1200) > 0,
}
FLOATS = ("float32", "float64", "float16")
INTS = ("int64", "int32", "int8", "uint8")
OPTIONS = {
    "default": {},
    "precision2": {"precision": 2},
    "precision8": {"precision": 8},
    "threshold5": {"threshold": 5},
    "edgeitems1": {"threshold": 5, "edgeitems": 1},
    "edgeitems0": {"threshold": 5, "edgeitems": 0},
    "linewidth40": {"linewidth": 40},
    "linewidth200": {"linewidth": 200},
    "sci_on": {"sci_mode": True},
    "sci_off": {"sci_mode": False},
    "short": {"profile": "short"},
    "full": {"profile": "full"},
}


@pytest.fixture(autouse=True)
def _restore_print_options():
    yield
    cr.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


def _pair(a, dtype):
    return cr.tensor(a, dtype=getattr(cr, dtype)), torch.tensor(a, dtype=getattr(torch, dtype))


def _suffix_on_one_line(text: str) -> str:
    """``dtype=chainrule.float64`` is 4 characters longer than ``dtype=torch.float64``, so where
    torch's suffix just fits in the line width ours moves to the next line (the only layout
    difference): compare with suffixes joined to the line before."""
    return re.sub(r",\n *(dtype=|size=|grad_fn=|requires_grad=)", r", \1", text)


def _same(ours, theirs):
    assert repr(ours) == repr(theirs).replace("torch.", "chainrule.") or (
        "dtype=" in repr(ours) and _suffix_on_one_line(repr(ours))
        == _suffix_on_one_line(repr(theirs).replace("torch.", "chainrule.")))
    assert str(ours) == repr(ours)


TABLE = ([(n, d) for n in ARRAYS for d in FLOATS] + [(n, d) for n in INT_ARRAYS for d in INTS]
         + [(n, "bool") for n in BOOL_ARRAYS])


@pytest.mark.parametrize("option", OPTIONS, ids=str)
@pytest.mark.parametrize(("name", "dtype"), TABLE, ids=[f"{n}-{d}" for n, d in TABLE])
def test_repr_matches_torch(name, dtype, option):
    a = {**ARRAYS, **INT_ARRAYS, **BOOL_ARRAYS}[name]
    if dtype == "uint8":
        a = np.abs(a) % 256
    cr.set_printoptions(**OPTIONS[option])
    torch.set_printoptions(**OPTIONS[option])
    ours, theirs = _pair(a, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # float16 prints without a warning, as in PyTorch
        _same(ours, theirs)


def test_default_dtype_float64_changes_the_suffix():
    cr.set_default_dtype(cr.float64)
    torch.set_default_dtype(torch.float64)
    try:
        for dtype in ("float32", "float64"):
            _same(*_pair(ARRAYS["1d"], dtype))
            _same(*_pair(ARRAYS["empty_1d"], dtype))
    finally:
        cr.set_default_dtype(cr.float32)
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("expr", ["x", "x * 2", "x.sum()", "x[0]", "x.detach()", "x.t().reshape(-1)"])
def test_requires_grad_and_grad_fn_suffixes(expr):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    ours = eval(expr, {"x": cr.tensor(a, requires_grad=True)})
    theirs = eval(expr, {"x": torch.tensor(a, requires_grad=True)})
    _same(ours, theirs)


def test_suffixes_wrap_at_linewidth():
    a = rng.standard_normal(7)
    for dtype in ("float64", "float16"):
        ours, theirs = _pair(a, dtype)
        ours.requires_grad_(True)
        theirs.requires_grad_(True)
        _same(ours * 1, theirs * 1)
    _same(*_pair(np.arange(2000.0).reshape(40, 50), "float64"))


def test_parameter_repr():
    a = rng.standard_normal((2, 3)).astype(np.float32)
    assert repr(cr.nn.Parameter(cr.tensor(a))) == repr(torch.nn.Parameter(torch.tensor(a)))


@pytest.mark.parametrize("spec", ["", ".2f", ".3e", ">12", "g"])
@pytest.mark.parametrize("value", [1 / 3, 3.0, -2.5e-7, 1e10])
def test_format_of_0d_is_the_number(value, spec):
    for dtype in ("float32", "float64"):
        ours, theirs = _pair(np.array(value), dtype)
        assert format(ours, spec) == format(theirs, spec)
        assert f"{ours}" == f"{theirs}"
    assert f"{cr.tensor(5):>4}" == f"{torch.tensor(5):>4}" == "   5"
    assert f"{cr.tensor(True)}" == f"{torch.tensor(True)}" == "True"


def test_format_spec_on_non_scalar_raises_as_torch():
    ours, theirs = _pair(np.array([1.0, 2.0]), "float32")
    with pytest.raises(TypeError) as want:
        format(theirs, ".2f")
    with pytest.raises(TypeError) as got:
        format(ours, ".2f")
    assert str(got.value) == str(want.value)
    assert f"{ours}" == str(ours)


def test_print_options_round_trip():
    assert cr.get_printoptions() == {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
                                     "sci_mode": None}
    cr.set_printoptions(precision=2, sci_mode=True)
    assert cr.get_printoptions()["precision"] == 2 and cr.get_printoptions()["sci_mode"] is True
    cr.set_printoptions(linewidth=100)  # as in PyTorch, sci_mode goes back to None unless given
    assert cr.get_printoptions()["sci_mode"] is None and cr.get_printoptions()["precision"] == 2
    cr.set_printoptions(profile="full")
    assert cr.get_printoptions()["threshold"] == float("inf")
    cr.set_printoptions(profile="default")
    assert cr.get_printoptions()["precision"] == 4
