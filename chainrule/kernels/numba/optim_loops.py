"""The optimisers' compiled update loops over a slice ``lo:hi`` of flat contiguous float32 arrays
(``optim.py`` says when they run). Each element is computed as the reference kernels compute the
whole array (``kernels/numpy/optim.py``): a fused multiply-add ``a * b + c`` of float32 numbers
in float64 (where their product is exact) and rounded once; every other operation in float32.

Scalars arrive as float32 numbers, already rounded as PyTorch rounds them; a flag says where the
reference skips an operation (``value == 1``), so each loop does exactly the reference's
operations. numba does not contract a float32 multiply and add into a hardware FMA (no
``fastmath``), which would round once where the reference rounds twice.

Each loop writes one array in place, or the arrays it updates, reading its operands at the same
index: LLVM then vectorises it (an output that might partly overlap an input would make it check
at run time and fall back to one element at a time, so ``optim.py`` picks the in-place loop when
the output is an operand). ``error_model="numpy"``: a division by zero gives inf or NaN, as in
NumPy, instead of raising.
"""

from __future__ import annotations

import numpy as np

from ._compile import jit


@jit(nogil=True, error_model="numpy")
def _fma(a, b, c):
    """``a * b + c`` of float32 numbers in float64, rounded once to float32."""
    return np.float32(np.float64(a) * np.float64(b) + np.float64(c))


@jit(nogil=True, error_model="numpy")
def fma_arrays(a, b, c, out, lo, hi):
    """``out = a * b + c``, every operand an array (``out`` none of them)."""
    sa, sb, sc, so = a[lo:hi], b[lo:hi], c[lo:hi], out[lo:hi]
    for t in range(hi - lo):
        so[t] = _fma(sa[t], sb[t], sc[t])
    return 0


@jit(nogil=True, error_model="numpy")
def fma_arrays_(a, b, c, lo, hi):
    """``c = a * b + c`` in place, every operand an array."""
    sa, sb, sc = a[lo:hi], b[lo:hi], c[lo:hi]
    for t in range(hi - lo):
        sc[t] = _fma(sa[t], sb[t], sc[t])
    return 0


@jit(nogil=True, error_model="numpy")
def fma_scalar(a, b, c, out, lo, hi):
    """``out = a * b + c`` for a scalar ``a`` (``out`` neither ``b`` nor ``c``)."""
    sb, sc, so = b[lo:hi], c[lo:hi], out[lo:hi]
    for t in range(hi - lo):
        so[t] = _fma(a, sb[t], sc[t])
    return 0


@jit(nogil=True, error_model="numpy")
def fma_scalar_(a, b, c, lo, hi):
    """``c = a * b + c`` in place for a scalar ``a``: ``c.add_(b, alpha=a)``."""
    sb, sc = b[lo:hi], c[lo:hi]
    for t in range(hi - lo):
        sc[t] = _fma(a, sb[t], sc[t])
    return 0


@jit(nogil=True, error_model="numpy")
def addcmul_(x, u, v, value, scaled, lo, hi):
    """``x = fma(value * u, v, x)`` (``value * u`` rounded first; ``u`` itself unless ``scaled``)."""
    sx, su, sv = x[lo:hi], u[lo:hi], v[lo:hi]
    for t in range(hi - lo):
        p = su[t] * value if scaled else su[t]
        sx[t] = _fma(p, sv[t], sx[t])
    return 0


@jit(nogil=True, error_model="numpy")
def addcdiv_(x, u, v, value, scaled, lo, hi):
    """``x += (value * u) / v``, each operation rounded (``u`` itself unless ``scaled``)."""
    sx, su, sv = x[lo:hi], u[lo:hi], v[lo:hi]
    for t in range(hi - lo):
        p = su[t] * value if scaled else su[t]
        sx[t] = sx[t] + p / sv[t]
    return 0


@jit(nogil=True, error_model="numpy")
def lerp_(s, e, w, from_end, lo, hi):
    """``s = fma(w, e - s, e if from_end else s)``: ``lerp_``'s two branches (``w`` is the weight,
    or the weight less one with ``from_end``)."""
    ss, se = s[lo:hi], e[lo:hi]
    for t in range(hi - lo):
        st, et = ss[t], se[t]
        ss[t] = _fma(w, et - st, et if from_end else st)
    return 0


@jit(nogil=True, error_model="numpy")
def square_avg_(avg, g, decay, value, scaled, lo, hi):
    """``avg = fma(value * g, g, avg * decay)``: ``avg.mul_(decay).addcmul_(g, g, value=value)``."""
    sa, sg = avg[lo:hi], g[lo:hi]
    for t in range(hi - lo):
        gt = sg[t]
        p = gt * value if scaled else gt
        sa[t] = _fma(p, gt, sa[t] * decay)
    return 0


@jit(nogil=True, error_model="numpy")
def sgd_plain_(theta, g, neg_lr, add_plain, weight_decay, decay, lo, hi):
    """SGD without momentum: ``theta.add_(g + weight_decay * theta, alpha=-lr)`` (``decay``: with
    the weight-decay term; ``add_plain``: ``-lr == 1``, a plain sum)."""
    sth, sg = theta[lo:hi], g[lo:hi]
    for t in range(hi - lo):
        th, gt = sth[t], sg[t]
        if decay:
            gt = _fma(weight_decay, th, gt)
        sth[t] = th + gt if add_plain else _fma(neg_lr, gt, th)
    return 0


@jit(nogil=True, error_model="numpy")
def sgd_momentum_steady_(theta, g, buf, neg_lr, weight_decay, decay, momentum, nesterov, lo, hi):
    """SGD with momentum after the first step, without dampening (``lr != -1``): the common case.
    With two flags LLVM makes a loop for each combination; with the five of ``sgd_momentum_`` it
    computes both sides of every branch for each element."""
    sth, sg, sb = theta[lo:hi], g[lo:hi], buf[lo:hi]
    for t in range(hi - lo):
        th, gt = sth[t], sg[t]
        if decay:
            gt = _fma(weight_decay, th, gt)
        bt = sb[t] * momentum + gt
        sb[t] = bt
        step = _fma(momentum, bt, gt) if nesterov else bt
        sth[t] = _fma(neg_lr, step, th)
    return 0


@jit(nogil=True, error_model="numpy")
def sgd_momentum_(theta, g, buf, neg_lr, add_plain, weight_decay, decay, momentum, damped, dampened_plain,
                  nesterov, first, lo, hi):
    """SGD with momentum, as ``kernels/numpy/optim.sgd_`` (``first``: the buffer is set to the
    gradient; ``dampened_plain``: ``1 - dampening == 1``, a plain sum; ``damped`` is ``1 - dampening``)."""
    sth, sg, sb = theta[lo:hi], g[lo:hi], buf[lo:hi]
    for t in range(hi - lo):
        th, gt = sth[t], sg[t]
        if decay:
            gt = _fma(weight_decay, th, gt)
        if first:
            bt = gt
        else:
            bt = sb[t] * momentum
            bt = bt + gt if dampened_plain else _fma(damped, gt, bt)
        sb[t] = bt
        step = _fma(momentum, bt, gt) if nesterov else bt
        sth[t] = th + step if add_plain else _fma(neg_lr, step, th)
    return 0


@jit(nogil=True, error_model="numpy")
def _adam_element(th, gt, mt, vt, shrink, decoupled, weight_decay, coupled, w, from_end, beta2, value, scaled):
    """Adam's decay and moment updates of one element: (theta, g, m, v) after them."""
    if decoupled:
        th = th * shrink
    if coupled:
        gt = _fma(weight_decay, th, gt)
    mt = _fma(w, gt - mt, gt if from_end else mt)
    p = gt * value if scaled else gt
    vt = _fma(p, gt, vt * beta2)
    return th, gt, mt, vt


@jit(nogil=True, error_model="numpy")
def _adam_theta(th, mt, vt, bias_correction2_sqrt, eps, neg_step, div_plain):
    """``theta + (-step_size * m) / (sqrt(v) / bias_correction2_sqrt + eps)``, each step rounded."""
    d = np.sqrt(vt) / bias_correction2_sqrt + eps
    q = mt if div_plain else mt * neg_step
    return th + q / d


@jit(nogil=True, error_model="numpy")
def adam_(theta, g, m, v, shrink, decoupled, weight_decay, coupled, w, from_end, beta2, value, scaled,
          bias_correction2_sqrt, eps, neg_step, div_plain, lo, hi):
    """One Adam step, as ``kernels/numpy/optim.adam_`` without amsgrad."""
    sth, sg, sm, sv = theta[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi]
    for t in range(hi - lo):
        th, gt, mt, vt = _adam_element(sth[t], sg[t], sm[t], sv[t], shrink, decoupled, weight_decay, coupled,
                                       w, from_end, beta2, value, scaled)
        sm[t], sv[t] = mt, vt
        sth[t] = _adam_theta(th, mt, vt, bias_correction2_sqrt, eps, neg_step, div_plain)
    return 0


@jit(nogil=True, error_model="numpy")
def adam_amsgrad_(theta, g, m, v, v_max, shrink, decoupled, weight_decay, coupled, w, from_end, beta2, value,
                  scaled, bias_correction2_sqrt, eps, neg_step, div_plain, lo, hi):
    """One Adam step with amsgrad: ``v_max = maximum(v_max, v)`` (NaN wins, as in NumPy) takes
    ``v``'s place in the denominator."""
    sth, sg, sm, sv, sx = theta[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], v_max[lo:hi]
    for t in range(hi - lo):
        th, gt, mt, vt = _adam_element(sth[t], sg[t], sm[t], sv[t], shrink, decoupled, weight_decay, coupled,
                                       w, from_end, beta2, value, scaled)
        sm[t], sv[t] = mt, vt
        xt = sx[t]
        xt = xt if (xt >= vt or xt != xt) else vt
        sx[t] = xt
        sth[t] = _adam_theta(th, mt, xt, bias_correction2_sqrt, eps, neg_step, div_plain)
    return 0
