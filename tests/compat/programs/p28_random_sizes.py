# Random factories with size= and the four overloads of torch.normal (shapes and moments only).
import torch

torch.manual_seed(0)
print(torch.randn(size=(2, 3)).shape, torch.rand(size=(4,)).shape, torch.empty(size=(2, 2)).shape)
print(torch.zeros(size=(2, 2)), torch.ones(size=(1, 3)))
print(torch.full(size=(2,), fill_value=3.0), torch.full((2, 2), 7).dtype)
print(torch.normal(0, 1, size=(3, 4)).shape)
print(torch.normal(mean=torch.zeros(5), std=1.0).shape)
print(torch.normal(mean=2.0, std=torch.ones(2, 3)).shape)
print(torch.normal(torch.zeros(4), torch.ones(4)).shape)
x = torch.normal(3.0, 0.5, size=(20000,))
print(f"{x.mean():.1f} {x.std():.1f}")
g = torch.Generator().manual_seed(42)
a = torch.normal(0.0, 1.0, size=(3,), generator=g)
g.manual_seed(42)
b = torch.normal(0.0, 1.0, size=(3,), generator=g)
print(torch.equal(a, b))
X = torch.normal(0, 0.01, (2, 3))
print(X.dtype, X.shape, bool(X.abs().max() < 1))
print(torch.randint(0, 10, size=(3, 2)).dtype, torch.randint(5, (4,)).shape)
print(torch.rand(2, 3).dtype, torch.randn(2, 3, dtype=torch.float64).dtype)
try:
    torch.normal(torch.zeros(3), -torch.ones(3))
except RuntimeError:
    print("negative std refused")
