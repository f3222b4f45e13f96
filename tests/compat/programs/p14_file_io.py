# Saving and loading tensors and a model's parameters.
import os
import tempfile

import torch
from torch import nn

folder = tempfile.mkdtemp()
x = torch.arange(4)
torch.save(x, os.path.join(folder, 'x-file'))
x2 = torch.load(os.path.join(folder, 'x-file'))
print(x2)
y = torch.zeros(4)
torch.save({'x': x, 'y': y}, os.path.join(folder, 'mydict'))
mydict2 = torch.load(os.path.join(folder, 'mydict'))
print(mydict2)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(20, 256)
        self.output = nn.Linear(256, 10)

    def forward(self, x):
        return self.output(torch.relu(self.hidden(x)))


net = MLP()
X = torch.linspace(0, 1, 40).reshape(2, 20)
Y = net(X)
torch.save(net.state_dict(), os.path.join(folder, 'mlp.params'))
clone = MLP()
print(clone.load_state_dict(torch.load(os.path.join(folder, 'mlp.params'))))
clone.eval()
print(clone)
Y_clone = clone(X)
print(Y_clone == Y)
