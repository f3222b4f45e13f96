"""``chainrule demo`` (what ``make demo`` runs): train the digits CNN and show where everything went.

The same job as ``chainrule train --model digits_cnn --data digits --out runs/demo``: scikit-learn's
8x8 digits need no download, and the defaults reach about 98% test accuracy in seconds on a CPU.
Without ``--out``, a ``runs/demo`` that holds an earlier demo run is kept and the new run goes to
``runs/demo-2`` (then ``-3`` ...): running the demo twice never loses the first run.
"""

from __future__ import annotations

import argparse
import os

from .train import add_train_arguments
from .train import run as run_train

DEMO_OUT = os.path.join("runs", "demo")


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "demo", help="the main job: train a small CNN on the 8x8 digits (writes runs/demo/)",
        description="Train the LeNet-style digits CNN on scikit-learn's 8x8 digits: one line per epoch, a test "
                    "report with a confusion matrix, checkpoints, metrics.csv and plots in runs/demo/ (runs/demo-2/ "
                    "... when runs/demo holds an earlier run). Takes every option of 'chainrule train'.")
    # one BLAS thread: the 8x8 images make matrices too small to split, and on a busy machine idle
    # BLAS threads spin and slow the run down several times (measured: 19 s instead of 5 s)
    add_train_arguments(p, model="digits_cnn", data="digits", threads=1,
                        out_help=f"output directory [{DEMO_OUT}, or {DEMO_OUT}-2, -3 ... when it holds an earlier run]")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    print("chainrule demo: a LeNet-style CNN learns to read 8x8 handwritten digits (scikit-learn's copy of the "
          "UCI set)")
    status = run_train(args, default_out=DEMO_OUT, number_out=True)
    if status == 0:
        out = args.run_dir
        checkpoint = os.path.join(out, "checkpoint.safetensors")
        if args.plots:
            print(f"plots: {os.path.join(out, 'curves.png')} (loss, learning rate and accuracy), filters.png, "
                  "feature_maps.png, confusion_matrix.png")
        print(f"model: {checkpoint} (python -m chainrule evaluate --checkpoint {checkpoint})")
    return status
