"""Check analytical gradients against central finite differences (use float64 inputs).

``gradcheck`` compares the Jacobian that backward computes with
``(f(x + eps e_j) - f(x - eps e_j)) / (2 eps)``, element by element, or (``fast_mode``) the
products ``u^T J v`` along random directions, which costs one backward and two forwards per
direction instead of one per element. ``gradgradcheck`` applies the same test to the function
that maps inputs to their gradients, i.e. it checks double backward.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .engine import grad as autograd_grad
from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    """Raised when an analytical gradient disagrees with the finite-difference estimate."""


def _as_tuple(x) -> tuple:
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _outputs(fn, inputs) -> tuple:
    out = fn(*inputs)
    return tuple(o for o in _as_tuple(out) if isinstance(o, Tensor) and o.is_floating_point())


def _flat_outputs(fn, inputs) -> np.ndarray:
    with no_grad():
        outs = _outputs(fn, inputs)
    if not outs:
        return np.zeros(0)
    return np.concatenate([np.asarray(o._data, dtype=np.float64).ravel() for o in outs])


def _diff_inputs(inputs: tuple) -> list[int]:
    return [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]


def _numerical_column(fn, inputs, t: Tensor, j: int, eps: float) -> np.ndarray:
    flat = t._data.reshape(-1)  # a view: writes go into t's memory
    orig = flat[j].copy()
    flat[j] = orig + eps
    plus = _flat_outputs(fn, inputs)
    flat[j] = orig - eps
    minus = _flat_outputs(fn, inputs)
    flat[j] = orig
    return (plus - minus) / (2 * eps)


def _contiguous_inputs(inputs: tuple) -> tuple:
    # perturbation writes into each input's memory; give non-contiguous ones their own copy
    out = []
    for t in inputs:
        if isinstance(t, Tensor) and t.requires_grad and not t._data.flags.c_contiguous:
            c = Tensor._make(np.ascontiguousarray(t._data))
            c.requires_grad = True
            out.append(c)
        else:
            out.append(t)
    return tuple(out)


def _fail(msg: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(fn, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, fast_mode: bool = False, n_directions: int = 3,
              seed: int = 0) -> bool:
    """True when backward of ``fn`` matches finite differences at ``inputs``.

    ``inputs`` are Tensors (those with ``requires_grad`` are checked) and other arguments.
    Analytical ``a`` and numerical ``n`` must satisfy ``|a - n| <= atol + rtol |n|``; on failure the
    error names the input, the element (or direction), the output and both values.
    """
    inputs = _contiguous_inputs(_as_tuple(inputs))
    diff = _diff_inputs(inputs)
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor with requires_grad=True")
    for i in diff:
        if inputs[i].dtype.name != "float64":
            import warnings

            warnings.warn(f"input {i} of gradcheck is {inputs[i].dtype}, not float64: finite differences "
                          "will be inaccurate", stacklevel=2)
    outs = _outputs(fn, inputs)
    if not outs:
        raise ValueError("gradcheck expects fn to return at least one floating-point Tensor")
    sizes = [o.numel() for o in outs]
    if fast_mode:
        return _fast(fn, inputs, diff, outs, sizes, eps, atol, rtol, raise_exception, n_directions, seed)

    n_out = sum(sizes)
    # analytical Jacobian, one backward per output element
    analytical = {i: np.zeros((n_out, inputs[i].numel())) for i in diff}
    row = 0
    for k, o in enumerate(outs):
        for e in range(o.numel()):
            seed_grads = [Tensor._make(np.zeros(q.shape, dtype=q._data.dtype)) for q in outs]
            seed_grads[k]._data.reshape(-1)[e] = 1.0
            gs = autograd_grad(outs, [inputs[i] for i in diff], grad_outputs=seed_grads,
                               retain_graph=True, allow_unused=True)
            for i, g in zip(diff, gs):
                if g is not None:
                    if tuple(g.shape) != tuple(inputs[i].shape):
                        return _fail(f"gradient of input {i} has shape {list(g.shape)}, expected "
                                     f"{list(inputs[i].shape)}", raise_exception)
                    analytical[i][row] = np.asarray(g._data, dtype=np.float64).ravel()
            row += 1
    for i in diff:
        t = inputs[i]
        for j in range(t.numel()):
            num = _numerical_column(fn, inputs, t, j, eps)
            ana = analytical[i][:, j]
            bad = np.abs(ana - num) > atol + rtol * np.abs(num)
            if bad.any():
                r = int(np.argmax(bad))
                out_idx, elem = _locate(r, sizes, outs)
                where = np.unravel_index(j, t.shape) if t.ndim else ()
                return _fail(
                    f"Jacobian mismatch for output {out_idx} (element {elem}) with respect to input {i}, "
                    f"element {tuple(int(w) for w in where)}:\n numerical: {float(num[r])!r}\n analytical: {float(ana[r])!r}\n"
                    f"(atol={atol}, rtol={rtol})", raise_exception)
    return True


def _locate(r: int, sizes: list, outs: tuple):
    for k, s in enumerate(sizes):
        if r < s:
            return k, tuple(int(v) for v in np.unravel_index(r, outs[k].shape)) if outs[k].ndim else ()
        r -= s
    return len(sizes) - 1, ()


def _fast(fn, inputs, diff, outs, sizes, eps, atol, rtol, raise_exception, n_directions, seed) -> bool:
    rng = np.random.default_rng(seed)
    for d in range(n_directions):
        us = [Tensor._make(rng.standard_normal(o.shape).astype(o._data.dtype)) for o in outs]
        gs = autograd_grad(outs, [inputs[i] for i in diff], grad_outputs=us, retain_graph=True,
                           allow_unused=True)
        u_flat = np.concatenate([u._data.ravel() for u in us]).astype(np.float64)
        for i, g in zip(diff, gs):
            t = inputs[i]
            v = rng.standard_normal(t.shape)
            ana = 0.0 if g is None else float(np.sum(np.asarray(g._data, dtype=np.float64) * v))
            orig = t._data.copy()
            t._data[...] = orig + eps * v
            plus = _flat_outputs(fn, inputs)
            t._data[...] = orig - eps * v
            minus = _flat_outputs(fn, inputs)
            t._data[...] = orig
            num = float(u_flat @ ((plus - minus) / (2 * eps)))
            if abs(ana - num) > atol + rtol * abs(num):
                return _fail(
                    f"Jacobian mismatch with respect to input {i} along random direction {d}: "
                    f"u^T J v numerical {num!r}, analytical {ana!r} (atol={atol}, rtol={rtol})",
                    raise_exception)
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, fast_mode: bool = False,
                  n_directions: int = 3, seed: int = 0) -> bool:
    """Check second derivatives: gradcheck of ``(inputs, v) -> v^T J(inputs)`` built with create_graph."""
    inputs = _contiguous_inputs(_as_tuple(inputs))
    diff = _diff_inputs(inputs)
    outs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        grad_outputs = []
        for o in outs:
            g = Tensor._make(rng.standard_normal(o.shape).astype(o._data.dtype))
            g.requires_grad = True
            grad_outputs.append(g)
    grad_outputs = tuple(_as_tuple(grad_outputs))
    n_in = len(inputs)

    def first_derivative(*args):
        xs, vs = args[:n_in], args[n_in:]
        with enable_grad():  # the numerical part of gradcheck calls this under no_grad
            ys = _outputs(fn, xs)
            gs = autograd_grad(ys, [xs[i] for i in diff], grad_outputs=list(vs), create_graph=True,
                               allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, fast_mode=fast_mode,
                     n_directions=n_directions, seed=seed)
