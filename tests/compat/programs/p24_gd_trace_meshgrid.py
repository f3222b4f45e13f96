# Optimisation: a 2-D gradient-descent trace and the contour grid made with meshgrid.
import torch


def f_2d(x1, x2):
    return x1 ** 2 + 2 * x2 ** 2


def f_2d_grad(x1, x2):
    return (2 * x1, 4 * x2)


def gd_2d(x1, x2, s1, s2, f_grad):
    g1, g2 = f_grad(x1, x2)
    return (x1 - eta * g1, x2 - eta * g2, 0, 0)


def train_2d(trainer, steps=20, f_grad=None):
    x1, x2, s1, s2 = -5, -2, 0, 0
    results = [(x1, x2)]
    for i in range(steps):
        x1, x2, s1, s2 = trainer(x1, x2, s1, s2, f_grad)
        results.append((x1, x2))
    print(f'epoch {i + 1}, x1: {float(x1):f}, x2: {float(x2):f}')
    return results


eta = 0.1
results = train_2d(gd_2d, f_grad=f_2d_grad)
x1, x2 = torch.meshgrid(torch.arange(-5.5, 1.0, 0.1), torch.arange(-3.0, 1.0, 0.1), indexing='ij')
print(x1.shape, x2.shape, f"{f_2d(x1, x2).sum():.2f}")
print(x1[:2, :3], x2[:2, :3])
a, b = torch.meshgrid(torch.tensor([1, 2, 3]), torch.tensor([4, 5]), indexing='xy')
print(a, b)
c, d = torch.meshgrid([torch.tensor([1.0, 2.0]), torch.tensor([0.5, 1.5, 2.5])], indexing='ij')
print((c * d).sum())
x = torch.arange(-2.0, 2.0, 0.5, requires_grad=True)
y = torch.arange(0.0, 1.0, 0.25, requires_grad=True)
gx, gy = torch.meshgrid(x, y, indexing='ij')
(gx * gy).sum().backward()
print(x.grad, y.grad)
