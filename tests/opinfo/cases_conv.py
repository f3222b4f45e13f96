"""Rows for convolution, transposed convolution, pooling and unfold/fold (chainrule/ops/conv.py,
pooling.py, fold.py).

The conv rows span 1-d/2-d/3-d x stride x padding (ints, tuples, 'same' with even kernels,
'valid', padding wider than the kernel) x dilation x groups (incl. depthwise) x bias / no bias x
odd sizes x unbatched inputs. Rows whose full Jacobian would be large check gradients along
random directions (``fast``); the smallest check the full Jacobian.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch.nn.functional as TF

import chainrule.nn.functional as CF

from ..conv_reference import max_pool as naive_max_pool
from .core import OpCase

# PyTorch warns that it copies the input for 'same' with even kernels; that is its business
warnings.filterwarnings("ignore", message="Using padding='same'")

FULL_JACOBIAN_MAX = 400  # inputs + outputs elements up to which gradcheck builds the full Jacobian


def _out_numel(fn, shapes) -> int:
    import torch

    return sum(t.numel() for t in _as_tuple(fn(*(torch.zeros(s, dtype=torch.float64) for s in shapes))))


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _row(name, ours, theirs, shapes, *, make=None, fast=None, **kw) -> OpCase:
    if fast is None:
        in_sizes = (a.shape for a in make(np.random.default_rng(0), np.float64)) if make else shapes
        size = sum(math.prod(s) for s in in_sizes)
        fast = size + (_out_numel(theirs, shapes) if make is None else 0) > FULL_JACOBIAN_MAX
    return OpCase(name, ours, theirs, shapes, make=make, fast=fast, **kw)


def _conv(nd: int, tag: str, x, w, bias: bool = True, **kw) -> OpCase:
    ours, theirs = getattr(CF, f"conv{nd}d"), getattr(TF, f"conv{nd}d")
    if bias:
        return _row(f"conv{nd}d.{tag}", lambda a, b, c: ours(a, b, c, **kw),
                    lambda a, b, c: theirs(a, b, c, **kw), (x, w, (w[0],)))
    return _row(f"conv{nd}d.{tag}", lambda a, b: ours(a, b, **kw), lambda a, b: theirs(a, b, **kw), (x, w))


def _convt(nd: int, tag: str, x, w, bias: bool = True, **kw) -> OpCase:
    ours, theirs = getattr(CF, f"conv_transpose{nd}d"), getattr(TF, f"conv_transpose{nd}d")
    cout = w[1] * kw.get("groups", 1)
    if bias:
        return _row(f"conv_transpose{nd}d.{tag}", lambda a, b, c: ours(a, b, c, **kw),
                    lambda a, b, c: theirs(a, b, c, **kw), (x, w, (cout,)))
    return _row(f"conv_transpose{nd}d.{tag}", lambda a, b: ours(a, b, **kw),
                lambda a, b: theirs(a, b, **kw), (x, w))


def _fn(op: str, tag: str, x, *args, **kw) -> OpCase:
    ours, theirs = getattr(CF, op), getattr(TF, op)
    return _row(f"{op}.{tag}", lambda a: ours(a, *args, **kw), lambda a: theirs(a, *args, **kw), (x,))


def _unpool(nd: int, x, kernel):
    """max_unpool of the values and indices of a (naive) max pool of random data."""

    def make(rng, dtype):
        y, idx = naive_max_pool(rng.standard_normal(x), kernel)
        return [y, idx]

    ours, theirs = getattr(CF, f"max_unpool{nd}d"), getattr(TF, f"max_unpool{nd}d")
    return _row(f"max_unpool{nd}d.k{kernel}", lambda a, i: ours(a, i, kernel),
                lambda a, i: theirs(a, i, kernel), (), make=make)


CONV = [
    _conv(1, "basic", (2, 4, 9), (6, 4, 3)),
    _conv(1, "stride2_pad1", (2, 4, 10), (5, 4, 3), stride=2, padding=1),
    _conv(1, "same_even_dil2_groups", (2, 4, 9), (6, 2, 4), bias=False, padding="same", dilation=2, groups=2),
    _conv(1, "valid_multiplier2", (2, 3, 8), (6, 1, 3), padding="valid", groups=3),
    _conv(1, "depthwise_strided", (2, 3, 9), (3, 1, 3), stride=2, padding=1, groups=3),
    _conv(1, "unbatched", (4, 7), (3, 4, 2), padding=1),
    _conv(1, "stride3_tail", (1, 2, 11), (3, 2, 2), stride=3),
    _conv(2, "small", (1, 2, 3, 3), (2, 2, 2, 2), padding=1),
    _conv(2, "pad1", (2, 3, 6, 5), (4, 3, 3, 3), padding=1),
    _conv(2, "stride2_odd", (2, 3, 7, 9), (4, 3, 3, 3), stride=2, padding=(1, 0)),
    _conv(2, "stride1x2_dil2x1", (2, 2, 7, 8), (3, 2, 3, 2), stride=(1, 2), dilation=(2, 1), padding=(2, 1)),
    _conv(2, "same_even", (2, 2, 6, 7), (3, 2, 2, 4), padding="same", dilation=(1, 2)),
    _conv(2, "groups2_nobias", (2, 4, 5, 6), (6, 2, 3, 3), bias=False, padding=1, groups=2),
    _conv(2, "multiplier2", (2, 3, 6, 6), (6, 1, 3, 3), padding=1, groups=3),
    _conv(2, "depthwise", (2, 3, 6, 5), (3, 1, 3, 2), padding=1, groups=3),
    _conv(2, "depthwise_strided", (2, 3, 7, 6), (3, 1, 3, 3), bias=False, padding=(1, 0), stride=2, dilation=(1, 2),
          groups=3),
    _conv(2, "1x1", (2, 4, 5, 5), (3, 4, 1, 1)),
    _conv(2, "wide_padding", (1, 2, 3, 4), (2, 2, 2, 2), padding=3),
    _conv(2, "unbatched_same", (3, 5, 6), (4, 3, 3, 3), padding="same"),
    _conv(2, "valid_stride2x1", (2, 2, 6, 5), (3, 2, 3, 2), padding="valid", stride=(2, 1)),
    _conv(3, "pad1", (1, 2, 4, 5, 4), (3, 2, 3, 3, 2), padding=1),
    _conv(3, "shifted_rows", (2, 3, 4, 3, 4), (2, 3, 2, 2, 2), dilation=(2, 1, 1), padding=(1, 0, 1)),
    _conv(3, "stride_groups", (2, 4, 5, 4, 6), (4, 2, 2, 3, 3), stride=(1, 2, 2), groups=2, padding=(0, 1, 1)),
    _conv(3, "same_unbatched", (2, 4, 4, 5), (2, 2, 3, 2, 3), bias=False, padding="same"),
]

CONV_TRANSPOSE = [
    _convt(1, "stride2_outpad", (2, 4, 5), (4, 3, 3), stride=2, padding=1, output_padding=1),
    _convt(1, "groups_dil_outpad", (2, 4, 5), (4, 1, 3), groups=2, dilation=2, output_padding=1),
    _convt(2, "small", (1, 2, 2, 2), (2, 2, 2, 2)),
    _convt(2, "stride2", (2, 3, 4, 4), (3, 2, 3, 3), stride=2, padding=1, output_padding=1),
    _convt(2, "stride1_pad", (2, 3, 4, 5), (3, 4, 3, 2), padding=(1, 0)),
    _convt(2, "groups_dil", (2, 4, 3, 4), (4, 3, 2, 2), bias=False, stride=(2, 3), groups=2, dilation=(1, 2)),
    _convt(2, "unbatched", (3, 4, 4), (3, 2, 3, 3), stride=2),
    _convt(3, "basic", (1, 2, 3, 3, 4), (2, 3, 2, 3, 2), stride=(1, 2, 1), padding=(0, 1, 0),
           output_padding=(0, 1, 0)),
]

POOL = [
    _fn("max_pool1d", "k2", (2, 3, 10), 2),
    _fn("max_pool1d", "overlap_ceil", (2, 3, 9), 3, 2, 1, ceil_mode=True),
    _fn("max_pool2d", "k2", (2, 3, 6, 8), 2),
    _fn("max_pool2d", "k3s2p1_indices", (2, 3, 7, 7), 3, 2, 1, return_indices=True),
    _fn("max_pool2d", "dilated_ceil", (2, 2, 8, 7), (3, 2), (1, 2), (1, 1), 2, ceil_mode=True),
    _fn("max_pool2d", "unbatched_ceil", (3, 5, 5), 2, ceil_mode=True, return_indices=True),
    _fn("max_pool3d", "indices", (1, 2, 5, 6, 5), 2, (1, 2, 2), 1, return_indices=True),
    _fn("avg_pool1d", "k3s2p1", (2, 3, 10), 3, 2, 1),
    _fn("avg_pool2d", "k2", (2, 3, 6, 8), 2),
    _fn("avg_pool2d", "ceil", (2, 3, 7, 6), 3, 2, 1, ceil_mode=True),
    _fn("avg_pool2d", "ceil_exclude_pad", (2, 3, 7, 6), 3, 2, 1, ceil_mode=True, count_include_pad=False),
    _fn("avg_pool2d", "divisor_override", (2, 3, 7, 6), (3, 2), (2, 1), (1, 1), divisor_override=5),
    _fn("avg_pool2d", "unbatched", (3, 5, 4), 2, 1),
    _fn("avg_pool3d", "ceil_exclude_pad", (1, 2, 5, 6, 5), 3, 2, 1, ceil_mode=True, count_include_pad=False),
    _fn("adaptive_avg_pool1d", "uneven", (2, 3, 10), 4),
    _fn("adaptive_avg_pool2d", "uneven", (2, 3, 7, 6), (3, 4)),
    _fn("adaptive_avg_pool2d", "global", (2, 3, 6, 5), 1),
    _fn("adaptive_avg_pool2d", "divisible_none", (2, 3, 8, 6), (4, None)),
    _fn("adaptive_avg_pool3d", "uneven", (1, 2, 5, 6, 5), (2, 3, 4)),
    _fn("adaptive_max_pool1d", "indices", (2, 3, 10), 4, return_indices=True),
    _fn("adaptive_max_pool2d", "indices", (2, 3, 7, 6), (3, 4), return_indices=True),
    _fn("adaptive_max_pool2d", "unbatched", (3, 5, 7), 3),
    _fn("adaptive_max_pool3d", "uneven", (1, 2, 5, 6, 5), (2, 3, 2)),
    _unpool(1, (2, 3, 8), 2),
    _unpool(2, (2, 2, 4, 6), 2),
]

FOLD = [
    _fn("unfold", "k2x3", (2, 3, 6, 7), (2, 3)),
    _fn("unfold", "strided_dilated", (2, 2, 7, 6), 3, (1, 2), 1, 2),
    _fn("unfold", "unbatched", (2, 5, 5), 2),
    _fn("fold", "k2x3", (2, 3 * 2 * 3, 5 * 5), (6, 7), (2, 3)),
    _fn("fold", "strided_dilated", (2, 2 * 9, 4 * 2), (7, 6), 3, (1, 2), 1, 2),
    _fn("fold", "unbatched", (2 * 4, 16), (5, 5), 2),
]

CASES = CONV + CONV_TRANSPOSE + POOL + FOLD
