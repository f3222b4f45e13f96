# The builders' guide: an MLP of lazy layers, its parameters before and after a dry run.
import torch
from torch import nn

net = nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))
print(net)
print(net[0].weight)
print([type(p).__name__ for p in net.parameters()])
X = torch.ones(2, 20)
print(net(X).shape)
print(net)
print([p.shape for p in net.parameters()])
print(sum(p.numel() for p in net.parameters()))
print(type(net[0]).__name__, type(net[0].weight).__name__)
