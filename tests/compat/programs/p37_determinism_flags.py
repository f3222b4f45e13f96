# The reproducibility preamble of training scripts.
import random

import numpy as np
import torch


def set_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True)


set_seed(0)
print(torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
print(torch.are_deterministic_algorithms_enabled(), torch.initial_seed())
a = torch.rand(3)
set_seed(0)
b = torch.rand(3)
print(torch.equal(a, b))
g = torch.Generator()
g.manual_seed(7)
print(g.initial_seed())
torch.use_deterministic_algorithms(False)
print(torch.are_deterministic_algorithms_enabled())
torch.cuda.empty_cache()
print(torch.cuda.is_available(), torch.cuda.device_count(), torch.cuda.memory_allocated())
