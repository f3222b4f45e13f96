"""``chainrule.nn.functional`` (PyTorch's ``torch.nn.functional``): the stateless layer operators.

The operators live in ``chainrule.ops``; this module gathers the ones PyTorch exposes here.
"""

from .. import ops as _ops
from ..ops.activation import (  # noqa: F401
    celu,
    elu,
    gelu,
    glu,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    logsigmoid,
    mish,
    prelu,
    relu,
    relu6,
    selu,
    silu,
    softmin,
    softplus,
    softsign,
    tanhshrink,
    threshold,
)
from ..ops.attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: F401
from ..ops.conv import (  # noqa: F401
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
)
from ..ops.distance import normalize  # noqa: F401
from ..ops.dropout import (  # noqa: F401
    alpha_dropout,
    dropout,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
)
from ..ops.elementwise import sigmoid, tanh  # noqa: F401
from ..ops.embedding import embedding  # noqa: F401
from ..ops.fold import fold, unfold  # noqa: F401
from ..ops.indexing import one_hot  # noqa: F401
from ..ops.linear import bilinear, linear  # noqa: F401
from ..ops.loss import (  # noqa: F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from ..ops.normalization import (  # noqa: F401
    batch_norm,
    filter_response_norm,
    group_norm,
    instance_norm,
    layer_norm,
    local_response_norm,
    rms_norm,
    tlu,
)
from ..ops.pad import pad  # noqa: F401
from ..ops.pooling import (  # noqa: F401
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
    max_unpool1d,
    max_unpool2d,
    max_unpool3d,
)
from ..ops.resample import interpolate, pixel_shuffle, pixel_unshuffle  # noqa: F401
from ..ops.softmax import log_softmax, softmax  # noqa: F401

# PyTorch binds these two natively, so they take axis=/keepdims= (unlike softmax, normalize ...)
cosine_similarity = _ops.FUNCTIONS["cosine_similarity"]
pairwise_distance = _ops.FUNCTIONS["pairwise_distance"]
