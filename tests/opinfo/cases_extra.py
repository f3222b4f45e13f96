"""Rows for sorting (ops/sorting.py), extra maths (ops/math_extra.py), the composed activations
(ops/activation.py), distances (ops/distance.py), embedding and resampling operators."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F

from .core import OpCase

X3 = ((2, 3, 4),)
BCAST = ((3, 4), (4,))


def _distinct(shape, lo=-2.0, hi=2.0, gap=0.05):
    """Values at least ``gap`` apart, so orders do not flip under finite differences."""

    def make(rng, dtype):
        n = int(np.prod(shape))
        vals = lo + (np.arange(n) * (hi - lo) / n) + rng.uniform(0, gap, size=n)
        return [rng.permutation(vals).reshape(shape)]

    return make


def _away_from(points, lo=-2.0, hi=2.0, gap=0.1, shape=(3, 4)):
    def make(rng, dtype):
        x = rng.uniform(lo, hi, size=shape)
        for p in points:
            x = np.where(np.abs(x - p) < gap, p + np.sign(x - p + 1e-12) * gap * 2, x)
        return [x]

    return make


def _nonzero_pair(rng, dtype):
    a = rng.uniform(-3, 3, size=(3, 4))
    b = rng.uniform(0.7, 1.9, size=(3, 4)) * rng.choice([-1, 1], size=(3, 4))
    # keep a / b away from integers, where trunc jumps
    q = a / b
    a = np.where(np.abs(q - np.round(q)) < 0.1, a + 0.25 * b, a)
    return [a, b]


def _with_zeros(rng, dtype):
    x = rng.uniform(0.5, 1.5, size=(2, 5)) * rng.choice([-1, 1], size=(2, 5))
    x[0, 2] = 0.0
    x[1, 0] = 0.0
    x[1, 3] = 0.0
    return [x]


CASES = [
    # sorting
    OpCase("sort", lambda x: tuple(cr.sort(x)), lambda x: tuple(torch.sort(x)), make=_distinct((3, 4))),
    OpCase("sort.dim0_desc", lambda x: tuple(x.sort(0, descending=True)),
           lambda x: tuple(x.sort(0, descending=True)), make=_distinct((2, 3, 4))),
    OpCase("sort.stable_ties", lambda x: tuple(cr.sort(x, stable=True)), lambda x: tuple(torch.sort(x, stable=True)),
           make=lambda rng, dt: [rng.integers(0, 3, size=(3, 6)).astype(np.float64)], numeric_grad=False),
    OpCase("argsort", lambda x: cr.argsort(x, dim=1, descending=True),
           lambda x: torch.argsort(x, dim=1, descending=True), make=_distinct((3, 4)), grad=False),
    OpCase("topk", lambda x: tuple(cr.topk(x, 2)), lambda x: tuple(torch.topk(x, 2)), make=_distinct((3, 5))),
    OpCase("topk.smallest_dim0", lambda x: tuple(x.topk(3, dim=0, largest=False)),
           lambda x: tuple(x.topk(3, dim=0, largest=False)), make=_distinct((4, 3))),
    OpCase("kthvalue", lambda x: tuple(cr.kthvalue(x, 2, 1)), lambda x: tuple(torch.kthvalue(x, 2, 1)),
           make=_distinct((3, 5))),
    OpCase("kthvalue.keepdim", lambda x: tuple(x.kthvalue(3, 0, keepdim=True)),
           lambda x: tuple(x.kthvalue(3, 0, keepdim=True)), make=_distinct((4, 3))),
    OpCase("median", cr.median, torch.median, make=_distinct((3, 4))),
    OpCase("median.odd", cr.median, torch.median, make=_distinct((3, 5))),
    OpCase("median.dim", lambda x: tuple(x.median(1)), lambda x: tuple(x.median(1)), make=_distinct((3, 4))),
    OpCase("median.dim_keepdim", lambda x: tuple(x.median(-1, keepdim=True)),
           lambda x: tuple(x.median(-1, keepdim=True)), make=_distinct((2, 3, 5))),
    OpCase("cumprod", lambda x: cr.cumprod(x, 1), lambda x: torch.cumprod(x, 1), make=_away_from([0.0], -1.5, 1.5)),
    OpCase("cumprod.dim0", lambda x: x.cumprod(0), lambda x: x.cumprod(0), X3, domain=(0.5, 1.5)),
    OpCase("cumprod.zeros", lambda x: cr.cumprod(x, 1), lambda x: torch.cumprod(x, 1), make=_with_zeros),
    # inverse trigonometric / hyperbolic
    OpCase("atan", cr.atan, torch.atan),
    OpCase("asin", cr.asin, torch.asin, domain=(-0.9, 0.9)),
    OpCase("acos", lambda x: x.acos(), lambda x: x.acos(), domain=(-0.9, 0.9)),
    OpCase("sinh", cr.sinh, torch.sinh),
    OpCase("cosh", cr.cosh, torch.cosh),
    OpCase("asinh", cr.asinh, torch.asinh),
    OpCase("acosh", cr.acosh, torch.acosh, domain=(1.2, 3.0)),
    OpCase("atanh", cr.atanh, torch.atanh, domain=(-0.9, 0.9)),
    OpCase("atan2", cr.atan2, torch.atan2, BCAST, domain=(0.3, 2.0)),
    OpCase("atan2.quadrants", cr.atan2, torch.atan2, make=lambda rng, dt: [
        rng.uniform(0.3, 2, (3, 4)) * rng.choice([-1, 1], (3, 4)),
        rng.uniform(0.3, 2, (3, 4)) * rng.choice([-1, 1], (3, 4))]),
    OpCase("exp2", cr.exp2, torch.exp2),
    OpCase("logaddexp", cr.logaddexp, torch.logaddexp, BCAST),
    OpCase("logaddexp.large", cr.logaddexp, torch.logaddexp, ((3, 4), (3, 4)), domain=(500.0, 800.0)),
    OpCase("hypot", cr.hypot, torch.hypot, BCAST),
    OpCase("fmod", cr.fmod, torch.fmod, make=_nonzero_pair),
    OpCase("fmod.scalar", lambda x: x.fmod(1.5), lambda x: x.fmod(1.5), make=_away_from([-1.5, 0.0, 1.5], -2.9, 2.9)),
    OpCase("frac", cr.frac, torch.frac, make=_away_from([-2.0, -1.0, 0.0, 1.0, 2.0], -2.9, 2.9)),
    OpCase("nan_to_num", cr.nan_to_num, torch.nan_to_num),
    OpCase("nan_to_num.special", lambda x: cr.nan_to_num(x * cr.tensor([float("nan"), float("inf"), -float("inf"), 1.0],
                                                                        dtype=x.dtype), nan=0.5, posinf=9.0),
           lambda x: torch.nan_to_num(x * torch.tensor([float("nan"), float("inf"), -float("inf"), 1.0],
                                                        dtype=x.dtype), nan=0.5, posinf=9.0),
           domain=(0.5, 2.0), grad=False),
    OpCase("lerp", cr.lerp, torch.lerp, ((3, 4), (3, 4), (4,)), domain=(0.1, 0.9)),
    OpCase("lerp.scalar", lambda a, b: a.lerp(b, 0.3), lambda a, b: a.lerp(b, 0.3), BCAST),
    OpCase("addcmul", lambda a, b, c: cr.addcmul(a, b, c, value=0.5), lambda a, b, c: torch.addcmul(a, b, c, value=0.5),
           ((3, 4), (3, 1), (4,))),
    OpCase("addcdiv", lambda a, b, c: a.addcdiv(b, c, value=-2), lambda a, b, c: a.addcdiv(b, c, value=-2),
           ((3, 4), (3, 4), (4,)), domain=(0.5, 2.0)),
    OpCase("count_nonzero", lambda x: cr.count_nonzero(cr.relu(x)), lambda x: torch.count_nonzero(torch.relu(x)),
           grad=False),
    OpCase("count_nonzero.dims", lambda x: x.relu().count_nonzero((0, 2)),
           lambda x: x.relu().count_nonzero((0, 2)), X3, grad=False),
    # composed activations (nn.functional)
    OpCase("relu6", F.relu6, TF.relu6, make=_away_from([0.0, 6.0], -3.0, 8.0)),
    OpCase("hardtanh", lambda x: F.hardtanh(x, -0.5, 1.2), lambda x: TF.hardtanh(x, -0.5, 1.2),
           make=_away_from([-0.5, 1.2])),
    OpCase("softmin", lambda x: F.softmin(x, dim=1), lambda x: TF.softmin(x, dim=1)),
    OpCase("logsigmoid", F.logsigmoid, TF.logsigmoid, domain=(-8.0, 8.0)),
    OpCase("hardswish", F.hardswish, TF.hardswish, make=_away_from([-3.0, 3.0], -5.0, 5.0)),
    # PyTorch's float64 backward kernels of hardsigmoid and celu use float32 constants (1/6, 1/alpha)
    OpCase("hardsigmoid", F.hardsigmoid, TF.hardsigmoid, make=_away_from([-3.0, 3.0], -5.0, 5.0), rtol64=1e-7),
    OpCase("mish", F.mish, TF.mish),
    OpCase("selu", F.selu, TF.selu, make=_away_from([0.0])),
    OpCase("celu", lambda x: F.celu(x, 0.7), lambda x: TF.celu(x, 0.7), make=_away_from([0.0]), rtol64=1e-7),
    OpCase("glu", F.glu, TF.glu, ((3, 4),)),
    OpCase("glu.dim0", lambda x: F.glu(x, 0), lambda x: TF.glu(x, 0), ((4, 3),)),
    OpCase("prelu", F.prelu, TF.prelu, ((2, 3, 4), (3,))),
    OpCase("prelu.single", F.prelu, TF.prelu, ((3, 4), (1,))),
    OpCase("softsign", F.softsign, TF.softsign, make=_away_from([0.0])),
    OpCase("tanhshrink", F.tanhshrink, TF.tanhshrink),
    OpCase("threshold", lambda x: F.threshold(x, 0.3, -1.5), lambda x: TF.threshold(x, 0.3, -1.5),
           make=_away_from([0.3])),
    # distances
    OpCase("normalize", F.normalize, TF.normalize, ((3, 4),)),
    OpCase("normalize.p1_dim0", lambda x: F.normalize(x, p=1.0, dim=0), lambda x: TF.normalize(x, p=1.0, dim=0),
           make=_away_from([0.0], shape=(3, 4))),
    OpCase("cosine_similarity", F.cosine_similarity, TF.cosine_similarity, ((3, 4), (3, 4))),
    OpCase("cosine_similarity.bcast", lambda a, b: cr.cosine_similarity(a, b, dim=-1),
           lambda a, b: torch.cosine_similarity(a, b, dim=-1), ((2, 3, 4), (4,))),
    OpCase("pairwise_distance", F.pairwise_distance, TF.pairwise_distance, ((3, 4), (3, 4))),
    OpCase("pairwise_distance.p3", lambda a, b: F.pairwise_distance(a, b, p=3.0, keepdim=True),
           lambda a, b: TF.pairwise_distance(a, b, p=3.0, keepdim=True), ((3, 4), (3, 4))),
    # embedding
    OpCase("embedding", lambda i, w: F.embedding(i, w), lambda i, w: TF.embedding(i, w),
           make=lambda rng, dt: [rng.integers(0, 5, size=(2, 3)).astype(np.int64), rng.uniform(-1, 1, (5, 3))]),
    OpCase("embedding.padding_freq", lambda i, w: F.embedding(i, w, padding_idx=-1, scale_grad_by_freq=True),
           lambda i, w: TF.embedding(i, w, padding_idx=-1, scale_grad_by_freq=True),
           make=lambda rng, dt: [np.array([[0, 4, 1], [1, 1, 4]]), rng.uniform(-1, 1, (5, 3))],
           grad=False),  # not the true derivative by design: gradients checked in tests/test_extras.py
    # resampling
    OpCase("interpolate.nearest1d", lambda x: F.interpolate(x, size=7), lambda x: TF.interpolate(x, size=7), ((2, 2, 4),)),
    OpCase("interpolate.nearest2d_scale", lambda x: F.interpolate(x, scale_factor=2),
           lambda x: TF.interpolate(x, scale_factor=2), ((1, 2, 2, 3),)),
    OpCase("interpolate.nearest2d_down", lambda x: F.interpolate(x, size=(2, 3)),
           lambda x: TF.interpolate(x, size=(2, 3)), ((1, 2, 5, 4),)),
    OpCase("interpolate.nearest3d", lambda x: F.interpolate(x, scale_factor=(1.5, 2, 0.5)),
           lambda x: TF.interpolate(x, scale_factor=(1.5, 2, 0.5)), ((1, 1, 2, 2, 4),)),
    OpCase("interpolate.linear", lambda x: F.interpolate(x, size=7, mode="linear"),
           lambda x: TF.interpolate(x, size=7, mode="linear"), ((2, 2, 4),)),
    OpCase("interpolate.linear_corners", lambda x: F.interpolate(x, scale_factor=2.5, mode="linear", align_corners=True),
           lambda x: TF.interpolate(x, scale_factor=2.5, mode="linear", align_corners=True), ((1, 2, 3),)),
    OpCase("interpolate.bilinear", lambda x: F.interpolate(x, size=(5, 3), mode="bilinear"),
           lambda x: TF.interpolate(x, size=(5, 3), mode="bilinear"), ((1, 2, 3, 4),)),
    OpCase("interpolate.bilinear_scale", lambda x: F.interpolate(x, scale_factor=1.7, mode="bilinear"),
           lambda x: TF.interpolate(x, scale_factor=1.7, mode="bilinear"), ((1, 1, 3, 3),)),
    OpCase("interpolate.bilinear_corners", lambda x: F.interpolate(x, size=(4, 4), mode="bilinear", align_corners=True),
           lambda x: TF.interpolate(x, size=(4, 4), mode="bilinear", align_corners=True), ((1, 2, 2, 3),)),
    OpCase("interpolate.trilinear", lambda x: F.interpolate(x, size=(3, 2, 4), mode="trilinear"),
           lambda x: TF.interpolate(x, size=(3, 2, 4), mode="trilinear"), ((1, 1, 2, 3, 2),)),
    OpCase("pixel_shuffle", lambda x: cr.pixel_shuffle(x, 2), lambda x: torch.pixel_shuffle(x, 2), ((2, 8, 2, 3),)),
    OpCase("pixel_unshuffle", lambda x: F.pixel_unshuffle(x, 2), lambda x: TF.pixel_unshuffle(x, 2), ((3, 4, 6),)),
]
