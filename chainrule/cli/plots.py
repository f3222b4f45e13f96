"""PNG plots of a run, drawn with matplotlib's Agg renderer (no display, no pyplot global state).

curves.png (loss, learning rate and accuracy per epoch), filters.png (the first layer's filters),
feature_maps.png (what the first convolution layers make of one image) and confusion_matrix.png.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np

from .. import nn
from .._io import atomic_write
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # heavy: imported only when plotting
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=80)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: str) -> str:
    buf = io.BytesIO()  # render in memory, then write atomically: no half-written PNG on a crash
    fig.savefig(buf, format="png")
    return atomic_write(path, buf.getvalue())


def plot_curves(history: Sequence[dict], path: str, best_epoch: int | None = None) -> str:
    """Train and validation loss (left, with the learning rate on a second axis) and accuracy (right)
    against the epoch: whole-epoch ticks, the best epoch marked by a dotted line."""
    from matplotlib.ticker import MaxNLocator

    fig = _figure(8.8, 3.4)
    ax_loss, ax_acc = fig.subplots(1, 2)
    epochs = [h["epoch"] for h in history]
    for split, style in (("train", "-o"), ("val", "--s")):
        loss = [h.get(f"{split}_loss") for h in history]
        acc = [h.get(f"{split}_accuracy") for h in history]
        if any(v is not None for v in loss):
            ax_loss.plot(epochs, [np.nan if v is None else v for v in loss], style, ms=3, label=f"{split} loss")
            ax_acc.plot(epochs, [np.nan if v is None else 100 * v for v in acc], style, ms=3, label=split)
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss (left axis) and learning rate (right)")
    ax_loss.set_yscale("log")
    ax_acc.set(xlabel="epoch", ylabel="%", title="accuracy")
    ax_lr = ax_loss.twinx()
    ax_lr.plot(epochs, [h.get("lr") for h in history], ":", color="tab:gray", label="lr")
    ax_lr.set_ylabel("learning rate (at the epoch's start)", fontsize=8)
    ax_lr.set_ylim(bottom=0)
    ax_lr.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if best_epoch is not None:
            ax.axvline(best_epoch, color="tab:green", ls=":", lw=1.2, label=f"best (epoch {best_epoch})")
    lines, labels = ax_loss.get_legend_handles_labels()
    lr_lines, lr_labels = ax_lr.get_legend_handles_labels()
    ax_loss.legend(lines + lr_lines, labels + lr_labels, fontsize=7)
    ax_acc.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def _first_layer(model: nn.Module) -> nn.Module | None:
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            return m
    return None


def _layer_weight(layer: nn.Module) -> np.ndarray:
    standardized = getattr(layer, "standardized_weight", None)  # WSConv2d: the weight actually used
    with no_grad():
        w = standardized() if callable(standardized) else layer.weight
    return w.detach().numpy()


def _grid(n: int) -> tuple[int, int]:
    cols = min(n, 8)
    return math.ceil(n / cols), cols


def _image(a: np.ndarray) -> tuple[np.ndarray, str | None]:
    """A (C, H, W) array ready for imshow: RGB for three channels (scaled to [0, 1]), else channel 0."""
    if a.shape[0] == 3:
        lo, hi = a.min(), a.max()
        return np.transpose((a - lo) / (hi - lo + 1e-12), (1, 2, 0)), None
    return a[0], "gray"


def plot_filters(model: nn.Module, path: str, input_shape: tuple[int, int, int], max_filters: int = 32) -> str | None:
    """The first layer's filters: conv kernels, or a Linear layer's rows seen as images."""
    layer = _first_layer(model)
    if layer is None:
        return None
    w = _layer_weight(layer)
    if isinstance(layer, nn.Linear):
        if w.shape[1] != int(np.prod(input_shape)):
            return None
        w = w.reshape((w.shape[0],) + tuple(input_shape))
    w = w[:max_filters]
    rows, cols = _grid(w.shape[0])
    fig = _figure(1.1 * cols, 1.1 * rows + 0.4)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for k, ax in enumerate(axes):
        ax.axis("off")
        if k < w.shape[0]:
            img, cmap = _image(w[k])
            ax.imshow(img, cmap=cmap, interpolation="nearest")
    kind = "kernels" if isinstance(layer, nn.Conv2d) else "weights of the first hidden units"
    fig.suptitle(f"first-layer {kind} ({w.shape[0]} shown)", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def plot_feature_maps(model: nn.Module, image: Tensor, path: str, true_class: str = "",
                      classes: Sequence[str] | None = None, max_layers: int = 2, max_maps: int = 16) -> str | None:
    """One input image and the outputs of the first ``max_layers`` convolutions on it (eval mode):
    each row says which channels of how many it shows; the title gives the true and predicted class."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)][:max_layers]
    if not convs:
        return None
    captured: list[np.ndarray] = []
    handles = [c.register_forward_hook(lambda mod, inp, out: captured.append(out.detach().numpy()[0]))
               for c in convs]
    model.eval()
    try:
        with no_grad():
            logits = model(image.unsqueeze(0))
    finally:
        for h in handles:
            h.remove()
    predicted = int(logits.numpy()[0].argmax())
    predicted_name = classes[predicted] if classes is not None and predicted < len(classes) else str(predicted)
    rows = 1 + sum(_grid(min(m.shape[0], max_maps))[0] for m in captured)
    fig = _figure(8.8, 1.15 * rows + 0.6)
    grid = fig.add_gridspec(rows, 8)
    ax = fig.add_subplot(grid[0, 0])
    img, cmap = _image(image.numpy())
    ax.imshow(img, cmap=cmap, interpolation="nearest")
    ax.set_title("input", fontsize=8)
    ax.axis("off")
    row = 1
    for i, all_maps in enumerate(captured):
        maps = all_maps[:max_maps]
        r, cols = _grid(maps.shape[0])
        for k in range(maps.shape[0]):
            ax = fig.add_subplot(grid[row + k // cols, k % cols])
            ax.imshow(maps[k], cmap="viridis", interpolation="nearest")
            ax.axis("off")
            if k == 0:
                ax.set_title(f"conv {i + 1}: channels 1-{maps.shape[0]} of {all_maps.shape[0]}, "
                             f"{maps.shape[1]}x{maps.shape[2]}", fontsize=8, loc="left")
        row += r
    truth = f"true class {true_class}, " if true_class else ""
    fig.suptitle(f"feature maps of test image 0 ({truth}predicted {predicted_name})", fontsize=9)
    return _save(fig, path)


def plot_confusion(cm: np.ndarray, classes: Sequence[str], path: str, weights: str = "") -> str:
    """The confusion matrix as a heat map with the counts written in; ``weights`` says which made it."""
    k = cm.shape[0]
    fig = _figure(0.45 * k + 2.2, 0.45 * k + 1.6)
    ax = fig.subplots()
    ax.imshow(cm, cmap="Blues")
    for i in range(k):
        for j in range(k):
            if cm[i, j]:
                ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=7,
                        color="white" if cm[i, j] > cm.max() / 2 else "black")
    ticks = list(range(k))
    short = [c if len(c) <= 8 else c[:7] + "." for c in classes]
    ax.set_xticks(ticks, short, rotation=90 if max(map(len, short)) > 2 else 0, fontsize=7)
    ax.set_yticks(ticks, short, fontsize=7)
    ax.set(xlabel="predicted", ylabel="true")
    ax.set_title("test confusion matrix" + (f"\n{weights}" if weights else ""), fontsize=9)
    fig.tight_layout()
    return _save(fig, path)
