"""Every optimiser the command offers builds the optimiser of that name and trains."""

from __future__ import annotations

import pytest

from chainrule import nn, optim
from chainrule.cli.trainer import DEFAULT_LR, OPTIMIZERS, build_optimizer

from .helpers import SMALL, run_cli

CLASSES = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop,
           "adagrad": optim.Adagrad, "adadelta": optim.Adadelta, "adamax": optim.Adamax, "nadam": optim.NAdam,
           "radam": optim.RAdam, "asgd": optim.ASGD}


def test_the_choices_are_the_training_loop_optimisers():
    assert set(OPTIMIZERS) == set(CLASSES)  # not LBFGS: its step needs a closure


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_build_optimizer_gives_the_named_class_with_its_default_lr(name):
    opt = build_optimizer(name, nn.Linear(2, 2).parameters(), lr=DEFAULT_LR[name], weight_decay=1e-4)
    assert type(opt) is CLASSES[name]
    assert opt.param_groups[0]["lr"] == DEFAULT_LR[name] and opt.param_groups[0]["weight_decay"] == 1e-4


@pytest.mark.parametrize("name", ["nadam", "asgd"])
def test_a_new_optimiser_trains_from_the_command(tmp_path, capsys, name):
    status, out, err = run_cli(capsys, "train", *SMALL, "--epochs", "1", "--optimizer", name,
                               "--no-plots", "--out", str(tmp_path / name))
    assert status == 0, err
    assert f"{name} lr {DEFAULT_LR[name]:g}" in out
