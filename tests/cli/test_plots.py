"""The plots say what they show (issue 15, "small truths"): curves.png with whole-epoch ticks, the
best epoch and the learning rate; feature_maps.png which channels of how many and the predicted
class; the confusion matrix which weights made it."""

from __future__ import annotations

import re

import numpy as np
import pytest

import chainrule as cr
import chainrule.cli.plots as plots

from .helpers import run_captured

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    out = tmp_path_factory.mktemp("plots")
    drawn = {}
    real = plots._save

    def keep(fig, path):
        fig.canvas.draw()
        drawn[path.rsplit("/", 1)[-1]] = fig
        return real(fig, path)

    plots._save = keep
    try:
        status, stdout, err = run_captured("train", "--model", "digits_cnn", "--data", "digits", "--train-limit", "150",
                                           "--test-limit", "30", "--epochs", "3", "--no-progress", "--out", str(out))
    finally:
        plots._save = real
    assert status == 0, err
    return drawn, cr.load(str(out / "checkpoint.safetensors")), out


def test_every_plot_is_a_png(figures):
    drawn, _, out = figures
    assert set(drawn) == {"curves.png", "filters.png", "feature_maps.png", "confusion_matrix.png"}
    for name in drawn:
        assert (out / name).read_bytes()[:8] == PNG_MAGIC


def test_curves_whole_epochs_best_epoch_and_lr(figures):
    drawn, state, _ = figures
    fig = drawn["curves.png"]
    history, best = state["history"], state["best"]["epoch"]
    loss_ax, acc_ax, lr_ax = fig.axes[0], fig.axes[1], fig.axes[2]
    for ax in (loss_ax, acc_ax):
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
        marks = [line for line in ax.get_lines() if list(line.get_xdata()) == [best, best]]
        assert len(marks) == 1 and f"best (epoch {best})" == marks[0].get_label()
    assert "learning rate" in lr_ax.get_ylabel()
    (lr_line,) = lr_ax.get_lines()
    np.testing.assert_allclose(lr_line.get_ydata(), [h["lr"] for h in history])
    np.testing.assert_array_equal(lr_line.get_xdata(), [1, 2, 3])


def test_feature_maps_say_which_channels_and_the_prediction(figures):
    drawn, state, _ = figures
    fig = drawn["feature_maps.png"]
    title = fig._suptitle.get_text()
    assert re.fullmatch(r"feature maps of test image 0 \(true class \d, predicted \d\)", title), title
    rows = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
    conv_weights = [v for k, v in state["model"].items() if k.endswith("weight") and v.ndim == 4]
    assert len(rows) == 2
    for row, weight in zip(rows, conv_weights):
        channels = weight.shape[0]
        assert row.startswith(f"conv {rows.index(row) + 1}: channels 1-{min(channels, 16)} of {channels}, "), row


def test_confusion_matrix_says_which_weights(figures):
    drawn, _, _ = figures
    (ax,) = drawn["confusion_matrix.png"].axes[:1]
    assert ax.get_title() == "test confusion matrix\nweights of epoch 3 (the last)"
