# A multilayer perceptron from scratch: parameters as nn.Parameter, ReLU by hand, a few SGD steps.
import torch
from torch import nn


def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)


class MLPScratch(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens, lr, sigma=0.01):
        super().__init__()
        self.W1 = nn.Parameter(torch.linspace(-1, 1, num_inputs * num_hiddens).reshape(num_inputs, num_hiddens) * sigma)
        self.b1 = nn.Parameter(torch.zeros(num_hiddens))
        self.W2 = nn.Parameter(torch.linspace(1, -1, num_hiddens * num_outputs).reshape(num_hiddens, num_outputs) * sigma)
        self.b2 = nn.Parameter(torch.zeros(num_outputs))
        self.lr = lr

    def forward(self, X):
        X = X.reshape((-1, self.W1.shape[0]))
        H = relu(torch.matmul(X, self.W1) + self.b1)
        return torch.matmul(H, self.W2) + self.b2


x = torch.arange(-8.0, 8.0, 0.25, requires_grad=True)  # 0.1 steps: see the README on arange
y = torch.relu(x)
y.backward(torch.ones_like(x), retain_graph=True)
print(x.grad[28:36])
print(torch.sigmoid(torch.tensor([-1.0, 0.0, 1.0])), torch.tanh(torch.tensor([-1.0, 0.0, 1.0])))
model = MLPScratch(num_inputs=16, num_outputs=3, num_hiddens=8, lr=0.5, sigma=1.0)
X = torch.linspace(0, 1, 4 * 16).reshape(4, 1, 4, 4)
Y = torch.tensor([0, 1, 2, 1])
opt = torch.optim.SGD(model.parameters(), lr=model.lr)
for step in range(4):
    loss = nn.functional.cross_entropy(model(X), Y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"step {step}: {loss.item():.5f}")
print([n for n, _ in model.named_parameters()])
