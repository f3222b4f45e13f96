"""``OpCase``: what the table needs to know about one operator variant."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class OpCase:
    """One row of the operator table.

    ``fn`` takes chainrule tensors, ``ref`` the same arguments as torch tensors; both return a
    tensor or a tuple of tensors. Inputs are drawn from ``make(rng, np_dtype)`` when given (a
    list of arrays; integer arrays are passed as index tensors, never differentiated), else as
    uniform samples on ``domain`` with the given ``shapes``.
    """

    name: str
    fn: Callable
    ref: Callable
    shapes: tuple = ((3, 4),)
    domain: tuple = (-2.0, 2.0)
    make: Callable | None = None
    op: str | None = None  # the operator covered (defaults to the name up to the first '.')
    grad: bool = True  # gradients: against torch, and the finite-difference checks below
    numeric_grad: bool = True  # gradcheck/gradgradcheck; False at ties, where no derivative exists
    gradgrad: bool = True  # gradgradcheck (double backward)
    noncontig: bool = True
    fast: bool = False  # gradcheck along random directions instead of the full Jacobian
    atol32: float = 1e-5
    rtol32: float = 1e-5
    atol64: float = 1e-10
    rtol64: float = 1e-10
    marks: tuple = field(default_factory=tuple)

    @property
    def op_name(self) -> str:
        return self.op or self.name.split(".")[0]

    def inputs(self, dtype, seed: int = 0) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        if self.make is not None:
            arrays = self.make(rng, dtype)
        else:
            lo, hi = self.domain
            arrays = [rng.uniform(lo, hi, size=s) for s in self.shapes]
        return [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]

    def __repr__(self) -> str:
        return self.name


def all_cases() -> list[OpCase]:
    """Every row of every ``cases_*`` module in this package."""
    from . import __path__ as pkg_path

    cases: list[OpCase] = []
    for info in sorted(pkgutil.iter_modules(pkg_path), key=lambda m: m.name):
        if info.name.startswith("cases_"):
            mod = importlib.import_module(f"{__package__}.{info.name}")
            cases.extend(mod.CASES)
    names = [c.name for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"duplicate OpCase names: {sorted(dup)}")
    return cases
