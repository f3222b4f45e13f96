# VGG blocks and NiN blocks: shapes through lazy networks with adaptive pooling.
import torch
from torch import nn


def vgg_block(num_convs, out_channels):
    layers = []
    for _ in range(num_convs):
        layers.append(nn.LazyConv2d(out_channels, kernel_size=3, padding=1))
        layers.append(nn.ReLU())
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


arch = ((1, 4), (1, 8), (2, 8))
net = nn.Sequential(*[vgg_block(*b) for b in arch], nn.Flatten(), nn.LazyLinear(32), nn.ReLU(), nn.Dropout(0.5),
                    nn.LazyLinear(10))
X = torch.ones(1, 1, 32, 32)
for layer in net:
    X = layer(X)
    print(layer.__class__.__name__, 'output shape:\t', X.shape)


def nin_block(out_channels, kernel_size, strides, padding):
    return nn.Sequential(
        nn.LazyConv2d(out_channels, kernel_size, strides, padding), nn.ReLU(),
        nn.LazyConv2d(out_channels, kernel_size=1), nn.ReLU(),
        nn.LazyConv2d(out_channels, kernel_size=1), nn.ReLU())


net = nn.Sequential(
    nin_block(8, kernel_size=11, strides=4, padding=0), nn.MaxPool2d(3, stride=2),
    nin_block(16, kernel_size=5, strides=1, padding=2), nn.MaxPool2d(3, stride=2),
    nn.Dropout(0.5), nin_block(10, kernel_size=3, strides=1, padding=1),
    nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())
X = torch.ones(1, 1, 96, 96)
for layer in net:
    X = layer(X)
    print(layer.__class__.__name__, 'output shape:\t', X.shape)
