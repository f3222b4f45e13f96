"""Lazy modules (``nn.LazyLinear``, ``LazyConv*``, ``LazyConvTranspose*``, ``LazyBatchNorm*``,
``LazyInstanceNorm*``) and ``UninitializedParameter``/``UninitializedBuffer`` against PyTorch.

Each row is built in both frameworks: before the first call the reprs, state-dict keys, the
classes of the uninitialised tensors and the errors must match; after a dry run the class, repr,
state-dict shapes and parameter count; the materialised layer is compared with an eager layer
seeded the same way (chainrule against chainrule: same initial values) and, with copied weights,
with PyTorch's (outputs and gradients, float32 and float64).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy

# (id, build(nn) -> lazy module, eager(nn, in_size) -> the equivalent eager module, input shape)
ROWS = [
    ("linear", lambda n: n.LazyLinear(5), lambda n, c: n.Linear(c, 5), (3, 4)),
    ("linear-nobias-3d", lambda n: n.LazyLinear(2, bias=False), lambda n, c: n.Linear(c, 2, bias=False), (2, 3, 6)),
    ("conv1d", lambda n: n.LazyConv1d(4, 3, padding=1), lambda n, c: n.Conv1d(c, 4, 3, padding=1), (2, 3, 7)),
    ("conv2d-groups", lambda n: n.LazyConv2d(6, 3, stride=2, groups=2, bias=False),
     lambda n, c: n.Conv2d(c, 6, 3, stride=2, groups=2, bias=False), (2, 4, 7, 6)),
    ("conv2d-unbatched", lambda n: n.LazyConv2d(3, (2, 3), dilation=(1, 2), padding_mode="reflect", padding=1),
     lambda n, c: n.Conv2d(c, 3, (2, 3), dilation=(1, 2), padding_mode="reflect", padding=1), (2, 6, 7)),
    ("conv3d", lambda n: n.LazyConv3d(2, 2), lambda n, c: n.Conv3d(c, 2, 2), (1, 3, 4, 3, 4)),
    ("convT1d", lambda n: n.LazyConvTranspose1d(4, 3, stride=2, groups=2),
     lambda n, c: n.ConvTranspose1d(c, 4, 3, stride=2, groups=2), (2, 2, 5)),
    ("convT2d", lambda n: n.LazyConvTranspose2d(3, 3, stride=2, output_padding=1),
     lambda n, c: n.ConvTranspose2d(c, 3, 3, stride=2, output_padding=1), (2, 2, 4, 5)),
    ("convT3d", lambda n: n.LazyConvTranspose3d(2, 2, bias=False),
     lambda n, c: n.ConvTranspose3d(c, 2, 2, bias=False), (1, 3, 3, 2, 3)),
    ("bn1d", lambda n: n.LazyBatchNorm1d(), lambda n, c: n.BatchNorm1d(c), (4, 3)),
    ("bn2d-momentum", lambda n: n.LazyBatchNorm2d(momentum=0.3, eps=1e-3),
     lambda n, c: n.BatchNorm2d(c, momentum=0.3, eps=1e-3), (3, 4, 3, 3)),
    ("bn3d-untracked", lambda n: n.LazyBatchNorm3d(track_running_stats=False),
     lambda n, c: n.BatchNorm3d(c, track_running_stats=False), (2, 2, 3, 2, 3)),
    ("in1d", lambda n: n.LazyInstanceNorm1d(), lambda n, c: n.InstanceNorm1d(c, affine=True, track_running_stats=True),
     (2, 3, 6)),
    ("in2d-noaffine", lambda n: n.LazyInstanceNorm2d(affine=False),
     lambda n, c: n.InstanceNorm2d(c, track_running_stats=True), (2, 3, 4, 5)),
    ("in3d", lambda n: n.LazyInstanceNorm3d(momentum=None), lambda n, c: n.InstanceNorm3d(
        c, momentum=None, affine=True, track_running_stats=True), (2, 2, 3, 2, 3)),
]
IDS = [r[0] for r in ROWS]


def _channels(name: str, shape: tuple) -> int:
    if name.startswith("linear"):
        return shape[-1]
    return shape[0] if name.endswith("unbatched") else shape[1]


def _input(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, size=shape).astype(dtype)


def _state_shapes(module) -> dict:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


# ---- before the first call ------------------------------------------------------------------------
@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_uninitialised_module_looks_like_torch(row):
    _, build, _, _ = row
    ours, theirs = build(nn), build(torch.nn)
    assert repr(ours) == repr(theirs)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.has_uninitialized_params() == theirs.has_uninitialized_params()
    osd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(osd) == list(tsd)
    assert [type(v).__name__ for v in osd.values()] == [type(v).__name__ for v in tsd.values()]
    assert [type(p).__name__ for p in ours.parameters()] == [type(p).__name__ for p in theirs.parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert len(ours._forward_pre_hooks) == len(theirs._forward_pre_hooks) == 1


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_dry_run_becomes_the_eager_class_as_torch(row):
    name, build, _, shape = row
    ours, theirs = build(nn), build(torch.nn)
    x = _input(shape, np.float32)
    y, ty = ours(cr.from_numpy(x)), theirs(torch.from_numpy(x))
    assert tuple(y.shape) == tuple(ty.shape)
    assert type(ours).__name__ == type(theirs).__name__ == type(ours).__name__.removeprefix("Lazy")
    assert type(ours) is getattr(nn, type(theirs).__name__)
    assert repr(ours) == repr(theirs)
    assert _state_shapes(ours) == _state_shapes(theirs)
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())
    assert not hasattr(ours, "has_uninitialized_params") and not ours._forward_pre_hooks
    assert all(type(p) is nn.Parameter for p in ours.parameters())
    assert all(type(b) is cr.Tensor for b in ours.buffers())


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_initialised_as_the_eager_layer_with_the_same_seed(row):
    name, build, eager, shape = row
    x = cr.from_numpy(_input(shape, np.float32))
    lazy = build(nn).eval()  # eval: the dry run leaves the running statistics as initialised
    cr.manual_seed(7)
    lazy(x)
    after_lazy = cr.rand(3)  # the generator advanced exactly as for the eager layer
    cr.manual_seed(7)
    ref = eager(nn, _channels(name, shape))
    after_ref = cr.rand(3)
    osd, rsd = lazy.state_dict(), ref.state_dict()
    assert list(osd) == list(rsd)
    for k in rsd:
        np.testing.assert_array_equal(osd[k].numpy(), rsd[k].numpy(), err_msg=k)
    np.testing.assert_array_equal(after_lazy.numpy(), after_ref.numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_materialised_layer_computes_as_eager_and_as_torch(row, dtype):
    name, build, eager, shape = row
    np_dt = np.dtype(dtype)
    lazy, theirs = build(nn).to(getattr(cr, dtype)), build(torch.nn).to(getattr(torch, dtype))
    lazy(cr.from_numpy(_input(shape, np_dt, seed=1)))
    theirs(torch.from_numpy(_input(shape, np_dt, seed=1)))
    assert all(p.dtype == getattr(cr, dtype) for p in lazy.parameters())
    ref = eager(nn, _channels(name, shape)).to(getattr(cr, dtype))
    ref.load_state_dict(lazy.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in lazy.state_dict().items()})
    x = _input(shape, np_dt, seed=2)
    xo, xr, xt = (cr.from_numpy(x).requires_grad_(), cr.from_numpy(x.copy()).requires_grad_(),
                  torch.from_numpy(x.copy()).requires_grad_())
    yo, yr, yt = lazy(xo), ref(xr), theirs(xt)
    np.testing.assert_array_equal(yo.detach().numpy(), yr.detach().numpy())
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=rtol, atol=rtol)
    seed = np.random.default_rng(3).standard_normal(tuple(yt.shape)).astype(np_dt)
    yo.backward(cr.from_numpy(seed))
    yt.backward(torch.from_numpy(seed))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=rtol)
    for (k, p), (_, tp) in zip(lazy.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=rtol, atol=rtol, err_msg=k)


def test_materialised_linear_passes_gradcheck():
    m = nn.LazyLinear(3, dtype=cr.float64)
    x = cr.randn(2, 4, dtype=cr.float64, requires_grad=True)
    m(x)
    assert cr.autograd.gradcheck(lambda x, w, b: m(x), (x, m.weight, m.bias))


# ---- uninitialised tensors --------------------------------------------------------------------------
def _error(fn, *args):
    with pytest.raises(Exception) as info:
        fn(*args)
    return info.type, str(info.value)


def _framework_free(message: str) -> str:
    return message.replace("torch", "chainrule")


def test_uninitialised_parameter_errors_match_torch():
    ours, theirs = nn.LazyLinear(4).weight, torch.nn.LazyLinear(4).weight
    for use in (lambda p: p.numel(), lambda p: p + 1, lambda p: p.sum(), lambda p: p.detach(),
                lambda p: len(p), lambda p: p.clone(), lambda p: p.requires_grad_(False)):
        (ot, om), (tt, tm) = _error(use, ours), _error(use, theirs)
        assert ot is tt is ValueError
        head = "Attempted to use an uninitialized parameter in "
        assert om.startswith(head) and tm.startswith(head)
        # what follows the function's name is the same text
        assert _framework_free(om.split(". ", 1)[1]) == _framework_free(tm.split(". ", 1)[1])
    assert "in Tensor.numel." in _error(lambda: ours.numel())[1]
    assert "in normal_." in _error(lambda: nn.init.normal_(ours))[1]
    for use in (lambda p: p.shape, lambda p: p.share_memory_()):
        (ot, om), (tt, tm) = _error(use, ours), _error(use, theirs)
        assert ot is tt is RuntimeError and om == tm
    assert _error(lambda: UninitializedParameter(dtype=cr.int64)) == \
        _error(lambda: torch.nn.UninitializedParameter(dtype=torch.int64))


def test_uninitialised_parameter_attributes_match_torch():
    ours, theirs = UninitializedParameter(dtype=cr.float64), torch.nn.UninitializedParameter(dtype=torch.float64)
    assert repr(ours) == repr(theirs) == str(ours) == f"{ours}" == "<UninitializedParameter>"
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    assert ours.requires_grad and ours.is_leaf and ours.grad is None
    assert ours.is_floating_point() and list(ours.size()) == list(theirs.size()) == [0]
    assert ours.ndim == theirs.ndim and list(ours.data.size()) == [0]
    assert isinstance(ours, nn.Parameter) and is_lazy(ours) and not is_lazy(nn.Parameter(cr.zeros(1)))
    assert ours.double() is ours and theirs.double() is not None
    assert type(ours.float()) is cr.Tensor and ours.float().dtype == cr.float32
    assert ours.long().dtype == cr.int64 and theirs.long().dtype == torch.int64
    assert not UninitializedParameter(requires_grad=False).requires_grad
    buf = UninitializedBuffer()
    assert not buf.requires_grad and buf.persistent and repr(buf) == "<UninitializedBuffer>"
    assert type(copy.deepcopy(ours)) is UninitializedParameter and copy.deepcopy(ours).dtype == cr.float64


def test_materialize_keeps_the_object_and_changes_its_class():
    p = UninitializedParameter(dtype=cr.float64)
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and tuple(p.shape) == (2, 3) and p.dtype == cr.float64 and p.requires_grad
    b = UninitializedBuffer()
    b.materialize([4], dtype=cr.float64)
    assert type(b) is cr.Tensor and tuple(b.shape) == (4,) and b.dtype == cr.float64
    t = torch.nn.UninitializedParameter()
    assert _error(lambda: UninitializedParameter().materialize((-1, 2))) == \
        _error(lambda: t.materialize((-1, 2)))


# ---- modules before the first call --------------------------------------------------------------
def test_parameter_count_before_the_first_call_raises_as_torch():
    ot, om = _error(lambda: sum(p.numel() for p in nn.LazyLinear(3).parameters()))
    tt, tm = _error(lambda: sum(p.numel() for p in torch.nn.LazyLinear(3).parameters()))
    assert ot is tt is ValueError


def test_optimiser_built_before_the_first_call_trains_the_materialised_parameters():
    for name in ("SGD", "Adam"):
        m, tm = nn.LazyLinear(2), torch.nn.LazyLinear(2)
        opt, topt = getattr(cr.optim, name)(m.parameters(), lr=0.1), getattr(torch.optim, name)(tm.parameters(), lr=0.1)
        opt.step()  # no gradients yet: nothing to do, as in torch
        topt.step()
        assert len(opt.state) == len(topt.state) == 0
        x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
        m(cr.from_numpy(x)).pow(2).sum().backward()
        tm(torch.from_numpy(x)).pow(2).sum().backward()
        assert opt.param_groups[0]["params"][0] is m.weight and type(m.weight) is nn.Parameter
        tm.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in m.state_dict().items()})
        tm.weight.grad, tm.bias.grad = (torch.from_numpy(p.grad.numpy().copy()) for p in (m.weight, m.bias))
        before = m.weight.detach().clone()
        opt.step()
        topt.step()
        assert not np.allclose(before.numpy(), m.weight.detach().numpy())
        np.testing.assert_allclose(m.weight.detach().numpy(), tm.weight.detach().numpy(), rtol=1e-6)
        assert len(opt.state) == len(topt.state) == (2 if name == "Adam" else 0)
    # Adagrad fills its state at construction: a ValueError in both frameworks
    assert _error(lambda: cr.optim.Adagrad(nn.LazyLinear(2).parameters()))[0] is \
        _error(lambda: torch.optim.Adagrad(torch.nn.LazyLinear(2).parameters()))[0] is ValueError


def test_apply_init_after_dry_run_sees_eager_layers():
    def net(n):
        return n.Sequential(n.LazyConv2d(4, 3), n.LazyBatchNorm2d(), n.ReLU(), n.Flatten(), n.LazyLinear(3))

    def count(n):
        seen = []

        def init(m):
            if type(m) in (n.Linear, n.Conv2d):
                seen.append(type(m).__name__)
                n.init.xavier_uniform_(m.weight)
        return seen, init

    for n, lib in ((nn, cr), (torch.nn, torch)):
        model = net(n)
        seen, init = count(n)
        model.apply(init)
        assert seen == []  # still Lazy*
        model(lib.zeros(2, 3, 6, 6))
        model.apply(init)
        assert seen == ["Conv2d", "Linear"]
    assert repr(net(nn)) == repr(net(torch.nn))


def test_module_to_dtype_before_the_first_call():
    for n, lib in ((nn, cr), (torch.nn, torch)):
        m = n.LazyBatchNorm1d().double()
        assert m.weight.dtype == lib.float64 and m.num_batches_tracked.dtype == lib.int64
        m(lib.ones(3, 2, dtype=lib.float64))
        assert m.running_mean.dtype == lib.float64 and m.running_var.dtype == lib.float64


def test_deepcopy_before_the_first_call_gives_an_independent_lazy_module():
    m = nn.LazyLinear(3)
    c = copy.deepcopy(m)
    assert type(c.weight) is UninitializedParameter and c.weight is not m.weight
    c(cr.ones(1, 5))
    assert type(c) is nn.Linear and type(m) is nn.LazyLinear and m.has_uninitialized_params()
    m(cr.ones(1, 2))
    assert m.in_features == 2 and c.in_features == 5


def test_initialize_parameters_by_hand_keeps_the_lazy_class_until_forward():
    for n, lib in ((nn, cr), (torch.nn, torch)):
        m = n.LazyLinear(3)
        m.initialize_parameters(lib.zeros(2, 6))
        assert type(m) is n.LazyLinear and tuple(m.weight.shape) == (3, 6) and not m.has_uninitialized_params()
        m(lib.zeros(1, 6))
        assert type(m) is n.Linear


# ---- state dicts ----------------------------------------------------------------------------------
def test_load_state_dict_materialises_an_uninitialised_module():
    src = nn.Linear(4, 3)
    for n, to_lib in ((nn, lambda t: t), (torch.nn, lambda t: torch.from_numpy(t.detach().numpy().copy()))):
        m = n.LazyLinear(3)
        result = m.load_state_dict({k: to_lib(v) for k, v in src.state_dict().items()})
        assert repr(result) == "<All keys matched successfully>"
        assert type(m).__name__ == "LazyLinear" and tuple(m.weight.shape) == (3, 4) and m.in_features == 0
        assert type(m.weight).__name__ == "Parameter"
        np.testing.assert_array_equal(np.asarray(m.weight.detach().numpy()), src.weight.detach().numpy())
        m(to_lib(cr.ones(2, 4)))
        assert type(m).__name__ == "Linear" and m.in_features == 4
    ours, theirs = nn.LazyLinear(3), torch.nn.LazyLinear(3)
    ours.load_state_dict(src.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in src.state_dict().items()})
    assert _error(lambda: ours(cr.ones(2, 5))) == _error(lambda: theirs(torch.ones(2, 5)))


def test_load_state_dict_into_lazy_conv_and_norm_checks_the_first_input():
    conv, bn = nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)
    bn.running_mean.fill_(0.5)
    lconv, lbn = nn.LazyConv2d(4, 3), nn.LazyBatchNorm2d()
    lconv.load_state_dict(conv.state_dict())
    lbn.load_state_dict(bn.state_dict())
    assert type(lconv) is nn.LazyConv2d and type(lbn) is nn.LazyBatchNorm2d
    lbn.eval()
    x = cr.randn(2, 3, 5, 5)
    np.testing.assert_array_equal(lbn(lconv(x)).detach().numpy(), bn.eval()(conv(x)).detach().numpy())
    assert repr(lconv) == repr(conv) and repr(lbn) == repr(bn)
    bad_conv, bad_bn = nn.LazyConv2d(4, 3), nn.LazyBatchNorm2d()
    bad_conv.load_state_dict(conv.state_dict())
    bad_bn.load_state_dict(bn.state_dict())
    with pytest.raises(RuntimeError, match="the input has 2 channels"):
        bad_conv(cr.randn(1, 2, 5, 5))
    with pytest.raises(RuntimeError, match="the input has 5 channels"):
        bad_bn(cr.randn(2, 5, 3, 3))


def test_load_state_dict_partial_missing_and_lazy_sources_as_torch():
    src = nn.Linear(4, 3)
    for n, to_lib in ((nn, lambda t: t), (torch.nn, lambda t: torch.from_numpy(t.numpy().copy()))):
        # missing key: the error names it; the loaded tensor is materialised, the other not
        m = n.LazyLinear(3)
        with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "bias"'):
            m.load_state_dict({"weight": to_lib(src.weight.detach())})
        assert type(m.weight).__name__ == "Parameter" and type(m.bias).__name__ == "UninitializedParameter"
        # an uninitialised source leaves the module uninitialised
        m = n.LazyLinear(3)
        assert repr(m.load_state_dict(n.LazyLinear(3).state_dict())) == "<All keys matched successfully>"
        assert m.has_uninitialized_params()
        # assign=True
        m = n.LazyLinear(3)
        m.load_state_dict({k: to_lib(v) for k, v in src.state_dict().items()}, assign=True)
        assert type(m.weight).__name__ == "Parameter" and tuple(m.weight.shape) == (3, 4)
    # loading an uninitialised state into an eager module: torch's shape error
    assert _error(lambda: nn.Linear(4, 3).load_state_dict(nn.LazyLinear(3).state_dict())) == \
        _error(lambda: torch.nn.Linear(4, 3).load_state_dict(torch.nn.LazyLinear(3).state_dict()))


def test_partially_loaded_module_keeps_the_loaded_values_at_the_first_call():
    src = nn.Linear(4, 3)
    m = nn.LazyLinear(3)
    m.load_state_dict({"weight": src.weight.detach()}, strict=False)
    m(cr.ones(2, 4))
    assert type(m) is nn.Linear and tuple(m.bias.shape) == (3,)
    np.testing.assert_array_equal(m.weight.detach().numpy(), src.weight.detach().numpy())


def test_state_dict_keys_of_uninitialised_modules_match_torch():
    for build in (lambda n: n.LazyLinear(3, bias=False), lambda n: n.LazyBatchNorm2d(affine=False),
                  lambda n: n.LazyInstanceNorm1d(affine=False, track_running_stats=False)):
        ours, theirs = build(nn).state_dict(keep_vars=True), build(torch.nn).state_dict(keep_vars=True)
        assert list(ours) == list(theirs)
        assert [type(v).__name__ for v in ours.values()] == [type(v).__name__ for v in theirs.values()]


# ---- errors at the first call ---------------------------------------------------------------------
def test_first_call_errors_match_torch():
    cases = [
        (lambda n: n.LazyConv2d(4, 3, groups=2), (1, 3, 5, 5)),  # in_channels not divisible by groups
        (lambda n: n.LazyConv2d(4, 3), (3, 5)),  # wrong rank
        (lambda n: n.LazyConvTranspose3d(4, 3), (2, 3)),
    ]
    for build, shape in cases:
        (ot, om) = _error(build(nn), cr.ones(*shape))
        (tt, tm) = _error(build(torch.nn), torch.ones(*shape))
        assert ot is tt
        assert om.replace("chainrule.Size", "torch.Size") == tm


def test_incomplete_initialisation_and_missing_initialize_parameters_match_torch():
    def classes(n, lazy_mixin, uninit):
        class Half(lazy_mixin, n.Linear):
            def __init__(self):
                super().__init__(2, 3)
                self.weight = uninit()

            def initialize_parameters(self, x):
                pass

        class NoInit(lazy_mixin, n.Module):
            pass

        return Half, NoInit

    ours = classes(nn, nn.modules.lazy.LazyModuleMixin, UninitializedParameter)
    theirs = classes(torch.nn, torch.nn.modules.lazy.LazyModuleMixin, torch.nn.UninitializedParameter)
    for o, t in zip(ours, theirs):
        assert _error(o(), cr.ones(2, 2)) == _error(t(), torch.ones(2, 2))


def test_user_defined_lazy_module():
    class LazyScale(nn.modules.lazy.LazyModuleMixin, nn.Module):
        cls_to_become = None

        def __init__(self):
            super().__init__()
            self.scale = UninitializedParameter()
            self.offset = UninitializedBuffer()  # registered as a buffer, as in torch
            self.register_buffer("hidden", UninitializedBuffer(), persistent=False)

        def initialize_parameters(self, x):
            if self.has_uninitialized_params():
                with cr.no_grad():
                    self.scale.materialize(x.shape[-1:])
                    self.offset.materialize(x.shape[-1:])
                    self.scale.fill_(2.0)
                    self.offset.fill_(1.0)

        def forward(self, x):
            return x * self.scale + self.offset

    m = LazyScale()
    assert m.has_uninitialized_params() and list(m.state_dict()) == ["scale", "offset"]
    assert [n for n, _ in m.named_buffers()] == ["offset", "hidden"]
    with pytest.raises(RuntimeError, match="module LazyScale has not been fully initialized"):
        m(cr.ones(2, 3))
    m.hidden.materialize((1,))
    np.testing.assert_array_equal(m(cr.ones(2, 3)).detach().numpy(), np.full((2, 3), 3.0, np.float32))
    assert type(m) is LazyScale and not m._forward_pre_hooks


def test_unbatched_lazy_instance_norm_reads_channels_from_dim_0():
    # PyTorch reads dim 1 and then rejects the input; chainrule takes the channel axis
    m = nn.LazyInstanceNorm1d()
    y = m(cr.randn(3, 7))
    assert type(m) is nn.InstanceNorm1d and m.num_features == 3 and tuple(y.shape) == (3, 7)


def test_modules_alias_paths():
    assert nn.modules.lazy.LazyModuleMixin is nn.LazyLinear.__mro__[1]
    assert nn.parameter.UninitializedParameter is nn.UninitializedParameter
    assert nn.parameter.UninitializedBuffer is nn.UninitializedBuffer
    assert nn.modules.lazy.is_lazy is is_lazy
    assert nn.LazyLinear.cls_to_become is nn.Linear and nn.LazyInstanceNorm3d.cls_to_become is nn.InstanceNorm3d


def test_uninitialised_cpu_takes_tensor_cpu_arguments_as_torch():
    # Tensor.cpu(memory_format=...) is allowed on an uninitialised tensor in PyTorch (the object itself)
    ours, theirs = UninitializedParameter(), torch.nn.UninitializedParameter()
    assert theirs.cpu(memory_format=torch.preserve_format) is theirs
    assert ours.cpu(memory_format=None) is ours and ours.cpu() is ours
    buf = UninitializedBuffer()
    assert buf.cpu(memory_format=None) is buf
