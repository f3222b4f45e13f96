"""summary: parameter counts, MACs by formula, receptive fields, totals, and the printed table."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.tools import summary


def _conv_macs(n, c_out, out_hw, c_in, groups, k):
    return n * c_out * out_hw[0] * out_hw[1] * (c_in // groups) * k[0] * k[1]


class _Classic(nn.Module):
    """LeNet-5 as in LeCun et al. 1998 on 32x32 inputs, written out here independently of the zoo."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.f5 = nn.Linear(16 * 5 * 5, 120)
        self.f6 = nn.Linear(120, 84)
        self.out = nn.Linear(84, 10)

    def forward(self, x):
        x = F.avg_pool2d(F.relu(self.c1(x)), 2)
        x = F.avg_pool2d(F.relu(self.c3(x)), 2)
        return self.out(F.relu(self.f6(F.relu(self.f5(x.flatten(1))))))


def test_classic_lenet5_counts_by_hand():
    s = summary(_Classic(), (3, 1, 32, 32))
    # weights + biases: 6*25+6, 16*6*25+16, 400*120+120, 120*84+84, 84*10+10
    assert s.totals.total_params == 156 + 2416 + 48120 + 10164 + 850 == 61706
    assert s.totals.trainable_params == 61706 and s.totals.frozen_params == 0
    rows = {r.name: r for r in s.rows}
    assert rows["c1"].macs == 3 * 6 * 28 * 28 * 1 * 25
    assert rows["c3"].macs == 3 * 16 * 10 * 10 * 6 * 25
    assert rows["f5"].macs == 3 * 400 * 120
    assert s.totals.macs == 3 * (117600 + 240000 + 48000 + 10080 + 840)
    assert rows["c1"].output_shape == (3, 6, 28, 28) and rows["out"].output_shape == (3, 10)
    # c1: r 5, j 1, start 2; avg-pool 2 (functional): r 6, j 2, start 2.5; c3: r 6 + 4 * 2 = 14, j 2, start 6.5
    assert (rows["c3"].receptive_field.size, rows["c3"].receptive_field.jump,
            rows["c3"].receptive_field.start) == ((14, 14), (2, 2), (6.5, 6.5))
    assert rows["f5"].receptive_field is None
    assert rows[""].depth == 0 and rows[""].type == "_Classic" and not rows[""].is_leaf
    assert s.totals.input_bytes == 3 * 32 * 32 * 4
    assert s.totals.param_bytes == 61706 * 4
    leaf_bytes = 4 * 3 * (6 * 28 * 28 + 16 * 10 * 10 + 120 + 84 + 10)
    assert s.totals.activation_bytes == leaf_bytes


@pytest.mark.parametrize("groups,stride,padding,dilation", [(1, 1, 0, 1), (2, 2, 1, 1), (4, 1, 2, 2), (1, 3, 1, 2)])
def test_conv_macs_match_the_formula(groups, stride, padding, dilation):
    conv = nn.Conv2d(4, 8, (3, 2), stride=stride, padding=padding, dilation=dilation, groups=groups)
    s = summary(nn.Sequential(conv), (2, 4, 13, 11))
    (row,) = [r for r in s.rows if r.type == "Conv2d"]
    out_hw = [(size + 2 * padding - dilation * (k - 1) - 1) // stride + 1 for size, k in ((13, 3), (11, 2))]
    assert row.output_shape == (2, 8, *out_hw)
    assert row.macs == _conv_macs(2, 8, out_hw, 4, groups, (3, 2))


def test_other_layers_macs():
    net = nn.Sequential(nn.Conv1d(3, 5, 3, groups=1), nn.ConvTranspose1d(5, 4, 4, stride=2, groups=1))
    s = summary(net, (2, 3, 10))
    conv, convt = [r for r in s.rows if r.depth == 1]
    assert conv.macs == 2 * 5 * 8 * 3 * 3
    # every one of the 2 * 5 * 8 input elements meets 4 * 4 weights
    assert convt.macs == 2 * 5 * 8 * 4 * 4
    lin = summary(nn.Linear(6, 7), (2, 5, 6))
    assert lin.rows[0].macs == 2 * 5 * 6 * 7
    bil = nn.Bilinear(3, 4, 5)

    class _B(nn.Module):
        def __init__(self):
            super().__init__()
            self.bil = bil

        def forward(self, x):
            return self.bil(x[:, :3], x[:, 3:])

    rows = summary(_B(), (2, 7)).rows
    assert rows[1].type == "Bilinear" and rows[1].macs == 2 * 5 * 3 * 4


def test_frozen_and_shared_parameters_are_counted_once():
    shared = nn.Linear(4, 4)
    net = nn.Sequential(shared, nn.ReLU(), shared, nn.Linear(4, 2))
    net[3].weight.requires_grad_(False)
    s = summary(net, (1, 4))
    assert [r.name for r in s.rows] == ["", "0", "1", "0", "3"]  # the shared layer runs twice
    assert s.totals.total_params == 20 + 10
    assert s.totals.frozen_params == 8 and s.totals.trainable_params == 22
    assert s.totals.macs == 16 + 16 + 8
    text = str(s)
    assert "Non-trainable params: 8" in text and "(8 frozen)" in text


def test_table_lists_rows_and_totals():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
                        nn.Linear(2 * 3 * 3, 3))
    text = str(summary(net, (1, 1, 8, 8)))
    lines = text.splitlines()
    assert any(line.strip().startswith("0: Conv2d") and "[1, 2, 6, 6]" in line and "3 / 1 / 1" in line
               for line in lines)
    assert any("3: AvgPool2d" in line and "4 / 2 / 1.5" in line for line in lines)
    assert any("5: Linear" in line and "57" in line and "54" in line for line in lines)
    total_at = next(i for i, line in enumerate(lines) if line.startswith("Total params:"))
    assert lines[total_at] == "Total params: 81"  # 2*9+2 + 2+2 + 18*3+3
    assert lines[total_at + 3] == f"Total MACs: {2 * 36 * 9 + 54:,}"
    assert total_at > max(i for i, line in enumerate(lines) if "Linear" in line)


def test_anisotropic_field_is_printed_per_axis():
    text = str(summary(nn.Sequential(nn.Conv2d(1, 1, (3, 1), stride=(1, 2))), (1, 1, 8, 8)))
    assert "3x1 / 1x2 / 1x0" in text


def test_keeps_mode_buffers_rng_and_removes_hooks():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Dropout(0.5))
    running = net[1].running_mean.clone()
    state = cr.get_rng_state()
    s = summary(net, (2, 1, 6, 6))
    assert net.training and net[1].training
    np.testing.assert_array_equal(net[1].running_mean.numpy(), running.numpy())
    assert int(net[1].num_batches_tracked.item()) == 0
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in net.modules())
    got = cr.rand(4).numpy()
    cr.set_rng_state(state)
    np.testing.assert_array_equal(got, cr.rand(4).numpy())
    assert len(s.rows) == 4
    net.eval()
    summary(net, (1, 1, 6, 6))
    assert not net.training and not net[1].training


def test_dtype_and_bad_input_size():
    net = nn.Conv2d(1, 1, 3).double()
    assert summary(net, (1, 1, 5, 5), dtype=cr.float64).totals.input_bytes == 25 * 8
    with pytest.raises(TypeError, match="batch dimension"):
        summary(net, 5)
    with pytest.raises(ValueError, match="batch dimension"):
        summary(net, (1, 1, -5, 5))
