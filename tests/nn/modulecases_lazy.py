"""Module-table rows for the lazy layers: each is built and initialised by a dry run (in the
framework being built), so the table compares the materialised layers with PyTorch's.

A convolution followed by a normalisation has no bias: in training mode the normalisation
removes it, its gradient is zero up to rounding and a relative comparison of rounding noise fails.
"""

from __future__ import annotations

from .moduleinfo import ModuleCase, lib


def _dry_run(module, *shape):
    def build(nn):
        m = module(nn)
        m(lib(nn).zeros(*shape))
        return m
    return build


CASES = [
    ModuleCase("LazyLinear", _dry_run(lambda nn: nn.Sequential(nn.LazyLinear(4), nn.Tanh(), nn.LazyLinear(2)), 1, 3),
               ((5, 3),)),
    ModuleCase("LazyConv2d+LazyBatchNorm2d",
               _dry_run(lambda nn: nn.Sequential(nn.LazyConv2d(4, 3, padding=1, bias=False), nn.LazyBatchNorm2d()), 2, 3, 5, 5),
               ((2, 3, 5, 5),)),
    ModuleCase("LazyConvTranspose1d+LazyInstanceNorm1d",
               _dry_run(lambda nn: nn.Sequential(nn.LazyConvTranspose1d(4, 3, stride=2, bias=False), nn.LazyInstanceNorm1d()),
                        2, 3, 4), ((2, 3, 4),)),
]
