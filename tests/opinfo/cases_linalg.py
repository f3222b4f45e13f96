"""Rows for matrix products and einsum (chainrule/ops/linalg.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F

from .core import OpCase


def _mm(a, b):
    return a @ b


CASES = [
    # matmul and the @ operator: every rank combination, broadcasting batch dimensions
    OpCase("matmul", cr.matmul, torch.matmul, ((3, 4), (4, 2))),
    OpCase("matmul.operator", _mm, _mm, ((2, 3), (3, 3))),
    OpCase("matmul.vv", cr.matmul, torch.matmul, ((4,), (4,))),
    OpCase("matmul.vm", cr.matmul, torch.matmul, ((3,), (3, 2))),
    OpCase("matmul.mv", cr.matmul, torch.matmul, ((2, 3), (3,))),
    OpCase("matmul.batch", cr.matmul, torch.matmul, ((2, 3, 4), (2, 4, 2))),
    OpCase("matmul.broadcast", cr.matmul, torch.matmul, ((2, 1, 3, 2), (3, 2, 2))),
    OpCase("matmul.batch_m", cr.matmul, torch.matmul, ((2, 3, 4), (4, 2))),
    OpCase("matmul.m_batch", cr.matmul, torch.matmul, ((3, 4), (2, 4, 2))),
    OpCase("matmul.batch_v", cr.matmul, torch.matmul, ((2, 3, 4), (4,))),
    OpCase("matmul.v_batch", cr.matmul, torch.matmul, ((3,), (2, 3, 2))),
    OpCase("matmul.method", lambda a, b: a.matmul(b), lambda a, b: a.matmul(b), ((1, 3), (3, 1))),
    # the named special cases
    OpCase("mm", cr.mm, torch.mm, ((3, 4), (4, 2))),
    OpCase("mm.method", lambda a, b: a.mm(b), lambda a, b: a.mm(b), ((1, 4), (4, 3))),
    OpCase("bmm", cr.bmm, torch.bmm, ((2, 3, 4), (2, 4, 2))),
    OpCase("bmm.method", lambda a, b: a.bmm(b), lambda a, b: a.bmm(b), ((3, 1, 2), (3, 2, 2))),
    OpCase("mv", cr.mv, torch.mv, ((3, 4), (4,))),
    OpCase("mv.method", lambda a, b: a.mv(b), lambda a, b: a.mv(b), ((1, 2), (2,))),
    OpCase("dot", cr.dot, torch.dot, ((5,), (5,))),
    OpCase("dot.method", lambda a, b: a.dot(b), lambda a, b: a.dot(b), ((3,), (3,))),
    OpCase("outer", cr.outer, torch.outer, ((3,), (4,))),
    OpCase("outer.method", lambda a, b: a.outer(b), lambda a, b: a.outer(b), ((1,), (3,))),
    OpCase("ger", cr.ger, torch.ger, ((2,), (3,))),
    # addmm
    OpCase("addmm", cr.addmm, torch.addmm, ((3, 2), (3, 4), (4, 2))),
    OpCase("addmm.broadcast", cr.addmm, torch.addmm, ((2,), (3, 4), (4, 2))),
    OpCase("addmm.scaled", lambda c, a, b: cr.addmm(c, a, b, beta=0.5, alpha=-2.0),
           lambda c, a, b: torch.addmm(c, a, b, beta=0.5, alpha=-2.0), ((3, 1), (3, 4), (4, 2))),
    OpCase("addmm.beta0", lambda c, a, b: c.addmm(a, b, beta=0), lambda c, a, b: c.addmm(a, b, beta=0),
           ((3, 2), (3, 4), (4, 2))),
    # linear (nn.functional; y = x W^T + b over any leading dimensions)
    OpCase("linear.bias", F.linear, TF.linear, ((2, 3), (4, 3), (4,))),
    OpCase("linear.nobias_3d", F.linear, TF.linear, ((2, 2, 3), (4, 3))),
    OpCase("linear.vector_input", F.linear, TF.linear, ((3,), (2, 3), (2,))),
    # einsum
    OpCase("einsum.mm", lambda a, b: cr.einsum("ij,jk->ik", a, b), lambda a, b: torch.einsum("ij,jk->ik", a, b),
           ((2, 3), (3, 4))),
    OpCase("einsum.implicit", lambda a, b: cr.einsum("ij,jk", a, b), lambda a, b: torch.einsum("ij,jk", a, b),
           ((2, 3), (3, 4))),
    OpCase("einsum.implicit_order", lambda a, b: cr.einsum("Ba,b", a, b), lambda a, b: torch.einsum("Ba,b", a, b),
           ((2, 3), (4,))),
    OpCase("einsum.list", lambda a, b: cr.einsum("bij,bjk->bik", [a, b]),
           lambda a, b: torch.einsum("bij,bjk->bik", [a, b]), ((2, 2, 3), (2, 3, 2))),
    OpCase("einsum.ellipsis", lambda a, b: cr.einsum("...ij,...jk", a, b),
           lambda a, b: torch.einsum("...ij,...jk", a, b), ((2, 2, 3), (3, 2))),
    OpCase("einsum.ellipsis_middle", lambda a, b: cr.einsum("b...a,a->...b", a, b),
           lambda a, b: torch.einsum("b...a,a->...b", a, b), ((2, 2, 3, 3), (3,))),
    OpCase("einsum.ellipsis_broadcast", lambda a, b: cr.einsum("...i,...i", a, b),
           lambda a, b: torch.einsum("...i,...i", a, b), ((2, 1, 3), (4, 3))),
    OpCase("einsum.ellipsis_summed", lambda a: cr.einsum("...ij->ji", a), lambda a: torch.einsum("...ij->ji", a),
           ((2, 3, 4),)),
    OpCase("einsum.label_broadcast", lambda a, b: cr.einsum("ij,j->i", a, b),
           lambda a, b: torch.einsum("ij,j->i", a, b), ((2, 3), (1,))),
    OpCase("einsum.diagonal", lambda a: cr.einsum("ii->i", a), lambda a: torch.einsum("ii->i", a), ((3, 3),)),
    OpCase("einsum.trace", lambda a: cr.einsum("ii", a), lambda a: torch.einsum("ii", a), ((3, 3),)),
    OpCase("einsum.diag_other", lambda a, b: cr.einsum("iij,i->j", a, b), lambda a, b: torch.einsum("iij,i->j", a, b),
           ((3, 3, 2), (3,))),
    OpCase("einsum.sum", lambda a: cr.einsum("ij->", a), lambda a: torch.einsum("ij->", a), ((2, 3),)),
    OpCase("einsum.row_sum", lambda a: cr.einsum("ijk->j", a), lambda a: torch.einsum("ijk->j", a), ((2, 3, 2),)),
    OpCase("einsum.transpose", lambda a: cr.einsum("ij->ji", a), lambda a: torch.einsum("ij->ji", a), ((2, 3),)),
    OpCase("einsum.outer", lambda a, b: cr.einsum("i,j->ij", a, b), lambda a, b: torch.einsum("i,j->ij", a, b),
           ((3,), (2,))),
    OpCase("einsum.hadamard", lambda a, b: cr.einsum("ij,ij->ij", a, b),
           lambda a, b: torch.einsum("ij,ij->ij", a, b), ((2, 3), (2, 3))),
    OpCase("einsum.chain3", lambda a, b, c: cr.einsum("ij,jk,kl->il", a, b, c),
           lambda a, b, c: torch.einsum("ij,jk,kl->il", a, b, c), ((2, 3), (3, 2), (2, 2))),
    OpCase("einsum.bilinear", lambda x, w, y: cr.einsum("bi,oij,bj->bo", x, w, y),
           lambda x, w, y: torch.einsum("bi,oij,bj->bo", x, w, y), ((2, 3), (2, 3, 2), (2, 2))),
    OpCase("einsum.spaces", lambda a, b: cr.einsum("b i, b i -> b", a, b),
           lambda a, b: torch.einsum("b i, b i -> b", a, b), ((2, 3), (2, 3))),
]
