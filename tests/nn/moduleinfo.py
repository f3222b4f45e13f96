"""The module table (PyTorch's ``ModuleInfo`` idea): one ``ModuleCase`` row per layer configuration.

A row's ``build(nn)`` receives ``chainrule.nn`` or ``torch.nn`` and builds the same module in
either framework, because chainrule follows PyTorch's API; ``tests/nn/test_module_table.py``
builds both, copies torch's state dict into ours and compares outputs, input gradients and
parameter gradients (and the state dict after forward, e.g. running statistics) in train and
eval mode, in float32 and float64.

Adding a layer adds a row. Rows live in ``CASES`` below and in any ``tests/nn/modulecases_*.py``
module that defines a list ``CASES`` (e.g. the normalisation layers' own file), so owners of a
layer family can add their rows without touching this file.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn  # noqa: F401  (makes cr.nn available)


@dataclass
class ModuleCase:
    """One row of the module table.

    ``build(nn)`` returns the module for ``nn`` = ``chainrule.nn`` or ``torch.nn``. Inputs are
    uniform samples on ``domain`` with ``shapes``, or ``make(rng)`` (a list of arrays; integer
    arrays become index/target tensors and get no gradient). ``call(module, *inputs)`` replaces
    ``module(*inputs)`` when the forward needs keyword arguments. ``modes`` lists the modes
    compared ("eval" only for stochastic layers such as Dropout). ``grad=False`` skips the
    gradient comparison (e.g. outputs that are only indices).
    """

    name: str
    build: Callable
    shapes: tuple = ((2, 3),)
    make: Callable | None = None
    call: Callable | None = None
    domain: tuple = (-2.0, 2.0)
    modes: tuple = ("train", "eval")
    grad: bool = True
    rtol32: float = 1e-5
    rtol64: float = 1e-10

    def inputs(self, dtype, seed: int = 0) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        if self.make is not None:
            arrays = self.make(rng)
        else:
            lo, hi = self.domain
            arrays = [rng.uniform(lo, hi, size=s) for s in self.shapes]
        return [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]

    def __repr__(self) -> str:
        return self.name


def lib(nn):
    """The framework (``chainrule`` or ``torch``) whose ``nn`` this is."""
    return torch if nn is torch.nn else cr


# ---- input makers ------------------------------------------------------------------------------------
def _classes(shape, n_classes, ignore=False):
    def make(rng):
        x = rng.uniform(-3, 3, size=shape)
        t = rng.integers(0, n_classes, size=(shape[0],) + tuple(shape[2:])).astype(np.int64)
        if ignore:
            t.reshape(-1)[::3] = -100
        return [x, t]
    return make


def _pair(shape, lo=-2.0, hi=2.0, tlo=None, thi=None):
    def make(rng):
        return [rng.uniform(lo, hi, size=shape),
                rng.uniform(lo if tlo is None else tlo, hi if thi is None else thi, size=shape)]
    return make


def _unpool_inputs(shape):
    """Values and indices as ``max_pool{n}d(kernel 2, stride 2, return_indices=True)`` gives them."""
    pool = {3: TF.max_pool1d, 4: TF.max_pool2d, 5: TF.max_pool3d}[len(shape)]

    def make(rng):
        values, indices = pool(torch.from_numpy(rng.uniform(-2, 2, size=shape)), 2, 2, return_indices=True)
        return [values.numpy(), indices.numpy()]
    return make


# ---- generic composite modules ------------------------------------------------------------------------
def _stack(nn):
    """ModuleList, ModuleDict and ParameterList inside a user-defined module."""
    L = lib(nn)

    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)])
            self.heads = nn.ModuleDict({"a": nn.Linear(3, 2), "b": nn.Sequential(nn.Linear(3, 2), nn.Sigmoid())})
            self.scales = nn.ParameterList([nn.Parameter(L.ones(2)), nn.Parameter(L.full((2,), 0.5))])
            self.shift = nn.ParameterDict({"b": nn.Parameter(L.full((2,), 0.1))})

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return self.heads["a"](x) * self.scales[0] + self.heads["b"](x) * self.scales[1] + self.shift["b"]

    return Stack()


def _lenet_block(nn):
    return nn.Sequential(
        nn.Conv2d(1, 4, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(6 * 2 * 2, 10), nn.LogSoftmax(dim=1))


CASES: list[ModuleCase] = [
    # ---- linear, identity, flatten, containers
    ModuleCase("Linear", lambda nn: nn.Linear(4, 3), ((5, 4),)),
    ModuleCase("Linear.nobias_3d", lambda nn: nn.Linear(4, 3, bias=False), ((2, 5, 4),)),
    ModuleCase("Bilinear", lambda nn: nn.Bilinear(3, 4, 2), ((5, 3), (5, 4))),
    ModuleCase("Identity", lambda nn: nn.Identity(7, foo=1), ((2, 3),)),
    ModuleCase("Flatten", lambda nn: nn.Flatten(), ((2, 3, 2, 2),)),
    ModuleCase("Flatten.dims", lambda nn: nn.Flatten(0, 1), ((2, 3, 4),)),
    ModuleCase("Unflatten", lambda nn: nn.Unflatten(1, (2, 3)), ((4, 6),)),
    ModuleCase("Sequential", lambda nn: nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2)), ((3, 4),)),
    ModuleCase("Containers", _stack, ((3, 4),)),
    ModuleCase("LeNetBlock", _lenet_block, ((2, 1, 12, 12),)),
    # ---- activations
    ModuleCase("ReLU", lambda nn: nn.ReLU()),
    ModuleCase("LeakyReLU", lambda nn: nn.LeakyReLU(0.2)),
    ModuleCase("ELU", lambda nn: nn.ELU(0.7)),
    # PyTorch's CELU and Hardsigmoid backward kernels use float32 constants (1.0f / 6.0f ...) even in
    # float64, so its float64 gradients are off by ~3e-8: the tolerance is PyTorch's, not ours
    ModuleCase("CELU", lambda nn: nn.CELU(1.3), rtol64=1e-7),
    ModuleCase("SELU", lambda nn: nn.SELU()),
    ModuleCase("GELU", lambda nn: nn.GELU()),
    ModuleCase("GELU.tanh", lambda nn: nn.GELU(approximate="tanh")),
    ModuleCase("SiLU", lambda nn: nn.SiLU()),
    ModuleCase("Mish", lambda nn: nn.Mish()),
    ModuleCase("Sigmoid", lambda nn: nn.Sigmoid()),
    ModuleCase("Tanh", lambda nn: nn.Tanh()),
    ModuleCase("Softplus", lambda nn: nn.Softplus(beta=2.0, threshold=3.0)),
    ModuleCase("Hardtanh", lambda nn: nn.Hardtanh(-0.5, 1.5)),
    ModuleCase("ReLU6", lambda nn: nn.ReLU6(), domain=(-3.0, 9.0)),
    ModuleCase("Hardsigmoid", lambda nn: nn.Hardsigmoid(), domain=(-4.0, 4.0), rtol64=1e-7),
    ModuleCase("Hardswish", lambda nn: nn.Hardswish(), domain=(-4.0, 4.0)),
    ModuleCase("Softsign", lambda nn: nn.Softsign()),
    ModuleCase("Tanhshrink", lambda nn: nn.Tanhshrink()),
    ModuleCase("LogSigmoid", lambda nn: nn.LogSigmoid()),
    ModuleCase("Threshold", lambda nn: nn.Threshold(0.1, 20.0)),
    ModuleCase("PReLU", lambda nn: nn.PReLU(3, init=0.1), ((2, 3, 4),)),
    ModuleCase("Softmax", lambda nn: nn.Softmax(dim=1), ((2, 3, 4),)),
    ModuleCase("LogSoftmax", lambda nn: nn.LogSoftmax(dim=-1), ((2, 5),)),
    ModuleCase("Softmin", lambda nn: nn.Softmin(dim=0), ((3, 2),)),
    # ---- dropout: identity in eval mode (train-mode masks come from different generators)
    ModuleCase("Dropout", lambda nn: nn.Dropout(0.3), modes=("eval",)),
    ModuleCase("Dropout1d", lambda nn: nn.Dropout1d(0.3), ((2, 3, 4),), modes=("eval",)),
    ModuleCase("Dropout2d", lambda nn: nn.Dropout2d(0.3), ((2, 3, 2, 2),), modes=("eval",)),
    ModuleCase("Dropout3d", lambda nn: nn.Dropout3d(0.3), ((2, 3, 2, 2, 2),), modes=("eval",)),
    ModuleCase("AlphaDropout", lambda nn: nn.AlphaDropout(0.3), modes=("eval",)),
    ModuleCase("FeatureAlphaDropout", lambda nn: nn.FeatureAlphaDropout(0.3), ((2, 3, 4),), modes=("eval",)),
    # ---- convolutions
    ModuleCase("Conv1d", lambda nn: nn.Conv1d(3, 4, 3, stride=2, padding=1), ((2, 3, 9),)),
    ModuleCase("Conv1d.groups_dilation_circular",
               lambda nn: nn.Conv1d(4, 6, 3, dilation=2, groups=2, padding=2, padding_mode="circular"),
               ((2, 4, 8),)),
    ModuleCase("Conv1d.same_even_kernel", lambda nn: nn.Conv1d(2, 3, 4, padding="same", bias=False), ((2, 2, 7),)),
    ModuleCase("Conv2d", lambda nn: nn.Conv2d(3, 4, 3), ((2, 3, 6, 5),)),
    ModuleCase("Conv2d.unbatched", lambda nn: nn.Conv2d(3, 2, 2, stride=2), ((3, 5, 4),)),
    ModuleCase("Conv2d.strided_grouped_reflect",
               lambda nn: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2,
                                    padding_mode="reflect"), ((2, 4, 7, 6),)),
    ModuleCase("Conv2d.same_replicate",
               lambda nn: nn.Conv2d(2, 3, (3, 4), padding="same", padding_mode="replicate"), ((1, 2, 5, 6),)),
    ModuleCase("Conv2d.valid_depthwise", lambda nn: nn.Conv2d(3, 6, 3, padding="valid", groups=3), ((2, 3, 5, 5),)),
    ModuleCase("Conv3d", lambda nn: nn.Conv3d(2, 3, (2, 3, 2), stride=(1, 2, 1), padding=1), ((2, 2, 3, 5, 4),)),
    ModuleCase("ConvTranspose1d", lambda nn: nn.ConvTranspose1d(3, 2, 3, stride=2, padding=1, output_padding=1),
               ((2, 3, 5),)),
    ModuleCase("ConvTranspose2d", lambda nn: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2),
               ((2, 4, 3, 4),)),
    ModuleCase("ConvTranspose2d.dilation_nobias",
               lambda nn: nn.ConvTranspose2d(2, 3, (2, 3), stride=(1, 2), dilation=(2, 1), bias=False),
               ((2, 2, 3, 3),)),
    ModuleCase("ConvTranspose2d.output_size", lambda nn: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1),
               ((2, 3, 4, 4),), call=lambda m, x: m(x, output_size=[8, 8])),
    ModuleCase("ConvTranspose3d", lambda nn: nn.ConvTranspose3d(2, 2, 2, stride=2, output_padding=(1, 0, 1)),
               ((1, 2, 2, 3, 2),)),
    # ---- pooling
    ModuleCase("MaxPool1d", lambda nn: nn.MaxPool1d(3, 2, 1), ((2, 3, 9),)),
    ModuleCase("MaxPool2d", lambda nn: nn.MaxPool2d(2), ((2, 3, 6, 4),)),
    ModuleCase("MaxPool2d.overlap_ceil_dilation",
               lambda nn: nn.MaxPool2d(3, stride=2, padding=1, dilation=(1, 2), ceil_mode=True), ((2, 2, 7, 8),)),
    ModuleCase("MaxPool2d.indices", lambda nn: nn.MaxPool2d((2, 3), return_indices=True), ((2, 2, 4, 6),)),
    ModuleCase("MaxPool2d.unbatched", lambda nn: nn.MaxPool2d(2), ((3, 4, 4),)),
    ModuleCase("MaxPool3d", lambda nn: nn.MaxPool3d(2, stride=(1, 2, 2)), ((1, 2, 3, 4, 4),)),
    ModuleCase("AvgPool1d", lambda nn: nn.AvgPool1d(3, 2, 1), ((2, 3, 8),)),
    ModuleCase("AvgPool2d", lambda nn: nn.AvgPool2d(2), ((2, 3, 4, 6),)),
    ModuleCase("AvgPool2d.ceil_exclude_pad",
               lambda nn: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
               ((2, 2, 6, 7),)),
    ModuleCase("AvgPool2d.divisor", lambda nn: nn.AvgPool2d((2, 3), divisor_override=4), ((1, 2, 4, 6),)),
    ModuleCase("AvgPool3d", lambda nn: nn.AvgPool3d((1, 2, 2), padding=(0, 1, 0)), ((1, 2, 2, 3, 4),)),
    ModuleCase("AdaptiveAvgPool1d", lambda nn: nn.AdaptiveAvgPool1d(3), ((2, 3, 7),)),
    ModuleCase("AdaptiveAvgPool2d", lambda nn: nn.AdaptiveAvgPool2d((3, None)), ((2, 3, 7, 5),)),
    ModuleCase("AdaptiveAvgPool2d.global", lambda nn: nn.AdaptiveAvgPool2d(1), ((2, 3, 4, 5),)),
    ModuleCase("AdaptiveAvgPool3d", lambda nn: nn.AdaptiveAvgPool3d((2, 1, 3)), ((1, 2, 5, 3, 4),)),
    ModuleCase("AdaptiveMaxPool1d", lambda nn: nn.AdaptiveMaxPool1d(4), ((2, 3, 9),)),
    ModuleCase("AdaptiveMaxPool2d", lambda nn: nn.AdaptiveMaxPool2d((2, 3), return_indices=True), ((2, 2, 5, 7),)),
    ModuleCase("AdaptiveMaxPool3d", lambda nn: nn.AdaptiveMaxPool3d((1, 2, 3)), ((1, 2, 3, 5, 4),)),
    ModuleCase("MaxUnpool1d", lambda nn: nn.MaxUnpool1d(2), make=_unpool_inputs((2, 3, 7))),
    ModuleCase("MaxUnpool2d", lambda nn: nn.MaxUnpool2d(2), make=_unpool_inputs((2, 3, 4, 6))),
    ModuleCase("MaxUnpool2d.output_size", lambda nn: nn.MaxUnpool2d(2), make=_unpool_inputs((2, 3, 5, 4)),
               call=lambda m, x, i: m(x, i, output_size=(5, 4))),
    ModuleCase("MaxUnpool3d", lambda nn: nn.MaxUnpool3d(2), make=_unpool_inputs((1, 2, 4, 6, 4))),
    # ---- losses (input, target)
    ModuleCase("L1Loss", lambda nn: nn.L1Loss(), make=_pair((3, 4))),
    ModuleCase("MSELoss", lambda nn: nn.MSELoss(reduction="sum"), make=_pair((3, 4))),
    ModuleCase("SmoothL1Loss", lambda nn: nn.SmoothL1Loss(beta=0.5, reduction="none"), make=_pair((3, 4))),
    ModuleCase("HuberLoss", lambda nn: nn.HuberLoss(delta=0.7), make=_pair((3, 4))),
    ModuleCase("KLDivLoss", lambda nn: nn.KLDivLoss(reduction="batchmean"), make=_pair((3, 4), -3, 0, 0.05, 1.0)),
    ModuleCase("BCELoss", lambda nn: nn.BCELoss(), make=_pair((3, 4), 0.05, 0.95, 0.0, 1.0)),
    ModuleCase("BCEWithLogitsLoss",
               lambda nn: nn.BCEWithLogitsLoss(pos_weight=lib(nn).tensor([1.0, 2.0, 0.5, 3.0])),
               make=_pair((3, 4), -3, 3, 0.0, 1.0)),
    ModuleCase("NLLLoss", lambda nn: nn.NLLLoss(weight=lib(nn).tensor([1.0, 0.5, 2.0, 1.5])),
               make=_classes((5, 4), 4, ignore=True)),
    ModuleCase("CrossEntropyLoss", lambda nn: nn.CrossEntropyLoss(label_smoothing=0.1), make=_classes((5, 4), 4)),
    ModuleCase("CrossEntropyLoss.spatial_weight",
               lambda nn: nn.CrossEntropyLoss(weight=lib(nn).tensor([1.0, 0.5, 2.0]), ignore_index=-100),
               make=_classes((2, 3, 4, 2), 3, ignore=True)),
]


def all_module_cases() -> list[ModuleCase]:
    """``CASES`` above plus the ``CASES`` of every ``tests/nn/modulecases_*.py``."""
    from . import __path__ as pkg_path

    cases = list(CASES)
    for info in sorted(pkgutil.iter_modules(pkg_path), key=lambda m: m.name):
        if info.name.startswith("modulecases_"):
            cases.extend(importlib.import_module(f"{__package__}.{info.name}").CASES)
    names = [c.name for c in cases]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"duplicate ModuleCase names: {dup}")
    return cases
