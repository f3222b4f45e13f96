"""``chainrule.backends``: PyTorch's ``torch.backends`` flags and queries, for scripts that touch them.

``backends.cudnn.deterministic = True`` and ``backends.cudnn.benchmark = False`` are settable and
read back; nothing in chainrule's CPU kernels depends on them. ``backends.mps`` and
``backends.cuda`` say that neither GPU is built in this version.
"""

from . import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
