# DataLoader with worker processes: order, worker_init_fn, get_worker_info, persistent workers.
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset, get_worker_info


class Squares(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        info = get_worker_info()
        return torch.tensor([float(i * i)]), (-1 if info is None else info.num_workers)


def init_fn(worker_id):
    info = get_worker_info()
    assert info.id == worker_id


if __name__ == "__main__":
    for workers in (0, 2):
        loader = DataLoader(Squares(), batch_size=3, num_workers=workers, worker_init_fn=init_fn)
        for x, n in loader:
            print(workers, x.flatten().tolist(), n.tolist())
    ds = TensorDataset(torch.arange(8.0).reshape(8, 1), torch.arange(8))
    loader = DataLoader(ds, batch_size=4, num_workers=2, persistent_workers=True, prefetch_factor=2)
    for epoch in range(2):
        print(epoch, [y.tolist() for _, y in loader])
    print(len(loader), get_worker_info())
