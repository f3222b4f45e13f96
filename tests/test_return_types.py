"""Operators with two results return PyTorch's named tuples, printed as PyTorch prints them."""

import pytest
import torch

import chainrule

CALLS = {
    "max": lambda m, x: x.max(dim=1),
    "min": lambda m, x: m.min(x, 0, keepdim=True),
    "sort": lambda m, x: x.sort(1, descending=True),
    "topk": lambda m, x: m.topk(x, 2),
    "kthvalue": lambda m, x: x.kthvalue(2, 1),
    "median": lambda m, x: x.median(1),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_named_tuple_prints_and_unpacks_as_torch(name):
    ours = CALLS[name](chainrule, chainrule.tensor([[3.0, 1.0, 2.0], [0.5, 4.0, -1.0]]))
    theirs = CALLS[name](torch, torch.tensor([[3.0, 1.0, 2.0], [0.5, 4.0, -1.0]]))
    assert repr(ours).replace("chainrule.", "torch.") == repr(theirs)
    assert type(ours).__name__ == type(theirs).__name__ == name
    assert ours._fields == ("values", "indices")
    values, indices = ours
    assert values is ours.values and indices is ours[1]
    assert type(ours) is getattr(chainrule.return_types, name)

