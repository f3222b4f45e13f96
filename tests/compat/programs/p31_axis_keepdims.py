# NumPy-style axis= and keepdims= where PyTorch accepts them.
import torch

X = torch.arange(12.0).reshape(3, 4)
print(X.sum(axis=0), X.sum(axis=1, keepdims=True))
print(torch.sum(X, axis=1), torch.mean(X, axis=0, keepdims=True))
print(X.max(axis=1), X.argmax(axis=1), torch.argmin(X, axis=0))
print(X.cumsum(axis=0))
print(torch.softmax(X, axis=1).sum(axis=1))
print(X.std(axis=0), X.var(axis=1, keepdims=True))
print(X.prod(axis=1), X.amax(axis=0), torch.any(X > 10, axis=1))
print(torch.sort(X, axis=0, descending=True).values)
print(X.sum(0, keepdim=True), X.mean(dim=1))
print(torch.norm(X, dim=1))
for call in (lambda: X.sum(axis=0, dim=1), lambda: torch.split(X, 2, axis=0)):
    try:
        call()
        print("accepted")
    except TypeError:
        print("TypeError")
