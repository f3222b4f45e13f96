"""The README's account of the command is true (issue 15, "small truths").

(a) every command of its command table exists (``python -m chainrule --help``) and every command
    that exists is in the table; every option it names exists, and every option of ``train`` is
    documented;
(b) its demo transcript has the format of a real run, line by line (numbers and timings aside),
    and its numbers agree with each other and with the default demo: parameters, split sizes,
    the cosine learning rates, the confusion matrix against the accuracy, the best epoch.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import chainrule.cli.train as train_module

from .helpers import ROOT, env, run_captured

# CHAINRULE_README_UNDER_TEST: check a proposed README before it replaces the real one
README = Path(os.environ.get("CHAINRULE_README_UNDER_TEST", ROOT / "README.md")).read_text()


def _help(*argv: str) -> str:
    result = subprocess.run([sys.executable, "-m", "chainrule", *argv, "--help"], capture_output=True, text=True,
                            env=env(), cwd=ROOT, timeout=120, check=True)
    return result.stdout


def _table(header: str) -> list[list[str]]:
    """The rows (cells) of the markdown table whose header row starts with ``header``."""
    lines = README.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def _commands_in_help() -> set[str]:
    text = _help()
    block = text.split("COMMAND")[-1]
    return set(re.findall(r"^\s{4}([a-z][a-z-]+)\s", block, flags=re.M))


def test_command_table_lists_exactly_the_commands():
    table = {re.match(r"`([a-z-]+)", row[0]).group(1) for row in _table("| command |")}
    assert table, "no command table"
    real = _commands_in_help()
    assert table <= real, f"the README lists commands that do not exist: {sorted(table - real)}"
    assert real <= table, f"commands missing from the README's table: {sorted(real - table)}"


def test_options_table_names_real_options_and_every_option_is_documented():
    train_help = _help("train")
    real = set(re.findall(r"(--[a-z][a-z-]+)", train_help)) - {"--help"}
    named = {flag for row in _table("| option |") for flag in re.findall(r"(--[a-z][a-z-]+)", row[0])}
    assert named, "no options table"
    assert named <= real, f"the README's options table names options train does not have: {sorted(named - real)}"
    undocumented = sorted(flag for flag in real if flag not in README)
    assert not undocumented, f"options of train the README never mentions: {undocumented}"


# --- (b) the demo transcript ------------------------------------------------------------------

NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?(?:e[+-]\d+)?")


def _transcript() -> list[str]:
    match = re.search(r"```\n(chainrule demo:.*?)```", README, flags=re.S)
    assert match, "no demo transcript (a code block starting 'chainrule demo:') in the README"
    return match.group(1).rstrip("\n").splitlines()


def _shape(line: str) -> str:
    """A line's format: numbers replaced by #, runs of spaces by one, the best-epoch mark dropped."""
    return " ".join(NUMBER.sub("#", line).replace("*best", "").split())


@pytest.fixture(scope="module")
def real_run(tmp_path_factory, monkeypatch_module):
    """A short demo in a scratch folder (so its paths are runs/demo/ as in the README); only epoch 1
    counts as best, so the line of best.safetensors' test result is printed too."""
    monkeypatch_module.chdir(tmp_path_factory.mktemp("demo"))
    real_better = train_module._better
    monkeypatch_module.setattr(train_module, "_better", lambda h, best: best is None and real_better(h, best))
    status, out, err = run_captured("demo", "--train-limit", "300", "--epochs", "3", "--no-progress")
    assert status == 0, err
    return out.splitlines()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _collapsed(shapes: list[str]) -> list[str]:
    """Consecutive epoch lines as one (the README shows some of 20 epochs, the real run 3)."""
    out: list[str] = []
    for shape in shapes:
        if not (out and shape.startswith("epoch #/#") and out[-1] == shape):
            out.append(shape)
    return out


def test_transcript_lines_have_the_format_of_a_real_run(real_run):
    readme = [line for line in _transcript() if line.strip() != "..."]
    real_shapes = _collapsed([_shape(line) for line in real_run])
    assert readme[0] == real_run[0], "the first line is printed as is"
    # in order: every README line is a line the program prints, in the program's order
    position = 0
    for line, shape in zip(readme, [_shape(line) for line in readme]):
        if position and shape.startswith("epoch #/#") and real_shapes[position - 1] == shape:
            continue  # more epoch lines
        assert shape in real_shapes[position:], f"not (or not here) in a real run's output: {line!r}"
        position = real_shapes.index(shape, position) + 1
    # and nothing the program prints is missing, epoch lines and matrix rows aside
    readme_shapes = {_shape(line) for line in readme}
    for line, shape in zip(real_run, real_shapes):
        if not re.match(r"(epoch|\s*#)", shape):
            assert shape in readme_shapes, f"a real run prints a line the README does not show: {line!r}"


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def test_transcript_numbers_agree_with_the_default_demo_and_each_other():
    from chainrule.cli.datasets import get_dataset_spec, load_splits
    from chainrule.cli.trainer import build_model

    lines = _transcript()
    spec = get_dataset_spec("digits")
    params = sum(p.numel() for p in build_model("digits_cnn", spec).parameters())
    splits = load_splits(spec, "data", seed=0, val_fraction=0.1)
    head = re.search(r"\(([\d,]+) parameters\) on digits: ([\d,]+) train / ([\d,]+) validation / ([\d,]+) test",
                     lines[1])
    assert head, lines[1]
    assert [_num(g) for g in head.groups()] == [params, len(splits.train), len(splits.val), len(splits.test)]
    plan = re.search(r"(\d+) epochs of batches of (\d+), adam lr ([\d.e-]+), cosine schedule, seed 0", lines[2])
    assert plan, lines[2]
    epochs, lr = int(plan.group(1)), float(plan.group(3))
    for line in lines:
        m = re.match(r"epoch\s+(\d+)/(\d+) .*\| lr ([\d.e+-]+) \|", line)
        if m:
            e = int(m.group(1))
            assert int(m.group(2)) == epochs
            expected = lr * (1 + math.cos(math.pi * (e - 1) / epochs)) / 2
            assert float(m.group(3)) == pytest.approx(expected, rel=6e-3), line
    test = re.search(r"accuracy ([\d.]+)% \((\d+)/(\d+)\) with the weights of the last epoch", "\n".join(lines))
    assert test
    rows = [line.split() for line in lines if re.match(r"^\s+\d\s+(\d+\s+){9}\d+$", line)]
    cm = [[int(v) for v in row[1:]] for row in rows]
    assert len(cm) == 10 and sum(map(sum, cm)) == int(test.group(3)) == len(splits.test)
    assert sum(cm[i][i] for i in range(10)) == int(test.group(2))
    assert float(test.group(1)) == pytest.approx(100 * int(test.group(2)) / int(test.group(3)), abs=0.006)
    best_lines = [re.search(r"best.safetensors \(epoch (\d+)", line) for line in lines]
    best_epochs = {m.group(1) for m in best_lines if m}
    assert len(best_epochs) <= 1, "the best epoch is the same everywhere in the transcript"


def test_transcript_paths_are_the_demo_folder():
    text = "\n".join(_transcript())
    assert "-> runs/demo/" in text and "wrote to runs/demo/:" in text
    assert Path("runs/demo/checkpoint.safetensors").as_posix() in text
