# A d2l-style Trainer that asks for GPUs and falls back to the CPU.
import torch
from torch import nn


def gpu(i=0):
    return torch.device(f'cuda:{i}')


def num_gpus():
    return torch.cuda.device_count()


def try_gpu(i=0):
    if num_gpus() >= i + 1:
        return gpu(i)
    return torch.device('cpu')


def try_all_gpus():
    return [gpu(i) for i in range(num_gpus())]


class Trainer:
    def __init__(self, max_epochs, num_gpus=0, gradient_clip_val=0):
        self.max_epochs = max_epochs
        self.gpus = [gpu(i) for i in range(min(num_gpus, torch.cuda.device_count()))]
        self.gradient_clip_val = gradient_clip_val

    def prepare_batch(self, batch):
        if self.gpus:
            batch = [a.to(self.gpus[0]) for a in batch]
        return batch

    def prepare_model(self, model):
        if self.gpus:
            model.to(self.gpus[0])
        self.model = model

    def fit(self, model, batches):
        self.prepare_model(model)
        optim = torch.optim.SGD(model.parameters(), lr=0.05)
        for epoch in range(self.max_epochs):
            model.train()
            for batch in batches:
                X, y = self.prepare_batch(batch)
                loss = nn.functional.mse_loss(model(X), y)
                optim.zero_grad()
                loss.backward()
                optim.step()
            print(f"epoch {epoch}: loss {loss.item():.5f}")


print(num_gpus(), try_gpu(), try_gpu(10), try_all_gpus())
print(torch.cuda.is_available(), torch.device('cpu'), torch.device('cuda', 0), torch.device('cuda:1').index)
x = torch.tensor([1, 2, 3])
print(x.device, x.to(try_gpu()).device)
model = nn.Linear(2, 1)
nn.init.constant_(model.weight, 0.5)
nn.init.zeros_(model.bias)
X = torch.linspace(0, 1, 20).reshape(10, 2)
y = X @ torch.tensor([[1.0], [-2.0]]) + 0.5
Trainer(max_epochs=3, num_gpus=1).fit(model, [(X[:5], y[:5]), (X[5:], y[5:])])
print(next(model.parameters()).device)
