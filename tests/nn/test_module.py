"""Module: registration and naming, containers, state dicts, modes, hooks, printing, errors."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.scale = nn.Parameter(cr.ones(4))
        self.register_buffer("running", cr.zeros(4))
        self.register_buffer("scratch", cr.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc(x) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(4, 2))

    def forward(self, x):
        return self.head(self.block(x))


# ---- registration and naming --------------------------------------------------------------------
def test_parameter_is_a_leaf_that_requires_grad_and_shares_memory():
    t = cr.zeros(3)
    p = nn.Parameter(t)
    assert isinstance(p, cr.Tensor) and p.is_leaf and p.requires_grad
    t.add_(1.0)
    assert p.tolist() == [1.0, 1.0, 1.0]  # same memory
    assert not nn.Parameter(cr.zeros(2), requires_grad=False).requires_grad
    assert type(p * 2) is cr.Tensor  # results of operators are plain tensors
    assert nn.Parameter().shape == (0,)
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(cr.zeros(2, dtype=cr.int64))
    with pytest.raises(TypeError, match="must be a Tensor"):
        nn.Parameter([1.0, 2.0])


def test_parameter_repr_matches_torch():
    data = np.array([1.5, 2.0], dtype=np.float32)  # (negative numbers: the core pads differently)
    assert repr(nn.Parameter(cr.tensor(data))) == repr(torch.nn.Parameter(torch.tensor(data)))
    assert repr(nn.Parameter(cr.tensor(data), requires_grad=False)) == repr(
        torch.nn.Parameter(torch.tensor(data), requires_grad=False))


def test_named_parameters_buffers_modules_follow_torch_order():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "block.scale", "block.fc.weight", "block.fc.bias", "head.1.weight", "head.1.bias"]
    assert [n for n, _ in net.named_buffers()] == ["block.running", "block.scratch"]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "head", "head.0", "head.1"]
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert len(list(net.parameters())) == 5 and len(list(net.parameters(recurse=False))) == 0
    assert [n for n, _ in net.named_parameters(prefix="model")][0] == "model.block.scale"
    assert list(net.modules())[0] is net and list(net.children())[1] is net.head


def test_same_structure_gives_same_names_as_torch():
    class TNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.block = torch.nn.Module()
            self.block.fc = torch.nn.Linear(3, 4)
            self.head = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(4, 2))

    class CNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = nn.Module()
            self.block.fc = nn.Linear(3, 4)
            self.head = nn.Sequential(nn.ReLU(), nn.Linear(4, 2))

    assert list(CNet().state_dict()) == list(TNet().state_dict())


def test_shared_parameter_is_listed_once_unless_asked():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    b.weight = a.weight
    seq = nn.Sequential(a, b)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "1.bias"]
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]  # as in torch
    shared = nn.Sequential(a, a)
    assert len(list(shared.parameters())) == 2 and len(list(shared.modules())) == 2


def test_reassignment_moves_between_registries_and_delattr():
    m = nn.Module()
    m.x = nn.Linear(1, 1)
    m.x = nn.Parameter(cr.zeros(1))  # module -> parameter
    assert "x" in m._parameters and "x" not in m._modules
    with pytest.raises(TypeError, match="as parameter 'x'"):  # torch refuses the other way round
        m.x = nn.Linear(1, 1)
    m.register_buffer("b", cr.zeros(2))
    m.b = cr.ones(2)  # stays a buffer
    assert m._buffers["b"].tolist() == [1.0, 1.0]
    m.p = None
    del m.x, m.b
    assert not hasattr(m, "x") and not hasattr(m, "b") and m.p is None
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'x'"):
        _ = m.x


def test_registration_errors():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'chainrule.Tensor' as parameter 'weight'"):
        m.weight = cr.zeros(2, 2)
    m.weight = None  # None is allowed, as in torch
    with pytest.raises(TypeError, match="ModuleList"):
        m.layers = [nn.ReLU(), nn.ReLU()]
    with pytest.raises(TypeError, match="ModuleDict"):
        m.layers = {"a": nn.ReLU()}
    m.sizes = [1, 2]  # plain data is fine
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", cr.zeros(1))
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("sizes", cr.zeros(1))
    with pytest.raises(TypeError, match="buffer 'x'"):
        m.register_buffer("x", 3)
    with pytest.raises(TypeError, match="parameter 'x'"):
        m.register_parameter("x", cr.zeros(2))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", 3)
    with pytest.raises(KeyError, match="empty string"):
        m.add_module("", nn.ReLU())

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(cr.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_buffer_type_registers_a_buffer():
    m = nn.Module()
    m.stat = nn.Buffer(cr.zeros(3))
    m.tmp = nn.Buffer(cr.zeros(1), persistent=False)
    assert list(m.state_dict()) == ["stat"] and [n for n, _ in m.named_buffers()] == ["stat", "tmp"]


def test_get_submodule_parameter_buffer():
    net = Net()
    assert net.get_submodule("head.1") is net.head[1]
    assert net.get_submodule("") is net
    assert net.get_parameter("block.fc.weight") is net.block.fc.weight
    assert net.get_buffer("block.running") is net.block.running
    with pytest.raises(AttributeError, match="Linear has no attribute `foo`"):
        net.get_submodule("block.fc.foo")
    with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
        net.get_submodule("block.fc.weight")


def test_dir_lists_registered_names():
    names = dir(Net())
    assert {"block", "head", "forward", "state_dict"} <= set(names)


# ---- containers -----------------------------------------------------------------------------------
def test_sequential_indexing_and_editing():
    layers = [nn.Linear(2, 2), nn.ReLU(), nn.Tanh(), nn.Sigmoid()]
    seq = nn.Sequential(*layers)
    assert len(seq) == 4 and seq[0] is layers[0] and seq[-1] is layers[3]
    sub = seq[1:3]
    assert isinstance(sub, nn.Sequential) and list(sub) == layers[1:3]
    assert list(sub._modules) == ["1", "2"]  # slicing keeps names, as in torch
    with pytest.raises(IndexError, match="out of range"):
        seq[4]
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and seq[1] is layers[2]
    seq.append(nn.ReLU())
    seq.insert(0, nn.Identity())
    assert isinstance(seq[0], nn.Identity) and len(seq) == 5
    popped = seq.pop(0)
    assert isinstance(popped, nn.Identity) and len(seq) == 4
    seq.extend([nn.Tanh()])
    assert len(seq) == 5 and isinstance(seq[-1], nn.Tanh)
    seq[0] = nn.Linear(2, 3)
    assert seq[0].out_features == 3
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    assert named.fc is named[0]
    x = cr.randn(3, 2)
    assert np.allclose(named(x).detach().numpy(), named.act(named.fc(x)).detach().numpy())


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    ml.append(nn.ReLU())
    ml.insert(1, nn.Tanh())
    assert isinstance(ml[1], nn.Tanh) and len(ml) == 5
    del ml[0]
    assert list(ml._modules) == [str(i) for i in range(4)]
    assert isinstance(ml[1:], nn.ModuleList) and len(ml[1:]) == 3
    ml += [nn.Sigmoid()]
    assert isinstance(ml[-1], nn.Sigmoid)
    with pytest.raises(NotImplementedError, match="missing the required \"forward\""):
        ml(cr.zeros(1))
    md = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    md["c"] = nn.Tanh()
    assert list(md.keys()) == ["a", "b", "c"] and "b" in md and len(md) == 3
    assert md.pop("b").__class__ is nn.ReLU and list(md) == ["a", "c"]
    md.update([("d", nn.Identity())])
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias"]
    with pytest.raises(ValueError, match="length 1; 2 is required"):
        md.update([("x",)])


def test_parameter_list_and_dict():
    pl = nn.ParameterList([cr.zeros(2), nn.Parameter(cr.ones(3))])
    assert all(isinstance(p, nn.Parameter) for p in pl) and len(pl) == 2
    pl.append(cr.zeros(1))
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    pd = nn.ParameterDict({"w": cr.zeros(2)})
    pd["b"] = nn.Parameter(cr.ones(1))
    assert list(pd.keys()) == ["w", "b"] and isinstance(pd["w"], nn.Parameter)
    assert [n for n, _ in pd.named_parameters()] == ["w", "b"]
    del pd["w"]
    assert list(pd) == ["b"]
    with pytest.raises(RuntimeError, match="should not be called"):
        pl()


def test_container_reprs_match_torch():
    ours = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.ModuleList([nn.Linear(3, 3) for _ in range(3)] + [nn.Tanh()]),
                         nn.Dropout(0.2), nn.Flatten())
    ref = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(),
                              torch.nn.ModuleList([torch.nn.Linear(3, 3) for _ in range(3)] + [torch.nn.Tanh()]),
                              torch.nn.Dropout(0.2), torch.nn.Flatten())
    assert repr(ours) == repr(ref)
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList())
    assert repr(nn.ModuleDict({"a": nn.ReLU()})) == repr(torch.nn.ModuleDict({"a": torch.nn.ReLU()}))
    ours_pl = repr(nn.ParameterList([cr.zeros(2, 3)]))
    ref_pl = repr(torch.nn.ParameterList([torch.zeros(2, 3)]))
    assert ours_pl == ref_pl.replace("torch.", "chainrule.")


def test_custom_extra_repr_with_children():
    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(1, 1)

        def extra_repr(self):
            return "k=3"

    class TCustom(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = torch.nn.Linear(1, 1)

        def extra_repr(self):
            return "k=3"

    TCustom.__name__ = "Custom"
    assert repr(Custom()) == repr(TCustom())


# ---- state dicts ----------------------------------------------------------------------------------
def test_state_dict_content():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["block.scale", "block.running", "block.fc.weight", "block.fc.bias",
                        "head.1.weight", "head.1.bias"]  # persistent buffers only, own entries first
    assert all(not v.requires_grad and v.grad_fn is None for v in sd.values())
    assert sd["block.scale"].data_ptr() == net.block.scale.data_ptr()  # detached, not copied
    assert net.state_dict(keep_vars=True)["block.scale"] is net.block.scale
    assert sd._metadata[""] == {"version": 1}


def test_load_state_dict_copies_in_place():
    src, dst = Net(), Net()
    weight = dst.block.fc.weight
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert dst.block.fc.weight is weight  # same Parameter object, new values
    for (n, a), (_, b) in zip(src.state_dict().items(), dst.state_dict().items()):
        assert np.array_equal(a.numpy(), b.numpy()), n


def test_load_state_dict_errors_match_torch_format():
    net = nn.Linear(3, 2)
    bad = {"weight": cr.zeros(3, 3), "foo": cr.zeros(1)}
    with pytest.raises(RuntimeError) as ours:
        net.load_state_dict(bad)
    ref_net = torch.nn.Linear(3, 2)
    with pytest.raises(RuntimeError) as ref:
        ref_net.load_state_dict({"weight": torch.zeros(3, 3), "foo": torch.zeros(1)})
    assert str(ours.value) == str(ref.value).replace("torch.Size", "chainrule.Size")
    result = net.load_state_dict({"weight": cr.ones(2, 3)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == []
    assert net.weight.tolist() == [[1.0] * 3] * 2
    with pytest.raises(RuntimeError, match="size mismatch for weight"):  # shapes are checked even non-strict
        net.load_state_dict({"weight": cr.ones(3, 3)}, strict=False)
    with pytest.raises(TypeError, match="dict-like"):
        net.load_state_dict([1, 2])


def test_load_state_dict_casts_dtype_and_assign():
    net = nn.Linear(2, 2)
    net.load_state_dict({"weight": cr.ones(2, 2, dtype=cr.float64), "bias": cr.zeros(2, dtype=cr.float64)})
    assert net.weight.dtype is cr.float32
    new_w = cr.full((2, 2), 3.0)
    net.load_state_dict({"weight": new_w, "bias": cr.zeros(2)}, assign=True)
    assert isinstance(net.weight, nn.Parameter) and net.weight.requires_grad
    assert net.weight.tolist() == [[3.0, 3.0], [3.0, 3.0]]


def test_extra_state_round_trip():
    class WithExtra(nn.Module):
        def __init__(self):
            super().__init__()
            self.counter = 0

        def get_extra_state(self):
            return {"counter": self.counter}

        def set_extra_state(self, state):
            self.counter = state["counter"]

    a, b = WithExtra(), WithExtra()
    a.counter = 7
    b.load_state_dict(a.state_dict())
    assert b.counter == 7


# ---- modes and bulk operations --------------------------------------------------------------------
def test_train_eval_and_requires_grad():
    net = Net()
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_zero_grad_and_apply():
    net = Net()
    net(cr.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Block", "ReLU", "Linear", "Sequential", "Net"]  # children first


def test_to_double_and_float_keep_parameter_objects():
    net = Net()
    w = net.block.fc.weight
    net.block.register_buffer("count", cr.zeros(1, dtype=cr.int64))
    net.double()
    assert net.block.fc.weight is w and w.dtype is cr.float64 and w.requires_grad
    assert net.block.running.dtype is cr.float64 and net.block.count.dtype is cr.int64
    out = net(cr.randn(2, 3, dtype=cr.float64))
    assert out.dtype is cr.float64
    net.to(cr.float32)
    assert w.dtype is cr.float32
    with pytest.raises(TypeError, match="floating point"):
        net.to(cr.int64)
    with pytest.raises(RuntimeError, match="not available"):
        net.to("cuda")


def test_deepcopy_gives_independent_weights():
    net = Net()
    twin = copy.deepcopy(net)
    assert twin.block.fc.weight is not net.block.fc.weight
    assert np.array_equal(twin.block.fc.weight.detach().numpy(), net.block.fc.weight.detach().numpy())
    with cr.no_grad():
        twin.block.fc.weight.add_(1.0)
    assert not np.array_equal(twin.block.fc.weight.detach().numpy(), net.block.fc.weight.detach().numpy())


def test_module_init_rejects_arguments_and_forward_is_required():
    with pytest.raises(TypeError, match="unexpected"):
        nn.Module(3)
    with pytest.raises(NotImplementedError, match='Module \\[Module\\] is missing the required "forward"'):
        nn.Module()(1)


# ---- hooks -----------------------------------------------------------------------------------------
def test_forward_hooks_fire_in_order_and_can_modify():
    lin = nn.Linear(2, 2)
    calls = []
    lin.register_forward_pre_hook(lambda m, args: calls.append("pre1"))
    lin.register_forward_pre_hook(lambda m, args: (calls.append("pre2"), args[0] * 0)[1])  # replaces input
    h = lin.register_forward_hook(lambda m, args, out: calls.append("post1"))
    lin.register_forward_hook(lambda m, args, out: out + 100.0)
    lin.register_forward_hook(lambda m, args, out: calls.append("first"), prepend=True)
    out = lin(cr.randn(3, 2))
    assert calls == ["pre1", "pre2", "first", "post1"]
    expected = lin.bias.detach().numpy() + 100.0
    assert np.allclose(out.detach().numpy(), np.broadcast_to(expected, (3, 2)))
    h.remove()
    calls.clear()
    lin(cr.randn(1, 2))
    assert calls == ["pre1", "pre2", "first"]


def test_hooks_with_kwargs_and_context_manager_removal():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m = Scale()

    def pre(mod, args, kwargs):
        return args, {"factor": 3.0}

    seen = {}

    def post(mod, args, kwargs, out):
        seen["kwargs"] = kwargs

    with m.register_forward_pre_hook(pre, with_kwargs=True):
        m.register_forward_hook(post, with_kwargs=True)
        assert m(cr.ones(1)).item() == 3.0
    assert seen["kwargs"] == {"factor": 3.0}
    assert m(cr.ones(1)).item() == 1.0  # pre-hook removed by the with block


def test_full_backward_hook_sees_and_replaces_gradients():
    lin = nn.Linear(3, 2)
    tlin = torch.nn.Linear(3, 2)
    with torch.no_grad():
        tlin.weight.copy_(torch.tensor(lin.weight.detach().numpy()))
        tlin.bias.copy_(torch.tensor(lin.bias.detach().numpy()))
    got, ref = {}, {}

    def hook(store):
        def fn(mod, grad_input, grad_output):
            store["gi"] = [None if g is None else g.detach().numpy().copy() for g in grad_input]
            store["go"] = [g.detach().numpy().copy() for g in grad_output]
            return tuple(g * 2 for g in grad_input)
        return fn

    lin.register_full_backward_hook(hook(got))
    tlin.register_full_backward_hook(hook(ref))
    xn = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    x, tx = cr.tensor(xn, requires_grad=True), torch.tensor(xn, requires_grad=True)
    (lin(x) ** 2).sum().backward()
    (tlin(tx) ** 2).sum().backward()
    np.testing.assert_allclose(got["go"][0], ref["go"][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["gi"][0], ref["gi"][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)  # doubled by both
    np.testing.assert_allclose(lin.weight.grad.numpy(), tlin.weight.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_full_backward_hook_without_input_grad_and_pre_hook():
    lin = nn.Linear(3, 2)
    seen = {}
    lin.register_full_backward_hook(lambda m, gi, go: seen.update(gi=gi))
    lin.register_full_backward_pre_hook(lambda m, go: (go[0] * 0,))
    lin(cr.randn(2, 3)).sum().backward()
    assert seen["gi"] == (None,)
    assert not lin.weight.grad.numpy().any()  # the pre-hook zeroed grad_output


def test_forward_hook_always_call_on_error():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    m = Boom()
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append(out), always_call=True)
    with pytest.raises(ValueError, match="boom"):
        m(cr.zeros(1))
    assert seen == [None]
