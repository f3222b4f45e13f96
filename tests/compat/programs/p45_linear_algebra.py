# Linear algebra of the preliminaries: transposes, norms, products, reductions along axes.
import torch

A = torch.arange(6, dtype=torch.float32).reshape(2, 3)
B = A.clone()
print(A, A.T, A + B, A * B)
print(A.sum(axis=0), A.sum(axis=[0, 1]), A.mean(), A.sum() / A.numel(), A.mean(axis=0))
sum_A = A.sum(axis=1, keepdims=True)
print(sum_A, A / sum_A, A.cumsum(axis=0))
x = torch.arange(3, dtype=torch.float32)
y = torch.ones(3, dtype=torch.float32)
print(torch.dot(x, y), torch.sum(x * y), torch.mv(A, x), A @ x)
M = torch.ones(3, 4)
print(torch.mm(A, M), A @ M)
u = torch.tensor([3.0, -4.0])
print(torch.norm(u), torch.abs(u).sum(), torch.norm(torch.ones((4, 9))))
print(torch.einsum('ij,j->i', A, x), torch.linalg.norm(A), torch.outer(x, x))
print(torch.bmm(torch.ones(2, 1, 3), torch.ones(2, 3, 2)).shape, torch.matmul(torch.ones(5, 2, 3), x).shape)
