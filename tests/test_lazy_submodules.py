"""Submodules reachable as attributes after ``import chainrule``, loaded only on first use."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import chainrule as cr

LAZY = ["chainrule.models", "chainrule.tools", "chainrule.serialization", "chainrule.autograd.graph",
        "chainrule.cuda", "chainrule.backends", "chainrule.accelerator", "chainrule.distributions", "chainrule.random"]


def run(code: str) -> dict:
    env = dict(os.environ, CHAINRULE_JIT="0")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout)


def test_import_chainrule_loads_none_of_them():
    loaded = run("import json, sys, chainrule; print(json.dumps(sorted(sys.modules)))")
    assert [m for m in LAZY if m in loaded] == []
    assert "multiprocessing" not in loaded  # DataLoader workers load it when first used
    assert "chainrule.utils.data" in loaded and "chainrule.nn" in loaded  # the eager ones stay eager


@pytest.mark.parametrize("path", LAZY)
def test_attribute_access_loads_on_demand(path):
    code = f"""
import json, sys, chainrule
before = {path!r} in sys.modules
obj = chainrule
for part in {path!r}.split(".")[1:]:
    obj = getattr(obj, part)
print(json.dumps([before, obj.__name__, {path!r} in sys.modules]))
"""
    assert run(code) == [False, path, True]


def test_names_and_imports_work():
    assert cr.models.__name__ == "chainrule.models" and callable(cr.models.get_model)
    assert callable(cr.tools.summary) and callable(cr.tools.receptive_field)
    assert callable(cr.autograd.graph.to_dot)
    assert cr.save is cr.serialization.save and cr.load is cr.serialization.load
    from chainrule import load, save  # from-imports go through the module's __getattr__

    assert (load, save) == (cr.load, cr.save)
    import chainrule.cuda as cuda

    assert cuda is cr.cuda
    for name in ("models", "tools", "serialization", "cuda", "backends", "accelerator", "load", "save"):
        assert name in dir(cr)


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="module 'chainrule' has no attribute 'no_such_module'"):
        cr.no_such_module  # noqa: B018
    with pytest.raises(AttributeError, match="module 'chainrule.autograd' has no attribute 'nope'"):
        cr.autograd.nope  # noqa: B018
    assert not hasattr(cr, "no_such_module")
