# Higher-order derivatives with autograd.grad(create_graph=True) and a Hessian-vector product.
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x ** 3).sum()
g, = torch.autograd.grad(y, x, create_graph=True)
print(g)
h, = torch.autograd.grad(g.sum(), x)
print(h)
x = torch.tensor(0.5, requires_grad=True)
y = torch.sin(x)
d = [y]
for _ in range(4):
    d.append(torch.autograd.grad(d[-1], x, create_graph=True)[0])
print([f"{v.item():.4f}" for v in d])
w = torch.tensor([1.0, -1.0], requires_grad=True)
loss = (w[0] ** 2) * w[1] + w[1] ** 3
grad, = torch.autograd.grad(loss, w, create_graph=True)
v = torch.tensor([1.0, 0.5])
hvp, = torch.autograd.grad(grad @ v, w)
print(grad, hvp)
a = torch.tensor(2.0, requires_grad=True)
b = a * a
b.backward(retain_graph=True)
b.backward()
print(a.grad)
