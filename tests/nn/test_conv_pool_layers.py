"""Convolution and pooling layers: constructor checks, repr, parameter shapes, default
initialisation and call-time errors. (Numerical agreement with PyTorch is the module table's job.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn

CONFIGS = [
    ("Conv1d", (3, 6, 3), {}),
    ("Conv1d", (4, 6, 3), {"padding": "same", "padding_mode": "reflect", "bias": False, "groups": 2}),
    ("Conv2d", (3, 16, 3), {}),
    ("Conv2d", (4, 8, (3, 5)), {"stride": (2, 1), "padding": (1, 2), "dilation": 2, "groups": 4,
                                "padding_mode": "circular"}),
    ("Conv2d", (2, 4, 3), {"padding": "valid"}),
    ("Conv3d", (2, 4, 3), {"stride": 2, "bias": False}),
    ("ConvTranspose1d", (3, 6, 3), {"stride": 2, "output_padding": 1}),
    ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "padding": 1, "groups": 2, "dilation": 2}),
    ("ConvTranspose3d", (2, 4, (1, 2, 3)), {"bias": False}),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1}),
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", ((3, 2),), {"stride": (2, 1), "dilation": 2, "ceil_mode": True, "return_indices": True}),
    ("MaxPool3d", (2,), {"padding": 1}),
    ("AvgPool1d", (3,), {"stride": 2}),
    ("AvgPool2d", (3,), {"padding": 1, "count_include_pad": False, "divisor_override": 2}),
    ("AvgPool3d", ((1, 2, 2),), {}),
    ("AdaptiveAvgPool1d", (4,), {}),
    ("AdaptiveAvgPool2d", ((3, None),), {}),
    ("AdaptiveAvgPool3d", (1,), {}),
    ("AdaptiveMaxPool1d", (2,), {"return_indices": True}),
    ("AdaptiveMaxPool2d", ((2, 3),), {}),
    ("AdaptiveMaxPool3d", ((1, None, 2),), {}),
    ("MaxUnpool1d", (3,), {"stride": 2}),
    ("MaxUnpool2d", (2,), {"padding": 1}),
    ("MaxUnpool3d", ((1, 2, 2),), {}),
]


@pytest.mark.parametrize("name,args,kwargs", CONFIGS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CONFIGS)])
def test_repr_state_and_attributes_match_torch(name, args, kwargs):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    for attr in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
                 "output_padding", "padding_mode", "ceil_mode", "count_include_pad", "output_size",
                 "return_indices", "divisor_override", "transposed"):
        if hasattr(theirs, attr):
            assert getattr(ours, attr) == getattr(theirs, attr), attr
    if hasattr(theirs, "_reversed_padding_repeated_twice"):
        assert list(ours._reversed_padding_repeated_twice) == list(theirs._reversed_padding_repeated_twice)


@pytest.mark.parametrize("name,shape", [("Conv2d", (64, 32, 3, 3)), ("ConvTranspose2d", (32, 16, 3, 3)),
                                        ("Conv1d", (64, 16, 5))])
def test_default_init_is_kaiming_uniform_sqrt5(name, shape):
    """weight ~ U(+-1/sqrt(fan_in)), bias ~ U(+-1/sqrt(fan_in)), fan_in = weight.shape[1] * prod(k)."""
    def build():
        if name == "ConvTranspose2d":  # weight (in, out / groups, *k)
            return nn.ConvTranspose2d(shape[0], 2 * shape[1], shape[2:], groups=2)
        return getattr(nn, name)(shape[1], shape[0], shape[2:])

    cr.manual_seed(0)
    m = build()
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert w.shape == shape
    fan_in = shape[1] * math.prod(shape[2:])
    bound = 1 / math.sqrt(fan_in)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # a uniform sample of n values: its extremes reach the bound within ~2/n, its std is bound/sqrt(3)
    assert np.abs(w).max() > bound * (1 - 20 / w.size)
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound / math.sqrt(3)
    assert abs(w.mean()) < 0.05 * bound
    assert not np.array_equal(build().weight.detach().numpy(), w)  # fresh draws from the generator


def test_dtype_argument():
    m = nn.Conv2d(2, 3, 3, dtype=cr.float64)
    assert m.weight.dtype == cr.float64 and m.bias.dtype == cr.float64


CONSTRUCTION_ERRORS = [
    (lambda: nn.Conv2d(3, 16, 3, groups=2), "in_channels must be divisible by groups"),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), "out_channels must be divisible by groups"),
    (lambda: nn.Conv2d(4, 6, 3, groups=0), "groups must be a positive integer"),
    (lambda: nn.Conv2d(0, 6, 3), "in_channels must be a positive integer, got 0"),
    (lambda: nn.Conv2d(3, 6, 0), "kernel_size must be positive"),
    (lambda: nn.Conv2d(3, 6, (3, 3, 3)), "kernel_size must be an int or a tuple of 2 ints"),
    (lambda: nn.Conv1d(3, 6, 3, stride=0), "stride must be positive"),
    (lambda: nn.Conv2d(3, 6, 3, padding=-1), "padding must be non-negative"),
    (lambda: nn.Conv2d(3, 6, 3, dilation=0), "dilation must be positive"),
    (lambda: nn.Conv2d(3, 6, 3, stride=2, padding="same"), "padding='same' is not supported for strided"),
    (lambda: nn.Conv2d(3, 6, 3, padding="full"), "invalid padding string 'full'"),
    (lambda: nn.Conv2d(3, 6, 3, padding_mode="mirror"), "padding_mode must be one of"),
    (lambda: nn.ConvTranspose2d(3, 6, 3, padding_mode="reflect"), 'Only "zeros" padding mode'),
    (lambda: nn.ConvTranspose2d(3, 6, 3, stride=2, output_padding=2), "output_padding must be smaller"),
    (lambda: nn.ConvTranspose1d(3, 6, 3, padding="same"), "padding must be an int or a tuple"),
    (lambda: nn.MaxPool2d(3, padding=2), "padding should be at most half of the effective kernel size"),
    (lambda: nn.MaxPool2d(0), "kernel_size must be positive"),
    (lambda: nn.MaxPool2d(2, stride=0), "stride must be positive"),
    (lambda: nn.AvgPool2d(2, padding=2), "padding should be at most half"),
    (lambda: nn.AvgPool2d(2, divisor_override=0), "divisor_override must be a non-zero int"),
    (lambda: nn.AdaptiveAvgPool2d((2, 0)), "output_size must hold positive ints"),
    (lambda: nn.AdaptiveMaxPool2d((2, 2, 2)), "output_size must be an int, None or a tuple of 2"),
    (lambda: nn.MaxUnpool2d(2, stride=0), "stride must be positive"),
]


@pytest.mark.parametrize("build,msg", CONSTRUCTION_ERRORS, ids=[m[1][:30] for m in CONSTRUCTION_ERRORS])
def test_construction_errors(build, msg):
    with pytest.raises((ValueError, TypeError)) as info:
        build()
    assert msg in str(info.value)


CALL_ERRORS = [
    (lambda: nn.Conv2d(3, 16, 3)(cr.randn(2, 1, 8, 8)),
     "Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1)) expected input with 3 channels, got 1"),
    (lambda: nn.Conv2d(3, 16, 3)(cr.randn(8, 8)),
     "expected a 3-D (unbatched) or 4-D (batched) input of shape (N, C, H, W), got a 2-D input"),
    (lambda: nn.Conv1d(2, 4, 5)(cr.randn(1, 2, 3)), "is smaller than the dilated kernel (5,)"),
    (lambda: nn.Conv2d(2, 4, 3)(cr.randn(1, 2, 5, 5, dtype=cr.float64)),
     "has chainrule.float32 parameters but got a chainrule.float64 input"),
    (lambda: nn.ConvTranspose2d(3, 2, 3, stride=2)(cr.randn(1, 3, 4, 4), output_size=[20, 20]),
     "requested an output size of [20, 20], but valid sizes range from [9, 9] to [10, 10]"),
    (lambda: nn.ConvTranspose2d(3, 2, 3)(cr.randn(1, 2, 4, 4)), "expected input with 3 channels, got 2"),
    (lambda: nn.MaxPool2d(3)(cr.randn(1, 1, 2, 2)), "the input is too small for the window"),
    (lambda: nn.AvgPool1d(2)(cr.randn(1, 2, 3, 4)), "expected a 2-D (unbatched) or 3-D (batched) input"),
    (lambda: nn.MaxUnpool2d(2)(cr.randn(1, 1, 2, 2), cr.zeros(1, 1, 2, 3, dtype=cr.int64)),
     "expected indices of the input's shape [1, 1, 2, 2]"),
]


@pytest.mark.parametrize("call,msg", CALL_ERRORS, ids=[m[1][:30] for m in CALL_ERRORS])
def test_call_errors_name_the_layer(call, msg):
    with pytest.raises((RuntimeError, ValueError)) as info:
        call()
    assert msg in str(info.value)


def test_unbatched_inputs_keep_their_rank():
    x = cr.randn(3, 6, 6)
    assert nn.Conv2d(3, 4, 3)(x).shape == (4, 4, 4)
    assert nn.ConvTranspose2d(3, 4, 3)(x).shape == (4, 8, 8)
    out, idx = nn.MaxPool2d(2, return_indices=True)(x)
    assert out.shape == (3, 3, 3) and idx.shape == (3, 3, 3)
    assert nn.MaxUnpool2d(2)(out, idx).shape == (3, 6, 6)
    assert nn.AdaptiveAvgPool2d(2)(x).shape == (3, 2, 2)


def test_conv_layer_parameters_get_gradients():
    m = nn.Conv2d(2, 3, 3, padding=1)
    m(cr.randn(2, 2, 5, 5)).sum().backward()
    assert m.weight.grad.shape == m.weight.shape and m.bias.grad.shape == (3,)
    np.testing.assert_allclose(m.bias.grad.numpy(), np.full(3, 2 * 5 * 5.0), rtol=1e-6)
