# Batch normalisation from scratch (mean over (0, 2, 3) with keepdim) against nn.BatchNorm2d.
import torch
from torch import nn


def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    if not torch.is_grad_enabled():
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
    else:
        assert len(X.shape) in (2, 4)
        if len(X.shape) == 2:
            mean = X.mean(dim=0)
            var = ((X - mean) ** 2).mean(dim=0)
        else:
            mean = X.mean(dim=(0, 2, 3), keepdim=True)
            var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        X_hat = (X - mean) / torch.sqrt(var + eps)
        moving_mean = (1.0 - momentum) * moving_mean + momentum * mean
        moving_var = (1.0 - momentum) * moving_var + momentum * var
    Y = gamma * X_hat + beta
    return Y, moving_mean.data, moving_var.data


X = torch.linspace(-3, 5, 2 * 3 * 4 * 4).reshape(2, 3, 4, 4) ** 2 / 10
shape = (1, 3, 1, 1)
Y, mm, mv = batch_norm(X, torch.ones(shape), torch.zeros(shape), torch.zeros(shape), torch.ones(shape), 1e-5, 0.1)
bn = nn.BatchNorm2d(3)
Y2 = bn(X)
print(torch.allclose(Y, Y2, atol=1e-5))
print(mm.flatten(), bn.running_mean)
print(bn.running_var)
print(bn.num_batches_tracked, bn)
bn.eval()
print(bn(X)[0, :, 0, 0])
lazy = nn.LazyBatchNorm2d()
print(lazy(X).shape, lazy.num_features, type(lazy).__name__)
print(nn.BatchNorm1d(3)(X[:, :, 0, 0]).sum(0).abs().max() < 1e-5)
