"""``python -m chainrule export --checkpoint CKPT --onnx model.onnx [--opset N]``."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli.checkpoint import load_checkpoint, restore
from chainrule.cli.datasets import get_dataset_spec
from chainrule.cli.trainer import build_model

from ..cli.helpers import run_captured, run_cli
from .helpers import onnx, ort

TINY = ("--data", "digits", "--model", "digits_cnn", "--train-limit", "64", "--test-limit", "32", "--batch-size", "32",
        "--seed", "0")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "run"
    status, _, err = run_captured("train", *TINY, "--epochs", "1", "--out", str(out))
    assert status == 0, err
    return out


def test_export_command_writes_a_model_that_matches(run_dir, tmp_path, capsys):
    path = tmp_path / "model.onnx"
    status, out, err = run_cli(capsys, "export", "--checkpoint", str(run_dir), "--onnx", str(path), "--opset", "17")
    assert status == 0, err
    assert "wrote" in out and "opset 17" in out
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    state = load_checkpoint(str(run_dir))
    model = build_model(state["config"]["model"], get_dataset_spec(state["config"]["data"]))
    restore(state, model=model)
    model.eval()
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random((3, 1, 8, 8), dtype=np.float32)
    with cr.no_grad():
        ref = model(cr.from_numpy(x)).numpy()
    np.testing.assert_allclose(sess.run(None, {"input": x})[0], ref, rtol=1e-5, atol=1e-5)


def test_export_command_errors(run_dir, tmp_path, capsys):
    status, _, err = run_cli(capsys, "export", "--checkpoint", str(run_dir), "--onnx", str(tmp_path / "m.onnx"),
                             "--opset", "3")
    assert status == 2 and "opset_version must be in" in err
    status, _, err = run_cli(capsys, "export", "--checkpoint", str(tmp_path / "missing"), "--onnx",
                             str(tmp_path / "m.onnx"))
    assert status != 0 and "missing" in err
