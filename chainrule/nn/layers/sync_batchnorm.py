"""``SyncBatchNorm``: batch normalisation with statistics over the whole batch of every rank.

In training, with an initialised process group of more than one rank, the per-channel count, sum
and centred sum of squares are all-reduced, so K ranks with batches of B/K normalise exactly as
one process with the batch of B:

    mean = (sum_r sum_i x_ri) / N,   var = (sum_r sum_i (x_ri - mean)^2) / N,   N = sum_r n_r

The all-reduce is differentiable (its backward all-reduces the gradients), so backward reduces
sum(dy) and sum(dy * x_hat) across ranks too. In evaluation, with one rank or without a process
group it is BatchNorm. PyTorch offers this on CUDA only; here it runs on CPU.
"""

from __future__ import annotations

from typing import Any

from ... import _factory
from ... import distributed as dist
from ...autograd.grad_mode import no_grad
from ...distributed.nn import functional as dist_fn
from ...ops.join import cat
from ...tensor import Tensor
from ..module import Module
from .normalization import _BatchNorm

__all__ = ["SyncBatchNorm"]


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation of (N, C, *) inputs with statistics shared by the ranks of ``process_group``."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group: Any = None, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:
        if not isinstance(input, Tensor):
            raise TypeError(f"SyncBatchNorm expected a Tensor input, got {type(input).__name__}")
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")

    def _group(self):
        if not dist.is_initialized():
            return None
        pg = self.process_group if self.process_group is not None else dist.GroupMember.WORLD
        if isinstance(pg, dist.ProcessGroup) and pg.size() > 1:
            return pg
        return None

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        pg = self._group() if self.training else None
        if pg is None:
            return super().forward(input)
        if input.shape[1] != self.num_features:
            raise RuntimeError(f"SyncBatchNorm: expected {self.num_features} channels (dim 1), got input of shape "
                               f"{tuple(input.shape)}")
        c = self.num_features
        dims = (0, *range(2, input.ndim))
        view = (1, c) + (1,) * (input.ndim - 2)
        count = _factory.tensor([input.numel() // c], dtype=input.dtype)
        totals = dist_fn.all_reduce(cat([input.sum(dims), count]), group=pg)
        n = float(totals._data[c])
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{list(input.shape)} on every rank")
        mean = totals[:c] / n
        centred = input - mean.reshape(view)
        var = dist_fn.all_reduce((centred * centred).sum(dims), group=pg) / n
        out = centred * (var + self.eps).rsqrt().reshape(view)
        if self.weight is not None:
            out = out * self.weight.reshape(view)
        if self.bias is not None:
            out = out + self.bias.reshape(view)
        if self.track_running_stats and self.running_mean is not None:
            self._update_running(mean, var, n)
        return out

    def _update_running(self, mean: Tensor, var: Tensor, n: float) -> None:
        """running <- (1 - m) running + m stat, with the unbiased variance var * N / (N - 1)."""
        with no_grad():
            self.num_batches_tracked.add_(1)
            m = (1.0 / float(self.num_batches_tracked.item())) if self.momentum is None else float(self.momentum)
            rm, rv = self.running_mean, self.running_var
            rm._data[...] = (1 - m) * rm._data + m * mean._data.astype(rm._data.dtype)
            rv._data[...] = (1 - m) * rv._data + m * (var._data * (n / (n - 1))).astype(rv._data.dtype)
            rm._bump_version()
            rv._bump_version()

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """Replace every BatchNorm*d in ``module`` (or ``module`` itself) by a SyncBatchNorm sharing its tensors."""
        out = module
        if isinstance(module, _BatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                      process_group, dtype=module.running_mean.dtype if module.running_mean is not None
                      else (module.weight.dtype if module.weight is not None else None))
            if module.affine:
                out.weight = module.weight
                out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out

