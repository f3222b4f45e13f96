# Padding and stride: output shapes of lazy convolutions.
import torch
from torch import nn


def comp_conv2d(conv2d, X):
    X = X.reshape((1, 1) + X.shape)
    Y = conv2d(X)
    return Y.reshape(Y.shape[2:])


X = torch.ones(size=(8, 8))
print(comp_conv2d(nn.LazyConv2d(1, kernel_size=3, padding=1), X).shape)
print(comp_conv2d(nn.LazyConv2d(1, kernel_size=(5, 3), padding=(2, 1)), X).shape)
print(comp_conv2d(nn.LazyConv2d(1, kernel_size=3, padding=1, stride=2), X).shape)
print(comp_conv2d(nn.LazyConv2d(1, kernel_size=(3, 5), padding=(0, 1), stride=(3, 4)), X).shape)
print(comp_conv2d(nn.Conv2d(1, 1, kernel_size=3, padding='same'), X).shape)
conv = nn.LazyConv2d(4, 3, padding=1, groups=2)
print(conv(torch.ones(1, 6, 5, 5)).shape, conv.weight.shape, conv)
print(nn.LazyConv1d(2, 3)(torch.ones(1, 3, 10)).shape, nn.LazyConv3d(2, 3)(torch.ones(1, 1, 4, 4, 4)).shape)
print(nn.LazyConvTranspose2d(3, 2, stride=2)(torch.ones(1, 5, 4, 4)).shape)
