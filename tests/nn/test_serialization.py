"""chainrule.save / chainrule.load: safetensors files, PyTorch interchange, nested checkpoints."""

from __future__ import annotations

import io
import json
import math
import os
from collections import OrderedDict

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch

import chainrule as cr
from chainrule import nn


def mlp():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def torch_mlp():
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))


def test_state_dict_round_trip(tmp_path):
    model = mlp()
    model.register_buffer("count", cr.tensor([3], dtype=cr.int64))
    model.register_buffer("flag", cr.tensor([True, False]))
    model.register_buffer("halfbuf", cr.ones(2, dtype=cr.float16))
    model.register_buffer("scalar", cr.tensor(2.5, dtype=cr.float64))
    path = tmp_path / "model.safetensors"
    cr.save(model.state_dict(), path)
    loaded = cr.load(path)
    assert isinstance(loaded, OrderedDict) and list(loaded) == list(model.state_dict())
    for k, v in model.state_dict().items():
        assert loaded[k].dtype is v.dtype and loaded[k].shape == v.shape, k
        np.testing.assert_array_equal(loaded[k].numpy(), v.numpy())
    fresh = mlp()
    fresh.register_buffer("count", cr.zeros(1, dtype=cr.int64))
    fresh.register_buffer("flag", cr.zeros(2, dtype=cr.bool))
    fresh.register_buffer("halfbuf", cr.zeros(2, dtype=cr.float16))
    fresh.register_buffer("scalar", cr.tensor(0.0, dtype=cr.float64))
    fresh.load_state_dict(loaded)
    x = cr.randn(5, 4)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())


def test_flat_file_is_a_plain_safetensors_file_readable_by_torch(tmp_path):
    model = mlp()
    path = str(tmp_path / "w.safetensors")
    cr.save(model.state_dict(), path)
    tm = torch_mlp()
    tm.load_state_dict(safetensors.torch.load_file(path))
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    np.testing.assert_allclose(tm(torch.tensor(x)).detach().numpy(), model(cr.tensor(x)).detach().numpy(),
                               rtol=1e-6, atol=1e-6)


def test_torch_mlp_weights_load_and_give_identical_outputs(tmp_path):
    torch.manual_seed(0)
    tm = torch_mlp()
    path = str(tmp_path / "torch.safetensors")
    safetensors.torch.save_file(tm.state_dict(), path)
    model = mlp()
    result = model.load_state_dict(cr.load(path))
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = np.random.default_rng(1).standard_normal((7, 4)).astype(np.float32)
    ours = model(cr.tensor(x)).detach().numpy()
    ref = tm(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-6)


def test_nested_checkpoint_round_trip(tmp_path):
    model = mlp()
    step = cr.tensor(3.0)
    shared = cr.zeros(2, dtype=cr.float64)
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": {
            "state": {0: {"step": step, "exp_avg": shared, "other": shared}, 1: {}},
            "param_groups": [{"params": [0, 1], "lr": 0.1, "betas": (0.9, 0.999), "nesterov": False,
                              "name": None}],
        },
        "scheduler": {"last_epoch": 4, "base_lrs": [0.1], "gamma": float("inf"), "nan": float("nan")},
        "epoch": 5,
        "rng": cr.get_rng_state(),
        "numpy": {"array": np.arange(6, dtype=np.int32).reshape(2, 3), "scalar": np.float32(1.25)},
        "param": nn.Parameter(cr.ones(2)),
        "dtype": cr.float64,
        "big": 2**100,
    }
    path = tmp_path / "ckpt.safetensors"
    cr.save(checkpoint, path)
    back = cr.load(path)
    assert isinstance(back["model"], OrderedDict) and list(back["model"]) == list(checkpoint["model"])
    for k, v in checkpoint["model"].items():
        np.testing.assert_array_equal(back["model"][k].numpy(), v.numpy())
    state = back["optimizer"]["state"]
    assert list(state) == [0, 1] and state[1] == {}  # int keys stay ints
    assert state[0]["step"].shape == () and state[0]["step"].item() == 3.0
    assert state[0]["exp_avg"].dtype is cr.float64
    assert state[0]["exp_avg"] is state[0]["other"]  # one tensor saved once, loaded once
    group = back["optimizer"]["param_groups"][0]
    assert group == {"params": [0, 1], "lr": 0.1, "betas": (0.9, 0.999), "nesterov": False, "name": None}
    assert back["scheduler"]["gamma"] == math.inf and math.isnan(back["scheduler"]["nan"])
    assert back["epoch"] == 5 and back["big"] == 2**100 and back["dtype"] is cr.float64
    assert back["rng"] == checkpoint["rng"]
    arr = back["numpy"]["array"]
    assert isinstance(arr, np.ndarray) and arr.dtype == np.int32 and arr.tolist() == [[0, 1, 2], [3, 4, 5]]
    scalar = back["numpy"]["scalar"]
    assert isinstance(scalar, np.float32) and scalar == np.float32(1.25)
    assert isinstance(back["param"], nn.Parameter) and back["param"].requires_grad
    cr.set_rng_state(back["rng"])  # the state is usable as is


def test_nested_checkpoint_is_still_a_valid_safetensors_file(tmp_path):
    path = str(tmp_path / "ckpt.safetensors")
    cr.save({"a": {"b": cr.ones(2)}, "c": [cr.zeros(1)], "n": 1}, path)
    arrays = safetensors.numpy.load_file(path)
    assert sorted(arrays) == ["a.b", "c.0"]


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "w.safetensors"
    cr.save({"w": cr.ones(3)}, path)
    cr.save({"w": cr.zeros(3)}, path)  # overwrite
    assert os.listdir(tmp_path) == ["w.safetensors"]
    assert cr.load(path)["w"].tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(TypeError, match="cannot store an object of type object"):
        cr.save({"w": cr.ones(3), "bad": object()}, path)
    assert os.listdir(tmp_path) == ["w.safetensors"]  # failed save: old file intact, no temp left
    assert cr.load(path)["w"].tolist() == [0.0, 0.0, 0.0]


def test_file_objects():
    buf = io.BytesIO()
    cr.save({"x": cr.arange(4)}, buf)
    buf.seek(0)
    assert cr.load(buf)["x"].tolist() == [0, 1, 2, 3]


def test_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        cr.load(tmp_path / "missing.safetensors")
    with pytest.raises(TypeError, match=r"save module.state_dict\(\) instead"):
        cr.save(mlp(), tmp_path / "m.safetensors")
    with pytest.raises(TypeError, match="unsupported dict key"):
        cr.save({frozenset(): 1}, tmp_path / "k.safetensors")
    pickled = tmp_path / "model.pt"
    torch.save(torch_mlp().state_dict(), pickled)
    with pytest.raises(ValueError, match="not a valid safetensors file.*never unpickles"):
        cr.load(pickled)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        cr.save({"w": cr.ones(1)}, tmp_path / "no_dir" / "w.safetensors")
    with pytest.raises(RuntimeError, match="not available"):
        cr.load(tmp_path / "x", map_location="cuda")


def test_metadata_layout(tmp_path):
    path = str(tmp_path / "c.safetensors")
    cr.save({"epoch": 2, "w": cr.ones(1)}, path)
    from safetensors import safe_open

    with safe_open(path, framework="np") as f:
        meta = f.metadata()
    assert meta["format"] == "chainrule"
    json.loads(meta["chainrule.tree"])  # plain JSON, no code


def test_a_dict_loads_back_as_a_dict_and_a_state_dict_as_an_ordered_dict(tmp_path):
    # as torch.load: {'x': ..., 'y': ...} prints as a dict, a state dict as an OrderedDict
    plain = {"x": cr.arange(4), "y": cr.zeros(4)}
    cr.save(plain, tmp_path / "plain")
    loaded = cr.load(tmp_path / "plain")
    assert type(loaded) is dict and list(loaded) == ["x", "y"]
    cr.save(nn.Linear(2, 3).state_dict(), tmp_path / "sd")
    assert type(cr.load(tmp_path / "sd")) is OrderedDict
