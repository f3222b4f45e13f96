"""What the generic keywords (``out=``, ``axis=``, ``keepdims=``) cost a call that does not use them.

``python -m bench.keyword_overhead`` times, in one process and interleaved, each registered entry
point (``chainrule.add``, ``Tensor.sum`` ...) against the raw operator function it wraps, on a 4x4
tensor, and the bare wrapper around a function that does nothing. Minimum over runs: the figure
least disturbed by other load on the machine.
"""

from __future__ import annotations

import timeit

from .overhead import best_us


def main() -> None:
    import chainrule
    from chainrule.ops import elementwise, reduction
    from chainrule.ops._keywords import with_keywords

    x, y = chainrule.randn(4, 4), chainrule.randn(4, 4)
    raw_sum = reduction.sum

    def nothing(a, b):
        return None

    wrapped_nothing = with_keywords(nothing, "nothing", "cast", True)
    pairs = {
        "bare wrapper": (lambda: wrapped_nothing(x, y), lambda: nothing(x, y)),
        "x + y (not wrapped)": (lambda: x + y, lambda: elementwise.add(x, y)),
        "chainrule.add(x, y)": (lambda: chainrule.add(x, y), lambda: elementwise.add(x, y)),
        "x.sum(1)": (lambda: x.sum(1), lambda: raw_sum(x, 1)),
        "chainrule.sum(x, 1)": (lambda: chainrule.sum(x, 1), lambda: raw_sum(x, 1)),
        "x.sum(1, keepdim=True)": (lambda: x.sum(1, keepdim=True), lambda: raw_sum(x, 1, keepdim=True)),
    }
    timeit.timeit(lambda: x + y, number=1000)  # warm up
    print(f"{'call':26s} {'raw us':>8s} {'registered us':>14s} {'extra us':>9s}")
    for name, (registered, raw) in pairs.items():
        r = w = float("inf")
        for _ in range(10):
            r = min(r, best_us(raw, 2000, repeat=2))
            w = min(w, best_us(registered, 2000, repeat=2))
        print(f"{name:26s} {r:8.3f} {w:14.3f} {w - r:+9.3f}")


if __name__ == "__main__":
    main()
