"""Regressions found while making ``mypy`` pass on chainrule: each was a wrong path that the
types pointed at, checked here against PyTorch where PyTorch has the same case."""

from __future__ import annotations

import pytest
import torch

import chainrule as cr
from chainrule import backend


@pytest.mark.parametrize("dtype", [cr.float32, cr.int64], ids=["float", "int"])
def test_pow_with_a_complex_operand_raises_the_binary_operators_type_error(dtype):
    # complex numbers are not supported: pow said "'<' not supported ..." or "float() argument ...";
    # it now refuses them as add does
    x = cr.tensor([1, 2], dtype=dtype)
    with pytest.raises(TypeError, match="expected a number, got complex") as add_error:
        cr.add(x, 2j)
    for call in (lambda: cr.pow(x, 2j), lambda: cr.pow(2j, x), lambda: x ** 2j):
        with pytest.raises(TypeError) as pow_error:
            call()
        assert str(pow_error.value) == str(add_error.value)
    # real scalars keep the scalar path, as in PyTorch
    assert (cr.pow(x, 2).numpy() == torch.pow(torch.tensor([1, 2]), 2).numpy()).all()
    assert cr.pow(x, -1.5).dtype == cr.float32


def test_result_type_without_operands_raises_instead_of_returning_none():
    assert backend.result_type(cr.zeros(2, dtype=cr.int32), 1.5) is cr.float32
    with pytest.raises(TypeError, match="needs at least one tensor or number"):
        backend.result_type()
