"""``torch.nn.modules.lazy``'s names: ``LazyModuleMixin`` (defined in ``chainrule.nn.layers.lazy``)."""

from ..layers.lazy import LazyModuleMixin
from ..parameter import UninitializedBuffer, UninitializedParameter, is_lazy

__all__ = ["LazyModuleMixin", "UninitializedBuffer", "UninitializedParameter", "is_lazy"]
