"""PyTorch's ``torch.nn.modules`` import paths, for code that spells them out.

Only ``chainrule.nn.modules.lazy`` (``LazyModuleMixin``) lives here; the layers themselves are in
``chainrule.nn.layers`` and are reached as ``chainrule.nn.<Name>``.
"""

from . import lazy  # noqa: F401
