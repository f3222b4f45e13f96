"""chainrule: a deep-learning framework on NumPy with PyTorch's names and trustworthy gradients.

``import chainrule as torch`` is meant to work for the parts of PyTorch chainrule covers.
"""

from . import (
    autograd,  # noqa: E402
    backend,
    ops,  # noqa: E402,I001  (attaches the operators to Tensor)
)
from ._factory import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    scalar_tensor,
    tensor,
    zeros,
    zeros_like,
)
from .autograd.grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .backend import (
    Generator,
    bool_,
    default_generator,
    device,
    double,
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    get_num_threads,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    are_deterministic_algorithms_enabled,
    get_default_device,
    is_deterministic_algorithms_warn_only_enabled,
    manual_seed,
    set_default_device,
    set_default_dtype,
    use_deterministic_algorithms,
    set_num_threads,
    short,
    uint8,
)
from ._dlpack import from_dlpack
from ._tensor_str import get_printoptions, set_printoptions
from .tensor import Size, Tensor
from ._dtype_info import (  # noqa: E402  (type information, layouts, process settings)
    can_cast,
    channels_last,
    channels_last_3d,
    contiguous_format,
    e,
    finfo,
    get_float32_matmul_precision,
    get_num_interop_threads,
    iinfo,
    inf,
    layout,
    memory_format,
    nan,
    newaxis,
    pi,
    preserve_format,
    promote_types,
    result_type,
    set_float32_matmul_precision,
    set_num_interop_threads,
    sparse_coo,
    strided,
    typename,
)
from .autograd.grad_mode import is_inference_mode_enabled  # noqa: E402
from ._legacy_types import (  # noqa: E402  (FloatTensor ... of older PyTorch code)
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    set_default_tensor_type,
)

globals().update(ops.FUNCTIONS)  # chainrule.exp, chainrule.cat, ... (PyTorch's top-level names)

from . import data, linalg, nn, optim, utils  # noqa: E402  (chainrule.nn, chainrule.linalg, ...)

bool = bool_  # noqa: A001  (chainrule.bool, as torch.bool)
float = float32  # noqa: A001
int = int32  # noqa: A001


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input: Tensor):
    return input.numel()


def initial_seed():
    return default_generator.initial_seed()


def seed():
    return default_generator.seed()


def get_rng_state() -> dict:
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    default_generator.set_state(state)


__version__ = "0.1.0"

# Submodules (and the names they define) that ``import chainrule`` does not load: they are
# imported on first use, so ``chainrule.models.resnet18()`` works without slowing every start.
_LAZY_SUBMODULES = ("accelerator", "backends", "compiler", "cuda", "distributions", "models", "onnx", "random",
                    "serialization", "special", "tools")
_LAZY_NAMES = {"compile": "compiler", "load": "serialization", "save": "serialization"}


def __getattr__(name: str):
    import importlib

    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)  # the import binds it in globals()
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'chainrule' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_SUBMODULES) | set(_LAZY_NAMES))
