"""Max pooling without a gradient to route and without ``return_indices`` computes only the
maximum (no tap index): same values as PyTorch, NaN and padding included."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F

CASES = [  # (x shape, kwargs)
    ((2, 3, 7, 6), dict(kernel_size=2)),
    ((2, 3, 7, 6), dict(kernel_size=3, stride=2, padding=1)),
    ((1, 2, 9, 8), dict(kernel_size=(3, 2), stride=(2, 1), dilation=(2, 1), ceil_mode=True)),
]


@pytest.mark.parametrize("shape,kw", CASES)
@pytest.mark.parametrize("with_nan", [False, True])
def test_max_pool_under_no_grad_matches_torch(shape, kw, with_nan):
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape).astype(np.float32)
    if with_nan:
        x.flat[rng.choice(x.size, 5, replace=False)] = np.nan
    with cr.no_grad():
        y = F.max_pool2d(cr.from_numpy(x), **kw)
    with torch.no_grad():
        ty = TF.max_pool2d(torch.from_numpy(x), **kw)
    np.testing.assert_array_equal(y.numpy(), ty.numpy())
    # the same values as the path that keeps the tap index for backward
    xr = cr.from_numpy(x).requires_grad_()
    np.testing.assert_array_equal(F.max_pool2d(xr, **kw).detach().numpy(), y.numpy())
