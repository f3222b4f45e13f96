"""Engine and Tensor behaviours checked side by side with PyTorch: hooks and ``.grad`` with
``backward(inputs=...)``, deep copies of leaves in a live graph, ``np.array`` copies, the dtype
of ``scalar_tensor`` and the version counter of split outputs made under ``no_grad``."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr


@pytest.mark.parametrize("fw", [cr, torch], ids=["chainrule", "torch"])
def test_a_leaf_hook_runs_once_with_inputs(fw):
    x = fw.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    x.register_hook(lambda g: calls.append(g.tolist()))
    (x * x).sum().backward(inputs=[x])
    assert calls == [[2.0, 4.0]]
    assert x.grad.tolist() == [2.0, 4.0]


@pytest.mark.parametrize("fw", [cr, torch], ids=["chainrule", "torch"])
def test_a_non_leaf_named_in_inputs_gets_its_grad(fw):
    x = fw.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    (h * h).sum().backward(inputs=[h])
    assert h.grad.tolist() == [6.0, 12.0]
    assert x.grad is None


@pytest.mark.parametrize("fw", [cr, torch], ids=["chainrule", "torch"])
def test_a_deep_copy_of_a_leaf_in_a_live_graph_gets_its_own_grad(fw):
    w = fw.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()  # keeps w's accumulator alive
    w2 = copy.deepcopy(w)
    (w2 * 5).sum().backward()
    assert w.grad is None and w2.grad.tolist() == [5.0, 5.0]
    y.backward()
    assert w.grad.tolist() == [2.0, 4.0]


def test_np_array_of_a_tensor_is_a_copy_and_asarray_shares():
    t = cr.tensor([1.0, 2.0])
    a = np.array(t)
    a[0] = 9.0
    assert t.tolist() == [1.0, 2.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the NumPy 2 __array__(dtype, copy) protocol, no fallback
        v = np.asarray(t)
    v[0] = 7.0
    assert t.tolist() == [7.0, 2.0]


def test_scalar_tensor_has_the_default_float_dtype():
    assert cr.scalar_tensor(3).dtype == cr.float32 and torch.scalar_tensor(3).dtype == torch.float32
    assert cr.scalar_tensor(3, dtype=cr.int64).dtype == cr.int64


def test_split_outputs_made_under_no_grad_share_the_version_counter():
    with cr.no_grad():
        b = cr.tensor([1.0, 2.0, 3.0, 4.0])
        p1, p2 = b.split(2)
    before = p1._version[0]  # the shared box of the version counter
    b.add_(1.0)
    assert p1._version[0] == before + 1 and p2._version is p1._version is b._version
