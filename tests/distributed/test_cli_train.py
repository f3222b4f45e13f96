"""``mpiexec -n 2 python -m chainrule train``: data-parallel training from the command line.

Same run on one process and on two ranks (the global batch split over the ranks): the test
accuracies agree within a few points, rank 0 alone writes the run files, and the two-rank
checkpoint resumes on one process.
"""

import os
import re
import subprocess
import sys

import pytest

from chainrule.distributed.launch import loopback_env

from .mpirun import run

ARGS = ["-m", "chainrule", "train", "--model", "digits_cnn", "--data", "digits", "--epochs", "2", "--no-plots",
        "--threads", "1"]


def test_accuracy(output: str) -> float:
    m = re.search(r"test: loss [0-9.]+, accuracy ([0-9.]+)%", output)
    assert m, output[-2000:]
    return float(m.group(1))


test_accuracy.__test__ = False  # a helper, not a test


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    single = subprocess.run([sys.executable, *ARGS, "--out", str(root / "one")], env=loopback_env(jit=False),
                            cwd=root, capture_output=True, text=True, timeout=120)
    assert single.returncode == 0, single.stderr[-2000:]
    proc, _ = run(2, [*ARGS, "--out", str(root / "two")], timeout=120, cwd=str(root))
    assert proc.returncode == 0, proc.stdout[-3000:]
    return root, single.stdout, proc.stdout


def test_two_ranks_reach_the_single_process_accuracy(runs):
    _, single, double = runs
    assert "epoch 2/2" in double
    assert abs(test_accuracy(single) - test_accuracy(double)) < 3.0


def test_only_rank_zero_prints_and_writes(runs):
    root, _, double = runs
    assert double.count("epoch 1/2") == 1 and double.count("test: loss") == 1
    files = sorted(os.listdir(root / "two"))
    assert files == ["best.safetensors", "checkpoint.safetensors", "confusion_matrix.csv", "metrics.csv"]
    assert len((root / "two" / "metrics.csv").read_text().splitlines()) == 3  # header + 2 epochs


def test_a_two_rank_checkpoint_resumes_on_one_process(runs):
    root, _, _ = runs
    resumed = subprocess.run([sys.executable, "-m", "chainrule", "train", "--resume", str(root / "two"),
                              "--epochs", "3", "--no-plots"], env=loopback_env(jit=False), cwd=root,
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "continuing after epoch 2" in resumed.stdout and "epoch 3/3" in resumed.stdout
    assert len((root / "two" / "metrics.csv").read_text().splitlines()) == 4
