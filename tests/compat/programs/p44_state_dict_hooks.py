# state_dict round trip, forward hooks collecting activations, tensor hooks on gradients.
import torch
from torch import nn

net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
sd = net.state_dict()
print(list(sd.keys()), [tuple(v.shape) for v in sd.values()])
clone = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
print(clone.load_state_dict(sd))
X = torch.linspace(-1, 1, 6).reshape(2, 3)
print(torch.equal(net(X), clone(X)))
acts = {}


def save(name):
    def hook(module, inputs, output):
        acts[name] = output.shape
    return hook


handles = [m.register_forward_hook(save(n)) for n, m in net.named_modules() if n]
net(X)
print(acts)
for h in handles:
    h.remove()
acts.clear()
net(X)
print(acts)
x = torch.ones(3, requires_grad=True)
x.register_hook(lambda g: g * 10)
(x * 2).sum().backward()
print(x.grad)
missing = nn.Linear(3, 4).load_state_dict({"weight": torch.zeros(4, 3)}, strict=False)
print(missing.missing_keys, missing.unexpected_keys)
try:
    nn.Linear(3, 4).load_state_dict({"weight": torch.zeros(4, 3)})
except RuntimeError as e:
    print("RuntimeError:", str(e).splitlines()[0])
