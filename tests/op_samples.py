"""Sample calls of chainrule's exported functions, written once for both libraries.

``SAMPLES[name]`` is a list of builders ``b(L) -> (args, kwargs)`` where ``L`` is ``torch`` or
``chainrule``; the same values are produced for both. The keyword tests (``out=``, ``axis=``,
``keepdims=``) call every function with these arguments under both libraries and compare.
"""

from __future__ import annotations

import numpy as np

_R = np.random.default_rng(0)
A = _R.standard_normal((3, 4))
B = _R.standard_normal((3, 4))
POS = np.abs(A) + 0.5
UNIT = np.tanh(A) * 0.9
SQ = _R.standard_normal((4, 4))
B3 = _R.standard_normal((2, 3, 4))
B3B = _R.standard_normal((2, 4, 5))
V = _R.standard_normal(4)
INT = _R.integers(-5, 5, (3, 4))
BOOL = A > 0
IDX = np.array([[0, 1, 2, 0], [1, 2, 0, 1]])
IDX1 = np.array([2, 0])


def t(L, a, dtype=None):
    x = L.tensor(np.ascontiguousarray(a))
    return x if dtype is None else x.to(dtype)


def _unary(arr=A):
    return [lambda L: ((t(L, arr),), {})]


def _binary(a=A, b=B):
    return [lambda L: ((t(L, a), t(L, b)), {}), lambda L: ((t(L, a), 2.0), {})]


SAMPLES: dict = {}
for _n in ("abs absolute ceil cos cosh erf exp exp2 expm1 floor frac neg negative round sgn sigmoid sign sin "
           "sinh tan tanh trunc square clone isinf isnan isfinite relu selu silu gelu adjoint ravel t argwhere "
           "nonzero fliplr flipud contiguous elu celu leaky_relu softplus").split():
    SAMPLES[_n] = _unary()
for _n in "acos arccos asin arcsin atanh arctanh atan arctan asinh arcsinh".split():
    SAMPLES[_n] = _unary(UNIT)
for _n in "log log10 log1p log2 sqrt rsqrt reciprocal acosh arccosh".split():
    SAMPLES[_n] = _unary(POS + 1.0)
for _n in ("add sub subtract mul multiply div divide true_divide atan2 arctan2 maximum minimum hypot logaddexp fmod "
           "remainder floor_divide eq ne not_equal lt le gt ge less less_equal greater greater_equal").split():
    SAMPLES[_n] = _binary() if _n not in ("atan2 arctan2 maximum minimum hypot logaddexp") else _binary()[:1]
SAMPLES["pow"] = [lambda L: ((t(L, POS), t(L, B)), {}), lambda L: ((t(L, POS), 2.0), {})]
SAMPLES["add"].append(lambda L: ((t(L, A), t(L, B)), {"alpha": 2}))
SAMPLES["sub"].append(lambda L: ((t(L, A), t(L, B)), {"alpha": 2}))
for _n in "bitwise_and bitwise_or bitwise_xor".split():
    SAMPLES[_n] = [lambda L: ((t(L, INT), t(L, INT[::-1].copy())), {})]
SAMPLES["bitwise_not"] = [lambda L: ((t(L, INT),), {})]
for _n in "logical_and logical_or logical_xor".split():
    SAMPLES[_n] = [lambda L: ((t(L, BOOL), t(L, B > 0)), {})]
SAMPLES["logical_not"] = [lambda L: ((t(L, BOOL),), {})]
SAMPLES.update({
    "addcdiv": [lambda L: ((t(L, A), t(L, B), t(L, POS)), {"value": 0.5})],
    "addcmul": [lambda L: ((t(L, A), t(L, B), t(L, POS)), {"value": 0.5})],
    "addmm": [lambda L: ((t(L, A), t(L, A), t(L, SQ)), {"beta": 0.5})],
    "mm": [lambda L: ((t(L, A), t(L, SQ)), {})],
    "matmul": [lambda L: ((t(L, A), t(L, SQ)), {}), lambda L: ((t(L, B3), t(L, B3B)), {})],
    "bmm": [lambda L: ((t(L, B3), t(L, B3B)), {})],
    "mv": [lambda L: ((t(L, A), t(L, V)), {})],
    "dot": [lambda L: ((t(L, V), t(L, V)), {})],
    "outer": [lambda L: ((t(L, V), t(L, V[:3])), {})],
    "ger": [lambda L: ((t(L, V), t(L, V[:3])), {})],
    "clamp": [lambda L: ((t(L, A), -0.5, 0.5), {}), lambda L: ((t(L, A),), {"min": t(L, B)})],
    "clip": [lambda L: ((t(L, A), -0.5, 0.5), {})],
    "clamp_min": [lambda L: ((t(L, A), -0.5), {})],
    "clamp_max": [lambda L: ((t(L, A), 0.5), {})],
    "lerp": [lambda L: ((t(L, A), t(L, B), 0.3), {})],
    "where": [lambda L: ((t(L, BOOL), t(L, A), t(L, B)), {})],
    "masked_fill": [lambda L: ((t(L, A), t(L, BOOL), 0.5), {})],
    "masked_select": [lambda L: ((t(L, A), t(L, BOOL)), {})],
    "nan_to_num": _unary(),
    "threshold": [lambda L: ((t(L, A), 0.1, 0.0), {})],
    "tril": _unary(),
    "triu": _unary(),
    "flip": [lambda L: ((t(L, A), (0,)), {})],
    "roll": [lambda L: ((t(L, A), 1, 1), {})],
    "take": [lambda L: ((t(L, A), t(L, IDX1)), {})],
    "take_along_dim": [lambda L: ((t(L, A), t(L, IDX)), {"dim": 0})],
    "gather": [lambda L: ((t(L, A),), {"dim": 0, "index": t(L, IDX)})],
    "index_select": [lambda L: ((t(L, A),), {"dim": 0, "index": t(L, IDX1)})],
    "index_add": [lambda L: ((t(L, A),), {"dim": 0, "index": t(L, IDX1), "source": t(L, B[:2])})],
    "scatter": [lambda L: ((t(L, A),), {"dim": 0, "index": t(L, IDX), "src": t(L, B)})],
    "scatter_add": [lambda L: ((t(L, A),), {"dim": 0, "index": t(L, IDX), "src": t(L, B)})],
    "constant_pad_nd": [lambda L: ((t(L, A), (1, 1)), {})],
    "pixel_shuffle": [lambda L: ((t(L, _R.standard_normal((1, 4, 2, 2))), 2), {})],
    "pixel_unshuffle": [lambda L: ((t(L, _R.standard_normal((1, 1, 4, 4))), 2), {})],
    "adaptive_avg_pool1d": [lambda L: ((t(L, B3), 2), {})],
    "avg_pool1d": [lambda L: ((t(L, B3), 2), {})],
    "cat": [lambda L: (([t(L, A), t(L, B)],), {"dim": 1})],
    "concat": [lambda L: (([t(L, A), t(L, B)],), {"dim": 1})],
    "concatenate": [lambda L: (([t(L, A), t(L, B)],), {"dim": 1})],
    "stack": [lambda L: (([t(L, A), t(L, B)],), {"dim": 1})],
    "hstack": [lambda L: (([t(L, A), t(L, B)],), {})],
    "vstack": [lambda L: (([t(L, A), t(L, B)],), {})],
    "row_stack": [lambda L: (([t(L, A), t(L, B)],), {})],
    "dstack": [lambda L: (([t(L, A), t(L, B)],), {})],
    "sum": [lambda L: ((t(L, A),), {"dim": 1, "keepdim": True}), lambda L: ((t(L, A),), {})],
    "mean": [lambda L: ((t(L, A),), {"dim": 1, "keepdim": True}), lambda L: ((t(L, A),), {})],
    "prod": [lambda L: ((t(L, A),), {"dim": 1, "keepdim": True}), lambda L: ((t(L, A),), {})],
    "amax": [lambda L: ((t(L, A),), {"dim": 1, "keepdim": True})],
    "amin": [lambda L: ((t(L, A),), {"dim": 1, "keepdim": True})],
    "all": [lambda L: ((t(L, BOOL),), {"dim": 1, "keepdim": True}), lambda L: ((t(L, BOOL),), {})],
    "any": [lambda L: ((t(L, BOOL),), {"dim": 1, "keepdim": True}), lambda L: ((t(L, BOOL),), {})],
    "argmax": [lambda L: ((t(L, A),), {"dim": 1, "keepdim": True}), lambda L: ((t(L, A),), {})],
    "argmin": [lambda L: ((t(L, A),), {"dim": 1, "keepdim": True}), lambda L: ((t(L, A),), {})],
    "max": [lambda L: ((t(L, A),), {"dim": 1, "keepdim": True}), lambda L: ((t(L, A),), {}),
            lambda L: ((t(L, A), t(L, B)), {})],
    "min": [lambda L: ((t(L, A),), {"dim": 1, "keepdim": True}), lambda L: ((t(L, A),), {}),
            lambda L: ((t(L, A), t(L, B)), {})],
    "median": [lambda L: ((t(L, A),), {"dim": 1, "keepdim": True}), lambda L: ((t(L, A),), {})],
    "kthvalue": [lambda L: ((t(L, A), 2), {"dim": 1, "keepdim": True})],
    "logsumexp": [lambda L: ((t(L, A),), {"dim": 1, "keepdim": True})],
    "norm": [lambda L: ((t(L, A),), {"dim": 1, "keepdim": True}), lambda L: ((t(L, A),), {})],
    "std": [lambda L: ((t(L, A),), {"dim": 1, "keepdim": True}), lambda L: ((t(L, A),), {})],
    "var": [lambda L: ((t(L, A),), {"dim": 1, "keepdim": True}), lambda L: ((t(L, A),), {})],
    "std_mean": [lambda L: ((t(L, A),), {"dim": 1, "keepdim": True})],
    "var_mean": [lambda L: ((t(L, A),), {"dim": 1, "keepdim": True})],
    "count_nonzero": [lambda L: ((t(L, A),), {"dim": 1}), lambda L: ((t(L, A),), {})],
    "cumsum": [lambda L: ((t(L, A),), {"dim": 1})],
    "cumprod": [lambda L: ((t(L, A),), {"dim": 1})],
    "softmax": [lambda L: ((t(L, A),), {"dim": 1})],
    "log_softmax": [lambda L: ((t(L, A),), {"dim": 1})],
    "sort": [lambda L: ((t(L, A),), {"dim": 1})],
    "argsort": [lambda L: ((t(L, A),), {"dim": 1})],
    "topk": [lambda L: ((t(L, A), 2), {"dim": 1})],
    "cosine_similarity": [lambda L: ((t(L, A), t(L, B)), {"dim": 1})],
    "pairwise_distance": [lambda L: ((t(L, A), t(L, B)), {"keepdim": True})],
    "chunk": [lambda L: ((t(L, A), 2), {"dim": 1})],
    "split": [lambda L: ((t(L, A), 2), {"dim": 1})],
    "unbind": [lambda L: ((t(L, A),), {"dim": 1})],
    "narrow": [lambda L: ((t(L, A),), {"dim": 1, "start": 0, "length": 2})],
    "select": [lambda L: ((t(L, A),), {"dim": 1, "index": 0})],
    "squeeze": [lambda L: ((t(L, A[:, :1]),), {"dim": 1})],
    "unsqueeze": [lambda L: ((t(L, A),), {"dim": 1})],
    "unflatten": [lambda L: ((t(L, A),), {"dim": 1, "sizes": (2, 2)})],
})
SAMPLES["repeat_interleave"] = [lambda L: ((t(L, INT),), {"repeats": 2, "dim": 1})]


def call(L, name: str, variant: int, **extra):
    """Run sample ``variant`` of ``name`` under library ``L`` with extra keyword arguments."""
    args, kwargs = SAMPLES[name][variant](L)
    return getattr(L, name)(*args, **kwargs, **extra)


def numpy_of(result):
    """A result (tensor or tuple of tensors) as NumPy arrays, for comparing the two libraries."""
    if isinstance(result, (tuple, list)):
        return [numpy_of(r) for r in result]
    return result.detach().numpy() if hasattr(result, "detach") else np.asarray(result)

# in-place methods taking ``dim``: the sample of their out-of-place function, called as a method
METHOD_SAMPLES = {"scatter_": "scatter", "scatter_add_": "scatter_add", "index_add_": "index_add"}

# functions of nn.functional only
SAMPLES.update({
    "glu": [lambda L: ((t(L, A),), {"dim": 1})],
    "softmin": [lambda L: ((t(L, A),), {"dim": 1})],
    "normalize": [lambda L: ((t(L, A),), {"dim": 1})],
})

# statistics, searching and special functions
from .op_samples_stats import STAT_SAMPLES  # noqa: E402

SAMPLES.update(STAT_SAMPLES)

# linear algebra (chainrule.linalg's top-level names)
from .op_samples_linalg import LINALG_SAMPLES  # noqa: E402

SAMPLES.update(LINALG_SAMPLES)

# the shape, index, product and sampling functions added for tutorial code
from .op_samples_missing import METHOD_SAMPLES_MISSING, SAMPLES_MISSING  # noqa: E402

SAMPLES.update(SAMPLES_MISSING)
METHOD_SAMPLES.update(METHOD_SAMPLES_MISSING)
