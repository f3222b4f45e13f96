"""The ``summary`` and ``graph`` sub-commands of ``python -m chainrule``."""

import os
import stat
import subprocess
import sys

import pytest

from chainrule.cli.main import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_summary_subprocess_prints_the_table():
    result = subprocess.run([sys.executable, "-m", "chainrule", "summary", "--model", "lenet5"],
                            capture_output=True, text=True, cwd=ROOT, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "Total params: 61,706" in lines
    assert any("0: Conv2d" in line and "[1, 6, 28, 28]" in line and "117,600" in line for line in lines)


def test_summary_with_input_size(capsys):
    assert main(["summary", "--model", "resnet", "--input-size", "2,1,16,16"]) == 0
    out = capsys.readouterr().out
    assert "[2, 10]" in out and "[2, 1, 16, 16]" in out
    assert "conv1: Conv2d" in out and "[2, 16, 16, 16]" in out  # built for one input channel


def test_summary_rejects_bad_arguments(capsys):
    assert main(["summary", "--model", "nosuch"]) == 2
    assert "available models: " in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["summary", "--model", "lenet5", "--input-size", "1,one,28,28"])
    assert "comma-separated positive ints" in capsys.readouterr().err
    assert main(["summary", "--model", "lenet5", "--input-size", "1,1,28"]) == 2
    assert "square images" in capsys.readouterr().err


def test_help_lists_both_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "summary" in out and "graph" in out


def test_graph_without_graphviz_writes_dot_and_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    target = tmp_path / "out" / "lenet.svg"
    assert main(["graph", "--model", "lenet5", "--out", str(target)]) == 0
    captured = capsys.readouterr()
    dot = tmp_path / "out" / "lenet.dot"
    assert dot.exists() and not target.exists()
    assert "Install Graphviz" in captured.err and str(dot) in captured.out
    text = dot.read_text()
    assert text.startswith("digraph")
    for name in ("features.0.weight", "features.3.bias", "classifier.5.weight", "loss"):
        assert name in text
    assert "saved" not in text
    assert main(["graph", "--model", "digits_cnn", "--out", str(tmp_path / "d.svg"), "--show-saved"]) == 0
    assert "saved" in (tmp_path / "d.dot").read_text()


def test_graph_with_graphviz_runs_dot(tmp_path, monkeypatch, capsys):
    """A stand-in ``dot`` on the PATH records its arguments and answers with fixed bytes."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "dot"
    fake.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\ncat > {tmp_path}/stdin\nprintf "IMAGE"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(bindir) + os.pathsep + os.environ.get("PATH", ""))
    target = tmp_path / "g.png"
    assert main(["graph", "--model", "mlp", "--out", str(target), "--format", "png"]) == 0
    assert target.read_bytes() == b"IMAGE"
    assert (tmp_path / "args").read_text().strip() == "-Tpng"
    source = (tmp_path / "stdin").read_text()
    assert "layers.1.weight" in source and "classifier.bias" in source
    assert "wrote" in capsys.readouterr().out
