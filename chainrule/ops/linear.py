"""Affine maps: ``linear`` (y = x W^T + b) and ``bilinear`` (y_k = x1^T A_k x2 + b_k).

``linear`` is one node so that its gradients are three 2-D matrix products whatever the number
of leading dimensions (a broadcast ``matmul`` would build a per-sample weight gradient first);
its input and weight gradients together are one node, ``LinearGrad`` (the paired product, whose
backward is differentiable), so first and higher derivatives run the same code.
"""

from __future__ import annotations

from .. import kernels
from ..autograd.function import FunctionNode
from ..tensor import Tensor
from ._util import check_tensor
from .linalg import matmul
from .reduction import sum as _sum
from .shape import permute, reshape, transpose


class Linear(FunctionNode):
    """y = x W^T (+ b), x of shape (..., in), W (out, in), b (out,)."""

    @property
    def torch_name(self) -> str:  # PyTorch: addmm (or mm) on 2-D input, on a view of other ranks
        if self.ndim == 2:
            return "AddmmBackward0" if len(self.next_functions) == 3 else "MmBackward0"
        if len(self.next_functions) == 3:
            return "ViewBackward0"
        return "UnsafeViewBackward0" if self.ndim > 2 else "SqueezeBackward4"

    def forward(self, x, w, b=None, out=None):
        """``out``: an array the result may be written into (a compiled schedule's buffer)."""
        self.save_for_backward(x, w)
        self.ndim = x.ndim
        y = kernels.call("matmul", "matmul", self.xp, x, w.T, out=out)
        if b is not None:
            y += b
        return y

    def backward(self, gy):
        x, w = self.saved_tensors
        needs = self.needs_input_grad
        need_b = len(needs) > 2 and needs[2]
        out_f, in_f = w.shape
        gx = gw = gb = None
        if needs[0] and needs[1]:
            gx, gw = LinearGrad().apply(gy, x, w)
        elif needs[0]:
            gx = matmul(gy, w)  # dL/dx = gy W
        elif needs[1]:
            gw = matmul(transpose(reshape(gy, (-1, out_f)), 0, 1), reshape(x, (-1, in_f)))  # dL/dW = gy^T x
        if need_b:
            gb = _sum(reshape(gy, (-1, out_f)), 0)  # dL/db = sum of gy over all leading positions
        return (gx, gw) if len(needs) == 2 else (gx, gw, gb)


class LinearGrad(FunctionNode):
    """Both gradients of ``Linear`` from the output gradient: ``gx = gy W`` and ``gw = gy^T x``
    (summed over every leading position), one node for every order of derivative.

    The forward is the paired product of the ``matmul`` kernels (both products at once); the
    node is bilinear, so its backward is again products, written with differentiable operators:
    for cotangents (ggx, ggw), ``d gy = ggx W^T + x ggw^T``, ``d x = gy ggw``, ``d W = gy^T ggx``.
    """

    def forward(self, gy, x, w):
        self.save_for_backward(gy, x, w)
        out_f, in_f = w.shape
        gy2 = self.xp.ascontiguousarray(gy).reshape(-1, out_f)
        gx2, gw = kernels.call("matmul", "matmul_pair", self.xp, gy2, w, gy2.T, x.reshape(-1, in_f))
        return gx2.reshape(tuple(gy.shape[:-1]) + (in_f,)), gw

    def backward(self, ggx, ggw):
        gy, x, w = self.saved_tensors
        needs = self.needs_input_grad
        out_f, in_f = w.shape
        gy2 = reshape(gy, (-1, out_f))
        d_gy = d_x = d_w = None
        if needs[0]:
            d_gy = matmul(ggx, transpose(w, 0, 1)) + matmul(x, transpose(ggw, 0, 1))
        if needs[1]:
            d_x = matmul(gy, ggw)
        if needs[2]:
            d_w = matmul(transpose(gy2, 0, 1), reshape(ggx, (-1, in_f)))
        return d_gy, d_x, d_w


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b for x of shape (..., in_features), W (out_features, in_features), b (out_features,).

    Gradients: dx = gy W, dW = sum over leading positions of gy^T x, db = sum of gy.
    """
    check_tensor(input, "linear")
    check_tensor(weight, "linear", "weight")
    if weight.ndim != 2:
        raise RuntimeError(f"linear: weight must be 2-D (out_features, in_features), got shape {list(weight.shape)}")
    if input.ndim == 0:
        raise RuntimeError("linear: input must have at least 1 dimension, got a 0-d tensor")
    if input.shape[-1] != weight.shape[1]:
        raise RuntimeError(
            f"linear: input's last dimension ({input.shape[-1]}) must equal weight's in_features "
            f"({weight.shape[1]}); got input shape {list(input.shape)} and weight shape {list(weight.shape)}")
    if input.dtype is not weight.dtype:
        raise RuntimeError(
            f"linear: input and weight must have the same dtype, but got {input.dtype} and {weight.dtype}")
    if bias is None:
        return Linear().apply(input, weight)
    check_tensor(bias, "linear", "bias")
    if tuple(bias.shape) != (weight.shape[0],) and bias.numel() != 1:
        raise RuntimeError(
            f"linear: bias must have shape [{weight.shape[0]}] (out_features), got {list(bias.shape)}")
    if bias.dtype is not weight.dtype:
        raise RuntimeError(f"linear: bias and weight must have the same dtype, but got {bias.dtype} and {weight.dtype}")
    if bias.numel() == 1 and bias.ndim != 1:
        bias = reshape(bias, (1,))
    return Linear().apply(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_k = sum_ij x1_i A_kij x2_j + b_k for x1 (..., in1), x2 (..., in2), A (out, in1, in2).

    Computed as t = x1 reshape(A^(in1, out*in2)) then y = sum_j t_kj x2_j, two differentiable
    products, so every derivative (of any order) follows.
    """
    for t, name in ((input1, "input1"), (input2, "input2"), (weight, "weight")):
        check_tensor(t, "bilinear", name)
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear: weight must be 3-D (out, in1, in2), got shape {list(weight.shape)}")
    out_f, in1, in2 = weight.shape
    if input1.shape[-1] != in1 or input2.shape[-1] != in2:
        raise RuntimeError(
            f"bilinear: expected inputs with last dimensions {in1} and {in2}, got shapes "
            f"{list(input1.shape)} and {list(input2.shape)}")
    if tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError(
            f"bilinear: input1 and input2 must have the same leading dimensions, got {list(input1.shape)} "
            f"and {list(input2.shape)}")
    lead = tuple(input1.shape[:-1])
    x1 = reshape(input1, (-1, in1))
    x2 = reshape(input2, (-1, 1, in2))
    a = reshape(permute(weight, (1, 0, 2)), (in1, out_f * in2))
    t = reshape(matmul(x1, a), (-1, out_f, in2))
    y = _sum(t * x2, -1)
    if bias is not None:
        check_tensor(bias, "bilinear", "bias")
        if tuple(bias.shape) != (out_f,):
            raise RuntimeError(f"bilinear: bias must have shape [{out_f}], got {list(bias.shape)}")
        y = y + bias
    return reshape(y, lead + (out_f,))


__all__ = ["bilinear"]  # torch.bilinear is top-level; linear lives in nn.functional only

TENSOR_METHODS: list[str] = []
