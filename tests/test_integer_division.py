"""Integer division and remainder by zero raise as PyTorch does; truncation stays exact in int64."""

import pytest
import torch

import chainrule

CASES = [
    ("floordiv", lambda m, a, b: a // b),
    ("mod", lambda m, a, b: a % b),
    ("floor_divide", lambda m, a, b: m.floor_divide(a, b)),
    ("remainder", lambda m, a, b: m.remainder(a, b)),
    ("div_trunc", lambda m, a, b: m.div(a, b, rounding_mode="trunc")),
    ("div_floor", lambda m, a, b: m.div(a, b, rounding_mode="floor")),
    ("fmod", lambda m, a, b: m.fmod(a, b)),
]
VALUES = [5, -7, 3, 0, 2**60 + 1, -(2**62) - 3]


@pytest.mark.parametrize("name,fn", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("divisor", [0, "tensor"])
def test_integer_division_by_zero_raises_like_torch(name, fn, divisor):
    def operands(m):
        a = m.tensor(VALUES)
        b = 0 if divisor == 0 else m.tensor([1, 2, 0, 1, 3, 5])
        return a, b

    with pytest.raises(RuntimeError, match="ZeroDivisionError") as theirs:
        fn(torch, *operands(torch))
    with pytest.raises(RuntimeError, match="ZeroDivisionError") as ours:
        fn(chainrule, *operands(chainrule))
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("name,fn", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("divisor", [3, -3, 7, -(2**31) - 1])
def test_integer_division_matches_torch_exactly(name, fn, divisor):
    ours = fn(chainrule, chainrule.tensor(VALUES), divisor)
    theirs = fn(torch, torch.tensor(VALUES), divisor)
    assert ours.tolist() == theirs.tolist()
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]


def test_float_division_by_zero_gives_inf_and_nan_like_torch():
    for fn in (lambda m, a: a // 0, lambda m, a: a % 0.0, lambda m, a: a / 0):
        ours = fn(chainrule, chainrule.tensor([5.0, -7.0, 0.0])).tolist()
        theirs = fn(torch, torch.tensor([5.0, -7.0, 0.0])).tolist()
        assert str(ours) == str(theirs)
