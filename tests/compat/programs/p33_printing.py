# Printing tensors: scalars, booleans, summarised tensors, scientific notation, print options.
import torch

t = torch.tensor(3.0)
print(t, f"{t}", f"{t:.2f}", str(torch.tensor(1 / 3)))
print(torch.tensor([True, False, True]))
print(torch.tensor([1e-5, 1.0, 1e5]), torch.tensor([123456789.0, 1.0]))
print(torch.tensor([[1.5, -2.25], [3.0, 4.125]]))
print(torch.arange(2000.0))
print(torch.arange(100).reshape(10, 10) * 1000)
print(torch.tensor([float('nan'), float('inf'), -float('inf'), 1.0]))
print(torch.tensor([], dtype=torch.float32), torch.zeros(0, 3))
print(torch.tensor([1, 2, 3], dtype=torch.int32), torch.tensor([1.0, 2.0], dtype=torch.float64))
print(torch.tensor([0.1, 0.2], dtype=torch.float16))
torch.set_printoptions(precision=2)
print(torch.tensor([1.23456, 2.34567]))
torch.set_printoptions(sci_mode=False)
print(torch.tensor([1e-5, 1.0, 1e5]))
torch.set_printoptions(threshold=5, edgeitems=2)
print(torch.arange(10.0))
torch.set_printoptions(profile="default")
torch.set_printoptions(linewidth=40)
print(torch.linspace(0, 1, 12))
torch.set_printoptions(profile="default")
print(torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True) * 2)
try:
    f"{torch.ones(2):.2f}"
except TypeError as e:
    print("TypeError:", e)
