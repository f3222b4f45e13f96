# repeat_interleave (all its forms), repeat, expand and tile.
import torch

x = torch.tensor([1, 2, 3])
print(x.repeat_interleave(2))
y = torch.tensor([[1, 2], [3, 4]])
print(torch.repeat_interleave(y, 2))
print(torch.repeat_interleave(y, 3, dim=1))
print(torch.repeat_interleave(y, torch.tensor([1, 2]), dim=0))
print(torch.repeat_interleave(y, torch.tensor([1, 2]), dim=0, output_size=3))
print(torch.repeat_interleave(torch.tensor([2, 0, 1])))
print(x.repeat(2, 2), x.expand(2, 3), torch.tile(x, (2,)))
w = torch.tensor([0.5, -1.0], requires_grad=True)
w.repeat_interleave(torch.tensor([3, 1])).pow(2).sum().backward()
print(w.grad)
