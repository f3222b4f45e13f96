"""Devices on a machine without a GPU backend: chainrule.cuda, backends, accelerator, default device.

Compared with PyTorch's CPU-only build (the test dependency): the same queries answer the same,
the same calls are silent no-ops, and the calls that need CUDA raise the same exception type
(AssertionError, which chainrule's error also is a RuntimeError) with a message saying why.
"""

from __future__ import annotations

import pytest
import torch

import chainrule as cr

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="compares with PyTorch's CPU-only behaviour")

CUDA_MSG = "CUDA support needs the CuPy backend"


def outcome(fn):
    """('ok', value) or ('raises', exception type) of calling fn."""
    try:
        return "ok", fn()
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        return "raises", type(e)


QUERIES = ["is_available", "device_count", "is_initialized", "empty_cache", "memory_allocated",
           "max_memory_allocated", "memory_reserved", "max_memory_reserved", "seed", "seed_all",
           "get_rng_state_all", "is_bf16_supported", "get_arch_list"]
RAISING = ["current_device", "synchronize", "init", "get_device_name", "get_device_capability",
           "get_device_properties", "mem_get_info", "get_rng_state"]


@pytest.mark.parametrize("name", QUERIES)
def test_cuda_queries_answer_as_pytorch(name):
    ours, theirs = outcome(getattr(cr.cuda, name)), outcome(getattr(torch.cuda, name))
    assert ours == theirs


@pytest.mark.parametrize("name", RAISING)
def test_cuda_calls_that_need_a_device_raise_as_pytorch(name):
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        getattr(torch.cuda, name)()
    with pytest.raises(AssertionError, match=CUDA_MSG) as err:
        getattr(cr.cuda, name)()
    assert isinstance(err.value, RuntimeError)  # also what a missing device is elsewhere


def test_cuda_seeding_and_peak_memory():
    assert cr.cuda.manual_seed(3) is None and torch.cuda.manual_seed(3) is None
    assert cr.cuda.manual_seed_all(3) is None and torch.cuda.manual_seed_all(3) is None
    with pytest.raises(ValueError):
        torch.cuda.manual_seed("x")
    with pytest.raises(ValueError):
        cr.cuda.manual_seed("x")
    assert cr.cuda.memory_stats() == dict(torch.cuda.memory_stats()) == {}
    # PyTorch's CPU build fails here (an AttributeError from its C extension); chainrule says why
    with pytest.raises(AttributeError):
        torch.cuda.reset_peak_memory_stats()
    with pytest.raises(RuntimeError, match=CUDA_MSG):
        cr.cuda.reset_peak_memory_stats()


def test_is_available_asks_the_backend(monkeypatch):
    class FakeGPUs:
        def device_count(self):
            return 2

    monkeypatch.setitem(cr.backend._accelerators, "cuda", FakeGPUs())
    assert cr.cuda.is_available() and cr.cuda.device_count() == 2
    assert cr.backends.cuda.is_built()
    assert cr.accelerator.is_available() and cr.accelerator.current_accelerator() == cr.device("cuda")
    monkeypatch.undo()
    assert not cr.cuda.is_available() and cr.cuda.device_count() == 0


@pytest.mark.parametrize("move", [
    lambda lib: lib.ones(2).cuda(),
    lambda lib: lib.ones(2).cuda(0),
    lambda lib: lib.ones(2).to("cuda"),
    lambda lib: lib.ones(2).to("cuda:1"),
    lambda lib: lib.ones(2).to(device="cuda"),
    lambda lib: lib.ones(2).to(lib.device("cuda", 0), lib.float64),
    lambda lib: lib.zeros(2, device="cuda"),
    lambda lib: lib.tensor([1.0], device="cuda"),
    lambda lib: lib.randn(2, 3, device="cuda"),
    lambda lib: lib.arange(3, device=lib.device("cuda")),
    lambda lib: lib.nn.Linear(2, 2).cuda(),
    lambda lib: lib.nn.Linear(2, 2).to("cuda"),
    lambda lib: lib.nn.Linear(2, 2).to(device="cuda:0"),
    lambda lib: lib.nn.Linear(2, 2, device="cuda"),
])
def test_moving_to_cuda_raises_clearly(move):
    with pytest.raises((AssertionError, RuntimeError)) as theirs:
        move(torch)
    with pytest.raises(theirs.type, match=CUDA_MSG):
        move(cr)


def test_cpu_moves_still_work():
    x = cr.ones(2)
    assert x.cpu() is x and x.to("cpu") is x and x.to(cr.device("cpu")) is x
    assert x.to("cpu", cr.float64).dtype is cr.float64
    assert not x.is_cuda and x.device == cr.device("cpu")
    net = cr.nn.Linear(2, 2)
    assert net.to("cpu") is net and net.cpu() is net
    assert net.to(cr.float64).weight.dtype is cr.float64
    with pytest.raises(RuntimeError, match="Invalid device, must be cuda device"):
        torch.ones(2).cuda(device="cpu")
    with pytest.raises(RuntimeError, match="Invalid device, must be cuda device"):
        x.cuda(device="cpu")


def test_backends_flags_and_queries():
    for name in ("mps.is_available", "mps.is_built", "cuda.is_built", "cudnn.is_available", "cudnn.version"):
        mod, fn = name.split(".")
        assert getattr(getattr(cr.backends, mod), fn)() == getattr(getattr(torch.backends, mod), fn)(), name
    for flag in ("deterministic", "benchmark", "enabled", "allow_tf32"):
        assert getattr(cr.backends.cudnn, flag) == getattr(torch.backends.cudnn, flag), flag
    assert cr.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
    old = cr.backends.cudnn.deterministic, cr.backends.cudnn.benchmark
    try:
        cr.backends.cudnn.deterministic = True
        cr.backends.cudnn.benchmark = False
        assert cr.backends.cudnn.deterministic is True and cr.backends.cudnn.benchmark is False
    finally:
        cr.backends.cudnn.deterministic, cr.backends.cudnn.benchmark = old


def test_accelerator_as_pytorch():
    assert cr.accelerator.is_available() == torch.accelerator.is_available() is False
    assert cr.accelerator.current_accelerator() is torch.accelerator.current_accelerator() is None
    assert cr.accelerator.current_accelerator(check_available=True) is None
    assert cr.accelerator.device_count() == torch.accelerator.device_count() == 0
    for name in ("current_device_index", "synchronize"):
        with pytest.raises(RuntimeError) as theirs:
            getattr(torch.accelerator, name)()
        with pytest.raises(RuntimeError) as ours:
            getattr(cr.accelerator, name)()
        assert str(ours.value) == str(theirs.value)
    # the tutorials' idiom
    acc = cr.accelerator.current_accelerator()
    assert (acc.type if acc is not None else "cpu") == "cpu"


def test_default_device():
    assert cr.get_default_device() == cr.device("cpu")
    assert repr(cr.get_default_device()) == repr(torch.get_default_device())
    existing = cr.ones(1)
    try:
        cr.set_default_device("cpu")
        torch.set_default_device("cpu")
        assert cr.zeros(2).device == cr.device("cpu")
        cr.set_default_device("cuda")  # allowed, as in PyTorch; making a tensor is not
        torch.set_default_device("cuda")
        for make in (lambda lib: lib.zeros(2), lambda lib: lib.randn(2), lambda lib: lib.tensor([1.0]),
                     lambda lib: lib.nn.Linear(2, 2)):
            with pytest.raises(AssertionError):
                make(torch)
            with pytest.raises(AssertionError, match=CUDA_MSG):
                make(cr)
        # an existing tensor keeps its device: *_like follows it, not the default
        assert cr.zeros_like(existing).device == cr.randn_like(existing).device == cr.device("cpu")
    finally:
        cr.set_default_device(None)
        torch.set_default_device(None)
    assert cr.zeros(2).device == cr.device("cpu")
    with pytest.raises(RuntimeError, match="device type at start of device string: foo"):
        cr.set_default_device("foo")
    with cr.device("cuda"):
        with pytest.raises(RuntimeError, match=CUDA_MSG):
            cr.ones(1)
    assert cr.ones(1).device.type == "cpu"


def test_deterministic_algorithms():
    assert cr.are_deterministic_algorithms_enabled() == torch.are_deterministic_algorithms_enabled()
    try:
        cr.use_deterministic_algorithms(True)
        assert cr.are_deterministic_algorithms_enabled() and not cr.is_deterministic_algorithms_warn_only_enabled()
        cr.use_deterministic_algorithms(True, warn_only=True)
        assert cr.is_deterministic_algorithms_warn_only_enabled()
    finally:
        cr.use_deterministic_algorithms(False)
    assert not cr.are_deterministic_algorithms_enabled()
    with pytest.raises(TypeError) as theirs:
        torch.use_deterministic_algorithms("yes")
    with pytest.raises(TypeError) as ours:
        cr.use_deterministic_algorithms("yes")
    assert str(ours.value).split("(): ")[1] == str(theirs.value).split("(): ")[1]


@pytest.mark.parametrize("args", [("cuda", 0), ("cuda:1",), ("cpu",), ("cpu", 0), ("cuda",), ("mps",), ("meta",)])
def test_device_objects_as_pytorch(args):
    d, td = cr.device(*args), torch.device(*args)
    assert (d.type, d.index, str(d), repr(d)) == (td.type, td.index, str(td), repr(td))
    assert cr.device(d) == d and hash(cr.device(*args)) == hash(d)


def test_device_equality_and_errors_as_pytorch():
    pairs = [(("cuda", 0), ("cuda:0",)), (("cuda",), ("cuda", 0)), (("cpu",), ("cpu", 0)), (("cuda", 0), ("cuda", 1))]
    for a, b in pairs:
        assert (cr.device(*a) == cr.device(*b)) == (torch.device(*a) == torch.device(*b)), (a, b)
    assert (cr.device("cuda") == "cuda") == (torch.device("cuda") == "cuda")
    for bad in [("gpu",), ("cuda:x",), ("cuda:-1",), ("cuda", -1), ("cuda:1", 0), (" cpu",), ("CPU",), (1,)]:
        with pytest.raises(RuntimeError) as theirs:
            torch.device(*bad)
        with pytest.raises(RuntimeError) as ours:
            cr.device(*bad)
        assert str(ours.value).replace("chainrule", "torch") == str(theirs.value), bad
    with pytest.raises(TypeError, match="must be int, not str"):
        cr.device("cpu", "x")


def test_set_default_device_keyword():
    try:
        cr.set_default_device(device="cpu")
        assert cr.get_default_device() == cr.device("cpu")
    finally:
        cr.set_default_device(device=None)
