# L-BFGS with a closure on the Rosenbrock function, and a least-squares fit.
import torch


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


x = torch.tensor([-1.5, 2.0], requires_grad=True)
opt = torch.optim.LBFGS([x], lr=1, max_iter=100, line_search_fn="strong_wolfe")


def closure():
    opt.zero_grad()
    loss = rosenbrock(x)
    loss.backward()
    return loss


for step in range(3):
    loss = opt.step(closure)
    print(f"step {step}: loss {loss.item():.6f}")
print([round(v, 4) for v in x.tolist()])
A = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]])
b = torch.tensor([1.0, 2.0, 2.5])
w = torch.zeros(2, requires_grad=True)
opt = torch.optim.LBFGS([w], lr=0.5, max_iter=50)


def closure2():
    opt.zero_grad()
    loss = ((A @ w - b) ** 2).sum()
    loss.backward()
    return loss


opt.step(closure2)
print([round(v, 4) for v in w.tolist()], round(float(((A @ w - b) ** 2).sum()), 5))
