"""Tables of operator classes by module (``static_ops.py``, ``buffers.py``): names to classes."""

from __future__ import annotations

import importlib


def classes(table: dict) -> frozenset:
    """The classes a table names (module -> space-separated class names); a renamed class fails
    loudly here."""
    found: set[type] = set()
    for module, names in table.items():
        mod = importlib.import_module(module)
        found.update(getattr(mod, name) for name in names.split())
    return frozenset(found)
