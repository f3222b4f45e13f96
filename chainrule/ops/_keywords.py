"""PyTorch's generic keywords, added once at registration: ``out=`` and the NumPy aliases.

* ``out=``: the function runs as usual (without recording a graph), then its result is written
  into ``out`` with PyTorch's rules: an ``out`` of another shape is resized (with a deprecation
  UserWarning unless it was empty), its dtype must be one the result can be cast to (or the
  result's own dtype for the operators where PyTorch insists), ``out``'s version counter is
  bumped, and ``out`` is returned. Under grad mode an argument or ``out`` that requires grad is an
  error, since an out= function is not differentiable.
* ``axis=`` for ``dim=`` and ``keepdims=`` for ``keepdim=``, on exactly the functions and methods
  where PyTorch 2.13 accepts them (its native operators; not its Python-level ones such as
  ``split``, ``norm`` or ``Tensor.unflatten``).

The tables below were made by calling PyTorch 2.13 with each keyword; tests/test_out_and_aliases.py
makes the same calls against PyTorch and chainrule and fails when the two disagree.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable

import numpy as np

from .. import backend
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..tensor import Tensor
from ._util import TORCH_TYPE_NAMES

# how ``out``'s dtype is checked against the result's (the rule PyTorch applies to that operator):
#   cast  - the result must be castable to it (no float -> integer, no number -> bool)
#   same  - it must equal the result's dtype ("Found dtype ... but expected ...")
#   exact - it must equal the result's dtype ("Expected out tensor to have dtype ...")
#   cat   - castable, with torch.cat's TypeError
#   any   - the operator computes in ``out``'s dtype (it is passed as ``dtype=``)
#   clamp - ``same`` with number bounds, ``cast`` with tensor bounds
# Functions returning (values, indices) take a pair of tensors, each of the exact dtype.
_CAST = ("acos acosh add addcdiv addcmul arccos arccosh arcsin arcsinh arctan arctan2 arctanh asin asinh atan atan2 "
         "atanh bitwise_and bitwise_or bitwise_xor cholesky cholesky_inverse cholesky_solve cos cosh div divide eq erf "
         "exp exp2 expm1 floor_divide fmod ge ger "
         "greater greater_equal gt hypot kthvalue le lerp less less_equal log log10 log1p log2 logaddexp logical_and "
         "logical_not logical_or logical_xor logsumexp lt max maximum mean median min minimum mul multiply ne "
         "not_equal outer pow reciprocal remainder rsqrt sigmoid sin sinh sort sqrt square std sub subtract tan tanh "
         "threshold topk true_divide var")
_SAME = "abs absolute bitwise_not ceil floor frac neg negative round sgn sign trunc"
_EXACT = ("addmm all amax amin any argmax argmin bmm cross dot gather index_add index_select inverse log_softmax "
          "lu_solve masked_select matmul matrix_power mm mv nan_to_num nonzero norm scatter scatter_add softmax take "
          "take_along_dim tril triu where")
_CAT = "cat concat concatenate dstack hstack row_stack stack vstack"
_ANY = "cumprod cumsum prod sum"
_CLAMP = "clamp clamp_max clamp_min clip"

OUT_RULES: dict[str, str] = {
    name: rule for names, rule in ((_CAST, "cast"), (_SAME, "same"), (_EXACT, "exact"), (_CAT, "cat"),
                                   (_ANY, "any"), (_CLAMP, "clamp"))
    for name in names.split()
}
# statistics, searching and special functions (ops/statistics.py, searching.py, special_math.py)
OUT_RULES.update({name: rule for names, rule in (
    ("angle bitwise_left_shift bitwise_right_shift copysign deg2rad digamma erfc erfinv fmax fmin gcd i0 igamma "
     "igammac lcm lgamma logaddexp2 logit mvlgamma nextafter polygamma rad2deg sinc xlogy", "cast"),
    ("bucketize fix float_power heaviside histc isneginf isposinf ldexp logcumsumexp nanquantile quantile "
     "searchsorted signbit", "same"),
    ("isin msort", "exact"), ("cummax cummin mode nanmedian", "cast"), ("nanmean nansum", "any"))
    for name in names.split()})
# PyTorch has out= only on the overloads of these that take ``dim``
OUT_NEEDS_DIM = frozenset({"sum", "prod", "median"})

_AXIS_BOTH = ("all amax amin any argmax argmin argsort chunk count_nonzero cross cumprod cumsum gather index_add "
              "index_select kthvalue log_softmax logsumexp max mean median min narrow prod repeat_interleave scatter "
              "scatter_add select softmax sort squeeze std sum take_along_dim topk unbind unsqueeze var").split()
AXIS_FUNCTIONS = frozenset(_AXIS_BOTH + "cat concat concatenate cosine_similarity pairwise_distance stack std_mean "
                                        "unflatten var_mean".split())
_AXIS_BOTH += "aminmax cummax cummin logcumsumexp mode nanmean nanmedian nanquantile nansum quantile".split()
AXIS_FUNCTIONS = AXIS_FUNCTIONS | frozenset(_AXIS_BOTH + "cumulative_trapezoid gradient trapezoid trapz".split())
AXIS_METHODS = frozenset(_AXIS_BOTH + ["index_add_", "scatter_", "scatter_add_"])

# the shape, index, product and sampling functions added for tutorial code (probed the same way);
# "unsafe": computed in its own dtype and cast to any out dtype (bernoulli)
OUT_RULES.update({name: "exact" for name in (
    "diag narrow_copy scatter_reduce index_copy index_reduce slice_scatter vdot tensordot inner chain_matmul addmv "
    "addbmm baddbmm renorm multinomial nonzero_static").split()})
OUT_RULES.update({"column_stack": "cat", "diff": "cast", "kron": "cast", "addr": "cast", "range": "any",
                  "bernoulli": "unsafe"})
_AXIS_MISSING = ("diff tensor_split narrow_copy scatter_reduce index_copy index_fill index_reduce select_scatter "
                 "slice_scatter renorm split_with_sizes unsafe_split unsafe_chunk").split()
AXIS_FUNCTIONS = AXIS_FUNCTIONS | frozenset(_AXIS_MISSING)
AXIS_METHODS = AXIS_METHODS | frozenset(_AXIS_MISSING + ["index_copy_", "index_fill_", "index_reduce_",
                                                         "scatter_reduce_", "renorm_", "unsqueeze_", "squeeze_"])

# PyTorch's C++ type names, as its "Expected out tensor to have dtype ..." message spells them
_C_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double", "int64": "long int", "int32": "int",
            "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}

_RESIZE_MSG = (
    "An output with one or more elements was resized since it had shape {old}, which does not match the "
    "required output shape {new}. This behavior is deprecated, and in a future PyTorch release outputs will not "
    "be resized unless they have zero elements. Pass an out tensor with zero elements (e.g. chainrule.empty(0)) "
    "to have it resized without this warning.")


def _type_name(d: np.dtype) -> str:
    return TORCH_TYPE_NAMES.get(d.name, d.name)


def can_cast(src: np.dtype, dst: np.dtype) -> bool:
    """PyTorch's ``can_cast``: no floating -> integral, no non-bool -> bool; everything else may."""
    if src.kind == "f" and dst.kind in "biu":
        return False
    return not (dst.kind == "b" and src.kind != "b")


def _requires_grad(x) -> bool:
    if isinstance(x, Tensor):
        return x._requires_grad
    if isinstance(x, (list, tuple)):
        return any(isinstance(v, Tensor) and v._requires_grad for v in x)
    return False


def check_out_grad(name: str, args, kwargs, out) -> None:
    """PyTorch's error for out= under grad mode when anything involved requires grad."""
    if is_grad_enabled() and (any(_requires_grad(a) for a in args) or any(_requires_grad(v) for v in kwargs.values())
                              or _requires_grad(out)):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad.")


def write_out(out: Tensor, value: np.ndarray, warn: bool = True) -> Tensor:
    """Copy ``value`` into ``out`` (resized first when its shape differs), cast to ``out``'s dtype."""
    data = out._data
    if data.shape != value.shape:
        if warn and data.size != 0:
            warnings.warn(_RESIZE_MSG.format(old=list(data.shape), new=list(value.shape)), UserWarning, stacklevel=4)  # the caller of the wrapper
        out._data = data = np.empty(value.shape, dtype=data.dtype)
    elif not data.flags.writeable:
        raise RuntimeError("out= cannot be a read-only view (e.g. made by expand); clone it first")
    np.copyto(data, value, casting="unsafe")
    out._bump_version()
    return out


def check_out_dtype(name: str, rule: str, res: np.dtype, dst: np.dtype) -> None:
    if res == dst or rule in ("any", "unsafe"):
        return
    if rule == "exact":
        raise RuntimeError(f"Expected out tensor to have dtype {_C_NAMES.get(res.name, res.name)}, but got "
                           f"{_C_NAMES.get(dst.name, dst.name)} instead")
    if rule == "same":
        raise RuntimeError(f"Found dtype {_type_name(dst)} but expected {_type_name(res)}")
    if not can_cast(res, dst):
        if rule == "cat":
            raise TypeError(f"torch.cat(): input types can't be cast to the desired output type {_type_name(dst)}")
        raise RuntimeError(f"result type {_type_name(res)} can't be cast to the desired output type {_type_name(dst)}")


def _call_with_out(fn: Callable, name: str, rule: str, args: tuple, kwargs: dict, out):
    if name in OUT_NEEDS_DIM and kwargs.get("dim") is None and (len(args) < 2 or args[1] is None):
        raise TypeError(f"{name}(): out= is accepted only together with dim (as in PyTorch), e.g. "
                        f"{name}(x, dim=0, out=y)")
    pair = isinstance(out, (tuple, list))
    if pair:
        if not all(isinstance(o, Tensor) for o in out):
            raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
        if len(out) != 2:
            raise TypeError(f"{name}(): argument 'out' must be a tuple of two Tensors (values, indices)")
    elif not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    check_out_grad(name, args, kwargs, out)
    if name in ("nansum", "nanmean") and not pair and out._data.dtype.kind != "f":
        raise NotImplementedError(f"\"nansum_cpu\" not implemented for '{_type_name(out._data.dtype)}'")
    if rule == "any" and not pair and kwargs.get("dtype") is None:
        if out._data.dtype.kind != "b":
            kwargs["dtype"] = out.dtype
        elif name.startswith("cum") or name == "range":
            raise NotImplementedError(f"\"{name}_out_cpu\" not implemented for 'Bool'")
    if rule == "clamp":
        bounds = list(args[1:]) + [kwargs.get("min"), kwargs.get("max")]
        rule = "cast" if any(isinstance(b, Tensor) for b in bounds) else "same"
    with no_grad():
        result = fn(*args, **kwargs)
    if isinstance(result, tuple):
        if not pair:
            raise TypeError(f"{name}(): argument 'out' must be a tuple of two Tensors (values, indices), "
                            f"not {type(out).__name__}")
        for r, o in zip(result, out):
            check_out_dtype(name, "exact", r._data.dtype, o._data.dtype)
        for r, o in zip(result, out):
            write_out(o, r._data)
        return type(result)(*out)
    if pair:
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    check_out_dtype(name, rule, result._data.dtype, out._data.dtype)
    return write_out(out, result._data)


def _rename(name: str, kwargs: dict) -> None:
    for alias, real in (("axis", "dim"), ("keepdims", "keepdim")):
        if alias in kwargs:
            if real in kwargs:
                raise TypeError(f"{name}() got values for both '{real}' and its alias '{alias}'")
            kwargs[real] = kwargs.pop(alias)


def with_keywords(fn: Callable, name: str, out_rule: str | None = None, aliases: bool = False) -> Callable:
    """``fn`` taking ``out=`` (when ``out_rule`` is given) and/or ``axis=``/``keepdims=`` (when ``aliases``).

    A call without keyword arguments costs one extra Python call (about 0.07 us); a call with
    keywords a few dictionary look-ups more.
    """
    if out_rule is None and not aliases:
        return fn
    if out_rule is None:
        def wrapper(*args, **kwargs):
            if "axis" in kwargs or "keepdims" in kwargs:
                _rename(name, kwargs)
            return fn(*args, **kwargs)
    else:
        def wrapper(*args, **kwargs):
            if kwargs:
                if aliases and ("axis" in kwargs or "keepdims" in kwargs):
                    _rename(name, kwargs)
                out = kwargs.pop("out", None)
                if out is not None:
                    return _call_with_out(fn, name, out_rule, args, kwargs, out)
                return fn(*args, **kwargs)
            return fn(*args)
    return functools.wraps(fn)(wrapper)


def factory_out(out, name: str, dtype, make: Callable[[object], Tensor]) -> Tensor:
    """A factory's ``out=``: ``make(dtype)`` in ``out``'s dtype (resized silently, as PyTorch)."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if dtype is not None and backend.to_dtype(dtype).np != out._data.dtype:
        raise RuntimeError(f"dtype {_type_name(backend.to_dtype(dtype).np)} does not match dtype of out parameter "
                           f"({_type_name(out._data.dtype)})")
    check_out_grad(f"aten::{name}", (), {}, out)
    return write_out(out, make(out.dtype)._data, warn=False)
