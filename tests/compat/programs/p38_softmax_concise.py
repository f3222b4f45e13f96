# Concise softmax regression: Flatten + LazyLinear, CrossEntropyLoss(reduction='none'), SGD.
import torch
from torch import nn

X = torch.linspace(-1, 1, 6 * 16).reshape(6, 1, 4, 4)
y = torch.tensor([0, 1, 2, 0, 1, 2])
net = nn.Sequential(nn.Flatten(), nn.LazyLinear(3))
net(X)
nn.init.constant_(net[1].weight, 0.01)
nn.init.zeros_(net[1].bias)
loss = nn.CrossEntropyLoss(reduction='none')
trainer = torch.optim.SGD(net.parameters(), lr=0.5)
for epoch in range(5):
    l = loss(net(X), y)
    trainer.zero_grad()
    l.mean().backward()
    trainer.step()
    print(f"epoch {epoch + 1}: loss {l.mean():.4f}, acc {(net(X).argmax(axis=1) == y).float().mean():.3f}")
print(l.shape, l.grad_fn.name())
print(nn.CrossEntropyLoss(label_smoothing=0.1)(net(X), y))
print(torch.allclose(nn.functional.softmax(net(X), dim=1).sum(1), torch.ones(6)))
