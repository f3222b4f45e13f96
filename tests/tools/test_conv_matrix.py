"""conv_matrix: M @ x + b reproduces the convolution, M.T the transposed convolution.

Oracles: PyTorch's convolutions, chainrule's own convolution layers, and the matrix assembled
column by column from convolutions of one-hot inputs (the slow construction the index arithmetic
replaces).
"""

import importlib

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
from chainrule import nn
from chainrule.tools import SparseMatrix, conv_matrix, transposed_output_padding

# the function shadows its module as an attribute of chainrule.tools
conv_matrix_module = importlib.import_module("chainrule.tools.conv_matrix")

TORCH_CONV = {1: TF.conv1d, 2: TF.conv2d, 3: TF.conv3d}
TORCH_CONVT = {1: TF.conv_transpose1d, 2: TF.conv_transpose2d, 3: TF.conv_transpose3d}
CR_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}

# (input shape (C, *S), out channels, kernel, stride, padding, dilation, groups)
CASES = [
    ((2, 7), 3, 3, 1, 0, 1, 1),
    ((4, 9), 6, 2, 2, 1, 2, 2),
    ((3, 5, 6), 2, 3, 1, 1, 1, 1),
    ((2, 7, 6), 4, (3, 2), (2, 1), (1, 0), (1, 2), 2),
    ((4, 8, 8), 4, 3, 3, 2, 2, 4),  # depthwise, stride > 1, dilation > 1
    ((1, 4, 5, 4), 2, 2, 1, 1, 1, 1),
    ((2, 5, 4, 6), 2, (2, 3, 1), (1, 2, 2), (0, 1, 0), (2, 1, 1), 2),
]


def _module(case, dtype=cr.float64):
    shape, c_out, k, s, p, d, g = case
    n = len(shape) - 1
    cr.manual_seed(0)
    return CR_CONV[n](shape[0], c_out, k, stride=s, padding=p, dilation=d, groups=g, dtype=dtype)


def _t(x):
    return torch.from_numpy(np.array(x.detach().numpy()))


@pytest.mark.parametrize("case", CASES)
def test_matrix_times_input_is_the_convolution(case, rng):
    conv = _module(case)
    shape = case[0]
    m = conv_matrix(conv, shape)
    x = rng.standard_normal(shape)
    want = TORCH_CONV[len(shape) - 1](torch.from_numpy(x)[None], _t(conv.weight), _t(conv.bias),
                                      conv.stride, conv.padding, conv.dilation, conv.groups)[0]
    bias = np.repeat(conv.bias.detach().numpy(), int(np.prod(want.shape[1:])))
    got = m.numpy() @ x.reshape(-1) + bias
    assert m.shape == (want.numel(), x.size)
    np.testing.assert_allclose(got, want.numpy().reshape(-1), rtol=1e-12, atol=1e-12)
    ours = conv(cr.tensor(x[None])).detach().numpy().reshape(-1)
    np.testing.assert_allclose(got, ours, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_matrix_equals_one_hot_columns(case):
    """Column i of M is the convolution (without bias) of the i-th one-hot input."""
    shape, _, k, s, p, d, g = case
    n = len(shape) - 1
    conv = _module(case)
    w = _t(conv.weight)
    eye = torch.eye(int(np.prod(shape)), dtype=torch.float64).reshape(-1, *shape)
    cols = TORCH_CONV[n](eye, w, None, conv.stride, conv.padding, conv.dilation, conv.groups)
    want = cols.reshape(cols.shape[0], -1).T.numpy()
    np.testing.assert_array_equal(conv_matrix(conv, shape).numpy(), want)


@pytest.mark.parametrize("case", CASES)
def test_transpose_is_the_transposed_convolution(case, rng):
    shape, c_out, k, s, p, d, g = case
    n = len(shape) - 1
    conv = _module(case)
    m = conv_matrix(conv, shape).numpy()
    out_shape = TORCH_CONV[n](torch.zeros(1, *shape, dtype=torch.float64), _t(conv.weight), None, conv.stride,
                              conv.padding, conv.dilation, conv.groups).shape[1:]
    y = rng.standard_normal(tuple(out_shape))
    op = transposed_output_padding(shape, conv.kernel_size, conv.stride, conv.padding, conv.dilation)
    want = TORCH_CONVT[n](torch.from_numpy(y)[None], _t(conv.weight), None, conv.stride, conv.padding, op,
                          conv.groups, conv.dilation)[0]
    assert tuple(want.shape) == shape
    np.testing.assert_allclose(m.T @ y.reshape(-1), want.numpy().reshape(-1), rtol=1e-12, atol=1e-12)
    ours = getattr(cr.nn.functional, f"conv_transpose{n}d")(
        cr.tensor(y[None]), conv.weight.detach(), None, conv.stride, conv.padding, op, conv.groups, conv.dilation)
    np.testing.assert_allclose(m.T @ y.reshape(-1), ours.numpy().reshape(-1), rtol=1e-12, atol=1e-12)


def test_textbook_example_3x3_input_2x2_kernel():
    w = cr.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=cr.float64)  # w1 w2 / w3 w4
    m = conv_matrix(w, (1, 3, 3)).numpy()
    w1, w2, w3, w4 = 1.0, 2.0, 3.0, 4.0
    want = np.array([
        [w1, w2, 0, w3, w4, 0, 0, 0, 0],
        [0, w1, w2, 0, w3, w4, 0, 0, 0],
        [0, 0, 0, w1, w2, 0, w3, w4, 0],
        [0, 0, 0, 0, w1, w2, 0, w3, w4],
    ])
    np.testing.assert_array_equal(m, want)


def test_raw_weight_with_hyper_parameters(rng):
    w = rng.standard_normal((4, 1, 3, 3))
    x = rng.standard_normal((2, 9, 8))
    m = conv_matrix(cr.tensor(w), (2, 9, 8), stride=2, padding=(1, 2), dilation=(2, 1), groups=2)
    want = TF.conv2d(torch.from_numpy(x)[None], torch.from_numpy(w), None, 2, (1, 2), (2, 1), 2)[0]
    np.testing.assert_allclose(m.numpy() @ x.reshape(-1), want.numpy().reshape(-1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_other_padding_modes_match_the_layer(mode, rng):
    cr.manual_seed(1)
    conv = nn.Conv2d(2, 3, 3, stride=(1, 2), padding=(2, 1), padding_mode=mode, dtype=cr.float64)
    x = rng.standard_normal((2, 5, 6))
    m = conv_matrix(conv, x.shape)
    want = torch.nn.Conv2d(2, 3, 3, stride=(1, 2), padding=(2, 1), padding_mode=mode).double()
    with torch.no_grad():
        want.weight.copy_(_t(conv.weight))
        want.bias.copy_(_t(conv.bias))
        y = want(torch.from_numpy(x)[None])[0].numpy()
    bias = np.repeat(conv.bias.detach().numpy(), y[0].size)
    np.testing.assert_allclose(m.numpy() @ x.reshape(-1) + bias, y.reshape(-1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv_matrix(conv, x.shape, sparse=True).to_dense().numpy(), m.numpy())


@pytest.mark.parametrize("kernel,dilation", [(4, 1), (3, 2), (2, 3)])
def test_padding_same_and_valid(kernel, dilation, rng):
    cr.manual_seed(2)
    x = rng.standard_normal((2, 7, 6))
    for padding in ("same", "valid"):
        conv = nn.Conv2d(2, 2, kernel, padding=padding, dilation=dilation, bias=False, dtype=cr.float64)
        m = conv_matrix(conv, x.shape).numpy()
        y = conv(cr.tensor(x[None])).detach().numpy()
        np.testing.assert_allclose(m @ x.reshape(-1), y.reshape(-1), rtol=1e-12, atol=1e-12)


def test_sparse_form_and_automatic_switch(monkeypatch, rng):
    conv = _module(CASES[3])
    shape = CASES[3][0]
    dense = conv_matrix(conv, shape).numpy()
    sp = conv_matrix(conv, shape, sparse=True)
    assert isinstance(sp, SparseMatrix) and sp.shape == dense.shape
    assert len(sp.rows.numpy()) == np.count_nonzero(dense)  # zero padding: one entry per tap, no duplicates
    np.testing.assert_array_equal(sp.to_dense().numpy(), dense)
    np.testing.assert_array_equal(dense[sp.rows.numpy(), sp.cols.numpy()], sp.values.numpy())
    x = rng.standard_normal(dense.shape[1])
    np.testing.assert_allclose(sp.matvec(cr.tensor(x)).numpy(), dense @ x, rtol=1e-12, atol=1e-12)
    monkeypatch.setattr(conv_matrix_module, "DENSE_LIMIT", dense.size - 1)
    assert isinstance(conv_matrix(conv, shape), SparseMatrix)
    assert isinstance(conv_matrix(conv, shape, sparse=False), cr.Tensor)


def test_float32_stays_float32():
    conv = _module(CASES[2], dtype=cr.float32)
    assert conv_matrix(conv, CASES[2][0]).dtype == cr.float32
    assert conv_matrix(conv, CASES[2][0], sparse=True).values.dtype == cr.float32


def test_weight_standardised_conv_uses_its_effective_weight(rng):
    cr.manual_seed(3)
    conv = nn.WSConv2d(2, 3, 3, padding=1, bias=False, dtype=cr.float64)
    x = rng.standard_normal((2, 5, 5))
    y = conv(cr.tensor(x[None])).detach().numpy().reshape(-1)
    np.testing.assert_allclose(conv_matrix(conv, x.shape).numpy() @ x.reshape(-1), y, rtol=1e-12, atol=1e-12)


def test_bad_arguments():
    conv = nn.Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match="without the batch dimension"):
        conv_matrix(conv, (1, 3, 8, 8))
    with pytest.raises(ValueError, match="input channels"):
        conv_matrix(conv, (2, 8, 8))
    with pytest.raises(ValueError, match="smaller than the dilated kernel"):
        conv_matrix(conv, (3, 2, 8))
    with pytest.raises(TypeError, match="Conv1d/Conv2d/Conv3d module or a weight Tensor"):
        conv_matrix(nn.Linear(3, 4), (3,))
    with pytest.raises(ValueError, match="groups"):
        conv_matrix(cr.zeros(4, 1, 3), (2, 5), groups=3)
