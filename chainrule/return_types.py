"""The named tuples that operators with several results return (``torch.return_types``).

``x.max(dim=1)`` returns ``return_types.max(values=..., indices=...)``: a tuple that unpacks as
``values, indices`` and prints as PyTorch's does, one field per line.
"""

from __future__ import annotations

from collections import namedtuple


def structseq(name: str, fields: tuple[str, ...]) -> type:
    """A named tuple class ``name`` with ``fields``, printed as ``chainrule.return_types.name(...)``."""
    base = namedtuple(name, fields)  # type: ignore[misc]  # a class made at run time

    def __repr__(self) -> str:
        body = ",\n".join(f"{field}={value!r}" for field, value in zip(fields, self))
        return f"chainrule.return_types.{name}(\n{body})"

    cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": __name__})
    globals()[name] = cls
    return cls


max = structseq("max", ("values", "indices"))  # noqa: A001 - PyTorch's names
min = structseq("min", ("values", "indices"))  # noqa: A001
sort = structseq("sort", ("values", "indices"))
topk = structseq("topk", ("values", "indices"))
kthvalue = structseq("kthvalue", ("values", "indices"))
median = structseq("median", ("values", "indices"))
