"""A chain of element-wise operators as a small register program: what the ``fused`` kernel
family of every backend runs (``numpy/fused.py`` interprets it, ``numba/fused.py`` compiles it).

Registers ``0 .. n_inputs-1`` hold the inputs; instruction ``k`` writes register
``n_inputs + k`` from registers written before it; ``outputs`` names the registers returned.
The inputs are arrays of one float dtype, every non-0-d one of the output shape, the 0-d ones
scalars broadcast to it. Each operator means what chainrule's eager operator of that name
computes, in the inputs' dtype (``OPS`` lists them):

* binary: ``add sub mul div maximum minimum``;
* unary: ``neg exp log sqrt rsqrt tanh sigmoid relu abs sin cos log1p expm1 square reciprocal``;
* with a number ``attr``: ``pow_scalar`` (``x ** attr``).

Nothing here imports an array library: the program is plain data, and ``key()`` names it
stably across processes (the compiled backend names its generated files by it).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math

BINARY = ("add", "sub", "mul", "div", "maximum", "minimum")
UNARY = ("neg", "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "relu", "abs", "sin", "cos",
         "log1p", "expm1", "square", "reciprocal")
WITH_ATTR = ("pow_scalar",)
OPS = {**dict.fromkeys(BINARY, 2), **dict.fromkeys(UNARY, 1), **dict.fromkeys(WITH_ATTR, 1)}  # op -> arity


@dataclasses.dataclass(frozen=True)
class Instr:
    """``reg[dst] = op(reg[srcs[0]], ...)``; ``attr`` is the exponent of ``pow_scalar`` (None
    for every other op)."""

    op: str
    dst: int
    srcs: tuple[int, ...]
    attr: float | None = None

    def text(self) -> str:
        """The instruction in one line, e.g. ``r3 = mul r0 r2`` or ``r4 = pow_scalar r3 2.5``."""
        args = " ".join(f"r{s}" for s in self.srcs)
        return f"r{self.dst} = {self.op} {args}" + ("" if self.attr is None else f" {float(self.attr)!r}")


@dataclasses.dataclass(frozen=True)
class Program:
    """``n_inputs`` input registers, ``instrs`` writing one new register each (numbered on from
    ``n_inputs``), and the registers ``outputs`` returned. Checked on construction: an unknown
    op, a wrong operand count, a register read before it is written or a ``dst`` out of sequence
    raises ``ValueError`` saying what was expected."""

    n_inputs: int
    instrs: tuple[Instr, ...]
    outputs: tuple[int, ...]

    def __post_init__(self):
        # tuples whatever sequences were given: the program is hashable and its key stable
        object.__setattr__(self, "instrs", tuple(self.instrs))
        object.__setattr__(self, "outputs", tuple(int(o) for o in self.outputs))
        self.validate()

    @property
    def n_registers(self) -> int:
        return self.n_inputs + len(self.instrs)

    def validate(self) -> None:
        """Raise ``ValueError`` unless the program is well formed (see the class doc)."""
        if not isinstance(self.n_inputs, int) or self.n_inputs < 1:
            raise ValueError(f"Program: expected n_inputs to be a positive int, got {self.n_inputs!r}")
        for k, ins in enumerate(self.instrs):
            where = f"Program: instruction {k} ({ins!r})"
            if not isinstance(ins, Instr):
                raise ValueError(f"{where}: expected an Instr, got {type(ins).__name__}")
            if ins.op not in OPS:
                raise ValueError(f"{where}: unknown op {ins.op!r}; expected one of {sorted(OPS)}")
            expected_dst = self.n_inputs + k
            if ins.dst != expected_dst:
                raise ValueError(f"{where}: expected dst {expected_dst} (registers are written in order), got {ins.dst}")
            if len(ins.srcs) != OPS[ins.op]:
                raise ValueError(f"{where}: {ins.op} expected {OPS[ins.op]} operand(s), got {len(ins.srcs)}")
            for s in ins.srcs:
                if not isinstance(s, int) or not 0 <= s < expected_dst:
                    raise ValueError(f"{where}: expected operand registers in 0..{expected_dst - 1} "
                                     f"(inputs and earlier results), got {s!r}")
            if ins.op in WITH_ATTR:
                if not isinstance(ins.attr, (int, float)) or isinstance(ins.attr, bool) or not math.isfinite(ins.attr):
                    raise ValueError(f"{where}: {ins.op} expected a finite number attr, got {ins.attr!r}")
            elif ins.attr is not None:
                raise ValueError(f"{where}: {ins.op} expected no attr, got {ins.attr!r}")
        if not self.outputs:
            raise ValueError("Program: expected at least one output register, got none")
        for o in self.outputs:
            if not 0 <= o < self.n_registers:
                raise ValueError(f"Program: expected output registers in 0..{self.n_registers - 1}, got {o}")

    def text(self) -> str:
        """The program as text, one instruction a line: what ``key`` hashes."""
        lines = [f"inputs {self.n_inputs}"] + [ins.text() for ins in self.instrs]
        lines.append("outputs " + " ".join(f"r{o}" for o in self.outputs))
        return "\n".join(lines)

    @classmethod
    def from_text(cls, text: str) -> Program:
        """The program that ``text()`` wrote (``ValueError`` for text it does not write)."""
        lines = [ln.split() for ln in text.strip().splitlines()]
        try:
            head, *body, tail = lines
            if head[0] != "inputs" or tail[0] != "outputs":
                raise ValueError
            n = int(head[1])
            instrs = []
            for words in body:
                op = words[2]
                arity = OPS.get(op, 0)
                srcs = tuple(int(w[1:]) for w in words[3:3 + arity])
                attr = float(words[3 + arity]) if len(words) > 3 + arity else None
                instrs.append(Instr(op, int(words[0][1:]), srcs, attr))
            outputs = tuple(int(w[1:]) for w in tail[1:])
        except (ValueError, IndexError):
            raise ValueError(f"Program.from_text: expected the text of Program.text(), got {text[:80]!r}") from None
        return cls(n, tuple(instrs), outputs)

    @functools.cached_property
    def _key(self) -> str:
        return hashlib.sha256(self.text().encode()).hexdigest()[:24]

    def key(self) -> str:
        """A stable name of the program (hex digits of a hash of ``text()``): the same in every
        process and Python version, computed once per Program object."""
        return self._key



def depends_on(program: Program, flags) -> list[bool]:
    """For each register, whether it depends on an input whose flag is set. With the ``needs``
    flags of a backward: the registers whose adjoints are computed (eager's ``needs_input_grad``)."""
    out = [bool(f) for f in flags] + [False] * len(program.instrs)
    for ins in program.instrs:
        out[ins.dst] = any(out[s] for s in ins.srcs)
    return out


def call_arguments(args: tuple, program: Program | None, needs=None, backward: bool = False) -> tuple:
    """(program, needs, arrays) of a kernel call made either way: ``forward(xp, program, *inputs)``
    and ``backward(xp, program, needs, *arrays)``, or with ``program=`` (and ``needs=``) as
    keywords after the arrays, the form ``kernels.call`` passes (``kernels.select`` looks at the
    positional arguments, which must then be arrays)."""
    if program is None:
        if backward:
            program, needs, *rest = args
        else:
            program, *rest = args
        args = tuple(rest)
    if not isinstance(program, Program):
        raise TypeError(f"fused: expected a Program, got {type(program).__name__}")
    if backward and needs is None:
        raise TypeError("fused.backward: expected needs (one flag per input), got None")
    return program, needs, args


def output_shape(shapes) -> tuple[int, ...]:
    """The shape of a program's results from its inputs' shapes: the one shape every non-0-d
    input has (``()`` when all are 0-d); ``ValueError`` when two differ (the program does not
    broadcast beyond scalars)."""
    full = {tuple(s) for s in shapes if len(s)}
    if len(full) > 1:
        raise ValueError(f"fused: expected every non-0-d input to have one shape (0-d inputs are broadcast), "
                         f"got shapes {[tuple(s) for s in shapes]}")
    return full.pop() if full else ()


__all__ = ["BINARY", "OPS", "UNARY", "WITH_ATTR", "Instr", "Program", "call_arguments", "depends_on", "output_shape"]
