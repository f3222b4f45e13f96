"""The loop body of a generated ``fused`` kernel, written as LLVM IR: ``loop_body`` returns a
numba intrinsic that the generated module's ``@jit`` kernel calls (``fused_codegen.py`` says why
IR and not Python statements).

The IR is what numba would make of the scalar code, without its front end: IEEE ``fadd fsub
fmul fdiv`` without fast-math flags (no reassociation, no fused multiply-add), comparisons and
``select`` for the branching rules, and numba's own lowering of ``math.exp``, ``math.tanh`` ...
for the functions (the C library's ``expf``, ``tanhf`` ...). Every value and derivative is the
formula of ``kernels/numpy/fused.py``'s table, in its order, with constants of the dtype.
Importing this module imports numba.
"""

from __future__ import annotations

import functools
import math
import operator

import llvmlite.ir as ir
import numpy as np
from numba import types
from numba.core import cgutils
from numba.core.typing import signature
from numba.extending import intrinsic

from ..fused_program import Program
from .fused_codegen import Plan, plan

_MATH = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt, "tanh": math.tanh, "sin": math.sin,
         "cos": math.cos, "log1p": math.log1p, "expm1": math.expm1, "abs": math.fabs}


def loop_body(text: str, kind: str, dtype: str, scalars: str, grads: str = "", needs: str = ""):
    """The intrinsic ``body(ins, outs, lo, hi)`` of the kernel of ``Program.from_text(text)``
    (flags as strings of 0s and 1s): a loop over elements ``lo:hi`` of the flat arrays."""
    p = plan(Program.from_text(text), kind, dtype, *([c == "1" for c in f] for f in (scalars, grads, needs)))

    @intrinsic
    def body(typingctx, ins, outs, lo, hi):
        def codegen(context, builder, sig, args):
            _Emitter(context, builder, p, sig, args).run()
            return context.get_dummy_value()

        return signature(types.none, ins, outs, lo, hi), codegen

    return body


class _Emitter:
    """Writes one plan's loop into ``builder``."""

    def __init__(self, context, builder, p: Plan, sig, args):
        self.context, self.builder, self.p = context, builder, p
        self.nbtype = getattr(types, p.dtype)
        self.fty = context.get_value_type(self.nbtype)
        ins_ty, outs_ty = sig.args[0], sig.args[1]
        self.ins = [self._data(t, v) for t, v in zip(ins_ty, cgutils.unpack_tuple(builder, args[0], len(ins_ty)))]
        self.outs = [self._data(t, v) for t, v in zip(outs_ty, cgutils.unpack_tuple(builder, args[1], len(outs_ty)))]
        self.lo, self.hi = args[2], args[3]
        self.regs: dict[int, ir.Value] = {}

    def _data(self, ty, value):
        return self.context.make_array(ty)(self.context, self.builder, value=value).data

    def const(self, v: float):
        """The constant ``v`` of the dtype (rounded as ``np.float32(v)`` rounds it)."""
        return ir.Constant(self.fty, float(np.dtype(self.p.dtype).type(v)))

    @functools.cached_property
    def _impls(self) -> dict:
        sig1 = signature(self.nbtype, self.nbtype)
        out = {name: self.context.get_function(fn, sig1) for name, fn in _MATH.items()}
        out["pow"] = self.context.get_function(operator.pow, signature(self.nbtype, self.nbtype, self.nbtype))
        return out

    def call(self, name: str, *args):
        return self._impls[name](self.builder, list(args))

    # ---- the loop ---------------------------------------------------------------------------------
    def run(self) -> None:
        p, b = self.p, self.builder
        for r in p.before:
            self.compute(r, None)
        with cgutils.for_range_slice(b, self.lo, self.hi, ir.Constant(self.lo.type, 1)) as (i, _):
            for r in p.inside:
                self.compute(r, i)
            if p.kind == "forward":
                for j, o in enumerate(p.program.outputs):
                    b.store(self.regs[o], b.gep(self.outs[j], [i]))
            else:
                self.sweep(i)

    def compute(self, r: int, i) -> None:
        prog, b = self.p.program, self.builder
        if r < prog.n_inputs:
            self.regs[r] = b.load(b.gep(self.ins[r], [ir.Constant(self.lo.type, 0) if i is None else i]))
            return
        ins = prog.instrs[r - prog.n_inputs]
        self.regs[r] = self.value(ins.op, [self.regs[s] for s in ins.srcs], ins.attr)

    def sweep(self, i) -> None:
        p, b = self.p, self.builder
        prog = p.program
        adj: dict[int, ir.Value] = {}

        def add(r: int, c) -> None:
            adj[r] = c if r not in adj else b.fadd(adj[r], c)

        grads = [j for j, g in enumerate(p.grads) if g]  # the gradient arrays follow the inputs in ins
        for j, o in p.seeds:
            add(o, b.load(b.gep(self.ins[prog.n_inputs + grads.index(j)], [i])))
        for k, want in p.sweep:
            ins = prog.instrs[k]
            cs = self.derivative(ins.op, ins.attr, [self.regs.get(s) for s in ins.srcs], self.regs.get(ins.dst),
                                 adj[ins.dst], want)
            for s, w, c in zip(ins.srcs, want, cs):
                if w:
                    add(s, c)
        needed = [r for r in range(prog.n_inputs) if p.needs[r]]
        for j, r in enumerate(needed):
            b.store(adj.get(r, self.const(0.0)), b.gep(self.outs[j], [i]))

    # ---- one instruction ----------------------------------------------------------------------------
    def fmax(self, a, c, cmp: str):
        """``np.maximum`` (cmp ``>``) or ``np.minimum`` (``<``): ``a`` where ``a cmp c`` or ``a``
        is NaN, else ``c`` (so ties give the second operand, as NumPy's loops)."""
        b = self.builder
        pick = b.or_(b.fcmp_ordered(cmp, a, c), b.fcmp_unordered("uno", a, a))
        return b.select(pick, a, c)

    def pow(self, x, p: float):
        """``PowScalar``'s forward as NumPy computes ``x ** p``: ``x * x`` for 2, ``sqrt(x)`` for
        0.5, ``1 / x`` for -1, ``x`` for 1, ``1`` for 0, else ``pow(x, p)``."""
        b = self.builder
        if p == 2:
            return b.fmul(x, x)
        if p == 0.5:
            return self.call("sqrt", x)
        if p == -1:
            return b.fdiv(self.const(1.0), x)
        if p == 1:
            return x
        if p == 0:
            return self.const(1.0)
        return self.call("pow", x, self.const(p))

    def value(self, op: str, a: list, attr):
        b = self.builder
        one = self.const(1.0)
        if op in ("add", "sub", "mul", "div"):
            return getattr(b, {"add": "fadd", "sub": "fsub", "mul": "fmul", "div": "fdiv"}[op])(a[0], a[1])
        if op in ("maximum", "minimum"):
            return self.fmax(a[0], a[1], ">" if op == "maximum" else "<")
        x = a[0]
        if op == "neg":
            return b.fneg(x)
        if op in _MATH:
            return self.call(op, x)
        if op == "rsqrt":
            return b.fdiv(one, self.call("sqrt", x))
        if op == "sigmoid":
            e = self.call("exp", b.fneg(self.call("abs", x)))
            d = b.fadd(one, e)
            return b.select(b.fcmp_ordered(">=", x, self.const(0.0)), b.fdiv(one, d), b.fdiv(e, d))
        if op == "relu":
            return self.fmax(x, self.const(0.0), ">")
        if op == "square":
            return b.fmul(x, x)
        if op == "reciprocal":
            return b.fdiv(one, x)
        if op == "pow_scalar":
            return self.pow(x, attr)
        raise ValueError(f"fused: unknown op {op!r}")  # pragma: no cover - Program validates its ops

    def derivative(self, op: str, attr, a: list, y, g, want) -> list:
        """The contributions of one instruction to its operands (None where not ``want``ed)."""
        b = self.builder
        one, zero = self.const(1.0), self.const(0.0)
        if op == "add":
            return [g, g]
        if op == "sub":
            return [g, b.fneg(g) if want[1] else None]
        if op == "mul":
            return [b.fmul(g, a[1]) if want[0] else None, b.fmul(g, a[0]) if want[1] else None]
        if op == "div":
            return [b.fdiv(g, a[1]) if want[0] else None,
                    b.fdiv(b.fmul(b.fneg(g), a[0]), b.fmul(a[1], a[1])) if want[1] else None]
        if op in ("maximum", "minimum"):
            # _tie_split: share [a > b] + 0.5 [a == b] to a, 1 - share to b
            first = b.fcmp_ordered(">" if op == "maximum" else "<", a[0], a[1])
            w = b.select(first, one, b.select(b.fcmp_ordered("==", a[0], a[1]), self.const(0.5), zero))
            return [b.fmul(g, w), b.fmul(g, b.fsub(one, w))]
        x = a[0]
        if op == "neg":
            c = b.fneg(g)
        elif op == "exp":
            c = b.fmul(g, y)
        elif op == "expm1":
            c = b.fmul(g, b.fadd(y, one))
        elif op == "log":
            c = b.fdiv(g, x)
        elif op == "log1p":
            c = b.fdiv(g, b.fadd(x, one))
        elif op == "sqrt":
            c = b.fdiv(g, b.fmul(self.const(2.0), y))
        elif op == "rsqrt":
            c = b.fmul(g, b.fmul(b.fmul(b.fmul(self.const(-0.5), y), y), y))
        elif op == "tanh":
            c = b.fmul(g, b.fsub(one, b.fmul(y, y)))
        elif op == "sigmoid":
            c = b.fmul(g, b.fmul(y, b.fsub(one, y)))
        elif op == "relu":
            c = b.select(b.fcmp_ordered("<=", y, zero), zero, g)  # threshold_backward: 0 where y <= 0
        elif op == "abs":
            # np.sign: 1, -1, 0 for either zero, NaN for NaN
            sign = b.select(b.fcmp_ordered(">", x, zero), one,
                            b.select(b.fcmp_ordered("<", x, zero), self.const(-1.0),
                                     b.select(b.fcmp_ordered("==", x, zero), zero, x)))
            c = b.fmul(g, sign)
        elif op == "sin":
            c = b.fmul(g, self.call("cos", x))
        elif op == "cos":
            c = b.fmul(b.fneg(g), self.call("sin", x))
        elif op == "square":
            c = b.fmul(g, b.fmul(self.const(2.0), x))
        elif op == "reciprocal":
            c = b.fdiv(b.fneg(g), b.fmul(x, x))  # Div(1, x): ((-g) * 1) / (x * x), and (-g) * 1 is -g
        elif op == "pow_scalar":
            p = attr
            if p == 0:
                c = b.fmul(g, zero)
            elif p == 1:
                c = g
            elif p == 2:
                c = b.fmul(g, b.fmul(self.const(2.0), x))
            else:
                c = b.fmul(g, b.fmul(self.const(p), self.pow(x, p - 1)))
        else:  # pragma: no cover - Program validates its ops
            raise ValueError(f"fused: unknown op {op!r}")
        return [c]

