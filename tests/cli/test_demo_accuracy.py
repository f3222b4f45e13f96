"""The main job's promise: ``make demo`` (default settings) reaches at least 97% test accuracy."""

from __future__ import annotations

import re

from .helpers import run_captured


def test_demo_defaults_reach_97_percent(tmp_path):
    status, out, err = run_captured("demo", "--out", str(tmp_path / "demo"), "--no-progress", "--no-plots")
    assert status == 0, err
    match = re.search(r"test: loss [\d.]+, accuracy ([\d.]+)%", out)
    assert match, out
    assert float(match.group(1)) >= 97.0, out
    assert (tmp_path / "demo" / "checkpoint.safetensors").exists()
