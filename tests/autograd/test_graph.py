"""The autograd graph as DOT: the textbook pictures, node by node and edge by edge."""

from __future__ import annotations

import re

import pytest

import chainrule as cr
from chainrule.autograd.graph import render, to_dot


def parse(dot: str):
    nodes = dict(re.findall(r'^\s*(\w+) \[label="([^"]*)"', dot, flags=re.M))
    edges = re.findall(r"^\s*(\w+) -> (\w+);", dot, flags=re.M)
    return nodes, edges


def test_norm_graph_is_leaf_node_output():
    x = cr.tensor([1.0, 2.0, 2.0], requires_grad=True)
    nodes, edges = parse(to_dot(x.norm(), params={"x": x}))
    labels = sorted(nodes.values())
    assert labels == ["LinalgVectorNormBackward0", "output\\n()", "x\\n(3)"]
    by_label = {v: k for k, v in nodes.items()}
    assert sorted(edges) == sorted([(by_label["x\\n(3)"], by_label["LinalgVectorNormBackward0"]),
                                    (by_label["LinalgVectorNormBackward0"], by_label["output\\n()"])])


def test_shared_weight_dag_draws_w1_once_with_two_consumers():
    w1 = cr.randn(5, 5, requires_grad=True)
    w2 = cr.randn(5, 5, requires_grad=True)
    x0 = cr.randn(5)
    x1 = w1 @ x0
    x2 = x0 + w2 @ x1
    x3 = w1 @ (x1 + x2)
    q = x3.norm()
    nodes, edges = parse(to_dot(q, params={"w1": w1, "w2": w2}))
    ops = sorted(v for v in nodes.values() if v.endswith("Backward0"))
    assert ops == ["AddBackward0", "AddBackward0", "LinalgVectorNormBackward0", "MvBackward0", "MvBackward0",
                   "MvBackward0"]
    leaves = [k for k, v in nodes.items() if v.startswith(("w1", "w2"))]
    assert sorted(nodes[k] for k in leaves) == ["w1\\n(5, 5)", "w2\\n(5, 5)"]
    w1_id = next(k for k in leaves if nodes[k].startswith("w1"))
    w2_id = next(k for k in leaves if nodes[k].startswith("w2"))
    assert [b for a, b in edges if a == w1_id] and len([b for a, b in edges if a == w1_id]) == 2
    assert all(nodes[b] == "MvBackward0" for a, b in edges if a == w1_id)
    assert len([b for a, b in edges if a == w2_id]) == 1
    # x1 = w1 x0 feeds both w2 x1 and x1 + x2; x3 = w1 (x1 + x2) feeds only the norm
    w1_users = [b for a, b in edges if a == w1_id]
    assert sorted(len([1 for a, _ in edges if a == m]) for m in w1_users) == [1, 2]
    # 6 operators + 2 leaves + the output; every operator input that requires grad is one edge
    assert len(nodes) == 9
    assert len(edges) == 10


def test_show_saved_adds_saved_tensors():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    dot = to_dot(y, show_saved=True)
    assert "saved output 0" in dot
    assert "saved" not in to_dot(y)


def test_render_without_graphviz_writes_dot(tmp_path, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    x = cr.tensor([1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="Install Graphviz"):
        path = render(x * 2, tmp_path / "g.svg")
    assert path.endswith("g.dot")
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


def test_to_dot_rejects_non_tensors():
    with pytest.raises(TypeError, match="expects Tensors"):
        to_dot([1, 2])
