"""``chainrule.save`` / ``chainrule.load``: weights and checkpoints in the safetensors format.

Nothing is pickled, so loading a file never runs code from it.

* A flat state dict (str -> Tensor) is stored as is: one safetensors entry per key. Such files
  are interchangeable with PyTorch's ``safetensors.torch.save_file(model.state_dict(), f)``.
* Anything else (a checkpoint such as ``{"model": ..., "optimizer": ..., "epoch": 3}``) may nest
  dicts, lists and tuples of Tensors, NumPy arrays, numbers, strings, bools and None. Arrays are
  stored as safetensors entries under dotted keys ("optimizer.state.0.exp_avg"); the structure
  and the plain values are stored as JSON in the file's metadata. Loading rebuilds the same
  structure with the same dtypes, key types (int keys stay ints) and container types.

Files are written atomically: to a temporary file in the same directory, flushed to disk, then
renamed over the target, so an interrupted save never leaves a truncated checkpoint.
"""

from __future__ import annotations

import json
import math
import os
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import backend
from ._io import atomic_write
from .tensor import Tensor

_FORMAT_TREE = "chainrule"
_TREE_KEY = "chainrule.tree"
_ORDER_KEY = "chainrule.keys"
_PLAIN_KEY = "chainrule.plain_dict"
_SUPPORTED = ("Tensor, numpy arrays and scalars, int, float, bool, str, None, dtypes, and dicts, lists "
              "and tuples of these")


def _safetensors():
    try:
        import safetensors.numpy as st_numpy  # noqa: PLC0415  (a dependency, imported when used)
    except ImportError as e:  # pragma: no cover - safetensors is a declared dependency
        raise ImportError("chainrule.save/load need the 'safetensors' package: pip install safetensors") from e
    return st_numpy


def _host_array(t: Tensor) -> np.ndarray:
    return _contiguous(t.numpy(force=True))


def _contiguous(a: np.ndarray) -> np.ndarray:
    # not np.ascontiguousarray: it turns 0-d arrays into 1-d ones
    return a if a.flags.c_contiguous else a.copy(order="C")


def _is_flat_state_dict(obj: Any) -> bool:
    return (isinstance(obj, Mapping) and all(isinstance(k, str) for k in obj)
            and all(type(v) is Tensor for v in obj.values()))


class _Encoder:
    """Turns a nested object into a JSON tree plus a dict of arrays keyed by dotted paths."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self._keys_by_id: dict[int, str] = {}
        self._keep_alive: list = []  # ids stay unique only while the objects live

    def _store(self, obj: Any, array: np.ndarray, path: list) -> str:
        if id(obj) in self._keys_by_id:  # the same tensor twice is stored once and loaded as one
            return self._keys_by_id[id(obj)]
        base = ".".join(str(p) for p in path) or "tensor"
        key, n = base, 1
        while key in self.arrays:
            key = f"{base}#{n}"
            n += 1
        self.arrays[key] = array
        self._keys_by_id[id(obj)] = key
        self._keep_alive.append(obj)
        return key

    def encode(self, obj: Any, path: list) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj) if math.isfinite(obj) else {"__float__": repr(float(obj))}
        if isinstance(obj, Tensor):
            from .nn.parameter import Parameter  # noqa: PLC0415  (nn sits above; only a type check)

            key = self._store(obj, _host_array(obj), path)
            return {"__tensor__": key, "requires_grad": obj.requires_grad,
                    "parameter": isinstance(obj, Parameter)}
        if isinstance(obj, (np.ndarray, np.generic)):
            array = np.asarray(obj)
            if array.dtype.kind not in "biuf":
                raise TypeError(f"chainrule.save: unsupported NumPy dtype {array.dtype} at '{_where(path)}'")
            key = self._store(obj, _contiguous(array), path)
            return {"__ndarray__": key, "scalar": isinstance(obj, np.generic)}
        if isinstance(obj, backend.dtype):
            return {"__dtype__": obj.name}
        if isinstance(obj, Mapping):
            items = [[self.encode_key(k, path), self.encode(v, path + [k])] for k, v in obj.items()]
            return {"__dict__": items, "ordered": isinstance(obj, OrderedDict)}
        if isinstance(obj, list):
            return [self.encode(v, path + [i]) for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, path + [i]) for i, v in enumerate(obj)]}
        hint = " (save module.state_dict() instead of the module)" if hasattr(obj, "state_dict") else ""
        raise TypeError(
            f"chainrule.save: cannot store an object of type {type(obj).__name__} at '{_where(path)}'{hint}; "
            f"supported: {_SUPPORTED}")

    def encode_key(self, key: Any, path: list) -> Any:
        if key is None or isinstance(key, (bool, str, int, float, tuple, backend.dtype)):
            return self.encode(key, path + ["<key>"])
        raise TypeError(
            f"chainrule.save: unsupported dict key of type {type(key).__name__} at '{_where(path)}'; keys "
            "must be str, int, float, bool, None or tuples of these")


def _where(path: list) -> str:
    return ".".join(str(p) for p in path) or "<root>"


def _decode(node: Any, arrays: Mapping[str, np.ndarray], cache: dict) -> Any:
    if isinstance(node, list):
        return [_decode(v, arrays, cache) for v in node]
    if not isinstance(node, dict):
        return node
    if "__tensor__" in node:
        key = node["__tensor__"]
        if key not in cache:
            t = Tensor._make(arrays[key])
            if node.get("parameter"):
                from .nn.parameter import Parameter  # noqa: PLC0415  (nn sits above; only parameters need it)

                t = Parameter(t, requires_grad=bool(node.get("requires_grad")))
            elif node.get("requires_grad"):
                t.requires_grad = True
            cache[key] = t
        return cache[key]
    if "__ndarray__" in node:
        array = arrays[node["__ndarray__"]]
        return array[()] if node.get("scalar") else array
    if "__float__" in node:
        return float(node["__float__"])
    if "__dtype__" in node:
        return backend.to_dtype(node["__dtype__"])
    if "__tuple__" in node:
        return tuple(_decode(v, arrays, cache) for v in node["__tuple__"])
    if "__dict__" in node:
        out = OrderedDict() if node.get("ordered") else {}
        for k, v in node["__dict__"]:
            key = _decode(k, arrays, cache)
            out[key] = _decode(v, arrays, cache)
        return out
    raise ValueError(f"chainrule.load: malformed checkpoint structure near {str(node)[:80]!r}")


def _serialize(obj: Any) -> bytes:
    st_numpy = _safetensors()
    if _is_flat_state_dict(obj):
        arrays = {k: _host_array(v) for k, v in obj.items()}
        metadata = {"format": "pt", _ORDER_KEY: json.dumps(list(obj))}
        if not isinstance(obj, OrderedDict):  # loads back as the dict it was (a state dict: OrderedDict)
            metadata[_PLAIN_KEY] = "1"
    else:
        enc = _Encoder()
        tree = enc.encode(obj, [])
        arrays = enc.arrays
        metadata = {"format": _FORMAT_TREE, _TREE_KEY: json.dumps(tree, allow_nan=False)}
    return st_numpy.save(arrays, metadata=metadata)


def save(obj: Any, f: str | os.PathLike | Any) -> None:
    """Write ``obj`` (a state dict or a nested checkpoint) to ``f`` in the safetensors format.

    ``f`` is a path (written atomically) or a binary file object.
    """
    data = _serialize(obj)
    if hasattr(f, "write"):
        f.write(data)
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"chainrule.save: the directory '{directory}' does not exist")
    atomic_write(path, data)


def load(f: str | os.PathLike | Any, map_location: Any = None, *, weights_only: bool = True, **kwargs: Any) -> Any:
    """Read what ``save`` wrote, or any safetensors file (e.g. from ``safetensors.torch.save_file``).

    float16 entries load as float16; bfloat16 entries load as float32 with the same values
    (bit-exact, see ``_decode_array``); any other dtype chainrule lacks is an error naming it.

    A dict saved by ``save`` loads as a dict, an ``OrderedDict`` (a state dict) as an
    ``OrderedDict``; any other safetensors file gives an ``OrderedDict`` of str -> Tensor, ready for
    ``module.load_state_dict``. ``map_location`` may only name the CPU; ``weights_only`` is
    accepted for PyTorch compatibility (loading never executes code either way).
    """
    if map_location is not None and not callable(map_location) and not isinstance(map_location, dict):
        backend.check_device(map_location)
    if hasattr(f, "read"):
        return _deserialize_bytes(f.read(), getattr(f, "name", "<file object>"))
    path = os.fspath(f)
    if not os.path.exists(path):
        raise FileNotFoundError(f"chainrule.load: no such file: '{path}'")
    if os.path.isdir(path):
        raise IsADirectoryError(f"chainrule.load: '{path}' is a directory, expected a .safetensors file")
    with open(path, "rb") as fh:
        return _deserialize_bytes(fh.read(), path)


def _deserialize_bytes(data: bytes, name: str) -> Any:
    _safetensors()
    import safetensors  # noqa: PLC0415

    try:
        metadata = _read_metadata(data)
        raw = safetensors.deserialize(data)  # validated header and offsets, raw bytes per tensor
    except Exception as e:  # safetensors' own error types vary between versions
        raise ValueError(
            f"chainrule.load: '{name}' is not a valid safetensors file ({e}). chainrule reads only the "
            "safetensors format and never unpickles; convert a PyTorch checkpoint with "
            "safetensors.torch.save_file(model.state_dict(), path)") from None
    arrays = {k: _decode_array(k, spec["dtype"], spec["shape"], spec["data"], name) for k, spec in raw}
    if metadata.get("format") == _FORMAT_TREE and _TREE_KEY in metadata:
        return _decode(json.loads(metadata[_TREE_KEY]), arrays, {})
    order = list(arrays)
    if _ORDER_KEY in metadata:
        saved = json.loads(metadata[_ORDER_KEY])
        if sorted(saved) == sorted(order):
            order = saved
    mapping = dict if metadata.get(_PLAIN_KEY) == "1" else OrderedDict
    return mapping((k, Tensor._make(arrays[k])) for k in order)


# safetensors dtype codes chainrule holds as they are; BF16 is widened to float32 below
_ST_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
              "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


def _decode_array(key: str, code: str, shape: list, raw: bytes | bytearray, name: str) -> np.ndarray:
    """One safetensors entry as a writable NumPy array (little-endian bytes, as the format says).

    bfloat16 is the top half of a float32: shifting its 16 bits into the high half of a uint32
    and viewing that as float32 gives the same number exactly (NaN payloads and signed zeros
    included). That needs no extra package, so ``ml_dtypes`` is not used; the tensor loads as
    float32 because chainrule has no bfloat16 dtype.
    """
    if code == "BF16":
        bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return bits.view(np.float32).reshape(shape)
    if code not in _ST_DTYPES:
        raise TypeError(
            f"chainrule.load: unsupported dtype {code} in '{key}' of '{name}'; chainrule reads "
            f"{', '.join(sorted(_ST_DTYPES))} and BF16 (as float32)")
    a = np.frombuffer(raw, dtype=np.dtype(_ST_DTYPES[code]).newbyteorder("<"))
    if not a.dtype.isnative or not a.flags.writeable:
        a = a.astype(_ST_DTYPES[code])
    return a.reshape(shape)


def _read_metadata(data: bytes) -> dict:
    """The ``__metadata__`` of a safetensors header: 8-byte little-endian length, then JSON."""
    if len(data) < 8:
        raise ValueError("file too short for a safetensors header")
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8:
        raise ValueError("header length exceeds the file size")
    header = json.loads(data[8:8 + n])
    if not isinstance(header, dict):
        raise ValueError("header is not a JSON object")
    meta = header.get("__metadata__") or {}
    return dict(meta)


__all__ = ["save", "load"]
