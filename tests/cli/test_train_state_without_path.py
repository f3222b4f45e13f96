"""``chainrule.cli.train.train(config, out, state=...)`` called from Python with a checkpoint state
but no ``resumed_from`` path: a failed write must not name ``None`` as the last good checkpoint."""

from __future__ import annotations

import errno

import pytest

import chainrule.cli.train as train_module
import chainrule.serialization as serialization
from chainrule.cli._common import RunFailure
from chainrule.cli.checkpoint import load_checkpoint

from .helpers import SMALL, run_cli


def test_a_failed_write_after_resuming_from_a_state_never_names_none(tmp_path, capsys, monkeypatch):
    first = tmp_path / "first"
    status, _, _ = run_cli(capsys, "train", *SMALL, "--epochs", "1", "--scheduler", "none", "--out", str(first))
    assert status == 0
    state = load_checkpoint(str(first / "checkpoint.safetensors"))
    config = dict(state["config"], epochs=2)

    def disk_full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(serialization, "atomic_write", disk_full)
    second = tmp_path / "second"
    second.mkdir()
    with pytest.raises(RunFailure) as failure:
        train_module.train(config, str(second), state=state, progress=False, plots=False)
    message = str(failure.value)
    assert "the disk is full" in message
    assert "None" not in message
