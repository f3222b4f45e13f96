"""``chainrule train`` / ``demo`` end to end on a slice of the digits: output, files, metrics.csv, plots."""

from __future__ import annotations

import csv

import numpy as np
import pytest

import chainrule as cr

from .helpers import SMALL, model_arrays, run_captured, run_cli

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def two_epoch_run(tmp_path_factory):
    """One two-epoch run shared by the tests that only read its output (plots included)."""
    out = tmp_path_factory.mktemp("run")
    status, stdout, stderr = run_captured("train", *SMALL, "--epochs", "2", "--out", str(out))
    return status, stdout, stderr, out


def test_run_succeeds_and_reports_each_epoch(two_epoch_run):
    status, out, err, _ = two_epoch_run
    assert status == 0, err
    assert "135 train / 15 validation / 40 test images" in out
    epoch_lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert [line.split("|")[0].split()[1] for line in epoch_lines] == ["1/2", "2/2"]
    for line in epoch_lines:
        assert "train loss" in line and "val loss" in line and "img/s" in line
    assert "test: loss" in out and "/40) with the weights of the last epoch" in out
    assert "rows: true class, columns: predicted class" in out


def test_writes_checkpoints_metrics_and_confusion_matrix(two_epoch_run):
    _, out, _, run_dir = two_epoch_run
    for name in ("checkpoint.safetensors", "best.safetensors", "metrics.csv", "confusion_matrix.csv"):
        assert (run_dir / name).stat().st_size > 0, name
    state = cr.load(str(run_dir / "checkpoint.safetensors"))
    assert state["epoch"] == 2
    assert state["config"]["model"] == "digits_cnn" and state["config"]["data"] == "digits"
    assert set(state) >= {"model", "optimizer", "scheduler", "rng", "history", "best"}
    assert not list(run_dir.glob(".*.tmp")), "atomic writes leave no temporary files behind"
    # the confusion matrix: 10 classes, counts summing to the 40 test images, agreeing with the printed accuracy
    with open(run_dir / "confusion_matrix.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["true \\ predicted"] + [str(d) for d in range(10)]
    cm = np.array([[int(v) for v in r[1:]] for r in rows[1:]])
    assert cm.shape == (10, 10) and cm.sum() == 40
    printed = out.split("test: loss")[1].split("(")[1].split(")")[0]
    assert printed == f"{np.trace(cm)}/40"


def test_metrics_csv_has_one_row_per_epoch(two_epoch_run):
    _, out, _, run_dir = two_epoch_run
    with open(run_dir / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
                             "epoch_seconds", "images_per_second"]
    assert [r["epoch"] for r in rows] == ["1", "2"]
    lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    for row, line in zip(rows, lines):
        assert 0.0 <= float(row["train_accuracy"]) <= 1.0 and 0.0 <= float(row["val_accuracy"]) <= 1.0
        assert float(row["train_loss"]) > 0 and float(row["images_per_second"]) > 0
        assert f"train loss {float(row['train_loss']):.4f}" in line
        assert f"val loss {float(row['val_loss']):.4f}" in line
    assert float(rows[0]["lr"]) == pytest.approx(3e-3)  # adam's default
    assert float(rows[1]["lr"]) < float(rows[0]["lr"])  # cosine schedule


def test_plots_are_non_empty_pngs(two_epoch_run):
    _, out, _, run_dir = two_epoch_run
    for name in ("curves.png", "filters.png", "feature_maps.png", "confusion_matrix.png"):
        data = (run_dir / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 1000, name
        assert name in out


def test_best_checkpoint_is_the_best_validation_epoch(two_epoch_run):
    _, _, _, run_dir = two_epoch_run
    history = cr.load(str(run_dir / "checkpoint.safetensors"))["history"]
    # highest validation accuracy, ties broken by the lower validation loss
    expected = max(history, key=lambda h: (h["val_accuracy"], -h["val_loss"]))["epoch"]
    best = cr.load(str(run_dir / "best.safetensors"))
    assert best["epoch"] == expected == best["best"]["epoch"]


def test_report_compares_the_best_checkpoint_when_it_is_not_the_last(tmp_path, capsys):
    # plain SGD at lr 0.3 overshoots in epoch 3 on this slice: epoch 2 stays the best on validation
    status, out, err = run_cli(capsys, "train", *SMALL, "--epochs", "3", "--optimizer", "sgd", "--lr", "0.3",
                               "--scheduler", "none", "--no-plots", "--out", str(tmp_path))
    assert status == 0, err
    assert cr.load(str(tmp_path / "best.safetensors"))["epoch"] == 2
    line = next(line for line in out.splitlines() if "the best on validation" in line)
    assert "with best.safetensors (epoch 2, the best on validation)" in line
    status, evaluated, _ = run_cli(capsys, "evaluate", "--checkpoint", str(tmp_path / "best.safetensors"),
                                   "--test-limit", "40")
    assert status == 0 and line.split(" with ")[0].strip() in evaluated


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    # the step schedule multiplies the learning rate by 1e12 after epoch 1: epoch 2 blows up
    status, out, err = run_cli(capsys, "train", *SMALL, "--epochs", "3", "--scheduler", "step", "--step-size", "1",
                               "--gamma", "1e12", "--no-plots", "--out", str(tmp_path))
    assert status == 1
    assert err.startswith("chainrule train: error: training diverged: the loss is") and "at epoch 2, step" in err
    assert err.count("\n") == 1
    assert "the last good checkpoint is" in err and "(epoch 1)" in err
    state = cr.load(str(tmp_path / "checkpoint.safetensors"))
    assert state["epoch"] == 1
    assert all(np.isfinite(a).all() for a in model_arrays(tmp_path / "checkpoint.safetensors").values())
    assert (tmp_path / "metrics.csv").read_text().count("\n") == 2  # header and epoch 1
    assert "test:" not in out


def test_nan_in_the_first_epoch_writes_no_checkpoint(tmp_path, capsys):
    status, _, err = run_cli(capsys, "train", *SMALL, "--epochs", "1", "--optimizer", "sgd", "--lr", "1e30",
                             "--no-plots", "--out", str(tmp_path))
    assert status == 1
    assert "at epoch 1, step" in err and "no checkpoint was written" in err
    assert not (tmp_path / "checkpoint.safetensors").exists()


def test_demo_trains_the_digits_cnn(tmp_path, capsys):
    status, out, err = run_cli(capsys, "demo", "--epochs", "1", "--train-limit", "100", "--test-limit", "20",
                               "--no-progress", "--no-plots", "--out", str(tmp_path))
    assert status == 0, err
    assert out.startswith("chainrule demo:")
    assert "training digits_cnn" in out and "on digits" in out
    assert str(tmp_path / "checkpoint.safetensors") in out.splitlines()[-1]


def test_demo_defaults_point_to_runs_demo():
    from chainrule.cli.main import build_parser

    args = build_parser().parse_args(["demo"])
    assert (args.model, args.data, args.out, args.threads) == ("digits_cnn", "digits", None, 1)  # runs/demo[-N]
    assert build_parser().parse_args(["train"]).threads is None


def test_threads_limit_blas_inside_the_run_only():
    from threadpoolctl import threadpool_info

    from chainrule.cli._common import blas_threads

    def blas():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas()
    with blas_threads(1):
        assert blas() and all(n == 1 for n in blas())
    assert blas() == before


@pytest.mark.parametrize("model", ["mlp", "allconv", "resnet", "nf_resnet"])
def test_every_model_that_fits_8x8_trains_through_the_command(model, tmp_path, capsys, monkeypatch):
    import chainrule.cli.trainer as trainer

    clipped = []
    real_agc = trainer.adaptive_clip_grad_
    monkeypatch.setattr(trainer, "adaptive_clip_grad_", lambda params, c: clipped.append(c) or real_agc(params, c))
    args = ["--model", model, "--data", "digits", "--train-limit", "64", "--test-limit", "16", "--no-progress",
            "--no-plots", "--epochs", "1", "--out", str(tmp_path)]
    status, out, err = run_cli(capsys, "train", *args)
    assert status == 0, err
    assert f"training {model}" in out and "test: loss" in out
    # nf_resnet asks for adaptive gradient clipping: once per step (58 images in batches of 32 = 2 steps)
    assert clipped == ([0.1, 0.1] if model == "nf_resnet" else [])
    assert ("adaptive gradient clipping" in out) == (model == "nf_resnet")
