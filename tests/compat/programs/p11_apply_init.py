# Parameter initialisation with net.apply after a dry run, built-in and custom initialisers.
import torch
from torch import nn

net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))
X = torch.linspace(-1, 1, 8).reshape(2, 4)
net(X)


def init_constant(module):
    if type(module) == nn.Linear:
        nn.init.constant_(module.weight, 1)
        nn.init.zeros_(module.bias)


net.apply(init_constant)
print(net[0].weight.data[0], net[0].bias.data[0])
print(net(X))


def init_42(m):
    if type(m) == nn.Linear:
        nn.init.constant_(m.weight, 42)


net[2].apply(init_42)
print(net[2].weight.data)
print(net(X))
net[0].weight.data[:] += 1
net[0].weight.data[0, 0] = 42
print(net[0].weight.data[0])
w = torch.empty(3, 5)
nn.init.xavier_uniform_(w)
bound = (6 / (3 + 5)) ** 0.5
print(bool(w.abs().max() <= bound), w.shape)
nn.init.kaiming_normal_(w, mode='fan_out', nonlinearity='relu')
print(w.shape, nn.init.calculate_gain('relu'), nn.init.calculate_gain('tanh'))
