"""What the command says is what it did (issue 15, "small truths" and item 7's command-line half)."""

from __future__ import annotations

import re

import pytest

import chainrule as cr
import chainrule.cli.train as train_module
from chainrule import backend
from chainrule.cli.main import main

from .helpers import TINY, run_cli, run_sub


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"chainrule {cr.__version__}"


@pytest.mark.parametrize("command,words", [("summary", "one row per layer"), ("graph", "autograd graph")])
def test_summary_and_graph_have_descriptions(command, words, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert words in capsys.readouterr().out


def test_threads_sets_chainrules_pool_for_the_run_and_restores_it(tmp_path, capsys, monkeypatch):
    seen = []
    real = train_module.train

    def record(*a, **k):
        seen.append(backend.get_num_threads())
        return real(*a, **k)

    monkeypatch.setattr(train_module, "train", record)
    before = backend.get_num_threads()
    assert run_cli(capsys, "train", *TINY, "--epochs", "1", "--threads", "3", "--out", str(tmp_path / "a"))[0] == 0
    assert seen == [3] and backend.get_num_threads() == before
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "chainrule's own thread pool" in " ".join(capsys.readouterr().out.split())


def test_nothing_to_train_claims_only_what_it_wrote(tmp_path, capsys):
    out = tmp_path / "run"
    assert run_cli(capsys, "train", *TINY, "--epochs", "2", "--out", str(out))[0] == 0
    before = {p: (out / p).read_bytes() for p in ("checkpoint.safetensors", "best.safetensors", "metrics.csv")}
    status, stdout, _ = run_cli(capsys, "train", "--resume", str(out), "--epochs", "1", "--no-progress",
                                "--no-plots")
    assert status == 0
    assert "note: the checkpoint is already at epoch 2; --epochs 1 leaves nothing to train" in stdout
    wrote = next(line for line in stdout.splitlines() if line.startswith("wrote to"))
    assert wrote == f"wrote to {out}/: confusion_matrix.csv"
    assert {p: (out / p).read_bytes() for p in before} == before
    assert "done in" not in stdout


def test_no_plots_lists_no_plots(tmp_path, capsys):
    status, stdout, _ = run_cli(capsys, "demo", "--model", "mlp", "--train-limit", "60", "--test-limit", "10",
                                "--epochs", "1", "--no-progress", "--no-plots", "--out", str(tmp_path / "d"))
    assert status == 0
    assert ".png" not in stdout and "plots:" not in stdout
    assert not list((tmp_path / "d").glob("*.png"))


def test_plots_listed_are_the_plots_written(tmp_path, capsys):
    out = tmp_path / "d"
    status, stdout, _ = run_cli(capsys, "demo", "--train-limit", "60", "--test-limit", "10", "--epochs", "2",
                                "--no-progress", "--out", str(out))
    assert status == 0
    wrote = next(line for line in stdout.splitlines() if line.startswith("wrote to")).split(": ", 1)[1]
    listed = set(re.sub(r" \([^)]*\)", "", wrote).split(", "))
    assert listed == {p.name for p in out.iterdir()}


def test_no_numpy_warning_reaches_the_console(tmp_path, capsys):
    """Weights of 1e30 overflow the matrix products (NumPy warns "overflow encountered in matmul"
    without the command's guard): evaluate reports the nan loss, and NumPy says nothing."""
    out = tmp_path / "run"
    assert run_cli(capsys, "train", *TINY, "--epochs", "1", "--out", str(out))[0] == 0
    state = cr.load(str(out / "checkpoint.safetensors"))
    state["model"] = {k: v * 1e30 for k, v in state["model"].items()}
    (tmp_path / "huge").mkdir()
    cr.save(state, str(tmp_path / "huge" / "checkpoint.safetensors"))
    result = run_sub("evaluate", "--checkpoint", str(tmp_path / "huge"))
    assert result.returncode == 0 and "loss nan" in result.stdout
    assert "Warning" not in result.stderr and "encountered" not in result.stderr, result.stderr
