# Concise linear regression: LazyLinear, weight.data.fill_, MSELoss, optim.SGD, a DataLoader.
import torch
from torch import nn
from torch.utils import data

true_w, true_b = torch.tensor([2, -3.4]), 4.2
features = torch.stack([torch.linspace(-1, 1, 64), torch.sin(torch.linspace(0, 5, 64))], 1)
labels = (features @ true_w + true_b).reshape(-1, 1)
dataset = data.TensorDataset(features, labels)
loader = data.DataLoader(dataset, batch_size=8, shuffle=False)
net = nn.Sequential(nn.LazyLinear(1))
print(net)
net(features[:1])
print(net)
net[0].weight.data.fill_(0.01)
net[0].bias.data.fill_(0)
loss = nn.MSELoss()
trainer = torch.optim.SGD(net.parameters(), lr=0.1)
for epoch in range(5):
    for X, y in loader:
        l = loss(net(X), y)
        trainer.zero_grad()
        l.backward()
        trainer.step()
    l = loss(net(features), labels)
    print(f'epoch {epoch + 1}, loss {l:f}')
w = net[0].weight.data
print('error in estimating w:', true_w - w.reshape(true_w.shape))
print('error in estimating b:', true_b - net[0].bias.data)
print(net[0].weight.grad.shape, type(net[0].weight).__name__)
