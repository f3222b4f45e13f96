# Weight decay: an L2 penalty by hand and per-parameter-group weight_decay in SGD.
import torch
from torch import nn

X = torch.linspace(-1, 1, 40).reshape(20, 2)
y = X @ torch.tensor([[0.5], [-1.5]]) + 0.2


def l2_penalty(w):
    return (w ** 2).sum() / 2


w = torch.zeros(2, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
for _ in range(50):
    l = ((X @ w + b - y) ** 2 / 2).mean() + 3 * l2_penalty(w)
    l.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
        b -= 0.1 * b.grad
        w.grad.zero_()
        b.grad.zero_()
print('L2 norm of w:', float(w.norm()))
net = nn.Linear(2, 1)
for param in net.parameters():
    param.data.fill_(0.1)
trainer = torch.optim.SGD([{"params": net.weight, 'weight_decay': 3.0}, {"params": net.bias}], lr=0.1)
for _ in range(50):
    trainer.zero_grad()
    l = nn.MSELoss()(net(X), y)
    l.backward()
    trainer.step()
print(f"{net.weight.norm().item():.4f}", [g['weight_decay'] for g in trainer.param_groups])
print(len(trainer.param_groups), sorted(trainer.param_groups[1].keys())[:5])
