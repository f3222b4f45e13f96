"""Module-table rows for the distance, padding, fold, embedding and resampling layers."""

from __future__ import annotations

import numpy as np

from .moduleinfo import ModuleCase


def _indices(shape, n):
    def make(rng):
        return [rng.integers(0, n, size=shape).astype(np.int64)]
    return make


def _pair(shape):
    def make(rng):
        return [rng.uniform(-2, 2, size=shape), rng.uniform(-2, 2, size=shape)]
    return make


CASES = [
    ModuleCase("CosineSimilarity", lambda nn: nn.CosineSimilarity(), make=_pair((3, 5))),
    ModuleCase("CosineSimilarity.dim", lambda nn: nn.CosineSimilarity(dim=-1, eps=1e-6), make=_pair((2, 3, 4))),
    ModuleCase("PairwiseDistance", lambda nn: nn.PairwiseDistance(), make=_pair((3, 5))),
    ModuleCase("PairwiseDistance.p1_keepdim", lambda nn: nn.PairwiseDistance(p=1.0, keepdim=True), make=_pair((3, 5))),
    ModuleCase("ZeroPad1d", lambda nn: nn.ZeroPad1d((1, 2)), ((2, 3, 4),)),
    ModuleCase("ZeroPad2d", lambda nn: nn.ZeroPad2d(1), ((2, 2, 3, 4),)),
    ModuleCase("ZeroPad3d", lambda nn: nn.ZeroPad3d((1, 0, 0, 1, 1, 1)), ((1, 2, 2, 3, 2),)),
    ModuleCase("ConstantPad1d", lambda nn: nn.ConstantPad1d(2, 3.5), ((3, 4),)),
    ModuleCase("ConstantPad2d", lambda nn: nn.ConstantPad2d((1, 0, 2, 1), -1.0), ((2, 2, 3, 4),)),
    ModuleCase("ConstantPad3d", lambda nn: nn.ConstantPad3d(1, 0.5), ((1, 2, 2, 2, 2),)),
    ModuleCase("ReflectionPad1d", lambda nn: nn.ReflectionPad1d((2, 1)), ((2, 3, 4),)),
    ModuleCase("ReflectionPad2d", lambda nn: nn.ReflectionPad2d(1), ((2, 2, 3, 4),)),
    ModuleCase("ReflectionPad3d", lambda nn: nn.ReflectionPad3d((1, 1, 0, 1, 1, 0)), ((1, 2, 2, 3, 3),)),
    ModuleCase("ReplicationPad1d", lambda nn: nn.ReplicationPad1d(3), ((2, 3, 4),)),
    ModuleCase("ReplicationPad2d", lambda nn: nn.ReplicationPad2d((1, 2, 0, 1)), ((2, 2, 3, 4),)),
    ModuleCase("ReplicationPad3d", lambda nn: nn.ReplicationPad3d(1), ((1, 2, 2, 3, 2),)),
    ModuleCase("CircularPad1d", lambda nn: nn.CircularPad1d((1, 2)), ((2, 3, 4),)),
    ModuleCase("CircularPad2d", lambda nn: nn.CircularPad2d(1), ((2, 2, 3, 4),)),
    ModuleCase("CircularPad3d", lambda nn: nn.CircularPad3d((1, 0, 1, 1, 0, 1)), ((1, 2, 2, 3, 2),)),
    ModuleCase("Unfold", lambda nn: nn.Unfold(2, padding=1, stride=2), ((2, 3, 4, 5),)),
    ModuleCase("Fold", lambda nn: nn.Fold((4, 5), (2, 3), stride=1), ((2, 12, 9),)),
    ModuleCase("Embedding", lambda nn: nn.Embedding(6, 4), make=_indices((2, 5), 6)),
    ModuleCase("Embedding.padding", lambda nn: nn.Embedding(6, 3, padding_idx=2), make=_indices((3, 4), 6)),
    ModuleCase("Embedding.freq", lambda nn: nn.Embedding(5, 3, scale_grad_by_freq=True), make=_indices((4, 3), 5)),
    ModuleCase("Embedding.max_norm", lambda nn: nn.Embedding(5, 3, max_norm=0.8), make=_indices((7,), 5)),
    ModuleCase("Upsample", lambda nn: nn.Upsample(scale_factor=2), ((1, 2, 3, 3),)),
    ModuleCase("Upsample.bilinear", lambda nn: nn.Upsample(size=(5, 4), mode="bilinear"), ((1, 2, 3, 3),)),
    ModuleCase("Upsample.trilinear_corners", lambda nn: nn.Upsample(scale_factor=1.5, mode="trilinear",
                                                                     align_corners=True), ((1, 1, 2, 3, 2),)),
    ModuleCase("UpsamplingNearest2d", lambda nn: nn.UpsamplingNearest2d(size=5), ((1, 2, 3, 3),)),
    ModuleCase("UpsamplingBilinear2d", lambda nn: nn.UpsamplingBilinear2d(scale_factor=2), ((1, 2, 3, 3),)),
    ModuleCase("PixelShuffle", lambda nn: nn.PixelShuffle(2), ((2, 8, 3, 3),)),
    ModuleCase("PixelUnshuffle", lambda nn: nn.PixelUnshuffle(3), ((2, 1, 6, 3),)),
]
