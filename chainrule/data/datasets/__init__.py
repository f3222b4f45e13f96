"""Datasets read from local files or shipped with dependencies; nothing is ever downloaded."""

from ._common import DatasetFileError
from .cifar import CIFAR10, read_cifar_bin
from .digits import Digits
from .mnist import MNIST, FashionMNIST, read_idx

__all__ = ["DatasetFileError", "Digits", "MNIST", "FashionMNIST", "CIFAR10", "read_idx", "read_cifar_bin"]
