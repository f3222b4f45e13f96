# Parameter management: state_dict, named_parameters, tied parameters.
import torch
from torch import nn

net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
print(net[2].state_dict().keys())
print(type(net[2].bias), net[2].bias.data.shape)
print(net[2].weight.grad is None)
print([(name, param.shape) for name, param in net.named_parameters()])
shared = nn.LazyLinear(8)
net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), shared, nn.ReLU(), shared, nn.ReLU(), nn.LazyLinear(1))
net(torch.ones(2, 4))
print(net[2].weight.data[0] == net[4].weight.data[0])
net[2].weight.data[0, 0] = 100
print(net[2].weight.data[0, 0] == net[4].weight.data[0, 0])
print(len(list(net.parameters())), len(net.state_dict()))
print(list(net.state_dict().keys()))
