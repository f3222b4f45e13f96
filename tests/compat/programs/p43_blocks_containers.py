# The builders' guide: a custom MLP, MySequential with add_module, FixedHiddenMLP, nested blocks.
import torch
from torch import nn
from torch.nn import functional as F


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.LazyLinear(256)
        self.out = nn.LazyLinear(10)

    def forward(self, X):
        return self.out(F.relu(self.hidden(X)))


class MySequential(nn.Module):
    def __init__(self, *args):
        super().__init__()
        for idx, module in enumerate(args):
            self.add_module(str(idx), module)

    def forward(self, X):
        for module in self.children():
            X = module(X)
        return X


class FixedHiddenMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.rand_weight = torch.ones((20, 20)) / 20
        self.linear = nn.Linear(20, 20)
        nn.init.constant_(self.linear.weight, 0.05)
        nn.init.zeros_(self.linear.bias)

    def forward(self, X):
        X = self.linear(X)
        X = F.relu(X @ self.rand_weight + 1)
        X = self.linear(X)
        while X.abs().sum() > 1:
            X /= 2
        return X.sum()


X = torch.ones(2, 20)
net = MLP()
print(net(X).shape)
net = MySequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))
print(net(X).shape, [name for name, _ in net.named_children()])
print(FixedHiddenMLP()(X))
chimera = nn.Sequential(nn.Sequential(nn.LazyLinear(64), nn.ReLU(), nn.LazyLinear(32)), nn.LazyLinear(20), FixedHiddenMLP())
print(chimera(X).shape)
layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
heads = nn.ModuleDict({"a": nn.Linear(4, 2), "b": nn.Linear(4, 3)})
print(len(layers), sorted(heads.keys()), sum(p.numel() for p in layers.parameters()))
print(chimera)
