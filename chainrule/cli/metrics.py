"""Training metrics: running averages, the confusion matrix, and the atomically written metrics.csv."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import numpy as np

from .._io import atomic_write

# metrics.csv columns, in order; one row per finished epoch
COLUMNS = ("epoch", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "epoch_seconds",
           "images_per_second")


class RunningMean:
    """Sample-weighted means of the loss and the accuracy over the batches seen so far."""

    def __init__(self) -> None:
        self.count = 0
        self.loss_sum = 0.0
        self.correct = 0

    def update(self, loss: float, correct: int, n: int) -> None:
        self.count += n
        self.loss_sum += loss * n
        self.correct += correct

    @property
    def loss(self) -> float:
        return self.loss_sum / self.count if self.count else float("nan")

    @property
    def accuracy(self) -> float:
        return self.correct / self.count if self.count else float("nan")


def confusion_matrix(targets: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """``cm[i, j]`` = number of samples of true class i predicted as class j (int64)."""
    targets = np.asarray(targets, dtype=np.int64)
    predictions = np.asarray(predictions, dtype=np.int64)
    if targets.shape != predictions.shape:
        raise ValueError(f"targets and predictions differ in shape: {targets.shape} vs {predictions.shape}")
    flat = np.bincount(targets * num_classes + predictions, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def format_confusion_matrix(cm: np.ndarray, classes: Sequence[str]) -> str:
    """The matrix as aligned text: rows are true classes, columns predicted ones, labelled by index."""
    k = cm.shape[0]
    width = max(3, len(str(int(cm.max()))) + 1)
    lines = ["rows: true class, columns: predicted class"]
    lines.append(" " * 6 + "".join(f"{j:>{width}}" for j in range(k)))
    for i in range(k):
        lines.append(f"{i:>5} " + "".join(f"{int(v):>{width}}" for v in cm[i]))
    names = ", ".join(f"{i}={c}" for i, c in enumerate(classes))
    if any(c != str(i) for i, c in enumerate(classes)):
        lines.append(f"classes: {names}")
    return "\n".join(lines)


def _csv_text(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def metrics_csv_text(history: Sequence[dict]) -> str:
    """The text of metrics.csv: one row per epoch with the ``COLUMNS``; an empty cell where a value is missing."""
    rows = [[_cell(h.get(c)) for c in COLUMNS] for h in history]
    return _csv_text(COLUMNS, rows)


def write_metrics_csv(path: str, history: Sequence[dict]) -> None:
    """metrics.csv (``metrics_csv_text``), written atomically."""
    atomic_write(path, metrics_csv_text(history))


def write_confusion_csv(path: str, cm: np.ndarray, classes: Sequence[str]) -> None:
    """The confusion matrix as CSV: a header of predicted class names, one row per true class."""
    rows = [[classes[i]] + [int(v) for v in cm[i]] for i in range(cm.shape[0])]
    atomic_write(path, _csv_text(["true \\ predicted"] + list(classes), rows))
