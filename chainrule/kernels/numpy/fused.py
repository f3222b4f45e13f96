"""A chain of element-wise operators (``kernels/fused_program.py``'s ``Program``) run with the
array module's ufuncs: the ``fused`` family's reference. It never declines.

``forward`` runs the instructions in order. ``backward`` runs them again from the inputs (it
keeps nothing between the calls) and then sweeps them in reverse, adding each instruction's
contribution to the adjoint of its operands: the first contribution is taken as it is, later
ones added (``adj = adj + c``) in reverse instruction order.

Every value and every derivative is the eager operator's own formula in its own order, with
constants of the inputs' dtype (``ops/elementwise.py``, ``ops/activation.py``): a program of one
instruction gives bit for bit what the eager operator and its backward give, on the reference
backend. Longer programs differ from eager only where a register has three or more
contributions (eager adds them in the order its engine reaches them) and where a 0-d register
gets a gradient (here it stays of the output shape until the caller sums it; eager sums each
contribution first). The derivatives, with ``g`` the adjoint of the result ``y``:

==========  =====================================  ==========================================
op          y                                      contributions
==========  =====================================  ==========================================
add, sub    a + b, a - b                           g; g or -g
mul, div    a * b, a / b                           g*b, g*a; g/b, ((-g)*a)/(b*b)
maximum     maximum(a, b) (NaN wins, ties: b)      g*w, g*(1-w); w = [a>b] + 0.5 [a==b]
minimum     minimum(a, b)                          the same with [a<b]
neg         -x                                     -g
exp, expm1  exp(x), expm1(x)                       g*y, g*(y+1)
log, log1p  log(x), log1p(x)                       g/x, g/(x+1)
sqrt        sqrt(x)                                g/(2*y)
rsqrt       1/sqrt(x)                              g*(((-0.5*y)*y)*y)
tanh        tanh(x)                                g*(1-y*y)                  (``TanhGrad``)
sigmoid     1/(1+e) for x >= 0, e/(1+e) else,      g*(y*(1-y))                (``SigmoidGrad``)
            e = exp(-|x|)
relu        maximum(x, 0)                          0 where y <= 0, else g     (``ReluGrad``)
abs         |x|                                    g*sign(x)
sin, cos    sin(x), cos(x)                         g*cos(x); (-g)*sin(x)
square      x*x                                    g*(2*x)                    (``PowScalar(2)``)
reciprocal  1/x                                    (-g)/(x*x)                 (``Div(1, x)``)
pow_scalar  x*x if p == 2, else x ** p             p=0: g*0; p=1: g; p=2: g*(2*x);
                                                   else g*(p * x**(p-1)) (``x**2`` as ``x*x``)
==========  =====================================  ==========================================
"""

from __future__ import annotations

from ..fused_program import Program, call_arguments, depends_on, output_shape


def forward(xp, *args, program: Program | None = None) -> tuple:
    """The arrays of ``program.outputs`` (new, C-contiguous, of the output shape) computed from
    the inputs (non-0-d ones of one shape, 0-d ones broadcast). ``forward(xp, program, *inputs)``,
    or ``forward(xp, *inputs, program=program)`` as ``kernels.call`` passes it."""
    program, _, inputs = call_arguments(args, program)
    shape = _check(program, inputs)
    regs = _run(xp, program, inputs, program.n_registers)
    out, seen = [], set()
    for o in program.outputs:  # inputs and repeated outputs are copied: no result aliases another array
        out.append(_full(xp, regs[o], shape, fresh=o >= program.n_inputs and o not in seen))
        seen.add(o)
    return tuple(out)


def backward(xp, *args, program: Program | None = None, needs=None) -> tuple:
    """Gradients of the inputs, from ``backward(xp, program, needs, *arrays)`` or
    ``backward(xp, *arrays, program=program, needs=needs)``: ``arrays`` are the inputs followed by
    one gradient per output (None where that output got none). One new array of the OUTPUT shape
    per input (a 0-d input's too: the caller sums it back), None where ``needs[i]`` is false,
    zeros where no output's gradient reaches a needed input."""
    program, needs, arrays = call_arguments(args, program, needs, backward=True)
    n = program.n_inputs
    inputs, grads = arrays[:n], arrays[n:]
    shape = _check(program, inputs)
    if len(grads) != len(program.outputs) or len(needs) != n:
        raise ValueError(f"fused.backward: expected {len(program.outputs)} output gradient(s) and {n} needs flags, "
                         f"got {len(grads)} and {len(needs)}")
    dt = inputs[0].dtype
    wanted = depends_on(program, needs)
    adj: list = [None] * program.n_registers
    for o, g in zip(program.outputs, grads):
        if g is not None and wanted[o]:
            adj[o] = g if adj[o] is None else adj[o] + g
    # registers are recomputed up to the last instruction whose result has an adjoint
    last = max((r for r, a in enumerate(adj) if a is not None), default=-1)
    regs = _run(xp, program, inputs, last + 1)
    for k in range(last - n, -1, -1):
        ins = program.instrs[k]
        g = adj[ins.dst]
        if g is None:
            continue
        adj[ins.dst] = None  # released as soon as it is used
        operands = [regs[s] for s in ins.srcs]
        want = [wanted[s] for s in ins.srcs]
        for s, c in zip(ins.srcs, _contributions(xp, ins, operands, regs[ins.dst], g, want, dt)):
            if c is not None:
                adj[s] = c if adj[s] is None else adj[s] + c
    out: list = []
    for i in range(n):
        if not needs[i]:
            out.append(None)
        elif adj[i] is None:
            out.append(xp.zeros(shape, dtype=dt))
        else:  # a gradient passed through unchanged (``add``) is copied: the caller holds it
            out.append(_full(xp, adj[i], shape, fresh=not any(adj[i] is g for g in grads)))
    return tuple(out)


def _check(program: Program, inputs) -> tuple:
    if len(inputs) != program.n_inputs:
        raise ValueError(f"fused: the program expected {program.n_inputs} input(s), got {len(inputs)}")
    dt = inputs[0].dtype
    if dt.kind != "f" or any(a.dtype != dt for a in inputs):
        raise ValueError(f"fused: expected inputs of one floating dtype, got {[str(a.dtype) for a in inputs]}")
    return output_shape([a.shape for a in inputs])


def _full(xp, a, shape, fresh: bool):
    """``a`` as a C-contiguous array of ``shape`` (broadcast when 0-d): ``a`` itself when it is
    one already and ``fresh`` (no caller holds it), else a copy."""
    if fresh and a.shape == tuple(shape) and a.flags.c_contiguous:
        return a
    return xp.array(xp.broadcast_to(a, shape), order="C")


def _run(xp, program: Program, inputs, stop: int) -> list:
    """Registers ``0 .. stop-1`` (arrays; 0-d ones stay 0-d)."""
    regs = list(inputs)
    dt = inputs[0].dtype
    n = program.n_inputs
    for ins in program.instrs[: max(0, stop - n)]:
        y = _value(xp, ins.op, [regs[s] for s in ins.srcs], ins.attr, dt)
        regs.append(y if isinstance(y, xp.ndarray) else xp.asarray(y))  # ufuncs give scalars for 0-d
    return regs


def _value(xp, op: str, args, attr, dt):
    """One instruction's result, as the eager operator's forward computes it."""
    one = dt.type(1)
    if op in ("add", "sub", "mul", "div"):
        a, b = args
        return a + b if op == "add" else a - b if op == "sub" else a * b if op == "mul" else a / b
    if op == "maximum":
        return xp.maximum(*args)
    if op == "minimum":
        return xp.minimum(*args)
    (x,) = args
    if op == "neg":
        return -x
    if op == "rsqrt":
        return one / xp.sqrt(x)
    if op == "sigmoid":
        e = xp.exp(-xp.abs(x))
        d = one + e
        return xp.where(x >= 0, one / d, e / d)
    if op == "relu":
        return xp.maximum(x, dt.type(0))  # kernels/numpy/pointwise.py's relu
    if op == "square":
        return x * x
    if op == "reciprocal":
        return one / x
    if op == "pow_scalar":
        return _pow(x, attr, dt)
    return getattr(xp, op)(x)  # exp log sqrt tanh abs sin cos log1p expm1


def _pow(x, p: float, dt):
    """``PowScalar``'s forward: ``x * x`` for p == 2, else ``x ** p`` with p of x's dtype (NumPy
    computes ``x ** 0.5`` as ``sqrt(x)``, ``x ** -1`` as ``1 / x``, ``x ** 1`` as ``+x``)."""
    return x * x if p == 2 else x ** dt.type(p)


def _contributions(xp, ins, args, y, g, want, dt) -> list:
    """The adjoint contributions of one instruction to its operands (None where not wanted),
    each the eager backward's formula in its order."""
    op = ins.op
    one = dt.type(1)
    if op == "add":
        return [g if want[0] else None, g if want[1] else None]
    if op == "sub":
        return [g if want[0] else None, -g if want[1] else None]
    if op == "mul":
        a, b = args
        return [g * b if want[0] else None, g * a if want[1] else None]
    if op == "div":
        a, b = args
        return [g / b if want[0] else None, -g * a / (b * b) if want[1] else None]
    if op in ("maximum", "minimum"):
        a, b = args
        first = a > b if op == "maximum" else a < b
        wa = xp.asarray(first).astype(dt) + dt.type(0.5) * xp.asarray(a == b).astype(dt)
        return [g * wa if want[0] else None, g * (one - wa) if want[1] else None]
    (x,) = args
    if op == "neg":
        c = -g
    elif op == "exp":
        c = g * y
    elif op == "expm1":
        c = g * (y + one)
    elif op == "log":
        c = g / x
    elif op == "log1p":
        c = g / (x + one)
    elif op == "sqrt":
        c = g / (dt.type(2) * y)
    elif op == "rsqrt":
        c = g * (dt.type(-0.5) * y * y * y)
    elif op == "tanh":
        c = g * (one - y * y)
    elif op == "sigmoid":
        c = g * (y * (one - y))
    elif op == "relu":
        c = xp.where(y <= 0, dt.type(0), g)  # kernels/numpy/pointwise.py's relu_backward
    elif op == "abs":
        c = g * xp.sign(x)
    elif op == "sin":
        c = g * xp.cos(x)
    elif op == "cos":
        c = -g * xp.sin(x)
    elif op == "square":
        c = g * (dt.type(2) * x)
    elif op == "reciprocal":
        c = -g * one / (x * x)  # Div(1, x)'s gradient of its divisor, a = 1
    elif op == "pow_scalar":
        p = ins.attr
        if p == 0:
            c = g * dt.type(0)
        elif p == 1:
            c = g
        elif p == 2:
            c = g * (dt.type(2) * x)
        else:
            c = g * (dt.type(p) * _pow(x, p - 1, dt))
    else:  # pragma: no cover - Program validates its ops
        raise ValueError(f"fused: unknown op {op!r}")
    return [c]
