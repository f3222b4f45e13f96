"""The compatibility suite: textbook and tutorial programs written for PyTorch run unchanged with
``torch`` bound to chainrule, and print what they print under PyTorch.

Each program in ``programs/`` runs twice, once under PyTorch and once under chainrule (two
subprocesses of ``runner.py`` for the whole suite), and the outputs are compared line by line:
numbers within one unit of the last printed digit (plus 1e-5 relative: float32 sums in another
order), everything else exactly, after ``chainrule`` is read as ``torch``. Programs print no
random draws (the two frameworks' generators differ): shapes, counts, and values computed from
fixed data.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
PROGRAMS = sorted((HERE / "programs").glob("p*.py"))
ROOT = HERE.parent.parent
NUMBER = re.compile(r"-?(?:\d+\.\d*|\.\d+|\d+)(?:e[+-]?\d+)?|nan|-?inf")


def _run_all(framework: str, tmp_dir: Path) -> dict:
    out = tmp_dir / f"{framework}.json"
    env = dict(os.environ, CHAINRULE_JIT="0", OMP_NUM_THREADS="1", PYTHONHASHSEED="0")
    proc = subprocess.run([sys.executable, "-m", "tests.compat.runner", framework, str(out)]
                          + [str(p) for p in PROGRAMS], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("compat")
    return {fw: _run_all(fw, tmp) for fw in ("torch", "chainrule")}


def _ulp(token: str) -> float:
    mantissa = token.split("e")[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = int(token.split("e")[1]) if "e" in token else 0
    return 10.0 ** (exponent - decimals)


def _significant(token: str) -> int:
    """Significant digits printed: a one-unit difference in the last of them is rounding only
    when there are enough of them (0.1234 vs 0.1235, but not 2 vs 3)."""
    return len(token.split("e")[0].lstrip("-").replace(".", "").lstrip("0"))


def _same(theirs: str, ours: str) -> bool:
    if NUMBER.sub("#", theirs) != NUMBER.sub("#", ours):
        return False
    for a, b in zip(NUMBER.findall(theirs), NUMBER.findall(ours)):
        if a == b:
            continue
        if a in ("nan", "inf", "-inf") or b in ("nan", "inf", "-inf"):
            return False
        x, y = float(a), float(b)
        if abs(x - y) <= 1e-6 * max(1.0, abs(x)):  # the same value printed two ways: "1." and "1.0000"
            continue
        if min(_significant(a), _significant(b)) < 4:  # "2" vs "3", "1." vs "2.": not rounding
            return False
        if abs(x - y) > 1.01 * max(_ulp(a), _ulp(b)) + 1e-5 * abs(x):
            return False
    return True


def test_there_are_at_least_forty_programs():
    assert len(PROGRAMS) >= 40


@pytest.mark.parametrize("program", [p.name for p in PROGRAMS])
def test_program_prints_what_it_prints_under_pytorch(outputs, program):
    theirs = outputs["torch"][program]
    ours = outputs["chainrule"][program].replace("chainrule", "torch")
    assert "EXCEPTION" not in theirs, f"{program} fails under PyTorch itself:\n{theirs}"
    assert theirs.strip(), f"{program} printed nothing under PyTorch"
    lines_theirs, lines_ours = theirs.splitlines(), ours.splitlines()
    for i, (a, b) in enumerate(zip(lines_theirs, lines_ours)):
        assert _same(a, b), f"{program}, line {i + 1}:\n  PyTorch:   {a}\n  chainrule: {b}\n\nchainrule's output:\n{ours}"
    assert len(lines_ours) == len(lines_theirs), f"{program}: PyTorch printed\n{theirs}\nchainrule printed\n{ours}"


def test_the_comparison_can_fail():
    assert _same("loss 0.1234", "loss 0.1235")
    assert not _same("loss 0.1234", "loss 0.1237")
    assert not _same("torch.Size([2, 3])", "torch.Size([3, 2])")
    assert not _same("tensor([1., 2.])", "tensor([1., 2.], requires_grad=True)")
    assert _same("1.0000e+05", "1.0001e+05")
    assert not _same("tensor([1., 2.])", "tensor([1., 3.])")
    assert not _same("loss 0.01", "loss 0.02")
    assert _same("tensor([1.0000, 1.0000])", "tensor([1., 1.])")
