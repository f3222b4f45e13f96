"""``chainrule.nn`` (PyTorch's ``torch.nn``): modules, parameters, layers, initialisers, functional.

Each layer family module lists its classes in ``__all__``; one star-import line per family
re-exports them here as ``nn.Linear``, ``nn.Conv2d`` ...
"""

from . import functional, init, utils  # noqa: F401
from .module import Module  # noqa: F401
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter  # noqa: F401
from .layers.activation import *  # noqa: F403
from .layers.container import *  # noqa: F403
from .layers.dropout import *  # noqa: F403
from .layers.flatten import *  # noqa: F403
from .layers.linear import *  # noqa: F403
from .layers.conv import *  # noqa: F403
from .layers.loss import *  # noqa: F403
from .layers.pooling import *  # noqa: F403
from .layers.normalization import *  # noqa: F403
from .layers.wsconv import *  # noqa: F403
from .layers.distance import *  # noqa: F403
from .layers.padding import *  # noqa: F403
from .layers.fold import *  # noqa: F403
from .layers.sparse import *  # noqa: F403
from .layers.resample import *  # noqa: F403
from .layers.lazy import *  # noqa: F403
from .attention import *  # noqa: F403
from . import modules  # noqa: F401,E402  (torch.nn.modules.lazy's import path)
from .layers.sync_batchnorm import *  # noqa: F403
from . import parallel  # noqa: F401,E402  (DistributedDataParallel; after the layers it wraps)
