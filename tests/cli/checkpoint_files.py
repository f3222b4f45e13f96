"""Taking a training checkpoint file apart and putting hostile versions of it together (tests only)."""

from __future__ import annotations

import json


def split(data: bytes) -> tuple[dict, bytes]:
    """A safetensors file: its JSON header and the tensor bytes after it."""
    n = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + n]), data[8 + n:]


def join(header: dict, body: bytes) -> bytes:
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + body


def tree(data: bytes):
    """The JSON structure chainrule.save stores in the metadata (config, history ... and tensor references)."""
    header, _ = split(data)
    return json.loads(header["__metadata__"]["chainrule.tree"])


def with_tree(data: bytes, new_tree) -> bytes:
    header, body = split(data)
    header["__metadata__"]["chainrule.tree"] = json.dumps(new_tree)
    return join(header, body)


def entry(t, key: str):
    """The value under ``key`` of an encoded top-level dict (``{"__dict__": [[k, v], ...]}``)."""
    for k, v in t["__dict__"]:
        if k == key:
            return v
    raise KeyError(key)


def set_entry(t, key: str, value) -> None:
    items = t["__dict__"]
    for item in items:
        if item[0] == key:
            item[1] = value
            return
    items.append([key, value])


def drop_entry(t, key: str) -> None:
    t["__dict__"] = [item for item in t["__dict__"] if item[0] != key]
