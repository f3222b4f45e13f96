"""receptive_field: hand-worked stacks, and the input-gradient of one output unit.

The empirical check: with positive weights, positive inputs and average (not max) pooling no
contribution cancels, so the input positions with a non-zero gradient of output unit i are
exactly its receptive field (with holes where dilation or stride > kernel skips positions);
their bounding box has the field's size and is centred on ``start + i * jump``.
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.tools import receptive_field


def _positive(model):
    """Positive weights and biases (no cancellation); eval mode so batch norm is a fixed scale."""
    with cr.no_grad():
        for p in model.parameters():
            p.copy_(p.abs() + 0.05)
    return model.double().eval()


def gradient_box(model, input_size, unit):
    """(size, centre) per spatial axis of the non-zero input-gradient region of ``unit``
    (an index (channel, *position) into the output of sample 0)."""
    rng = np.random.default_rng(1)
    x = cr.tensor(rng.random(input_size) + 0.1, requires_grad=True)
    y = model(x)
    y[(0, *unit)].backward()
    mask = np.abs(x.grad.numpy()[0]).sum(0) > 0
    sizes, centres = [], []
    for axis in range(mask.ndim):
        other = tuple(a for a in range(mask.ndim) if a != axis)
        hit = np.flatnonzero(mask.any(axis=other))
        sizes.append(int(hit[-1] - hit[0] + 1))
        centres.append((hit[0] + hit[-1]) / 2)
    return tuple(sizes), tuple(centres)


def check_empirically(model, input_size):
    """The last layer's field against the gradient of a central unit of the model's output."""
    fields = receptive_field(model, input_size, dtype=cr.float64)
    last = fields[-1]
    out_shape = last.output_shape
    unit = (0, *(s // 2 for s in out_shape[2:]))
    size, centre = gradient_box(model, input_size, unit)
    for axis, (r, j, st) in enumerate(zip(last.size, last.jump, last.start)):
        lo = st + unit[1 + axis] * j - (r - 1) / 2
        hi = st + unit[1 + axis] * j + (r - 1) / 2
        assert lo >= 0 and hi <= input_size[2 + axis] - 1, "pick a larger input: padding clips the field"
    assert size == last.size
    assert centre == tuple(st + i * j for st, i, j in zip(last.start, unit[1:], last.jump))
    return fields


# ---- hand-worked stacks --------------------------------------------------------------------------

def test_hand_worked_2d_stack():
    net = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1),               # r 3,  j 1, start 0 + (1 - 1) * 1 = 0
        nn.ReLU(),                                   # unchanged
        nn.Conv2d(2, 2, 3, stride=2, padding=1),     # r 3 + 2 * 1 = 5, j 2, start 0
        nn.MaxPool2d(2),                             # r 5 + 1 * 2 = 7, j 4, start 0 + 0.5 * 2 = 1
        nn.Conv2d(2, 2, 3, padding=2, dilation=2),   # k_eff 5: r 7 + 4 * 4 = 23, j 4, start 1 + (2 - 2) * 4 = 1
        nn.BatchNorm2d(2),                           # unchanged
        nn.AvgPool2d(3, stride=1, padding=1),        # r 23 + 2 * 4 = 31, j 4, start 1 + (1 - 1) * 4 = 1
    )
    fields = receptive_field(net, (1, 1, 32, 32))
    assert [f.name for f in fields] == ["0", "1", "2", "3", "4", "5", "6"]
    assert [f.type for f in fields] == ["Conv2d", "ReLU", "Conv2d", "MaxPool2d", "Conv2d", "BatchNorm2d", "AvgPool2d"]
    assert [f.size for f in fields] == [(3, 3), (3, 3), (5, 5), (7, 7), (23, 23), (23, 23), (31, 31)]
    assert [f.jump for f in fields] == [(1, 1), (1, 1), (2, 2), (4, 4), (4, 4), (4, 4), (4, 4)]
    assert [f.start for f in fields] == [(0, 0), (0, 0), (0, 0), (1, 1), (1, 1), (1, 1), (1, 1)]
    assert fields[-1].output_shape == (1, 2, 8, 8)


def test_hand_worked_anisotropic_and_even_kernels():
    net = nn.Sequential(
        nn.Conv2d(1, 1, (3, 2), stride=(1, 2)),           # r (3, 2), j (1, 2), start (1, 0.5)
        nn.Conv2d(1, 1, (1, 4), stride=(3, 1), padding=(0, 1), dilation=(1, 2)),
        # axis 0: k_eff 1: r 3, j 3, start 1;  axis 1: k_eff 7: r 2 + 6 * 2 = 14, j 2, start 0.5 + (3 - 1) * 2 = 4.5
    )
    f1, f2 = receptive_field(net, (1, 1, 12, 30))
    assert (f1.size, f1.jump, f1.start) == ((3, 2), (1, 2), (1.0, 0.5))
    assert (f2.size, f2.jump, f2.start) == ((3, 14), (3, 2), (1.0, 4.5))


def test_hand_worked_1d_and_3d():
    net1 = nn.Sequential(nn.Conv1d(1, 1, 5, stride=2), nn.AvgPool1d(3, stride=2), nn.Conv1d(1, 1, 3, dilation=3))
    # conv: r 5, j 2, start 2; pool: r 5 + 2 * 2 = 9, j 4, start 2 + 1 * 2 = 4;
    # dilated conv k_eff 7: r 9 + 6 * 4 = 33, j 4, start 4 + 3 * 4 = 16
    assert [(f.size, f.jump, f.start) for f in receptive_field(net1, (1, 1, 64))] == [
        ((5,), (2,), (2.0,)), ((9,), (4,), (4.0,)), ((33,), (4,), (16.0,))]
    net3 = nn.Sequential(nn.Conv3d(1, 1, 3, stride=2, padding=1), nn.AvgPool3d(2))
    # conv: r 3, j 2, start 0; pool: r 3 + 1 * 2 = 5, j 4, start 0 + 0.5 * 2 = 1
    assert [(f.size, f.jump, f.start) for f in receptive_field(net3, (1, 1, 8, 8, 8))] == [
        ((3, 3, 3), (2, 2, 2), (0.0, 0.0, 0.0)), ((5, 5, 5), (4, 4, 4), (1.0, 1.0, 1.0))]


def test_global_and_adaptive_pooling():
    net = nn.Sequential(nn.Conv2d(1, 1, 3), nn.AdaptiveAvgPool2d(1))
    # conv on 10x10: r 3, j 1, start 1, map 8x8; global pool = window k = s = 8:
    # r 3 + 7 = 10 (the whole input), j 8, start 1 + 3.5 = 4.5 (its centre)
    f = receptive_field(net, (1, 1, 10, 10))[-1]
    assert (f.size, f.jump, f.start) == ((10, 10), (8, 8), (4.5, 4.5))
    # 8 -> 3 cells: windows [0, 3) [2, 6) [5, 8): longest 4, mean step 8/3, first centred at 1
    (f,) = receptive_field(nn.Sequential(nn.AdaptiveMaxPool2d((3, 4))), (1, 1, 8, 8))
    assert f.size == (4, 2) and f.jump == pytest.approx((8 / 3, 2)) and f.start == (1.0, 0.5)


def test_layers_after_a_flatten_have_no_entry_and_unknown_geometry_is_none():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ConvTranspose2d(2, 2, 2, stride=2), nn.Conv2d(2, 2, 3),
                        nn.Flatten(), nn.Linear(2 * 10 * 10, 3))
    fields = receptive_field(net, (1, 1, 8, 8))
    assert [f.type for f in fields] == ["Conv2d", "ConvTranspose2d", "Conv2d"]
    assert fields[0].size == (3, 3)
    assert fields[1].size is None and fields[2].size is None and fields[2].start is None


class _Reshaper(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Conv2d(1, 1, 3)

    def forward(self, x):
        return self.head(x.reshape(x.shape[0], 1, 4, 16))  # a geometry the fields cannot follow


def test_an_untracked_change_of_grid_makes_the_field_unknown():
    (f,) = receptive_field(_Reshaper(), (1, 1, 8, 8))
    assert f.size is None


def test_needs_spatial_input_and_a_module():
    with pytest.raises(ValueError, match="spatial axes"):
        receptive_field(nn.Linear(4, 2), (1, 4))
    with pytest.raises(TypeError, match="Module"):
        receptive_field(lambda x: x, (1, 1, 4, 4))
    with pytest.raises(ValueError, match="batch dimension"):
        receptive_field(nn.Conv2d(1, 1, 3), (1, 1, 0, 4))


# ---- empirical: the gradient of one output unit ----------------------------------------------------

def test_empirical_2d_stack():
    net = _positive(nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        nn.Conv2d(2, 2, 3, stride=2, padding=1, dilation=2), nn.BatchNorm2d(2),
        nn.AvgPool2d(3, stride=1, padding=1), nn.Conv2d(2, 1, (3, 1))))
    fields = check_empirically(net, (1, 1, 48, 44))
    # pool r 4, j 2, start 0.5; dilated conv r 12, j 4, start 2.5; pool r 20; (3, 1) conv: r 28, start 2.5 + 1 * 4 along H
    assert (fields[-1].size, fields[-1].jump, fields[-1].start) == ((28, 20), (4, 4), (6.5, 2.5))


def test_empirical_even_kernels_and_stride_larger_than_kernel():
    net = _positive(nn.Sequential(nn.Conv2d(1, 1, 2, stride=3), nn.AvgPool2d(2, stride=2),
                                  nn.Conv2d(1, 1, (4, 2), stride=(1, 2), padding=(1, 0))))
    check_empirically(net, (1, 1, 60, 60))


def test_empirical_1d_and_3d():
    check_empirically(_positive(nn.Sequential(nn.Conv1d(1, 2, 5, stride=2, padding=2), nn.AvgPool1d(3, stride=2),
                                              nn.Conv1d(2, 1, 3, dilation=3))), (1, 1, 80))
    check_empirically(_positive(nn.Sequential(nn.Conv3d(1, 1, 3, stride=2, padding=1), nn.AvgPool3d(2),
                                              nn.Conv3d(1, 1, (1, 3, 2)))), (1, 1, 20, 20, 20))


def test_empirical_global_pooling_covers_the_input():
    net = _positive(nn.Sequential(nn.Conv2d(1, 1, 3), nn.AdaptiveAvgPool2d(1)))
    fields = check_empirically(net, (1, 1, 10, 12))
    assert fields[-1].size == (10, 12)


class _ResidualBlock(nn.Module):
    """conv3x3/2 -> relu -> conv3x3 on one branch, a tall (9, 1) stride-2 conv as the shortcut,
    joined by a functional add: the block's field is the union of the two branches'."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 2, 3, stride=2, padding=1)   # r 3, j 2, start 0
        self.conv2 = nn.Conv2d(2, 2, 3, padding=1)             # r 3 + 2 * 2 = 7, j 2, start 0
        self.shortcut = nn.Conv2d(1, 2, (9, 1), stride=2, padding=(4, 0))  # r (9, 1), j 2, start 0

    def forward(self, x):
        out = self.conv2(F.relu(self.conv1(x)))
        return F.relu(out + self.shortcut(x))


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = _ResidualBlock()
        self.head = nn.Conv2d(2, 1, 3)   # r (9, 7) + 2 * 2 = (13, 11), j 2, start 0 + 1 * 2 = 2

    def forward(self, x):
        return self.head(F.avg_pool2d(self.block(x), 1))


def test_residual_join_is_the_union_of_branches():
    fields = {f.name: f for f in receptive_field(_Net(), (1, 1, 40, 40))}
    assert fields["block.conv2"].size == (7, 7)
    assert fields["block.shortcut"].size == (9, 1)
    assert (fields["head"].size, fields["head"].jump, fields["head"].start) == ((13, 11), (2, 2), (2.0, 2.0))
    check_empirically(_positive(_Net()), (1, 1, 40, 40))


class _Functional(nn.Module):
    """Pooling applied with F.* inside forward, not as a module."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)                 # r 3, j 1, start 1
        self.head = nn.Conv2d(2, 1, 3, dilation=2)     # after the pool (r 4, j 2, start 1.5): r 12, j 2, start 5.5

    def forward(self, x):
        return self.head(F.avg_pool2d(F.relu(self.conv(x)), 2))


def test_functional_pooling_inside_forward_is_followed():
    fields = receptive_field(_Functional(), (1, 1, 30, 30))
    assert [(f.name, f.size, f.jump, f.start) for f in fields] == [
        ("conv", (3, 3), (1, 1), (1.0, 1.0)), ("head", (12, 12), (2, 2), (5.5, 5.5))]
    check_empirically(_positive(_Functional()), (1, 1, 30, 30))


def test_leaves_the_model_as_it_was():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Dropout(0.5))
    before = [b.clone() for b in net.buffers()]
    state = cr.get_rng_state()
    receptive_field(net, (2, 1, 6, 6))
    assert net.training
    for b, b0 in zip(net.buffers(), before):
        np.testing.assert_array_equal(b.numpy(), b0.numpy())
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in net.modules())
    got = cr.rand(5).numpy()
    cr.set_rng_state(state)
    np.testing.assert_array_equal(got, cr.rand(5).numpy())  # dropout's draws were given back
