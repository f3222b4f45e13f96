"""``chainrule.nn.functional`` (PyTorch's ``torch.nn.functional``): the stateless layer operators.

The operators live in ``chainrule.ops``; this module gathers the ones PyTorch exposes here.
"""

from ..ops.elementwise import elu, gelu, leaky_relu, relu, sigmoid, silu, softplus, tanh  # noqa: F401
