"""The benchmark harness (bench/) runs end to end on tiny sizes, so it cannot rot.

Timings are noisy and never asserted; what is checked is the plumbing: every workload yields a
row, missing chainrule pieces give "n/a" rows instead of crashes, the timing loop interleaves,
and the table and JSON agree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench import compiled as bench_compiled
from bench import harness, workloads

ROOT = Path(__file__).resolve().parent.parent


def test_quick_run_covers_every_workload(tmp_path):
    # through the real entry point, with no thread variables inherited (conftest sets one)
    out = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--threads", "1", "--repeats", "1", "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    rows = data["results"]
    assert [r["name"] for r in rows] == [s.name for s in workloads.WORKLOADS] + list(harness.MEMORY_NAMES)
    for r in rows:
        # "error" means a workload or the harness is broken; "n/a" must say what is missing
        assert r["status"] in ("ok", "n/a"), (r["name"], r["error"])
        # times are positive; a resident-set growth can be 0 when freed pages are reused
        positive = (lambda v: v > 0) if r["unit"] == "s" else (lambda v: v >= 0)
        assert positive(r["torch"])
        if r["status"] == "ok":
            assert positive(r["ours"])
            if r["unit"] == "s":
                assert r["ratio"] == pytest.approx(r["ours"] / r["torch"])
        else:
            assert r["missing"]
    # the element-wise ops of workload 6 exist from the start: its chainrule side must run
    overhead = next(r for r in rows if r["name"] == "autograd_overhead")
    assert overhead["status"] == "ok" and len(overhead["ours_samples"]) == 1
    _check_compiled_rows(rows, proc.stdout)
    meta = data["meta"]
    assert meta["peak"]["numpy_gflops"] > 0
    # --threads reached the environment before NumPy loaded, and PyTorch's pool
    assert meta["threads"]["env"]["OPENBLAS_NUM_THREADS"] == "1"
    assert meta["threads"]["torch"] == 1
    for r in rows:
        assert r["name"] in proc.stdout


def _check_compiled_rows(rows: list[dict], stdout: str) -> None:
    """The *_compiled workloads ran chainrule's side through chainrule.compile (default backend): one
    graph each, every call after the first replayed, nothing fell back to eager; their first calls
    were timed; torch.compile is left out under --quick, saying so."""
    compiled = [r for r in rows if r["name"].endswith("_compiled")]
    assert [r["name"] for r in compiled] == ["lenet_train_b64_compiled", "mlp_train_b128_compiled",
                                             "autograd_overhead_compiled"]
    for r in compiled:
        assert r["status"] == "ok", (r["name"], r["error"])
        c = r["compiled"]
        assert c["backend"] == "inductor" and c["graphs"] == 1 and c["fallbacks"] == [], (r["name"], c)
        # warm-up 1 + settle 1 + timed 1 after the two first calls (the recording one and a replay)
        assert c["calls"] == {"recorded": 1, "replayed": 4, "eager": 0}, (r["name"], c["calls"])
        assert c["first_call_s"] > 0 and c["second_call_s"] > 0 and c["eager_call_s"] > 0
        assert c["compile_s"] == pytest.approx(c["first_call_s"] + c["second_call_s"] - 2 * c["eager_call_s"])
        assert c["graph_compile_seconds"] > 0
        assert r["torch_compile"] == {"status": "n/a", "reason": "skipped under --quick"}
    assert "compiled workloads:" in stdout and "n/a (skipped under --quick)" in stdout


def test_time_sides_rotates_three_sides_so_none_follows_itself(monkeypatch):
    order: list[str] = []
    monkeypatch.setattr(harness.time, "sleep", lambda seconds: None)
    sides = [lambda n=n: order.append(n) for n in "abc"]
    harness.time_sides(sides, repeats=4, warmup=1, settle=0, pause=0.0)
    assert "".join(order) == "abc" + "abc" + "bca" + "cab" + "abc"  # warm-up, then rotations
    assert all(x != y for x, y in zip(order[3:], order[4:]))


def test_time_sides_alternates_two_sides_and_skips_a_missing_one(monkeypatch):
    order: list[str] = []
    monkeypatch.setattr(harness.time, "sleep", lambda seconds: None)
    times = harness.time_sides([lambda: order.append("a"), None, lambda: order.append("c")], repeats=3, warmup=1,
                               settle=0, pause=0.0)
    assert [len(t) for t in times] == [3, 0, 3]
    assert "".join(order) == "ac" + "ac" + "ca" + "ac"  # warm-up, then forward, reversed, forward


def test_a_failing_torch_compile_is_reported_not_raised():
    def build():
        def step():
            raise RuntimeError("no C compiler\nsecond line")
        return step

    step, info = bench_compiled.torch_compiled_side(build, lambda: None)
    assert step is None and info == {"status": "n/a", "reason": "RuntimeError: no C compiler"}
    assert bench_compiled.torch_compiled_side(build, lambda: None, "off")[1] == {"status": "n/a", "reason": "off"}


def test_time_pair_alternates_settles_and_pauses_at_each_switch(monkeypatch):
    """On a fake clock (each call takes 0.2 s): after each switch of side a pause of 0.5 s, then
    untimed calls for 0.5 s (the settle call and two more), then the timed one."""
    calls, clock = [], [0.0]

    def call(side):
        calls.append(side)
        clock[0] += 0.2

    def sleep(seconds):
        calls.append(f"|{seconds}|")
        clock[0] += seconds

    monkeypatch.setattr(harness.time, "sleep", sleep)
    monkeypatch.setattr(harness.time, "perf_counter", lambda: clock[0])
    ours_t, torch_t = harness.time_pair(lambda: call("o"), lambda: call("t"), repeats=4, warmup=1, settle=1,
                                        pause=0.5)
    assert np.allclose(ours_t, 0.2) and np.allclose(torch_t, 0.2) and len(ours_t) == len(torch_t) == 4
    # warm-up o t; then per round the first side runs settle + timed, swapping who goes first
    p = "|0.5|"
    assert "".join(calls) == ("ot" + p + "oooo" + p + "tttt" + "tt" + p + "oooo" + "oo" + p + "tttt"
                              + "tt" + p + "oooo")


def test_missing_pieces_give_na_row():
    def build(fw):
        if fw.__name__ == "chainrule":
            workloads.require(fw, "nn.NoSuchLayer", "from_numpy", "no_such_function")
        return lambda: None

    spec = workloads.Spec("fake", lambda: workloads._case("fake workload", build, 10), (), ())
    row, case = harness.run_workload(spec, quick=True, repeats=1, warmup=0, settle=0)
    assert row["status"] == "n/a" and case is None
    assert row["missing"] == ["nn.NoSuchLayer", "no_such_function"]
    assert row["ours"] is None and row["torch"] > 0
    text = harness.format_table([row], {"peak": {"n": 8, "numpy_gflops": 1.0, "torch_gflops": 1.0},
                                        "threads": {"requested": 1}, "repeats": 1, "quick": True})
    assert "n/a (missing: nn.NoSuchLayer, no_such_function)" in text


def test_flop_counts_follow_the_layer_shapes():
    # LeNet-5 per sample: conv1 6*28*28*25, conv2 16*10*10*150, then 400*120 + 120*84 + 84*10
    assert sum(workloads.LENET_MACS) == 117600 + 240000 + 48000 + 10080 + 840
    # training: 3 GEMMs per layer, the first layer has no input gradient
    assert workloads.train_flops([10, 20], batch=2) == 2 * 2 * (3 * 30 - 10)
