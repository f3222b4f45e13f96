"""Matrix products: matmul (batched, broadcasting), its named special cases, addmm and einsum.

The gradients of a product are products again: for C = A B, dA = dC B^T and dB = A^T dC; for
einsum, the gradient of each operand is an einsum of the output gradient with the other operands.
"""

from __future__ import annotations

import math
import string

from .. import backend, kernels
from ..autograd.function import FunctionNode, named_output
from ..kernels.tables import size_only
from ..tensor import Tensor
from ._util import binary_operands, check_tensor, torch_type_name
from .elementwise import where
from .shape import broadcast_to, reshape, transpose

_MATMUL_NAMES = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (1, 2): "SqueezeBackward4",
                 (2, 2): "MmBackward0"}


class Matmul(FunctionNode):
    """``a @ b`` with NumPy/PyTorch semantics for 1-D operands and broadcast batch dimensions."""

    @property
    def torch_name(self) -> str:  # PyTorch dispatches matmul by the operands' ranks
        return _MATMUL_NAMES.get(self.ndims, "UnsafeViewBackward0")

    def forward(self, a, b):
        self.save_for_backward(a, b)
        self.ndims = (a.ndim, b.ndim)
        return kernels.call("matmul", "matmul", self.xp, a, b)

    def backward(self, gy):
        a, b = self.saved_tensors
        na, nb = self.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:
            return (gy * b if na else None), (gy * a if nb else None)
        a2 = reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
        b2 = reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
        g2 = gy
        if a.ndim == 1:
            g2 = reshape(g2, g2.shape[:-1] + (1, g2.shape[-1]))
        if b.ndim == 1:
            g2 = reshape(g2, tuple(g2.shape) + (1,))
        ga = gb = None
        if na:
            ga = matmul(g2, transpose(b2, -1, -2))
            if a.ndim == 1:
                ga = reshape(ga, ga.shape[:-2] + (ga.shape[-1],))
        if nb:
            if b.ndim <= 2 < a2.ndim:
                # fold the batch into the rows: one GEMM instead of a batch of them summed later
                k, m = a2.shape[-1], g2.shape[-1]
                gb = matmul(transpose(reshape(a2, (-1, k)), 0, 1), reshape(g2, (-1, m)))
            else:
                gb = matmul(transpose(a2, -1, -2), g2)
            if b.ndim == 1:
                gb = reshape(gb, gb.shape[:-1])
        return ga, gb


def _same_dtype(a: Tensor, b: Tensor) -> None:
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{torch_type_name(a).lower()} != {torch_type_name(b).lower()}")


def _dot_size_error(a: Tensor, b: Tensor) -> RuntimeError:
    n, m = a.shape[0], b.shape[0]
    return RuntimeError(
        f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same number of "
        f"elements, but got {n} and {m} elements respectively")


def _mv_size_error(a: Tensor, b: Tensor) -> RuntimeError:
    rows = math.prod(a.shape[:-1])
    return RuntimeError(
        f"size mismatch, got input ({rows}), mat ({rows}x{a.shape[-1]}), vec ({b.shape[0]})")


def _mm_size_error(a: tuple, b: tuple) -> RuntimeError:
    """PyTorch's message, with the leading dimensions of ``a`` folded into its rows."""
    return RuntimeError(
        f"mat1 and mat2 shapes cannot be multiplied ({math.prod(a[:-1])}x{a[-1]} and {b[-2]}x{b[-1]})")


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product; 1-D operands are promoted to row/column vectors and batch dims broadcast.

    (A B)_ij = sum_k A_ik B_kj, batched over the broadcast leading dimensions.
    """
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        _same_dtype(input, other)
    a, b = binary_operands(input, other)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        if b.ndim == 1:
            raise _dot_size_error(a, b) if a.ndim == 1 else _mv_size_error(a, b)
        if b.ndim == 2:
            raise _mm_size_error(tuple(a.shape), tuple(b.shape))
        raise RuntimeError(
            f"matmul: the last dimension of input ({ka}) must match the second-to-last dimension of "
            f"other ({kb}); got shapes {list(a.shape)} and {list(b.shape)}")
    try:
        return Matmul().apply(a, b)
    except ValueError:
        raise RuntimeError(
            f"matmul: batch dimensions of shapes {list(a.shape)} and {list(b.shape)} cannot be "
            "broadcast") from None


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Product of two matrices (n x m) @ (m x p) -> (n x p); no broadcasting."""
    a, b = check_tensor(input, "mm"), check_tensor(mat2, "mm", "mat2")
    if a.ndim != 2:
        raise RuntimeError(f"self must be a matrix, got {a.ndim}-D tensor")
    if b.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {b.ndim}-D tensor")
    if a.shape[1] != b.shape[0]:
        raise _mm_size_error(tuple(a.shape), tuple(b.shape))
    _same_dtype(a, b)
    return Matmul().apply(a, b)


@named_output("BmmBackward0")
def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product (b x n x m) @ (b x m x p) -> (b x n x p); no broadcasting."""
    a, b = check_tensor(input, "bmm"), check_tensor(mat2, "bmm", "mat2")
    if a.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor, got {a.ndim}-D tensor of shape {list(a.shape)}")
    if b.ndim != 3:
        raise RuntimeError(f"batch2 must be a 3D tensor, got {b.ndim}-D tensor of shape {list(b.shape)}")
    if b.shape[0] != a.shape[0] or b.shape[1] != a.shape[2]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, {a.shape[2]}] "
            f"but got: [{b.shape[0]}, {b.shape[1]}] (batch1 {list(a.shape)}, batch2 {list(b.shape)}).")
    _same_dtype(a, b)
    return Matmul().apply(a, b)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product (n x m) @ (m) -> (n)."""
    a, b = check_tensor(input, "mv"), check_tensor(vec, "mv", "vec")
    if a.ndim != 2 or b.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {a.ndim}, {b.ndim}")
    if a.shape[1] != b.shape[0]:
        raise _mv_size_error(a, b)
    _same_dtype(a, b)
    return Matmul().apply(a, b)


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """Inner product sum_i a_i b_i of two 1-D tensors of the same size."""
    a, b = check_tensor(input, "dot"), check_tensor(tensor, "dot", "tensor")
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise _dot_size_error(a, b)
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found {torch_type_name(a)} and {torch_type_name(b)}")
    return Matmul().apply(a, b)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product (a b^T)_ij = a_i b_j of two 1-D tensors."""
    a, b = check_tensor(input, "outer"), check_tensor(vec2, "outer", "vec2")
    for what, t in (("self", a), ("vec2", b)):
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {what}, but got {t.ndim}-D")
    return reshape(a, (a.shape[0], 1)) * reshape(b, (1, b.shape[0]))


ger = outer


@named_output("AddmmBackward0")
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2); ``input`` broadcasts and is ignored when beta == 0."""
    out = mm(mat1, mat2)
    check_tensor(input, "addmm")
    if alpha != 1:
        out = out * alpha
    if beta == 0:
        # input's values (NaN included) are ignored, but it stays in the graph with a zero
        # gradient, as in PyTorch
        skip = size_only(backend.array_module(input._data).zeros((), dtype=bool))  # a constant of a compiled graph
        return out + broadcast_to(where(skip, input, 0.0), out.shape)
    return out + (input if beta == 1 else input * beta)


# ---- einsum ----------------------------------------------------------------------------------------
_LETTERS = string.ascii_letters


class Einsum(FunctionNode):
    """out = einsum(terms -> out) over operands whose dimensions already agree (no size-1 broadcasting).

    The gradient of operand k is an einsum of the output gradient with the other operands; labels
    summed only inside operand k come back through a ones vector, and labels repeated in operand
    k (diagonals) through an identity matrix. Both are built from sizes alone and marked so
    (``size_only``): a recorded backward schedule keeps them as constants.
    """

    def __init__(self, terms: tuple, out: str, sizes: dict):
        self.terms, self.out, self.sizes = terms, out, sizes

    def equation(self) -> str:
        return ",".join(self.terms) + "->" + self.out

    def forward(self, *arrays):
        xp = self.xp
        self.save_for_backward(*arrays)
        y = xp.einsum(self.equation(), *arrays, optimize=len(arrays) > 1)
        # single-operand equations (transposes, diagonals) may return a view of the input
        if any(xp.may_share_memory(y, a) for a in arrays):
            y = y.copy()
        return xp.asarray(y)

    def backward(self, gy):
        operands = self.saved_tensors
        return tuple(self._grad(k, gy, operands) if need else None
                     for k, need in enumerate(self.needs_input_grad))

    def _grad(self, k: int, gy: Tensor, operands: tuple) -> Tensor:
        xp = self.xp
        dt = gy._data.dtype
        used = set(self.out).union(*self.terms)
        fresh = (c for c in _LETTERS if c not in used)
        term = self.terms[k]
        others = [j for j in range(len(self.terms)) if j != k]
        available = set(self.out).union(*(self.terms[j] for j in others))
        target, seen = [], set()
        terms, ops = [self.out] + [self.terms[j] for j in others], [gy] + [operands[j] for j in others]
        sizes = dict(self.sizes)
        for label in term:
            if label not in seen:
                seen.add(label)
                target.append(label)
                if label not in available:  # summed only inside operand k: its gradient is constant along it
                    terms.append(label)
                    ops.append(Tensor._make(size_only(xp.ones(self.sizes[label], dtype=dt))))
                continue
            twin = next(fresh)  # a repeated label reads a diagonal: write back onto it
            sizes[twin] = self.sizes[label]
            target.append(twin)
            terms.append(label + twin)
            ops.append(Tensor._make(size_only(xp.eye(self.sizes[label], dtype=dt))))
        return Einsum(tuple(terms), "".join(target), sizes).apply(*ops)


def _einsum_error(msg: str) -> RuntimeError:
    return RuntimeError("einsum(): " + msg)


def _split_terms(equation: str, n_operands: int) -> tuple[list, str | None]:
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > n_operands:
        raise _einsum_error("fewer operands were provided than specified in the equation")
    if len(terms) < n_operands:
        raise _einsum_error("more operands were provided than specified in the equation")
    pos = 0
    for i, t in enumerate(terms + ([rhs] if arrow else [])):
        rest = t.replace("...", "", 1)
        if "." in rest:
            raise _einsum_error(f"found '.' for operand {i} that is not part of any ellipsis")
        for c in rest:
            if c not in _LETTERS:
                raise _einsum_error(f"invalid subscript given at index {eq.index(c, pos)} in the equation "
                                    "string, subscripts must be in [a-zA-Z]")
        pos += len(t) + 1
    return terms, (rhs if arrow else None)


def _parse_einsum(equation: str, shapes: list) -> tuple[tuple, str, dict]:
    """Expand ``...`` into fresh labels and check sizes: (terms, output labels, label -> size)."""
    terms, rhs = _split_terms(equation, len(shapes))
    used = set(equation)
    fresh = [c for c in _LETTERS if c not in used]
    n_ell = 0
    for i, (t, s) in enumerate(zip(terms, shapes)):
        n_lab = len(t.replace("...", ""))
        if "..." in t:
            n_ell = max(n_ell, len(s) - n_lab)
            if len(s) < n_lab:
                raise _einsum_error(f"the number of subscripts in the equation ({n_lab}) is more than the "
                                    f"number of dimensions ({len(s)}) for operand {i}")
        elif n_lab != len(s):
            raise _einsum_error(f"the number of subscripts in the equation ({n_lab}) does not match the "
                                f"number of dimensions ({len(s)}) for operand {i} and no ellipsis was given")
    if n_ell > len(fresh):
        raise _einsum_error("too many dimensions under the ellipsis")
    ell = "".join(fresh[:n_ell])
    expanded = []
    for t, s in zip(terms, shapes):
        k = len(s) - len(t.replace("...", ""))
        expanded.append(t.replace("...", ell[n_ell - k:] if k else ""))
    sizes: dict = {}
    for i, (t, s) in enumerate(zip(expanded, shapes)):
        own: dict = {}
        for label, n in zip(t, s):
            if label in own and own[label] != n:
                raise _einsum_error(f"subscript {label} is repeated for operand {i} but the sizes don't "
                                    f"match, {own[label]} != {n}")
            own[label] = n
            prev = sizes.get(label)
            if prev is not None and prev != n and prev != 1 and n != 1:
                raise _einsum_error(f"subscript {label} has size {n} for operand {i} which does not "
                                    f"broadcast with previously seen size {prev}")
            sizes[label] = n if prev is None or prev == 1 else prev
    if rhs is None:
        counts = "".join(terms).replace("...", "")
        out = ell + "".join(sorted(c for c in set(counts) if counts.count(c) == 1))
    else:
        out = rhs.replace("...", ell)
        for c in rhs.replace("...", ""):
            if rhs.count(c) > 1:
                raise _einsum_error(f"output subscript {c} appears more than once in the output")
            if c not in sizes:
                raise _einsum_error(f"output subscript {c} does not appear in the equation for any input operand")
    return tuple(expanded), out, sizes


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation: ``einsum('ij,jk->ik', a, b)`` sums the products over labels absent from the output.

    Supports implicit output (labels seen once, sorted, after the ``...`` dimensions), ``...`` for
    broadcast leading dimensions, repeated labels (diagonals) and size-1 broadcasting. Operands
    may also be passed as one list.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ops = [check_tensor(t, "einsum", "operands") for t in operands]
    if not ops:
        raise _einsum_error("must provide at least one operand")
    for t in ops[1:]:
        if t._data.dtype != ops[0]._data.dtype:
            raise RuntimeError(f"expected scalar type {torch_type_name(ops[0])} but found {torch_type_name(t)}")
    terms, out, sizes = _parse_einsum(equation, [tuple(t.shape) for t in ops])
    # size-1 dimensions broadcast against their label's size; broadcast_to's adjoint sums them back
    ops = [broadcast_to(t, tuple(sizes[c] for c in term)) for t, term in zip(ops, terms)]
    return Einsum(terms, out, sizes).apply(*ops)


__all__ = ["matmul", "mm", "bmm", "mv", "dot", "outer", "ger", "addmm", "einsum"]

TENSOR_METHODS = ["matmul", "mm", "bmm", "mv", "dot", "outer", "ger", "addmm"]
