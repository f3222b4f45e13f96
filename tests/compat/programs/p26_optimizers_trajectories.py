# The optimisers of the optimisation chapter on one quadratic bowl from a fixed start.
import torch


def f(x):
    return 0.1 * x[0] ** 2 + 2 * x[1] ** 2


def run(make, steps=30):
    x = torch.tensor([-5.0, -2.0], requires_grad=True)
    opt = make([x])
    for _ in range(steps):
        opt.zero_grad()
        f(x).backward()
        opt.step()
    return ", ".join(f"{v:.5f}" for v in x.tolist())


print("sgd      ", run(lambda p: torch.optim.SGD(p, lr=0.4)))
print("momentum ", run(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.5)))
print("nesterov ", run(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.5, nesterov=True)))
print("adagrad  ", run(lambda p: torch.optim.Adagrad(p, lr=0.4)))
print("rmsprop  ", run(lambda p: torch.optim.RMSprop(p, lr=0.4, alpha=0.9)))
print("adadelta ", run(lambda p: torch.optim.Adadelta(p, lr=1.0, rho=0.9)))
print("adam     ", run(lambda p: torch.optim.Adam(p, lr=0.4)))
print("adamw    ", run(lambda p: torch.optim.AdamW(p, lr=0.4, weight_decay=0.1)))
print("adamax   ", run(lambda p: torch.optim.Adamax(p, lr=0.4)))
print("nadam    ", run(lambda p: torch.optim.NAdam(p, lr=0.4)))
print("radam    ", run(lambda p: torch.optim.RAdam(p, lr=0.4)))
print("asgd     ", run(lambda p: torch.optim.ASGD(p, lr=0.2)))
opt = torch.optim.Adam([torch.zeros(2, requires_grad=True)], lr=0.01, betas=(0.8, 0.9))
print(opt.param_groups[0]['betas'], sorted(opt.defaults))
