"""The worked autograd example of the course: a DAG with a shared weight, differentiated."""

from __future__ import annotations

import argparse

import numpy as np

import chainrule as cr


def run(seed: int = 0) -> dict:
    """Build x1 = w1 x0, x2 = x0 + w2 x1, x3 = w1 (x1 + x2), q = ||x3|| and differentiate q.

    ``w1`` is used by two nodes, so its gradient is the sum of the gradients of both uses.
    Returns the values printed by ``print_report``.
    """
    gen = cr.Generator().manual_seed(seed)
    w1 = cr.randn(5, 5, generator=gen, dtype=cr.float64).requires_grad_()
    w2 = cr.randn(5, 5, generator=gen, dtype=cr.float64).requires_grad_()
    x0 = cr.randn(5, generator=gen, dtype=cr.float64)
    x1 = w1 @ x0
    x2 = x0 + w2 @ x1
    x3 = w1 @ (x1 + x2)
    q = x3.norm()
    q.backward()
    # the two uses of w1 separately, to show that autograd sums them
    a, b = w1.detach().clone().requires_grad_(), w1.detach().clone().requires_grad_()
    y1 = a @ x0
    (b @ (y1 + x0 + w2.detach() @ y1)).norm().backward()
    return {"q": q.item(), "w1": w1.grad, "w2": w2.grad, "w1_use1": a.grad, "w1_use2": b.grad}


def print_report(result: dict) -> None:
    np.set_printoptions(precision=4, suppress=True)
    print("chainrule autograd demo: x1 = w1 x0, x2 = x0 + w2 x1, x3 = w1 (x1 + x2), q = ||x3||")
    print(f"q = {result['q']:.6f}")
    print("dq/dw1 (w1 is used twice; its gradient is the sum of both uses):")
    print(result["w1"].numpy())
    print("dq/dw2:")
    print(result["w2"].numpy())
    total = (result["w1_use1"] + result["w1_use2"]).numpy()
    err = np.abs(total - result["w1"].numpy()).max()
    print(f"max |dq/dw1 - (use 1 + use 2)| = {err:.2e}")


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("autograd-demo", help="the course's worked autograd example (a DAG with a shared weight)",
                              description="Differentiate q = ||w1 (w1 x0 + x0 + w2 w1 x0)|| and show that the "
                                          "gradient of the shared weight w1 is the sum over its two uses.")
    p.add_argument("--seed", type=int, default=0, help="seed of the random w1, w2 and x0")
    p.set_defaults(func=_main)
    return p


def _main(args: argparse.Namespace) -> int:
    print_report(run(seed=args.seed))
    return 0
