"""Rows for the normalisation operators (chainrule/ops/normalization.py).

Batch norm in training mode is run without running buffers here (the table calls each function
several times; in-place buffer updates are tested in tests/nn/test_normalization.py). In eval
mode the running statistics are constants built inside the row, as in PyTorch, where they are
not differentiable. FRN and TLU have no PyTorch operator: their reference is the paper's formula
written with torch operations.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F

from .core import OpCase

RM = np.array([0.3, -0.2, 0.1])
RV = np.array([0.5, 1.5, 2.0])


def _c(a, like):
    return cr.tensor(a, dtype=like.dtype)


def _t(a, like):
    return torch.tensor(a, dtype=like.dtype)


def _frn_ref(x, w, b, eps=1e-6):
    nu2 = x.pow(2).mean(dim=tuple(range(2, x.ndim)), keepdim=True)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return x * torch.rsqrt(nu2 + eps) * w.view(shape) + b.view(shape)


def _channel_gap(rng, dtype):
    # channels well separated from the threshold, so finite differences do not cross a tie
    x = rng.uniform(-2, 2, size=(2, 3, 2, 2))
    tau = np.array([0.35, -0.45, 0.05])
    gap = x - tau.reshape(1, 3, 1, 1)
    x = np.where(np.abs(gap) < 0.1, x + 0.25, x)
    return [x, tau]


BN_IN = ((4, 3, 2, 2), (3,), (3,))
CASES = [
    OpCase("batch_norm.train", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
           lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True), BN_IN,
           op="batch_norm"),
    OpCase("batch_norm.train_1d", lambda x: F.batch_norm(x, None, None, training=True, eps=1e-3),
           lambda x: TF.batch_norm(x, None, None, training=True, eps=1e-3), ((5, 3),), op="batch_norm"),
    OpCase("batch_norm.train_noaffine_3d", lambda x: F.batch_norm(x, None, None, training=True),
           lambda x: TF.batch_norm(x, None, None, training=True), ((2, 2, 3, 2, 2),), op="batch_norm",
           fast=True),
    OpCase("batch_norm.eval", lambda x, w, b: F.batch_norm(x, _c(RM, x), _c(RV, x), w, b),
           lambda x, w, b: TF.batch_norm(x, _t(RM, x), _t(RV, x), w, b), BN_IN, op="batch_norm"),
    OpCase("instance_norm", lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
           lambda x, w, b: TF.instance_norm(x, weight=w, bias=b), ((2, 3, 2, 3), (3,), (3,))),
    OpCase("instance_norm.1d", lambda x: F.instance_norm(x), lambda x: TF.instance_norm(x), ((2, 3, 4),),
           op="instance_norm"),
    OpCase("instance_norm.running", lambda x: F.instance_norm(x, _c(RM, x), _c(RV, x), use_input_stats=False),
           lambda x: TF.instance_norm(x, _t(RM, x), _t(RV, x), use_input_stats=False), ((2, 3, 4),),
           op="instance_norm"),
    OpCase("layer_norm", lambda x, w, b: F.layer_norm(x, (3, 4), w, b),
           lambda x, w, b: TF.layer_norm(x, (3, 4), w, b), ((2, 3, 4), (3, 4), (3, 4))),
    OpCase("layer_norm.last", lambda x, w: F.layer_norm(x, 4, w, eps=1e-2),
           lambda x, w: TF.layer_norm(x, (4,), w, eps=1e-2), ((3, 4), (4,)), op="layer_norm"),
    OpCase("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b),
           lambda x, w, b: TF.group_norm(x, 2, w, b), ((2, 4, 3), (4,), (4,))),
    OpCase("group_norm.2d", lambda x: F.group_norm(x, 3), lambda x: TF.group_norm(x, 3), ((2, 6, 2, 2),),
           op="group_norm"),
    OpCase("rms_norm", lambda x, w: F.rms_norm(x, (4,), w, eps=1e-6),
           lambda x, w: TF.rms_norm(x, (4,), w, eps=1e-6), ((3, 4), (4,))),
    OpCase("local_response_norm", lambda x: F.local_response_norm(x, 3, alpha=0.5, beta=0.75, k=1.5),
           lambda x: TF.local_response_norm(x, 3, alpha=0.5, beta=0.75, k=1.5), ((2, 5, 3),)),
    OpCase("local_response_norm.even_4d", lambda x: F.local_response_norm(x, 2, alpha=1.0, k=2.0),
           lambda x: TF.local_response_norm(x, 2, alpha=1.0, k=2.0), ((2, 4, 2, 2),), op="local_response_norm"),
    OpCase("filter_response_norm", lambda x, w, b: F.filter_response_norm(x, w, b),
           lambda x, w, b: _frn_ref(x, w, b), ((2, 3, 2, 3), (3,), (3,))),
    OpCase("filter_response_norm.eps", lambda x, w, b, e: F.filter_response_norm(x, w, b, e),
           lambda x, w, b, e: _frn_ref(x, w, b, e.abs()), ((2, 3, 2, 2), (3,), (3,), (1,)),
           domain=(0.2, 2.0), op="filter_response_norm"),
    OpCase("tlu", F.tlu, lambda x, tau: torch.maximum(x, tau.view(1, -1, 1, 1)), make=_channel_gap),
]
