# Gradient clipping: by hand over parameters, clip_grad_norm_ and clip_grad_value_.
import torch
from torch import nn

net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
for p in net.parameters():
    nn.init.constant_(p, 0.5)
X = torch.linspace(-2, 2, 12).reshape(4, 3)


def grad_clipping(net, theta):
    params = [p for p in net.parameters() if p.requires_grad]
    norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm
    return norm


(net(X) ** 2).sum().backward()
print(f"{grad_clipping(net, 1.0):.4f}")
print(f"{torch.sqrt(sum((p.grad ** 2).sum() for p in net.parameters())):.4f}")
net.zero_grad()
(net(X) ** 2).sum().backward()
total = nn.utils.clip_grad_norm_(net.parameters(), max_norm=0.5)
print(f"{total:.4f}", f"{torch.sqrt(sum((p.grad ** 2).sum() for p in net.parameters())):.4f}")
net.zero_grad()
(net(X) ** 2).sum().backward()
nn.utils.clip_grad_value_(net.parameters(), clip_value=0.1)
print(max(p.grad.abs().max().item() for p in net.parameters()))
