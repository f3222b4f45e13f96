"""``evaluate``, ``autograd-demo``, ``--help`` everywhere, and the error messages of the command."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.cli.main import main
from chainrule.cli.metrics import confusion_matrix, format_confusion_matrix, write_metrics_csv

from .helpers import SMALL, run_captured, run_cli


@pytest.mark.parametrize("argv", [[], ["demo"], ["train"], ["evaluate"], ["autograd-demo"]])
def test_help_everywhere(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main([*argv, "--help"])
    assert e.value.code == 0
    assert "usage: chainrule" in capsys.readouterr().out


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "train" in capsys.readouterr().out


@pytest.mark.parametrize("flag,choices", [("--model", "allconv', 'digits_cnn', 'lenet5', 'mlp', 'nf_resnet', 'resnet"),
                                          ("--data", "digits', 'mnist', 'fashion-mnist', 'cifar10")])
def test_unknown_model_or_dataset_lists_the_choices(flag, choices, capsys):
    argv = ["train", "--model", "digits_cnn", "--data", "digits", flag, "nope"]
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: invalid choice: 'nope'" in err and choices in err


def test_model_and_data_are_required(capsys):
    status, _, err = run_cli(capsys, "train", "--data", "digits")
    assert status == 2 and "--model required" in err and "digits_cnn" in err


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "mps"])
def test_only_the_cpu(device, capsys, tmp_path):
    status, _, err = run_cli(capsys, "train", *SMALL, "--device", device, "--out", str(tmp_path))
    assert status == 2 and f"--device '{device}' is not available" in err and "CPU only" in err
    assert not any(tmp_path.iterdir())


def test_model_that_does_not_fit_the_data(capsys, tmp_path):
    status, _, err = run_cli(capsys, "train", "--model", "lenet5", "--data", "digits", "--out", str(tmp_path))
    assert status == 2 and "cannot build lenet5 for digits (1x8x8 images)" in err


def test_missing_dataset_files_say_where_to_put_them(capsys, tmp_path):
    status, _, err = run_cli(capsys, "train", "--model", "mlp", "--data", "mnist", "--data-root", str(tmp_path),
                             "--out", str(tmp_path / "run"))
    assert status == 1 and "dataset files not found" in err and str(tmp_path) in err
    assert not (tmp_path / "run").exists(), "a run that wrote nothing leaves no empty folder"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A one-epoch run: its directory and what it printed."""
    out = tmp_path_factory.mktemp("eval")
    status, stdout, _ = run_captured("train", *SMALL, "--epochs", "1", "--no-plots", "--out", str(out))
    assert status == 0
    return out, stdout


def test_evaluate_reproduces_the_test_accuracy_of_training(trained, capsys):
    run_dir, train_out = trained
    status, out, err = run_cli(capsys, "evaluate", "--checkpoint", str(run_dir / "checkpoint.safetensors"),
                               "--test-limit", "40")
    assert status == 0, err
    reported = train_out.split("test: loss ")[1].split(" with")[0]  # e.g. "0.1234, accuracy 56.00% (14/40)"
    assert f"loss {reported}" in out
    assert "digits_cnn after epoch 1 on the digits test split (40 images)" in out
    assert "rows: true class" in out


def test_evaluate_on_the_validation_split(trained, capsys):
    run_dir, train_out = trained
    status, out, _ = run_cli(capsys, "evaluate", "--checkpoint", str(run_dir), "--split", "val")
    assert status == 0 and "on the digits val split (15 images)" in out
    epoch_line = next(line for line in train_out.splitlines() if line.startswith("epoch 1/1"))
    val_loss = epoch_line.split("val loss ")[1].split()[0]
    assert f"loss {val_loss}" in out  # the same held-out images as during training


def test_evaluate_refuses_a_dataset_of_another_shape(trained, capsys):
    status, _, err = run_cli(capsys, "evaluate", "--checkpoint", str(trained[0]), "--data", "cifar10")
    assert status == 2 and "trained on digits (1x8x8 images, 10 classes)" in err and "3x32x32" in err


def test_autograd_demo(capsys):
    status, out, _ = run_cli(capsys, "autograd-demo")
    assert status == 0
    assert "max |dq/dw1 - (use 1 + use 2)|" in out


def test_confusion_matrix_counts_pairs():
    targets = np.array([0, 1, 2, 2, 1, 0, 2])
    preds = np.array([0, 2, 2, 1, 1, 0, 2])
    expected = np.zeros((3, 3), dtype=np.int64)
    for t, p in zip(targets, preds):
        expected[t, p] += 1
    np.testing.assert_array_equal(confusion_matrix(targets, preds, 3), expected)
    text = format_confusion_matrix(expected, ["a", "b", "c"])
    assert "classes: 0=a, 1=b, 2=c" in text and text.splitlines()[2].split() == ["0", "2", "0", "0"]


def test_metrics_csv_leaves_blank_cells_for_missing_values(tmp_path):
    path = str(tmp_path / "m.csv")
    write_metrics_csv(path, [{"epoch": 1, "lr": 0.1, "train_loss": 0.5, "train_accuracy": 0.75, "val_loss": None,
                              "val_accuracy": None, "epoch_seconds": 1.0, "images_per_second": 10.0}])
    assert open(path).read().splitlines()[1] == "1,0.1,0.5,0.75,,,1,10"
