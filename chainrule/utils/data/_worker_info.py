"""Who a DataLoader worker is: ``get_worker_info()`` (kept apart from the worker machinery so
that ``import chainrule`` does not load multiprocessing)."""

from __future__ import annotations

from typing import Any


class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: ``id``, ``num_workers``, ``seed``, ``dataset``."""

    __initialized = False

    def __init__(self, **kwargs: Any) -> None:
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs)
        self.__initialized = True

    def __setattr__(self, key: str, val: Any) -> None:
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        super().__setattr__(key, val)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={getattr(self, k)}' for k in self.__keys)})"


current: WorkerInfo | None = None  # set in a worker process when it starts


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker: its ``WorkerInfo`` (``id``, ``num_workers``, ``seed``, its copy of
    ``dataset``); in the main process: None. An ``IterableDataset`` uses it to read only its shard."""
    return current
