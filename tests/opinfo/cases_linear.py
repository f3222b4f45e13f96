"""Rows for ``bilinear`` and more ``linear`` shapes (chainrule/ops/linear.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F

from .core import OpCase

CASES = [
    OpCase("linear.4d_input", F.linear, TF.linear, ((2, 1, 2, 3), (4, 3), (4,))),
    OpCase("linear.one_output", F.linear, TF.linear, ((3, 2), (1, 2), (1,))),
    OpCase("bilinear", F.bilinear, TF.bilinear, ((3, 2), (3, 4), (5, 2, 4), (5,))),
    OpCase("bilinear.nobias_3d", F.bilinear, TF.bilinear, ((2, 2, 3), (2, 2, 2), (2, 3, 2))),
    OpCase("bilinear.toplevel", cr.bilinear, torch.bilinear, ((2, 3), (2, 2), (2, 3, 2), (2,))),
]
