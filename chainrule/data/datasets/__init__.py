"""Datasets read from local files or shipped with dependencies; nothing is ever downloaded."""

from .cifar import CIFAR10, read_cifar_bin
from .digits import Digits
from .mnist import MNIST, FashionMNIST, read_idx

__all__ = ["Digits", "MNIST", "FashionMNIST", "CIFAR10", "read_idx", "read_cifar_bin"]
