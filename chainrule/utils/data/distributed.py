"""``DistributedSampler``: each rank's share of a dataset's indices (``torch.utils.data.distributed``).

Every rank gets ``num_samples = ceil(len / K)`` indices (``ceil((len - K) / K)`` with
``drop_last`` when len is not a multiple of K): the index list (shuffled with seed + epoch, the
same on every rank, when ``shuffle``) is padded with its own beginning to ``K * num_samples``
(or cut to it with ``drop_last``), and rank r takes every K-th index from position r.

The padding and striding are PyTorch's, index for index. The shuffled order comes from
chainrule's generator (NumPy's PCG64), so it is not the permutation ``torch.randperm`` draws for
the same seed; it is the same on every rank and changes with ``set_epoch``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

from ...backend import Generator
from .sampler import Sampler


class DistributedSampler(Sampler):
    """Restrict loading to this rank's share of the dataset; call ``set_epoch(e)`` before each epoch."""

    def __init__(self, dataset: Sized, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from ... import distributed as dist  # noqa: PLC0415  (only when the group decides)

            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        if isinstance(num_replicas, bool) or not isinstance(num_replicas, int) or num_replicas <= 0:
            raise ValueError(f"num_replicas should be a positive integer value, but got num_replicas={num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            g = Generator().manual_seed(self.seed + self.epoch)
            indices = g.numpy.permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad <= len(indices):
                indices += indices[:pad]
            else:
                indices += (indices * math.ceil(pad / len(indices)))[:pad]
        else:
            indices = indices[: self.total_size]
        assert len(indices) == self.total_size
        indices = indices[self.rank: self.total_size: self.num_replicas]
        assert len(indices) == self.num_samples
        return iter(indices)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use ``seed + epoch`` for the next shuffle, so every epoch (and every rank alike) has a new order."""
        self.epoch = epoch
