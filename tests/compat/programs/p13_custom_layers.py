# Custom layers: a layer without parameters and a layer with nn.Parameter.
import torch
from torch import nn
from torch.nn import functional as F


class CenteredLayer(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, X):
        return X - X.mean()


layer = CenteredLayer()
print(layer(torch.tensor([1.0, 2, 3, 4, 5])))
net = nn.Sequential(nn.LazyLinear(128), CenteredLayer())
Y = net(torch.ones(4, 8))
print(abs(Y.mean().item()) < 1e-6)


class MyLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.arange(in_units * units, dtype=torch.float32).reshape(in_units, units) / 10)
        self.bias = nn.Parameter(torch.ones(units))

    def forward(self, X):
        linear = torch.matmul(X, self.weight.data) + self.bias.data
        return F.relu(linear)


linear = MyLinear(5, 3)
print(linear.weight)
print(linear(torch.linspace(-1, 1, 10).reshape(2, 5)))
net = nn.Sequential(MyLinear(4, 8), MyLinear(8, 1))
print(net(torch.ones(2, 4)))
print(net)
print(sum(p.numel() for p in net.parameters() if p.requires_grad))
