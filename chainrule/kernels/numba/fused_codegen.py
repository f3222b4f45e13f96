"""What a compiled ``fused`` kernel computes, and the Python source of the module that holds it.

``plan`` decides, for one program (``kernels/fused_program.py``), dtype and specialisation,
which registers a kernel computes and where: those that depend on scalar (0-d) inputs alone
once before the loop over the elements, the others per element; for a backward, only the
registers its derivatives read, adjoints only for registers that reach a needed input from an
output that has a gradient (eager's ``needs_input_grad``), and the order of the reverse sweep.

``source`` is the text of the generated module (``fused_loader.py`` writes and runs it): the
program's text, the ``@jit`` kernel ``kernel(ins, outs, lo, hi)``, and its loop body, an
intrinsic that ``fused_ir.py`` writes as LLVM IR from the plan when numba compiles the kernel.
The body is straight-line code on scalars, one or a few LLVM instructions per program
instruction. Written instead as Python statements, one per operation, the body went through
numba's front end (typing, SSA, lowering) at a cost of milliseconds per statement, several
times the whole compilation from IR for long chains (the commit that brought this module in
has the figures).

Nothing here imports numba.
"""

from __future__ import annotations

import dataclasses

from ..fused_program import Program, depends_on

# the values a derivative reads: "y" its result, "srcs" its operands (see ``_reads``)
_READS_Y = ("exp", "expm1", "sqrt", "rsqrt", "tanh", "sigmoid", "relu")


@dataclasses.dataclass(frozen=True)
class Plan:
    """One kernel: ``before`` the registers computed once ahead of the loop, ``inside`` those
    computed per element (inputs are loads), in order. A forward stores ``program.outputs``; a
    backward seeds the adjoints with the output gradients (``seeds``: (output, register), in
    output order), then runs ``sweep``: (instruction index, which operands get a contribution),
    the instructions in reverse, and stores the adjoints of the ``needs`` inputs."""

    program: Program
    kind: str
    dtype: str
    scalars: tuple[bool, ...]
    grads: tuple[bool, ...]
    needs: tuple[bool, ...]
    before: tuple[int, ...]
    inside: tuple[int, ...]
    seeds: tuple[tuple[int, int], ...]
    sweep: tuple[tuple[int, tuple[bool, ...]], ...]


def plan(program: Program, kind: str, dtype: str, scalars, grads=(), needs=()) -> Plan:
    """The plan of a ``kind`` ("forward" or "backward") kernel; ``grads`` and ``needs`` (one flag
    per output, per input) only for a backward."""
    if kind not in ("forward", "backward"):
        raise ValueError(f"fused: expected kind 'forward' or 'backward', got {kind!r}")
    scalars, grads, needs = tuple(map(bool, scalars)), tuple(map(bool, grads)), tuple(map(bool, needs))
    n = program.n_inputs
    computed = [False] * program.n_registers
    seeds: list[tuple[int, int]] = []
    sweep: list[tuple[int, tuple[bool, ...]]] = []
    if kind == "forward":
        for o in program.outputs:
            computed[o] = True
    else:
        wanted = depends_on(program, needs)
        has_adj = [False] * program.n_registers
        for j, (o, g) in enumerate(zip(program.outputs, grads)):
            if g and wanted[o]:
                seeds.append((j, o))
                has_adj[o] = True
        for k in range(len(program.instrs) - 1, -1, -1):
            ins = program.instrs[k]
            if not has_adj[ins.dst]:
                continue
            want = tuple(wanted[s] for s in ins.srcs)
            sweep.append((k, want))
            uses_y, uses_src = _reads(ins.op, ins.attr, want)
            computed[ins.dst] = computed[ins.dst] or uses_y
            for s, w, f in zip(ins.srcs, want, uses_src):
                computed[s] = computed[s] or f
                has_adj[s] = has_adj[s] or w
    for r in range(program.n_registers - 1, n - 1, -1):  # and what those are computed from
        if computed[r]:
            for s in program.instrs[r - n].srcs:
                computed[s] = True
    scalar = [not f for f in depends_on(program, [not s for s in scalars])]
    regs = [r for r in range(program.n_registers) if computed[r]]
    return Plan(program, kind, dtype, scalars, grads, needs, tuple(r for r in regs if scalar[r]),
                tuple(r for r in regs if not scalar[r]), tuple(seeds), tuple(sweep))


def _reads(op: str, attr, want: tuple[bool, ...]) -> tuple[bool, list[bool]]:
    """(reads the result, [reads operand j]): what the contributions to the ``want``ed operands
    use (the formulas are in ``kernels/numpy/fused.py``'s table)."""
    if op in ("add", "sub", "neg") or (op == "pow_scalar" and attr in (0, 1)):
        return False, [False] * len(want)
    if op == "mul":
        return False, [want[1], want[0]]
    if op == "div":
        return False, [want[1], True]
    if op in ("maximum", "minimum"):
        return False, [True, True]
    if op in _READS_Y:
        return True, [False]
    return False, [True]  # log log1p abs sin cos square reciprocal pow_scalar


def mask(flags) -> str:
    """Flags as a string of 0s and 1s (part of the generated files' names)."""
    return "".join("1" if f else "0" for f in flags)


def name(p: Plan) -> str:
    """The generated file's name (without ``.py``): program key, dtype, kind and flags."""
    flags = [mask(p.scalars)] + ([mask(p.grads), mask(p.needs)] if p.kind == "backward" else [])
    return "_".join([p.program.key(), p.dtype, p.kind] + flags)


def source(p: Plan) -> str:
    """The text of the generated module of plan ``p``."""
    flags = f"scalars={mask(p.scalars)!r}"
    if p.kind == "backward":
        flags += f", grads={mask(p.grads)!r}, needs={mask(p.needs)!r}"
    what = (f"inputs then the gradients of outputs {mask(p.grads)}; outs: the gradients of inputs {mask(p.needs)}"
            if p.kind == "backward" else "the inputs; outs: the outputs")
    return "\n".join([
        f'"""{p.kind.capitalize()} of fused program {p.program.key()} ({p.dtype}), written by chainrule\'s',
        "fused_codegen: a file that differs from what it writes is written again, and deleting it is safe.",
        f"kernel(ins, outs, lo, hi): elements lo:hi of flat arrays; ins: {what}.",
        '"""',
        "",
        f"from {__package__}._compile import jit",
        f"from {__package__}.fused_ir import loop_body",
        "",
        'PROGRAM = """',
        p.program.text(),
        '"""',
        f"body = loop_body(PROGRAM, {p.kind!r}, {p.dtype!r}, {flags})",
        "",
        "",
        "@jit(nogil=True)",
        "def kernel(ins, outs, lo, hi):",
        "    body(ins, outs, lo, hi)",
        "    return 0",
        "",
    ])
