"""The negative log-likelihood of class indices as one operator (``nll_loss``, ``cross_entropy``).

``NllLoss`` takes batched log-probabilities (N, C, d...), the int64 targets (N, d...) and an
optional class weight, and computes everything that depends on the targets' values inside its
forward: the range check, the kept positions (``target != ignore_index``), each position's
coefficient ``w[y]`` and the picked entries ``logp[n, y, d...]``. Nothing is computed from the
data outside an operator, so ``chainrule.compile`` replays it with new targets (and checks their
range on every call).

``l = -coef * logp[n, y, d...]``, then ``'sum'`` adds, ``'mean'`` adds and multiplies by
``1 / sum(coef)`` (nan when every target is ignored, PyTorch's 0 / 0). The map is linear in
``logp``: its gradient ``NllLossGrad`` scatters ``-coef * g`` back to the picked entries, and the
gradient of that is the picking again (``NllLossPick``), so derivatives of every order run these
two nodes. The arithmetic is the one the composite form (pick, negate, multiply, sum, scale) did,
in the same order, so results are unchanged bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import FunctionNode


def target_tables(xp, target, weight, n_classes: int, ignore_index: int, dt, fn: str) -> tuple[Any, Any]:
    """(safe, coef) of a class-index target: ``safe`` the class per position (0 where ignored),
    ``coef`` = ``w[y]`` (1 without weight) where kept, 0 where ignored. Raises PyTorch's
    IndexError for a class outside [0, C) that is not ``ignore_index``."""
    t = target.astype(np.int64, copy=False)
    keep = t != ignore_index
    bad = keep & ((t < 0) | (t >= n_classes))
    if bool(bad.any()):
        first = int(t[bad].reshape(-1)[0])
        raise IndexError(f"Target {first} is out of bounds. ({fn}: class indices must lie in "
                         f"[0, {n_classes - 1}] or equal ignore_index={ignore_index})")
    safe = xp.where(keep, t, 0)
    coef = keep.astype(dt)
    if weight is not None:
        coef = coef * weight.astype(dt, copy=False)[safe]
    return safe, coef


def _picked_loss(xp, x, safe, coef, scale, reduction: str):
    """``-x[n, safe, d...] * coef``, reduced."""
    loss = -xp.take_along_axis(x, safe[:, None], axis=1)[:, 0] * coef
    if reduction == "none":
        return loss
    total = loss.sum()
    return total if reduction == "sum" else total * x.dtype.type(scale)


class NllLoss(FunctionNode):
    """``nll_loss`` of batched log-probabilities; inputs (logp, target[, weight]), the target and
    the weight get no gradient (as in PyTorch)."""

    def __init__(self, ignore_index: int, reduction: str, fn: str = "nll_loss"):
        self.ignore_index = ignore_index
        self.reduction = reduction
        self.fn = fn

    def forward(self, logp, target, weight=None):
        xp = self.xp
        safe, coef = target_tables(xp, target, weight, logp.shape[1], self.ignore_index, logp.dtype, self.fn)
        scale = 1.0
        if self.reduction == "mean":
            count = float(coef.sum())
            scale = 1.0 / count if count else float("nan")
        self.tables = (safe, coef, scale)
        self.shape = logp.shape
        return _picked_loss(xp, logp, safe, coef, scale, self.reduction)

    def backward(self, gy):
        grads: list = [NllLossGrad(self.tables, self.reduction, self.shape).apply(gy), None, None]
        return tuple(grads[:len(self.needs_input_grad)])


class NllLossGrad(FunctionNode):
    """The gradient of ``NllLoss``: ``-coef * g`` (``g`` scaled for 'mean', broadcast for the
    reductions) at the picked entries of a zero array of the input's shape."""

    def __init__(self, tables: tuple, reduction: str, shape: tuple):
        self.tables = tables
        self.reduction = reduction
        self.shape = shape

    def forward(self, gy):
        safe, coef, scale = self.tables
        g = gy * gy.dtype.type(scale) if self.reduction == "mean" else gy
        contrib = -(g * coef) + gy.dtype.type(0)  # + 0: an ignored position's -0.0 is stored as 0.0
        gx = self.xp.zeros(self.shape, dtype=gy.dtype)
        self.xp.put_along_axis(gx, safe[:, None], contrib[:, None], axis=1)
        return gx

    def backward(self, ggx):
        return NllLossPick(self.tables, self.reduction).apply(ggx)


class NllTables(FunctionNode):
    """``(keep, scale)`` of a class-index target, for the label-smoothing term of ``cross_entropy``:
    ``keep`` is 1 where the target is not ``ignore_index`` and 0 where it is (the logits' dtype
    ``dt``), ``scale`` the 0-d ``1 / sum(coef)`` of a 'mean' (nan when every target is ignored).
    Inputs (target[, weight]); the outputs get no gradient (the target and the weight get none)."""

    def __init__(self, ignore_index: int, n_classes: int, dt, fn: str):
        self.ignore_index = ignore_index
        self.n_classes = n_classes
        self.dt = dt
        self.fn = fn

    def forward(self, target, weight=None):
        _, coef = target_tables(self.xp, target, weight, self.n_classes, self.ignore_index, self.dt, self.fn)
        keep = (target.astype(np.int64, copy=False) != self.ignore_index).astype(self.dt)
        count = float(coef.sum())
        return keep, self.xp.asarray(1.0 / count if count else float("nan"), dtype=self.dt)

    def backward(self, g_keep, g_scale):
        return (None,) * len(self.needs_input_grad)


class NllLossPick(FunctionNode):
    """``NllLoss`` with its tables already made (the gradient of ``NllLossGrad``)."""

    def __init__(self, tables: tuple, reduction: str):
        self.tables = tables
        self.reduction = reduction

    def forward(self, x):
        self.shape = x.shape
        safe, coef, scale = self.tables
        return _picked_loss(self.xp, x, safe, coef, scale, self.reduction)

    def backward(self, gy):
        return NllLossGrad(self.tables, self.reduction, self.shape).apply(gy)
