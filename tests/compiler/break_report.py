"""How much of the operator and module tables ``chainrule.compile`` captures, and why the rest breaks.

``python -m tests.compiler.break_report`` runs every row of both tables through ``compile`` the
way ``test_compile_tables.py`` does (float32 and float64, each backend, the module rows in each
of their modes, three calls each, reference kernels) and prints how many cases replayed, how
many broke to eager, how many ran a fused kernel and how many ran as a flat schedule, then the
break reasons by count with the operator rows that give each, and the reasons why replayed graphs
stayed on nodes (``compiler/flat.py``). The tests check that every case equals eager; this counts them.
"""

from __future__ import annotations

import collections
import warnings

from chainrule import kernels

from . import test_compile_tables as tables


def _reason(text: str) -> str:
    """A break reason without the parts that vary by row (shapes, dtypes, source lines)."""
    return text.split(" is a tensor")[0].split(" (")[0]


def main() -> None:
    warnings.simplefilter("ignore")
    counts: collections.Counter = collections.Counter()
    reasons: collections.Counter = collections.Counter()
    rows: dict[str, set] = collections.defaultdict(set)
    not_flat: collections.Counter = collections.Counter()
    not_flat_rows: dict[str, set] = collections.defaultdict(set)
    fused = flat = 0

    def count(kind: str, name: str, outcome) -> None:
        nonlocal fused, flat
        counts[(kind, "break" if outcome.breaks else "replay")] += 1
        fused += outcome.fused
        flat += outcome.flat
        for text in outcome.not_flat[:1]:
            not_flat[_reason(text)] += 1
            not_flat_rows[_reason(text)].add(name.split(".")[0])
        for text, _ in outcome.breaks[:1]:
            reasons[_reason(text)] += 1
            rows[_reason(text)].add(name.split(".")[0])

    with kernels.only("numpy"):
        for case in tables.OP_CASES:
            for dtype in tables.DTYPES.values():
                for outcome in tables.run_op_case(case, dtype).values():
                    count("operator", case.name, outcome)
        for mcase in tables.MODULE_CASES:
            for dtype in tables.DTYPES.values():
                for mode in mcase.modes:
                    for outcome in tables.run_module_case(mcase, dtype, mode).values():
                        count("module", mcase.name, outcome)
    total = sum(counts.values())
    replay = counts[("operator", "replay")] + counts[("module", "replay")]
    print(f"{total} cases: {replay} replayed ({counts[('operator', 'replay')]} operator, "
          f"{counts[('module', 'replay')]} module), {total - replay} broke to eager "
          f"({counts[('operator', 'break')]} operator, {counts[('module', 'break')]} module); "
          f"{fused} ran a fused kernel, {flat} ran as a flat schedule")
    print("graph breaks:")
    for text, n in reasons.most_common():
        print(f"{n:5}  {text}: {', '.join(sorted(rows[text])[:12])}{' ...' if len(rows[text]) > 12 else ''}")
    print("replayed on nodes, not as a flat schedule:")
    for text, n in not_flat.most_common():
        print(f"{n:5}  {text}: {', '.join(sorted(not_flat_rows[text])[:12])}"
              f"{' ...' if len(not_flat_rows[text]) > 12 else ''}")


if __name__ == "__main__":
    main()
