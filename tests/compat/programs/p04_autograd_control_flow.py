# Gradients through Python control flow (the textbook's f(a) with a while loop).
import torch


def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


for start in (0.3, -0.7, 1.5):
    a = torch.tensor(start, requires_grad=True)
    d = f(a)
    d.backward()
    print(f"{start}: grad {a.grad.item():.1f}, d/a {(d / a).item():.1f}, equal {bool(a.grad == d / a)}")
a = torch.arange(1.0, 4.0, requires_grad=True)
d = f(a)
d.sum().backward()
print(a.grad)
