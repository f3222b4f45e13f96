"""Bad input gets a clear error that says what was expected and what was got."""

from __future__ import annotations

import pytest

import chainrule as cr


def test_broadcast_mismatch_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of tensor b \(4\).*\[2, 3\].*\[4\]"):
        cr.ones(2, 3) + cr.ones(4)
    with pytest.raises(RuntimeError, match=r"\[2, 3\].*\[4\]"):
        cr.maximum(cr.ones(2, 3), cr.ones(4))


def test_matmul_mismatch_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(2x3 and 4x5\)"):
        cr.ones(2, 3) @ cr.ones(4, 5)
    with pytest.raises(RuntimeError, match="at least 1D"):
        cr.matmul(cr.tensor(1.0), cr.ones(2))


def test_float_only_operations_reject_integer_tensors():
    with pytest.raises(RuntimeError, match="floating point"):
        cr.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match=r"(?i)mean.*(floating|dtype)"):
        cr.tensor([1, 2]).mean()


def test_backward_without_grad_is_explained():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (cr.ones(2) * 2).sum().backward()


def test_reshape_and_view_errors():
    with pytest.raises(RuntimeError, match=r"shape '\[4, 2\]' is invalid for input of size 6"):
        cr.ones(2, 3).reshape(4, 2)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        cr.ones(6).reshape(-1, -1)
    with pytest.raises(IndexError, match="Dimension out of range"):
        cr.ones(2, 3).transpose(0, 2)


def test_expand_error_names_sizes():
    with pytest.raises(RuntimeError, match=r"expanded size of the tensor \(4\) must match the existing size \(3\)"):
        cr.ones(3).expand(2, 4)


def test_creation_errors():
    with pytest.raises(RuntimeError, match="negative dimension"):
        cr.zeros(2, -1)
    with pytest.raises(TypeError, match="size must be a sequence of ints"):
        cr.zeros(2.5)
    with pytest.raises(TypeError, match="unsupported dtype"):
        cr.zeros(2, dtype="complex64")
