"""Types for editors and type checkers: py.typed ships, the Tensor stub matches the registered
operators, and a user script type-checks with mypy against the installed package."""

import importlib.util
import os
import textwrap
from importlib import resources

import pytest

import chainrule as cr

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _generator():
    spec = importlib.util.spec_from_file_location("gen_tensor_stub", os.path.join(ROOT, "scripts", "gen_tensor_stub.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_py_typed_ships_with_the_package():
    assert resources.files("chainrule").joinpath("py.typed").is_file()
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        assert '"py.typed", "*.pyi"' in f.read()


def test_tensor_stub_is_up_to_date():
    gen = _generator()
    with open(gen.stub_path()) as f:
        on_disk = f.read()
    assert on_disk == gen.render(), "chainrule/tensor.pyi is out of date: run python scripts/gen_tensor_stub.py"


def test_tensor_stub_declares_every_registered_method():
    with open(_generator().stub_path()) as f:
        stub = f.read()
    names = [n for n in vars(cr.Tensor) if not n.startswith("__") and callable(getattr(cr.Tensor, n, None))]
    assert len(names) > 200
    missing = [n for n in names if f"def {n}(" not in stub]
    assert not missing


USER_SCRIPT = """
    import chainrule
    from chainrule import nn

    x = chainrule.randn(3, 4, requires_grad=True)
    loss = (x.relu() * 2 + 1).sum()
    loss.backward()
    grad: chainrule.Tensor | None = x.grad
    n: int = x.numel()
    shape: tuple[int, ...] = x.shape
    model = nn.Linear(4, 2)
    y = model(x).mean()
    y.backward()
    reveal_type(x.sum())
"""


def test_a_user_script_type_checks(tmp_path):
    api = pytest.importorskip("mypy.api")
    script = tmp_path / "user.py"
    script.write_text(textwrap.dedent(USER_SCRIPT))
    bad = tmp_path / "bad.py"
    bad.write_text("import chainrule\nx = chainrule.randn(3)\nx.sum().backward(create_graph='yes', bogus=1)\n"
                   "x.no_such_method()\n")
    cache = str(tmp_path / "cache")
    out, err, status = api.run([str(script), "--check-untyped-defs", "--cache-dir", cache, "--follow-imports=silent"])
    assert status == 0, out + err
    assert 'Revealed type is "chainrule.tensor.Tensor"' in out
    out, _, status = api.run([str(bad), "--cache-dir", cache, "--follow-imports=silent"])
    assert status == 1
    assert 'Unexpected keyword argument "bogus"' in out and '"no_such_method"' in out
