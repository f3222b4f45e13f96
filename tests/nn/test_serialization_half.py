"""Half precision in safetensors files: float16 both ways, bfloat16 read (widened to float32).

Files are written by ``safetensors.torch`` from PyTorch tensors, as a user's would be.
"""

import io

import numpy as np
import pytest
import safetensors.torch as st
import torch

import chainrule as cr
from chainrule import nn

SPECIAL = [0.0, -0.0, 1.0, -2.5, 3.140625, 1e-40, -1e-39, 3.0e38, float("inf"), float("-inf"), float("nan")]


def _read(tensors: dict, tmp_path, **kw):
    path = tmp_path / "w.safetensors"
    st.save_file(tensors, str(path), **kw)
    return cr.load(path)


def test_bfloat16_widens_to_float32_bit_exactly(tmp_path):
    g = torch.Generator().manual_seed(0)
    w = torch.cat([torch.tensor(SPECIAL), torch.randn(500, generator=g) * 1e3]).to(torch.bfloat16)
    w = torch.cat([w, torch.arange(0, 2 ** 16, 97, dtype=torch.int32).to(torch.int16).view(torch.bfloat16)])
    out = _read({"x.weight": w.reshape(-1, 1), "s": torch.tensor(1.5, dtype=torch.bfloat16)}, tmp_path)
    assert out["x.weight"].dtype is cr.float32 and out["x.weight"].shape == (w.numel(), 1)
    expected = w.float().reshape(-1, 1).numpy()
    np.testing.assert_array_equal(out["x.weight"].numpy().view(np.uint32), expected.view(np.uint32))
    assert out["s"].shape == () and out["s"].item() == 1.5


def test_float16_from_torch_and_back(tmp_path):
    h = torch.tensor(SPECIAL[:8] + [6e-8, 65504.0], dtype=torch.float16)
    out = _read({"h": h, "empty": torch.zeros(0, 2, dtype=torch.float16)}, tmp_path)
    assert out["h"].dtype is cr.float16 and out["empty"].shape == (0, 2)
    np.testing.assert_array_equal(out["h"].numpy().view(np.uint16), h.numpy().view(np.uint16))
    out["h"][0] = 2.0  # loaded tensors are writable
    path = tmp_path / "back.safetensors"
    cr.save({"h": out["h"]}, path)
    back = st.load_file(str(path))["h"]
    assert back.dtype == torch.float16 and back[0].item() == 2.0
    np.testing.assert_array_equal(back[1:].numpy().view(np.uint16), h[1:].numpy().view(np.uint16))


def test_float16_in_a_nested_checkpoint(tmp_path):
    ckpt = {"model": {"w": cr.arange(4.0).to(cr.float16)}, "extra": np.ones(3, np.float16), "epoch": 2}
    path = tmp_path / "ckpt.safetensors"
    cr.save(ckpt, path)
    out = cr.load(path)
    assert out["model"]["w"].dtype is cr.float16 and out["extra"].dtype == np.float16 and out["epoch"] == 2
    np.testing.assert_array_equal(out["model"]["w"].numpy(), [0, 1, 2, 3])


def test_bfloat16_state_dict_loads_into_a_module(tmp_path):
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)).to(torch.bfloat16)
    m = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2))
    path = tmp_path / "bf16.safetensors"
    st.save_file(tm.state_dict(), str(path))
    m.load_state_dict(cr.load(path))
    x = torch.randn(3, 5)
    expected = tm.float()(x).detach().numpy()  # the same bf16 weights, computed in float32
    np.testing.assert_allclose(m(cr.from_numpy(x.numpy())).detach().numpy(), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype,code", [(torch.float8_e4m3fn, "F8_E4M3"), (torch.uint16, "U16"),
                                        (torch.complex64, "C64")])
def test_unsupported_dtype_names_itself_and_the_key(tmp_path, dtype, code):
    bad = torch.zeros(2, dtype=dtype)
    with pytest.raises(TypeError, match=rf"unsupported dtype {code} in 'x.weight'") as err:
        _read({"ok": torch.ones(2), "x.weight": bad}, tmp_path)
    assert "not a valid" not in str(err.value)


def test_a_broken_file_is_still_called_invalid():
    data = st.save({"a": torch.ones(4)})
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        cr.load(io.BytesIO(data[:-3]))
