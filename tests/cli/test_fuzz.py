"""Fuzzing the command (issue 15): hostile argument lists and hostile checkpoint files.

Whatever hypothesis tries, the command either succeeds or ends with a clean error: exit 1, 2 or
130, one line ``chainrule ...: error: ...`` on stderr (argparse's usage lines may precede it),
no traceback, no "internal error" — and the files of an earlier run stay byte for byte as they
were. Commands that may legitimately change a run (``--resume`` into it, ``--overwrite`` of it)
get a copy. Everything runs in-process (``main(argv)``) to keep the file under a minute;
``pytest -s`` prints how many inputs were tried.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.cli.main import main

from . import checkpoint_files as cf
from .helpers import TINY, assert_clean_error, run_captured, snapshot

# CHAINRULE_FUZZ_EXAMPLES=2000 CHAINRULE_FUZZ_RANDOM=1 for a longer, randomly seeded hunt
SETTINGS = settings(deadline=None, derandomize=not os.environ.get("CHAINRULE_FUZZ_RANDOM"), database=None,
                    max_examples=int(os.environ.get("CHAINRULE_FUZZ_EXAMPLES", "150")),
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
TRIED = {"argument lists": 0, "checkpoint files": 0, "clean errors": 0, "successes": 0}


@pytest.fixture(scope="module")
def world():
    """A scratch working directory with an earlier run (protected), a plain file and a garbage file."""
    cwd = os.getcwd()
    base = Path(tempfile.mkdtemp(prefix="cr-fuzz-"))
    os.chdir(base)
    try:
        earlier = base / "earlier"
        status, _, err = run_captured("train", *TINY, "--epochs", "1", "--train-limit", "60", "--out", str(earlier))
        assert status == 0, err
        (base / "afile").write_text("not a folder")
        (base / "garbage.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}" + b"x" * 50)
        yield {"base": base, "earlier": earlier, "snapshot": snapshot(earlier)}
    finally:
        os.chdir(cwd)
        shutil.rmtree(base, ignore_errors=True)
        print("\nfuzz inputs tried: " + ", ".join(f"{v} {k}" for k, v in TRIED.items()))


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as e:  # argparse: --help, --version and usage errors
            status = e.code if isinstance(e.code, int) else 2
    return status, out.getvalue(), err.getvalue()


def _check(world, argv: list[str]) -> None:
    status, out, err = _run(argv)
    if status == 0:
        assert "Traceback" not in err + out, (argv, err)
        TRIED["successes"] += 1
    else:
        try:
            assert_clean_error(status, err)
        except AssertionError as e:
            raise AssertionError(f"{argv}: {e}") from None
        TRIED["clean errors"] += 1
    assert snapshot(world["earlier"]) == world["snapshot"], f"{argv} changed the earlier run"


def _copy_of_earlier(world) -> str:
    target = Path(tempfile.mkdtemp(dir=world["base"])) / "copy"
    shutil.copytree(world["earlier"], target)
    return str(target)


# --- argument lists ---------------------------------------------------------------------------

NUMBERS = ["0", "1", "2", "-1", "-0", "0.5", "nan", "inf", "-inf", "1e309", "1e-320", "1e30", "", " ", "abc", "1,1",
           "0x10", "٣", "1_0", "99999999999999999999"]
TRAIN_FLAGS = {
    "--epochs": ["0", "1", "2", "-1", "x", "1.0", "", "٢"],
    "--batch-size": ["1", "7", "0", "-2", "1e2"],
    "--train-limit": ["1", "2", "3", "20", "0", "-5"],
    "--test-limit": ["1", "5", "0", "-5", "100000"],
    "--val-fraction": ["0", "0.5", "0.9", "0.91", "1", "nan", "-0.0", "0.999", "1e-9"],
    "--lr": ["1e-3", "1e30", "1e8", "nan", "inf", "-1", "0", "1e-320", "5e-324"],
    "--optimizer": ["sgd", "adam", "adamw", "rmsprop", "adagrad", "nadam", "asgd", "lbfgs", ""],
    "--scheduler": ["none", "cosine", "step", "onecycle", "cyclic"],
    "--step-size": ["1", "0", "-1", "3"],
    "--gamma": ["0.5", "0", "-1", "1e308", "nan", "1e12"],
    "--momentum": ["0", "0.9", "1", "-0.5", "1e308", "nan"],
    "--weight-decay": ["0", "0.1", "-5", "1e308", "nan"],
    "--seed": ["0", "-1", "4294967295", "4294967296", "99999999999999999999", "1.5", "7"],
    "--threads": ["1", "2", "0", "-1", "3"],
    "--device": ["cpu", "cuda", "CPU", "cpu:0", "", "mps"],
    "--model": ["mlp", "mlp", "mlp", "lenet5", "nope", ""],
    "--data": ["digits", "digits", "mnist", "cifar10", "nope"],
    "--data-root": ["data", "/nonexistent", "afile", "."],
}
SWITCHES = ["--overwrite", "--no-augment", "--no-plots", "--no-progress", "--help", "--version"]


@st.composite
def train_argv(draw):
    argv = ["train" if draw(st.booleans()) else "demo", *TINY, "--epochs", "1"]
    for flag in draw(st.lists(st.sampled_from(sorted(TRAIN_FLAGS)), max_size=5)):
        argv += [flag, draw(st.sampled_from(TRAIN_FLAGS[flag] + NUMBERS[:6]))]
    argv += draw(st.lists(st.sampled_from(SWITCHES[:4]), max_size=2, unique=True))
    out = draw(st.sampled_from(["fresh", "earlier", "afile", "under-file", "none", "file-in-earlier", "empty"]))
    resume = draw(st.sampled_from(["none", "none", "earlier", "earlier-best", "garbage", "missing", "afile"]))
    return argv, out, resume


def _resolve(world, argv, out, resume) -> list[str]:
    base, earlier = world["base"], str(world["earlier"])
    may_change = "--overwrite" in argv or resume in ("earlier", "earlier-best")
    if may_change and out in ("earlier", "none", "file-in-earlier"):
        earlier = _copy_of_earlier(world)
    paths = {"fresh": str(Path(tempfile.mkdtemp(dir=base)) / "run"), "earlier": earlier,
             "afile": str(base / "afile"), "under-file": str(base / "afile" / "run"),
             "file-in-earlier": os.path.join(earlier, "checkpoint.safetensors"), "empty": ""}
    if out != "none":
        argv += ["--out", paths[out]]
    resumes = {"earlier": earlier, "earlier-best": os.path.join(earlier, "best.safetensors"),
               "garbage": str(base / "garbage.safetensors"), "missing": str(base / "missing.safetensors"),
               "afile": str(base / "afile")}
    if resume != "none":
        argv += ["--resume", resumes[resume]]
    return argv


@SETTINGS
@given(case=train_argv())
def test_fuzz_train_and_demo_arguments(world, case):
    argv, out, resume = case
    TRIED["argument lists"] += 1
    _check(world, _resolve(world, list(argv), out, resume))


@st.composite
def other_argv(draw):
    command = draw(st.sampled_from(["evaluate", "summary", "graph", "autograd-demo", "nope", ""]))
    if command == "evaluate":
        argv = ["evaluate", "--checkpoint", draw(st.sampled_from(["EARLIER", "EARLIER/best.safetensors", "garbage",
                                                                   "missing", "afile", "."]))]
        for flag, values in (("--split", ["test", "val", "train", "dev"]), ("--test-limit", NUMBERS[:8]),
                             ("--batch-size", NUMBERS[:8]), ("--data", ["digits", "mnist", "cifar10", "x"]),
                             ("--device", ["cpu", "cuda"])):
            if draw(st.booleans()):
                argv += [flag, draw(st.sampled_from(values))]
        return argv
    if command in ("summary", "graph"):
        argv = [command, "--model", draw(st.sampled_from(["mlp", "lenet5", "digits_cnn", "allconv", "nope"]))]
        if draw(st.booleans()):
            argv += ["--input-size", draw(st.sampled_from(["1,1,8,8", "1,1,28,28", "0,1,8,8", "1,1,8", "a", "1x1x8x8",
                                                           "1,3,8,8", "1,1,1,1", "2,1,9,9", "1,1,32,32", "-1,1,8,8"]))]
        if command == "graph":
            argv += ["--out", draw(st.sampled_from(["OUT/g.svg", "OUT/g.png", "OUT/g.pdf", "afile/g.svg", "", "OUT/",
                                                    "OUT/no/g.svg"]))]
        return argv
    return [command, *draw(st.lists(st.sampled_from(NUMBERS + SWITCHES), max_size=3))]


@SETTINGS
@given(argv=other_argv())
def test_fuzz_other_commands(world, argv):
    TRIED["argument lists"] += 1
    fresh = tempfile.mkdtemp(dir=world["base"])
    names = {"EARLIER": str(world["earlier"]), "garbage": str(world["base"] / "garbage.safetensors"),
             "missing": str(world["base"] / "missing"), "afile": str(world["base"] / "afile")}
    resolved = []
    for a in argv:
        for key, value in names.items():
            if a == key or a.startswith(key + "/"):
                a = value + a[len(key):]
        resolved.append(a.replace("OUT/", fresh + "/"))
    _check(world, resolved)


# --- checkpoint files -------------------------------------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
                    | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                max_size=3),
                    max_leaves=8)
KEYS = ["format", "config", "epoch", "model", "optimizer", "scheduler", "rng", "history", "best"]
CONFIG_KEYS = ["model", "data", "epochs", "batch_size", "optimizer", "lr", "weight_decay", "momentum", "scheduler",
               "step_size", "gamma", "seed", "val_fraction", "train_limit", "test_limit", "augment",
               "schedule_ends"]


@st.composite
def hostile_checkpoint(draw, data: bytes):
    kind = draw(st.sampled_from(["truncate", "flip", "key", "config", "tree", "header"]))
    if kind == "truncate":
        return data[:draw(st.integers(0, len(data) - 1))]
    if kind == "flip":
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(out) - 1))
            out[i] ^= 1 << draw(st.integers(0, 7))
        return bytes(out)
    t = cf.tree(data)
    if kind == "key":
        key = draw(st.sampled_from(KEYS))
        if draw(st.booleans()):
            cf.drop_entry(t, key)
        else:
            cf.set_entry(t, key, draw(JSON))
    elif kind == "config":
        config = cf.entry(t, "config")
        key = draw(st.sampled_from(CONFIG_KEYS))
        cf.set_entry(config, key, draw(JSON | st.sampled_from(["resnet", "allconv", "cifar10", "mnist", "onecycle",
                                                                "sgd", 0, -1, 10**6, 1.5, True, None])))
    elif kind == "tree":
        t = draw(JSON)
    else:
        header, body = cf.split(data)
        header[draw(st.sampled_from(list(header)))] = draw(JSON)
        return cf.join(header, body)
    return cf.with_tree(data, t)


@SETTINGS
@given(data=st.data())
def test_fuzz_checkpoint_files(world, data):
    TRIED["checkpoint files"] += 1
    original = (world["earlier"] / "checkpoint.safetensors").read_bytes()
    hostile = data.draw(hostile_checkpoint(original))
    folder = Path(tempfile.mkdtemp(dir=world["base"]))
    path = folder / "checkpoint.safetensors"
    path.write_bytes(hostile)
    _check(world, ["evaluate", "--checkpoint", str(path), "--test-limit", "10"])
    _check(world, ["train", "--resume", str(path), "--epochs", "2", "--no-progress", "--no-plots",
                   "--out", str(folder / "continued")])
    assert path.read_bytes() == hostile, "a resume into another folder leaves its checkpoint alone"


def test_the_fuzz_uses_a_valid_earlier_run(world):
    state = json.loads(cf.split((world["earlier"] / "checkpoint.safetensors").read_bytes())[0]["__metadata__"]
                       ["chainrule.tree"])
    assert cf.entry(cf.entry(state, "config"), "model") == "mlp"
