# Dropout from scratch and nn.Dropout: the deterministic cases (p=0, p=1, eval mode), shapes and scale.
import torch
from torch import nn


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)


X = torch.arange(16, dtype=torch.float32).reshape((2, 8))
print('dropout_p = 0:', dropout_layer(X, 0))
print('dropout_p = 1:', dropout_layer(X, 1))
Y = dropout_layer(X, 0.5)
print(set(torch.unique(Y / X.clamp(min=1)).tolist()) <= {0.0, 2.0})
net = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4, 2))
net.eval()
print(torch.equal(net(X), net(X)), net.training, net[2].training)
net.train()
print(net[2], net[2].training)
d = nn.Dropout(p=0.0)
print(torch.equal(d(X), X))
try:
    nn.Dropout(p=1.5)
except ValueError as e:
    print("ValueError:", e)
