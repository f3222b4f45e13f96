# Submodules reachable as attributes after a plain `import torch`.
import torch

print(hasattr(torch, "serialization"), hasattr(torch.autograd, "graph"), hasattr(torch, "cuda"))
print(callable(torch.serialization.save), callable(torch.autograd.grad), callable(torch.nn.functional.relu))
print(torch.nn.init.calculate_gain("linear"), callable(torch.optim.lr_scheduler.StepLR))
print(torch.utils.data.DataLoader.__name__, torch.nn.modules.lazy.LazyModuleMixin.__name__)
print(torch.nn.parameter.UninitializedParameter.__name__, torch.nn.utils.clip_grad_norm_.__name__)
print(torch.backends.cudnn.enabled in (True, False), torch.backends.mps.is_available())
print(torch.is_tensor(torch.ones(1)), torch.numel(torch.ones(2, 3)), torch.is_grad_enabled())
