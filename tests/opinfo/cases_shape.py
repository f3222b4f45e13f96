"""Rows for shape operators (chainrule/ops/shape.py, join.py, pad.py; ``narrow`` of indexing.py)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F

from .core import OpCase


def _scalar(rng, dtype):
    return [np.array(rng.uniform(-2, 2))]


def _with_int(shape_f, shape_i):
    """A float input and an integer one (for dtype promotion)."""

    def make(rng, dtype):
        return [rng.uniform(-2, 2, size=shape_f), rng.integers(-3, 4, size=shape_i)]

    return make


def _pad_rows() -> list:
    """Every padding mode in 1-d, 2-d and 3-d, batched and unbatched, with crops."""
    rows = []
    specs = [
        # (suffix, input shape, pad)
        ("1d", (2, 3, 5), (2, 3)),
        ("1d_unbatched", (3, 5), (1, 2)),
        ("1d_max", (1, 2, 4), (3, 3)),
        ("1d_crop", (2, 2, 5), (-1, 2)),
        ("2d", (1, 2, 4, 5), (1, 2, 3, 0)),
        ("2d_unbatched", (2, 4, 3), (2, 1, 1, 2)),
        ("2d_crop", (1, 1, 4, 5), (2, -1, -2, 1)),
        ("3d", (1, 1, 3, 4, 4), (1, 1, 2, 0, 1, 2)),
        ("3d_unbatched", (1, 3, 3, 4), (0, 2, 1, 1, 2, 1)),
    ]
    for mode in ("reflect", "replicate", "circular"):
        for suffix, shape, p in specs:
            if mode == "circular" and suffix == "1d_max":
                p = (4, 4)  # circular may wrap once around the whole dimension
            rows.append(OpCase(
                f"pad.{mode}_{suffix}",
                lambda a, p=p, m=mode: F.pad(a, p, mode=m),
                lambda a, p=p, m=mode: TF.pad(a, p, mode=m),
                (shape,), op="pad"))
    constant = [
        ("1d", (3, 4), (1, 2), None),
        ("value", (2, 3, 4), (1, 1, 2, 0), 0.5),
        ("crop", (2, 4, 5), (-1, 2, 1, -2), -1.5),
        ("all_dims", (2, 3, 2), (1, 0, 0, 2, 1, 1), 2.0),
        ("5d", (1, 2, 2, 2, 3), (1, 1, 1, 0, 0, 1), 0.0),
        ("crop_only", (3, 5), (-2, -1), None),
    ]
    for suffix, shape, p, v in constant:
        rows.append(OpCase(
            f"pad.constant_{suffix}",
            lambda a, p=p, v=v: F.pad(a, p, value=v),
            lambda a, p=p, v=v: TF.pad(a, p, value=v),
            (shape,), op="pad"))
    rows.append(OpCase("constant_pad_nd", lambda a: cr.constant_pad_nd(a, (1, 2), 3.0),
                       lambda a: torch.constant_pad_nd(a, (1, 2), 3.0)))
    return rows


CASES = [
    # ---- broadcasting, casts, reshapes, permutations (ops existing before this table) -----------
    OpCase("sum_to", lambda a: a.sum_to((1, 4)), lambda a: a.sum_to_size(1, 4), ((2, 3, 4),)),
    OpCase("sum_to.lead", lambda a: cr.sum_to(a, (3, 1)), lambda a: a.sum_to_size(3, 1), ((2, 3, 4),)),
    OpCase("broadcast_to", lambda a: cr.broadcast_to(a, (2, 3, 4)), lambda a: torch.broadcast_to(a, (2, 3, 4)),
           ((3, 1),)),
    OpCase("expand", lambda a: a.expand(2, -1, 4), lambda a: a.expand(2, -1, 4), ((3, 1),)),
    OpCase("expand_as", lambda a, b: a.expand_as(b), lambda a, b: a.expand_as(b), ((1, 4), (3, 4))),
    OpCase("broadcast_tensors", lambda a, b: cr.broadcast_tensors(a, b),
           lambda a, b: torch.broadcast_tensors(a, b), ((3, 1), (1, 4))),
    OpCase("to.float64", lambda a: a.to(cr.float64) * 2, lambda a: a.to(torch.float64) * 2),
    OpCase("reshape", lambda a: a.reshape(2, -1), lambda a: a.reshape(2, -1)),
    OpCase("reshape.tuple", lambda a: cr.reshape(a, (4, 1, 3)), lambda a: torch.reshape(a, (4, 1, 3))),
    OpCase("view", lambda a: a.view(3, 2, 2), lambda a: a.view(3, 2, 2)),
    OpCase("view.flat", lambda a: a.view(-1), lambda a: a.view(-1), noncontig=False),
    OpCase("view_as", lambda a, b: a.view_as(b), lambda a, b: a.view_as(b), ((3, 4), (2, 6)), noncontig=False),
    OpCase("permute", lambda a: a.permute(2, 0, 1), lambda a: a.permute(2, 0, 1), ((2, 3, 4),)),
    OpCase("permute.neg", lambda a: cr.permute(a, (-1, 0, -2)), lambda a: torch.permute(a, (-1, 0, -2)),
           ((2, 3, 4),)),
    OpCase("transpose", lambda a: a.transpose(0, -1), lambda a: a.transpose(0, -1), ((2, 3, 4),)),
    OpCase("swapaxes", lambda a: cr.swapaxes(a, 1, 2), lambda a: torch.swapaxes(a, 1, 2), ((2, 3, 4),)),
    OpCase("t", lambda a: a.t(), lambda a: a.t()),
    OpCase("mT", lambda a: a.mT, lambda a: a.mT, ((2, 3, 4),)),
    OpCase("adjoint", lambda a: a.adjoint(), lambda a: a.adjoint(), ((2, 3, 4),)),
    OpCase("clone", lambda a: a.clone(), lambda a: a.clone()),
    OpCase("contiguous", lambda a: a.t().contiguous(), lambda a: a.t().contiguous()),
    # ---- flatten / unflatten / squeeze / unsqueeze / movedim --------------------------------------
    OpCase("flatten", lambda a: a.flatten(), lambda a: a.flatten(), ((2, 3, 4),)),
    OpCase("flatten.range", lambda a: cr.flatten(a, 1), lambda a: torch.flatten(a, 1), ((2, 3, 4),)),
    OpCase("flatten.neg", lambda a: a.flatten(-3, -2), lambda a: a.flatten(-3, -2), ((2, 3, 2, 2),)),
    OpCase("flatten.scalar", lambda a: a.flatten(), lambda a: a.flatten(), make=_scalar, noncontig=False),
    OpCase("ravel", lambda a: cr.ravel(a.t()), lambda a: torch.ravel(a.t())),
    OpCase("unflatten", lambda a: a.unflatten(1, (2, 3)), lambda a: a.unflatten(1, (2, 3)), ((2, 6),)),
    OpCase("unflatten.infer", lambda a: cr.unflatten(a, -1, (-1, 2, 1)), lambda a: torch.unflatten(a, -1, (-1, 2, 1)),
           ((2, 6),)),
    OpCase("squeeze", lambda a: a.squeeze(), lambda a: a.squeeze(), ((1, 3, 1, 4),)),
    OpCase("squeeze.dim", lambda a: cr.squeeze(a, 2), lambda a: torch.squeeze(a, 2), ((1, 3, 1, 4),)),
    OpCase("squeeze.tuple", lambda a: a.squeeze((0, -2, 1)), lambda a: a.squeeze((0, -2, 1)), ((1, 3, 1, 4),)),
    OpCase("squeeze.not_one", lambda a: a.squeeze(1), lambda a: a.squeeze(1), ((2, 3),)),
    OpCase("unsqueeze", lambda a: a.unsqueeze(0), lambda a: a.unsqueeze(0)),
    OpCase("unsqueeze.neg", lambda a: cr.unsqueeze(a, -1), lambda a: torch.unsqueeze(a, -1)),
    OpCase("unsqueeze.mid", lambda a: a.unsqueeze(-2), lambda a: a.unsqueeze(-2)),
    OpCase("movedim", lambda a: a.movedim(0, -1), lambda a: a.movedim(0, -1), ((2, 3, 4),)),
    OpCase("movedim.tuple", lambda a: cr.movedim(a, (0, 1), (-1, 0)), lambda a: torch.movedim(a, (0, 1), (-1, 0)),
           ((2, 3, 4),)),
    OpCase("moveaxis", lambda a: cr.moveaxis(a, -1, 1), lambda a: torch.moveaxis(a, -1, 1), ((2, 3, 4),)),
    # ---- joining and splitting ------------------------------------------------------------------
    OpCase("cat", lambda a, b, c: cr.cat([a, b, c]), lambda a, b, c: torch.cat([a, b, c]),
           ((2, 3), (1, 3), (3, 3))),
    OpCase("cat.neg_dim", lambda a, b: cr.cat((a, b), dim=-1), lambda a, b: torch.cat((a, b), dim=-1),
           ((2, 3, 1), (2, 3, 2))),
    OpCase("cat.one", lambda a: cr.cat([a], 1), lambda a: torch.cat([a], 1)),
    OpCase("cat.same_twice", lambda a: cr.cat([a, a * 2], 0), lambda a: torch.cat([a, a * 2], 0)),
    OpCase("cat.promote", lambda a, i: cr.cat([a, i], 1), lambda a, i: torch.cat([a, i], 1),
           make=_with_int((2, 3), (2, 2))),
    OpCase("concat", lambda a, b: cr.concat([a, b], 1), lambda a, b: torch.concat([a, b], 1), ((2, 3), (2, 1))),
    OpCase("concatenate", lambda a, b: cr.concatenate([a, b], 0), lambda a, b: torch.concatenate([a, b], 0),
           ((2, 3), (2, 3))),
    OpCase("stack", lambda a, b: cr.stack([a, b]), lambda a, b: torch.stack([a, b]), ((3, 4), (3, 4))),
    OpCase("stack.neg_dim", lambda a, b, c: cr.stack((a, b, c), -1), lambda a, b, c: torch.stack((a, b, c), -1),
           ((2, 3), (2, 3), (2, 3))),
    OpCase("stack.mid", lambda a, b: cr.stack([a, b], 1), lambda a, b: torch.stack([a, b], 1), ((2, 3), (2, 3))),
    OpCase("hstack", lambda a, b: cr.hstack([a, b]), lambda a, b: torch.hstack([a, b]), ((2, 3), (2, 1))),
    OpCase("hstack.1d", lambda a, b: cr.hstack([a, b]), lambda a, b: torch.hstack([a, b]), ((3,), (2,))),
    OpCase("vstack", lambda a, b: cr.vstack([a, b]), lambda a, b: torch.vstack([a, b]), ((3,), (2, 3))),
    OpCase("dstack", lambda a, b: cr.dstack([a, b]), lambda a, b: torch.dstack([a, b]), ((2, 3), (2, 3, 2))),
    OpCase("split", lambda a: a.split(2), lambda a: a.split(2), ((5, 3),)),
    OpCase("split.sections", lambda a: cr.split(a, [1, 0, 3], dim=-1), lambda a: torch.split(a, [1, 0, 3], dim=-1),
           ((2, 4),)),
    OpCase("split.one_piece_used", lambda a: a.split(2, 1)[1] * 3, lambda a: a.split(2, 1)[1] * 3, ((2, 5),)),
    OpCase("chunk", lambda a: a.chunk(3), lambda a: a.chunk(3), ((5, 2),)),
    OpCase("chunk.neg_dim", lambda a: cr.chunk(a, 2, dim=-1), lambda a: torch.chunk(a, 2, dim=-1), ((2, 3, 4),)),
    OpCase("unbind", lambda a: a.unbind(), lambda a: a.unbind()),
    OpCase("unbind.dim", lambda a: cr.unbind(a, -1), lambda a: torch.unbind(a, -1), ((2, 3),)),
    OpCase("unbind.partial", lambda a: a.unbind(1)[2] + a.unbind(1)[0], lambda a: a.unbind(1)[2] + a.unbind(1)[0],
           ((2, 4),)),
    # ---- reordering copies ----------------------------------------------------------------------
    OpCase("flip", lambda a: a.flip(0), lambda a: a.flip(0)),
    OpCase("flip.dims", lambda a: cr.flip(a, (0, -1)), lambda a: torch.flip(a, (0, -1)), ((2, 3, 4),)),
    OpCase("fliplr", cr.fliplr, torch.fliplr),
    OpCase("flipud", cr.flipud, torch.flipud),
    OpCase("roll", lambda a: a.roll(1, 0), lambda a: a.roll(1, 0)),
    OpCase("roll.flat", lambda a: cr.roll(a, 5), lambda a: torch.roll(a, 5)),
    OpCase("roll.multi", lambda a: a.roll((1, -2), (0, -1)), lambda a: a.roll((1, -2), (0, -1)), ((2, 3, 4),)),
    OpCase("repeat", lambda a: a.repeat(2, 1), lambda a: a.repeat(2, 1), ((2, 3),)),
    OpCase("repeat.new_dims", lambda a: a.repeat(2, 1, 3), lambda a: a.repeat(2, 1, 3), ((2, 3),)),
    OpCase("repeat.zero", lambda a: a.repeat(0, 2), lambda a: a.repeat(0, 2), ((2, 3),)),
    OpCase("repeat.list", lambda a: a.repeat([3]), lambda a: a.repeat([3]), ((4,),)),
    OpCase("tile", lambda a: a.tile((2,)), lambda a: a.tile((2,)), ((2, 3),)),
    OpCase("tile.more", lambda a: cr.tile(a, (2, 1, 2)), lambda a: torch.tile(a, (2, 1, 2)), ((2, 3),)),
    OpCase("narrow", lambda a: a.narrow(1, 1, 2), lambda a: a.narrow(1, 1, 2)),
    OpCase("narrow.neg", lambda a: cr.narrow(a, -1, -3, 2), lambda a: torch.narrow(a, -1, -3, 2), ((2, 3, 4),)),
    OpCase("tril", lambda a: a.tril(), lambda a: a.tril()),
    OpCase("tril.diag", lambda a: cr.tril(a, -1), lambda a: torch.tril(a, -1), ((2, 3, 4),)),
    OpCase("triu", lambda a: a.triu(), lambda a: a.triu()),
    OpCase("triu.diag", lambda a: cr.triu(a, diagonal=2), lambda a: torch.triu(a, diagonal=2), ((2, 4, 3),)),
    *_pad_rows(),
]
