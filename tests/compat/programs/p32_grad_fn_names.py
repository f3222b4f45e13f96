# grad_fn names, as tutorials print them, and a walk over next_functions.
import torch
from torch import nn
import torch.nn.functional as F

x = torch.ones(2, 3, requires_grad=True)
y = x * 2
print(y.grad_fn.name(), (x + 1).grad_fn.name(), x.sum().grad_fn.name(), x.sum(1).grad_fn.name())
print(x.mean().grad_fn.name(), x[0].grad_fn.name(), x[:, 1:].grad_fn.name(), x.view(6).grad_fn.name())
print(x.exp().grad_fn.name(), (x ** 2).grad_fn.name(), x.t().grad_fn.name(), x.relu().grad_fn.name())
lin = nn.Linear(3, 4)
out = lin(x)
print(out.grad_fn.name(), nn.Linear(3, 4, bias=False)(x).grad_fn.name())
loss = F.mse_loss(out, torch.zeros(2, 4))
print(loss.grad_fn.name(), F.cross_entropy(out, torch.tensor([0, 3])).grad_fn.name())
print(F.log_softmax(out, 1).grad_fn.name(), torch.sigmoid(out).grad_fn.name(), torch.tanh(out).grad_fn.name())
z = y.sum()
print(z)
print(z.grad_fn.next_functions[0][0].name())
print(z.grad_fn.next_functions[0][0].next_functions[0][0].name())
leaf = z.grad_fn.next_functions[0][0].next_functions[0][0]
print(leaf.variable is x)
print(torch.cat([x, x]).grad_fn.name(), torch.stack([x, x]).grad_fn.name(), x.reshape(3, 2).grad_fn.name())
