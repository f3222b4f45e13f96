"""Rows for the loss functions (chainrule/ops/loss.py), every reduction of each.

Class weights and ``pos_weight`` are fixed constants inside the row (PyTorch does not
differentiate with respect to them); targets are float inputs wherever PyTorch differentiates
with respect to them, so their gradients are compared too.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as TF

import chainrule.nn.functional as F

from .core import OpCase

REDUCTIONS = ("none", "mean", "sum")
W5 = np.array([0.3, 1.0, 2.0, 0.7, 1.5])  # class weights for 5 classes
PW4 = np.array([0.5, 2.0, 1.0, 3.0])  # pos_weight for 4 columns


def _cw(x):
    """The constant ``W5`` in the dtype and framework of ``x``."""
    if isinstance(x, torch.Tensor):
        return torch.tensor(W5, dtype=x.dtype)
    import chainrule as cr

    return cr.tensor(W5, dtype=x.dtype)


def _pw(x):
    if isinstance(x, torch.Tensor):
        return torch.tensor(PW4, dtype=x.dtype)
    import chainrule as cr

    return cr.tensor(PW4, dtype=x.dtype)


def _quiet(fn):
    """``fn`` without its broadcasting warning (the row checks the broadcast result itself)."""
    def call(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn(*args)
    return call


def _pair(lo=-2.0, hi=2.0, shape=(3, 4), tlo=None, thi=None):
    def make(rng, dtype):
        return [rng.uniform(lo, hi, size=shape),
                rng.uniform(lo if tlo is None else tlo, hi if thi is None else thi, size=shape)]
    return make


def _away_pair(gaps, shape=(3, 4)):
    """Input/target pairs whose differences stay 0.1 away from the kinks ``+-g``."""
    def make(rng, dtype):
        x = rng.uniform(-2, 2, size=shape)
        d = rng.uniform(-2, 2, size=shape)
        for g in gaps:
            for p in (g, -g):
                d = np.where(np.abs(d - p) < 0.1, p + 0.2 * np.sign(d - p + 1e-12), d)
        return [x, x - d]
    return make


def _classes(shape=(4, 5), ignore=False, n_classes=5):
    """Logits of ``shape`` and int64 class indices (some equal to -100 when ``ignore``)."""
    def make(rng, dtype):
        x = rng.uniform(-3, 3, size=shape)
        tshape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
        t = rng.integers(0, n_classes, size=tshape).astype(np.int64)
        if ignore and t.ndim:
            t.reshape(-1)[::3] = -100
        return [x, np.asarray(t)]
    return make


def _probs(shape=(4, 5)):
    def make(rng, dtype):
        x = rng.uniform(-3, 3, size=shape)
        p = rng.uniform(0.05, 1.0, size=shape)
        return [x, p / p.sum(axis=1, keepdims=True)]
    return make


def _rows() -> list[OpCase]:
    rows = []
    for r in REDUCTIONS:
        def red(fn, r=r, **kw):
            return lambda *a: fn(*a, reduction=r, **kw)

        rows += [
            OpCase(f"mse_loss.{r}", red(F.mse_loss), red(TF.mse_loss), make=_pair()),
            OpCase(f"l1_loss.{r}", red(F.l1_loss), red(TF.l1_loss), make=_away_pair([0.0])),
            OpCase(f"smooth_l1_loss.{r}", red(F.smooth_l1_loss, beta=0.5),
                   red(TF.smooth_l1_loss, beta=0.5), make=_away_pair([0.0, 0.5])),
            OpCase(f"huber_loss.{r}", red(F.huber_loss, delta=0.8), red(TF.huber_loss, delta=0.8),
                   make=_away_pair([0.0, 0.8])),
            OpCase(f"binary_cross_entropy.{r}", red(F.binary_cross_entropy),
                   red(TF.binary_cross_entropy), make=_pair(0.05, 0.95, tlo=0.0, thi=1.0)),
            OpCase(f"binary_cross_entropy_with_logits.{r}", red(F.binary_cross_entropy_with_logits),
                   red(TF.binary_cross_entropy_with_logits), make=_pair(-4, 4, tlo=0.0, thi=1.0)),
            OpCase(f"kl_div.{r}", _quiet(red(F.kl_div)), _quiet(red(TF.kl_div)), make=_pair(-3, 0, tlo=0.05, thi=1.0)),
            OpCase(f"nll_loss.{r}", red(F.nll_loss), red(TF.nll_loss), make=_classes()),
            OpCase(f"cross_entropy.{r}", red(F.cross_entropy), red(TF.cross_entropy), make=_classes()),
            OpCase(f"cross_entropy.probs.{r}", red(F.cross_entropy), red(TF.cross_entropy), make=_probs()),
            OpCase(f"cross_entropy.weight_ignore.{r}",
                   lambda x, t, r=r: F.cross_entropy(x, t, weight=_cw(x), ignore_index=-100, reduction=r),
                   lambda x, t, r=r: TF.cross_entropy(x, t, weight=_cw(x), ignore_index=-100, reduction=r),
                   make=_classes(ignore=True)),
            OpCase(f"cross_entropy.smoothing.{r}",
                   lambda x, t, r=r: F.cross_entropy(x, t, weight=_cw(x), label_smoothing=0.2, reduction=r),
                   lambda x, t, r=r: TF.cross_entropy(x, t, weight=_cw(x), label_smoothing=0.2, reduction=r),
                   make=_classes(ignore=True)),
            OpCase(f"cross_entropy.spatial.{r}",
                   lambda x, t, r=r: F.cross_entropy(x, t, weight=_cw(x), ignore_index=-100, reduction=r),
                   lambda x, t, r=r: TF.cross_entropy(x, t, weight=_cw(x), ignore_index=-100, reduction=r),
                   make=_classes((2, 5, 3, 2), ignore=True)),
        ]
    rows += [
        OpCase("mse_loss.broadcast", _quiet(F.mse_loss), _quiet(TF.mse_loss), ((3, 4), (4,))),
        OpCase("kl_div.batchmean", lambda x, t: F.kl_div(x, t, reduction="batchmean"),
               lambda x, t: TF.kl_div(x, t, reduction="batchmean"), make=_pair(-3, 0, tlo=0.05, thi=1.0)),
        OpCase("kl_div.log_target", lambda x, t: F.kl_div(x, t, reduction="sum", log_target=True),
               lambda x, t: TF.kl_div(x, t, reduction="sum", log_target=True), make=_pair(-3, 0)),
        OpCase("binary_cross_entropy.weight",
               lambda x, t: F.binary_cross_entropy(x, t, weight=_pw(x)),
               lambda x, t: TF.binary_cross_entropy(x, t, weight=_pw(x)), make=_pair(0.05, 0.95, tlo=0.0, thi=1.0)),
        OpCase("binary_cross_entropy_with_logits.pos_weight",
               lambda x, t: F.binary_cross_entropy_with_logits(x, t, weight=_pw(x) * 0.5, pos_weight=_pw(x)),
               lambda x, t: TF.binary_cross_entropy_with_logits(x, t, weight=_pw(x) * 0.5, pos_weight=_pw(x)),
               make=_pair(-4, 4, tlo=0.0, thi=1.0)),
        OpCase("cross_entropy.unbatched", F.cross_entropy, TF.cross_entropy, make=_classes((5,))),
        OpCase("cross_entropy.unbatched_none", lambda x, t: F.cross_entropy(x, t, reduction="none"),
               lambda x, t: TF.cross_entropy(x, t, reduction="none"), make=_classes((5,))),
        OpCase("cross_entropy.probs_smoothing_weight",
               lambda x, t: F.cross_entropy(x, t, weight=_cw(x), label_smoothing=0.1),
               lambda x, t: TF.cross_entropy(x, t, weight=_cw(x), label_smoothing=0.1),
               make=_probs((3, 5, 2))),
        OpCase("nll_loss.spatial_weight",
               lambda x, t: F.nll_loss(x, t, weight=_cw(x), ignore_index=2),
               lambda x, t: TF.nll_loss(x, t, weight=_cw(x), ignore_index=2), make=_classes((2, 5, 3))),
    ]
    return rows


CASES = _rows()
