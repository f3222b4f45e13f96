"""``chainrule.nn.utils``: helpers around modules (gradient clipping, fusion ...)."""

from .agc import adaptive_clip_grad_, unitwise_norm  # noqa: F401
from .clip_grad import (  # noqa: F401
    clip_grad_norm, clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm,
)
from .fusion import (  # noqa: F401
    fuse_bn, fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_conv_transpose_bn_eval, fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)
