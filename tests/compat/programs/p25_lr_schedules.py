# Learning-rate schedules: a custom scheduler, MultiStepLR, CosineAnnealingLR, LambdaLR, StepLR.
import torch
from torch import nn
from torch.optim import lr_scheduler


class SquareRootScheduler:
    def __init__(self, lr=0.1):
        self.lr = lr

    def __call__(self, num_update):
        return self.lr * pow(num_update + 1.0, -0.5)


scheduler = SquareRootScheduler(lr=0.1)
print([round(scheduler(t), 4) for t in range(6)])
net = nn.Linear(2, 1)


def lrs(make, epochs=12):
    trainer = torch.optim.SGD(net.parameters(), lr=0.5)
    sched = make(trainer)
    out = []
    for _ in range(epochs):
        out.append(round(trainer.param_groups[0]['lr'], 5))
        trainer.step()
        sched.step()
    return out


print(lrs(lambda t: lr_scheduler.MultiStepLR(t, milestones=[3, 7], gamma=0.5)))
print(lrs(lambda t: lr_scheduler.CosineAnnealingLR(t, T_max=10, eta_min=0.01)))
print(lrs(lambda t: lr_scheduler.LambdaLR(t, lambda epoch: 0.9 ** epoch)))
print(lrs(lambda t: lr_scheduler.StepLR(t, step_size=4, gamma=0.1)))
print(lrs(lambda t: lr_scheduler.ExponentialLR(t, gamma=0.8)))
trainer = torch.optim.SGD(net.parameters(), lr=0.5)
sched = lr_scheduler.StepLR(trainer, step_size=2)
trainer.step()
sched.step()
print(sched.get_last_lr(), sched.state_dict()['last_epoch'])
