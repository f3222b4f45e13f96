"""Loss functions (``chainrule.nn.functional.cross_entropy``, ``mse_loss`` ...).

Every loss is composed of differentiable operators (``log_softmax``, indexing, element-wise
arithmetic, ``softplus``), except binary cross-entropy, whose clamped logarithms get a node of
their own with a backward written in differentiable operators. Either way double backward works.

Reductions follow PyTorch: ``'none'`` keeps the element-wise losses, ``'sum'`` adds them,
``'mean'`` averages them; for ``nll_loss``/``cross_entropy`` with class weights the mean is the
weighted mean ``sum_i w[y_i] l_i / sum_i w[y_i]`` over the targets that are not ignored.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd.function import FunctionNode, named_output
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from ._util import check_tensor
from .activation import softplus
from .elementwise import abs as _abs
from .elementwise import clamp, exp, log, log1p, where
from .nll import NllLoss, NllTables
from .shape import broadcast_tensors, reshape
from .softmax import log_softmax

_REDUCTIONS = ("none", "mean", "sum")


# ---- helpers --------------------------------------------------------------------------------------
def _legacy_reduction(size_average, reduce) -> str:
    """PyTorch's deprecated ``size_average``/``reduce`` pair as a ``reduction`` string."""
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='mean' "
                  "(or 'sum'/'none') instead.", stacklevel=3)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _reduction_arg(reduction: str, size_average=None, reduce=None, allowed=_REDUCTIONS) -> str:
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in allowed:
        raise ValueError(f"{reduction} is not a valid value for reduction "
                         f"(expected one of {', '.join(repr(r) for r in allowed)})")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    return total / loss._data.size  # an empty input gives 0/0 = nan, as PyTorch


def _check_float_input(input: Tensor, fn: str) -> None:
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{fn}: expected a floating-point input (logits or log-probabilities), "
                           f"got {input.dtype}")


def _broadcast_pair(input: Tensor, target: Tensor, fn: str) -> tuple[Tensor, Tensor]:
    """PyTorch's regression losses warn on differently-shaped operands, then broadcast them."""
    check_tensor(input, fn, "input")
    check_tensor(target, fn, "target")
    if input.shape != target.shape:
        warnings.warn(
            f"Using a target size ({target.shape!r}) that is different to the input size "
            f"({input.shape!r}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.", stacklevel=3)
        input, target = broadcast_tensors(input, target)
    return input, target


def _same_shape(input: Tensor, target: Tensor, fn: str, message: str) -> None:
    check_tensor(input, fn, "input")
    check_tensor(target, fn, "target")
    if input.shape != target.shape:
        raise ValueError(message.format(t=repr(target.shape), i=repr(input.shape)))


# ---- regression losses ----------------------------------------------------------------------------
@named_output("MseLossBackward0")
def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Squared error ``l_i = (x_i - y_i)^2`` (times ``weight`` when given), then reduced."""
    reduction = _reduction_arg(reduction, size_average, reduce)
    input, target = _broadcast_pair(input, target, "mse_loss")
    d = input - target
    loss = d * d
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """Absolute error ``l_i = |x_i - y_i|`` (its gradient at a tie is 0, as PyTorch)."""
    reduction = _reduction_arg(reduction, size_average, reduce)
    input, target = _broadcast_pair(input, target, "l1_loss")
    loss = _abs(input - target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@named_output("SmoothL1LossBackward0")
def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``l_i = 0.5 d_i^2 / beta`` where ``|d_i| < beta``, else ``|d_i| - 0.5 beta`` (``d = x - y``).

    ``beta = 0`` is the L1 loss.
    """
    reduction = _reduction_arg(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta, got {beta}")
    input, target = _broadcast_pair(input, target, "smooth_l1_loss")
    d = input - target
    ad = _abs(d)
    if beta == 0:
        return _reduce(ad, reduction)
    quadratic = d * d * (0.5 / beta)
    linear = ad - 0.5 * beta
    return _reduce(where(ad < beta, quadratic, linear), reduction)


@named_output("HuberLossBackward0")
def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``l_i = 0.5 d_i^2`` where ``|d_i| < delta``, else ``delta (|d_i| - 0.5 delta)``.

    Equal to ``delta * smooth_l1_loss(beta=delta)``.
    """
    reduction = _reduction_arg(reduction)
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta, got {delta}")
    input, target = _broadcast_pair(input, target, "huber_loss")
    d = input - target
    ad = _abs(d)
    loss = where(ad < delta, d * d * 0.5, (ad - 0.5 * delta) * delta)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# ---- binary cross-entropy -------------------------------------------------------------------------
class BinaryCrossEntropy(FunctionNode):
    """``l = -(y max(log x, -100) + (1 - y) max(log(1 - x), -100))``, element-wise.

    The clamp at -100 keeps ``x = 0`` or ``1`` finite (PyTorch's choice). The input gradient is
    ``(x - y) / max(x (1 - x), 1e-12)``, the target gradient ``max(log(1-x), -100) - max(log x, -100)``.
    """

    def forward(self, x, y):
        xp = self.xp
        self.save_for_backward(x, y)
        lo = x.dtype.type(-100)
        with np.errstate(divide="ignore"):  # log(0) = -inf is clamped right away
            log_x = xp.maximum(xp.log(x), lo)
            log_1mx = xp.maximum(xp.log1p(-x), lo)
        return (y - 1) * log_1mx - y * log_x

    def backward(self, gy):
        x, y = self.saved_tensors
        nx, ny = self.needs_input_grad
        gx = gy * (x - y) / clamp(x * (1.0 - x), min=1e-12) if nx else None
        gt = None
        if ny:
            gt = gy * (clamp(log1p(-x), min=-100.0) - clamp(log(x), min=-100.0))
        return gx, gt


@named_output("BinaryCrossEntropyBackward0")
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``l_i = -w_i (y_i log x_i + (1 - y_i) log(1 - x_i))`` for probabilities ``x`` in [0, 1].

    The logarithms are clamped at -100. Prefer ``binary_cross_entropy_with_logits`` on logits:
    it is exact where ``sigmoid`` would round to 0 or 1.
    """
    reduction = _reduction_arg(reduction, size_average, reduce)
    _same_shape(input, target, "binary_cross_entropy",
                "Using a target size ({t}) that is different to the input size ({i}) is "
                "deprecated. Please ensure they have the same size.")
    _check_float_input(input, "binary_cross_entropy")
    x = input._data
    if x.size and not bool(((x >= 0) & (x <= 1)).all()):
        raise RuntimeError("all elements of input should be between 0 and 1 (binary_cross_entropy "
                           "takes probabilities; use binary_cross_entropy_with_logits for logits)")
    t = target._data
    if t.size and not bool(((t >= 0) & (t <= 1)).all()):
        raise RuntimeError("all elements of target should be between 0 and 1")
    if target._data.dtype != input._data.dtype:
        target = target.to(input.dtype)
    loss = BinaryCrossEntropy().apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@named_output("BinaryCrossEntropyWithLogitsBackward0")
def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """``l_i = w_i [p_c y_i log(1 + e^-x_i) + (1 - y_i) log(1 + e^x_i)]`` on logits ``x``.

    Written as ``(1 - y) x + (1 + (p - 1) y) softplus(-x)`` with ``softplus`` computed as
    ``max(z, 0) + log(1 + e^-|z|)``, which never overflows (logits of 1e4 are fine).
    ``pos_weight`` ``p`` weighs the positive term, broadcast along the last (class) dimension.
    """
    reduction = _reduction_arg(reduction, size_average, reduce)
    _same_shape(input, target, "binary_cross_entropy_with_logits",
                "Target size ({t}) must be the same as input size ({i})")
    _check_float_input(input, "binary_cross_entropy_with_logits")
    if target._data.dtype != input._data.dtype:
        target = target.to(input.dtype)
    # threshold=inf: the exact stable formula everywhere, with gradient sigmoid(z)
    sp = softplus(-input, threshold=float("inf"))
    if pos_weight is not None:
        sp = ((pos_weight - 1.0) * target + 1.0) * sp
    loss = (1.0 - target) * input + sp
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# ---- divergence ------------------------------------------------------------------------------------
def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence with ``input`` holding log-probabilities ``log q``.

    ``l_i = y_i (log y_i - x_i)`` (with ``0 log 0 = 0``), or ``e^{y_i} (y_i - x_i)`` when
    ``log_target``. ``reduction='batchmean'`` divides the sum by the batch size, which is the
    mathematical KL divergence; ``'mean'`` divides by the number of elements.
    """
    if reduction == "mean" and size_average is None and reduce is None:
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
            "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
            stacklevel=2)
    reduction = _reduction_arg(reduction, size_average, reduce,
                               allowed=("none", "batchmean", "sum", "mean"))
    check_tensor(input, "kl_div", "input")
    check_tensor(target, "kl_div", "target")
    if log_target:
        loss = exp(target) * (target - input)
    else:
        nonzero = target != 0  # an operator: a compiled graph makes the mask from each call's target
        safe = where(nonzero, target, 1.0)
        loss = where(nonzero, target * log(safe), 0.0) - target * input
    if reduction == "batchmean":
        batch = input.shape[0] if input.ndim else 1
        return loss.sum() / batch
    return _reduce(loss, reduction)


# ---- classification ---------------------------------------------------------------------------------
def _class_dim(input: Tensor) -> int:
    return 0 if input._data.ndim == 1 else 1


def _check_class_weight(weight: Tensor | None, n_classes: int) -> None:
    if weight is not None and (weight._data.ndim != 1 or weight.shape[0] != n_classes):
        raise RuntimeError(
            f"weight tensor should be defined either for all {n_classes} classes or no classes but "
            f"got weight tensor of shape: {list(weight.shape)}")


def _mean(total: Tensor, count) -> Tensor:
    """``total / count``; nan when ``count`` is 0 (PyTorch's 0/0), without a division warning."""
    return total * (1.0 / count if count else float("nan"))


def _check_index_target(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
                        fn: str) -> None:
    """Shapes, dtype and range of a class-index target; PyTorch's messages, with more detail."""
    nd = input._data.ndim
    if nd == 0:
        raise ValueError(f"{fn}: input must have at least one dimension (the classes), got a 0-d tensor")
    if target._data.dtype.kind not in "iu" or target._data.dtype not in (np.int64, np.uint8):
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {target.dtype} ({fn} takes int64 "
            "class indices, or a floating-point target of class probabilities with the input's "
            f"shape {list(input.shape)})")
    if nd == 1:
        if target._data.ndim != 0:
            raise ValueError(f"{fn}: for an unbatched input of shape {list(input.shape)} the target "
                             f"must be a 0-d class index, got shape {list(target.shape)}")
    else:
        n = input.shape[0]
        if target._data.ndim == 0 or target.shape[0] != n:
            got = target.shape[0] if target._data.ndim else "a 0-d tensor"
            raise ValueError(f"Expected input batch_size ({n}) to match target batch_size ({got}).")
        expected = (n,) + tuple(input.shape[2:])
        if tuple(target.shape) != expected:
            if nd == 2:
                raise RuntimeError(
                    f"0D or 1D target tensor expected, multi-target not supported (input shape "
                    f"{list(input.shape)}, target shape {list(target.shape)})")
            raise RuntimeError(f"Expected target size {list(expected)}, got {list(target.shape)}")
    _check_class_weight(weight, input.shape[_class_dim(input)])
    if weight is not None and weight.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument 'weight'. "
                           "This input cannot have requires_grad True.")
    # the range of the target's values is checked by the operator (nll.target_tables), on every call


def _nll_name(logp: Tensor, target, weight, ignore_index, reduction, label_smoothing: float = 0.0,
              fn: str = "") -> str | None:
    """PyTorch's node: nll_loss2d for (N, C, d1[, d2]) input; with smoothing, the sum of the two
    terms is last, whatever the reduction."""
    if label_smoothing:
        return "AddBackward0"
    return "NllLoss2DBackward0" if logp.ndim in (3, 4) else "NllLossBackward0"


@named_output(_nll_name)
def _nll(logp: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int, reduction: str,
         label_smoothing: float = 0.0, fn: str = "nll_loss") -> Tensor:
    """Negative log-likelihood of class indices on batched log-probabilities (N, C, d...).

    ``l_i = -w[y_i] logp[i, y_i]`` (0 where ``y_i == ignore_index``); ``'mean'`` divides by
    ``sum_i w[y_i]`` over the kept targets: one operator, ``nll.NllLoss``. With label smoothing
    ``e`` the loss is ``(1 - e) l_i + (e / C) sum_c -w_c logp[i, c]``, reduced the same way.
    """
    weights = [] if weight is None else [weight]
    if not label_smoothing:
        return NllLoss(ignore_index, reduction, fn).apply(logp, target, *weights)
    # every value that depends on the target comes from an operator, so a compiled graph replays it
    n_classes = logp.shape[1]
    loss = NllLoss(ignore_index, "none", fn).apply(logp, target, *weights)
    keep, scale = NllTables(ignore_index, n_classes, logp._data.dtype, fn).apply(target, *weights)
    if weight is not None:
        w = weight if weight.dtype == logp.dtype else weight.to(logp.dtype)
        smooth = -(logp * reshape(w, (1, n_classes) + (1,) * (logp.ndim - 2))).sum(1)
    else:
        smooth = -logp.sum(1)
    loss = loss * (1.0 - label_smoothing) + (smooth * keep) * (label_smoothing / n_classes)
    if reduction == "none":
        return loss
    total = loss.sum()
    return total if reduction == "sum" else total * scale  # all targets ignored: nan


def _batched(input: Tensor, target: Tensor) -> tuple[Tensor, Tensor, bool]:
    """Unbatched (C,) input with a 0-d target becomes a batch of one."""
    if input._data.ndim == 1:
        return reshape(input, (1, input.shape[0])), reshape(target, (1,) + tuple(target.shape)), True
    return input, target, False


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood ``l_i = -w[y_i] input[i, y_i]`` of log-probabilities ``input``.

    ``input`` is (C,), (N, C) or (N, C, d1, ...); ``target`` holds int64 class indices of shape
    (), (N,) or (N, d1, ...). ``'mean'`` is the weighted mean ``sum_i l_i / sum_i w[y_i]``;
    targets equal to ``ignore_index`` contribute to neither sum.
    """
    reduction = _reduction_arg(reduction, size_average, reduce)
    check_tensor(input, "nll_loss", "input")
    check_tensor(target, "nll_loss", "target")
    _check_float_input(input, "nll_loss")
    _check_index_target(input, target, weight, ignore_index, "nll_loss")
    x, t, unbatched = _batched(input, target)
    loss = _nll(x, t, weight, ignore_index, reduction)
    return reshape(loss, ()) if unbatched and reduction == "none" else loss


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits: ``nll_loss(log_softmax(input, class_dim), target)``.

    Class-index targets: ``l_i = -w[y_i] log softmax(x_i)[y_i]`` with ``ignore_index`` and the
    weighted mean, as ``nll_loss``. Class-probability targets (float, the input's shape):
    ``l_i = -sum_c w_c y_ic log softmax(x_i)_c``, ``'mean'`` dividing by the batch size (times the
    extra dimensions). ``label_smoothing`` ``e`` mixes the target with the uniform distribution:
    ``(1 - e) y + e / C``. ``log_softmax`` subtracts the maximum first, so logits of any magnitude
    give finite losses and gradients.
    """
    reduction = _reduction_arg(reduction, size_average, reduce)
    check_tensor(input, "cross_entropy", "input")
    check_tensor(target, "cross_entropy", "target")
    _check_float_input(input, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if target._data.dtype.kind == "f":
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing)
    _check_index_target(input, target, weight, ignore_index, "cross_entropy")
    x, t, unbatched = _batched(input, target)
    loss = _nll(log_softmax(x, 1), t, weight, ignore_index, reduction, label_smoothing, "cross_entropy")
    return reshape(loss, ()) if unbatched and reduction == "none" else loss


def _cross_entropy_probs(input: Tensor, target: Tensor, weight, reduction: str,
                         label_smoothing: float) -> Tensor:
    if target.shape != input.shape:
        raise RuntimeError(
            f"cross_entropy: a floating-point target holds class probabilities and must have the "
            f"input's shape {list(input.shape)}, got {list(target.shape)} (for class indices use an "
            "int64 target)")
    if target._data.dtype != input._data.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype} but found {target.dtype} "
                           "(cross_entropy: the probability target must have the input's dtype)")
    cdim = _class_dim(input)
    n_classes = input.shape[cdim]
    _check_class_weight(weight, n_classes)
    logp = log_softmax(input, cdim)
    if label_smoothing > 0:
        target = target * (1.0 - label_smoothing) + label_smoothing / n_classes
    prod = logp * target
    if weight is not None:
        wshape = [1] * input.ndim
        wshape[cdim] = n_classes
        prod = prod * reshape(weight, tuple(wshape))
    if reduction == "none":
        return -prod.sum(cdim)
    total = -prod.sum()
    if reduction == "sum":
        return total
    return _mean(total, input._data.size // n_classes if n_classes else 0)


__all__ = [
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "nll_loss", "cross_entropy",
]

TENSOR_METHODS: list[str] = []
