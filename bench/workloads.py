"""The benchmark workloads, each written once against a framework module.

chainrule follows PyTorch's API, so every model and step below is a function of ``fw`` (either
``torch`` or ``chainrule``): the two sides run the same code, layer for layer. A workload
function returns a ``Case``: the chainrule callable, the PyTorch callable and the floating-point
operations of one call. When chainrule lacks a piece the workload needs, ``Missing`` names it
and the harness reports the row as "n/a" instead of failing.

A ``*_compiled`` workload runs chainrule's side through ``chainrule.compile`` (the model, or the
function of element-wise ops; loss, backward and optimiser step stay eager) against PyTorch in
eager mode, and carries what ``bench/compiled.py`` needs besides: chainrule's same step without
``compile`` (the reference for the first calls' compile time) and a builder of PyTorch's step
through ``torch.compile`` (an optional third column). The step code is the same for all of them:
``through_compile(fw, obj, backend)`` is ``fw.compile`` where a backend is given, ``obj`` itself
otherwise.

FLOPs count only the matrix products (convolutions and linear layers, 2 per multiply-add):
forward once, backward twice (input gradient and weight gradient), minus the input gradient of
the first layer, which no one asks for. Element-wise work, pooling and normalisation are left
out, so GFLOP/s is a lower bound on the arithmetic done.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from types import ModuleType

import numpy as np


class Missing(Exception):
    """chainrule lacks attributes or modules a workload needs."""

    def __init__(self, names: list[str]):
        self.names = list(names)
        super().__init__(", ".join(self.names))


@dataclasses.dataclass
class CompiledSides:
    """What a compiled workload adds: the backend, chainrule's step uncompiled, PyTorch's compiled."""

    backend: str  # chainrule.compile's backend of ``Case.ours``
    ours_eager: Callable[[], object] | None  # the same chainrule step without compile
    torch_compiled: Callable[[], Callable[[], object]]  # builds PyTorch's step under torch.compile


@dataclasses.dataclass
class Case:
    """One workload ready to run: two zero-argument callables doing the same work."""

    title: str
    ours: Callable[[], object] | None
    torch: Callable[[], object]
    flops: int | None
    missing: list[str] = dataclasses.field(default_factory=list)
    compiled: CompiledSides | None = None
    build: Callable[[ModuleType], Callable[[], object]] | None = None  # the workload for any framework module


def require(fw: ModuleType, *paths: str) -> None:
    """Raise ``Missing`` listing each dotted ``path`` (e.g. ``nn.Conv2d``) that ``fw`` lacks.

    Submodules are imported on the way (``chainrule.nn`` need not be imported by ``chainrule``);
    one that fails to import counts as missing, with the reason.
    """
    missing = []
    for path in paths:
        obj, name = fw, fw.__name__
        for part in path.split("."):
            name = f"{name}.{part}"
            if hasattr(obj, part):
                obj = getattr(obj, part)
                continue
            if isinstance(obj, ModuleType):
                try:
                    obj = importlib.import_module(name)
                    continue
                except ModuleNotFoundError:
                    pass
                except Exception as exc:  # a half-written module: report it, do not crash
                    missing.append(f"{path} (import failed: {type(exc).__name__}: {exc})")
                    break
            missing.append(path)
            break
    if missing:
        raise Missing(missing)


def _ours_or_missing(build: Callable[[ModuleType], Callable[[], object]]) -> tuple[Callable | None, list[str]]:
    import chainrule

    try:
        return build(chainrule), []
    except Missing as m:
        return None, m.names


# ---- FLOP counting ---------------------------------------------------------------------------
def conv_macs(cin: int, cout: int, k: int, hout: int, wout: int) -> int:
    """Multiply-adds of one sample through a k x k convolution (groups=1)."""
    return cout * hout * wout * cin * k * k


def train_flops(layer_macs: list[int], batch: int) -> int:
    """Forward + both backward GEMMs of each layer, minus the first layer's input gradient."""
    fwd = sum(layer_macs)
    return 2 * batch * (3 * fwd - layer_macs[0])


# ---- models ----------------------------------------------------------------------------------
LENET_NEEDS = ("nn.Module", "nn.Conv2d", "nn.Linear", "nn.functional.relu", "nn.functional.max_pool2d")
RESNET_NEEDS = ("nn.Module", "nn.Conv2d", "nn.BatchNorm2d", "nn.Linear", "nn.functional.relu", "mean")
MLP_NEEDS = ("nn.Module", "nn.Linear", "nn.functional.relu")
TRAIN_NEEDS = ("nn.functional.cross_entropy", "optim.SGD", "from_numpy")


def lenet(fw: ModuleType):
    """LeNet-5: conv(1->6,5,pad 2)-ReLU-pool-conv(6->16,5)-ReLU-pool-400-120-84-10."""
    nn, F = fw.nn, fw.nn.functional

    class LeNet5(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(400, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.reshape(x.shape[0], -1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    return LeNet5()


LENET_MACS = [conv_macs(1, 6, 5, 28, 28), conv_macs(6, 16, 5, 10, 10), 400 * 120, 120 * 84, 84 * 10]


def resnet(fw: ModuleType):
    """Small ResNet for 3x32x32: stem conv-BN-ReLU 3->16, basic blocks 16, 32/2, 64/2, avg pool, fc.

    A block is conv3x3-BN-ReLU-conv3x3-BN plus the shortcut, then ReLU; the shortcut is a 1x1
    conv-BN projection where the shape changes (stages 2 and 3), the identity otherwise.
    """
    nn, F = fw.nn, fw.nn.functional

    class Block(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.proj = None
            if stride != 1 or cin != cout:
                self.proj = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)
                self.proj_bn = nn.BatchNorm2d(cout)

        def forward(self, x):
            y = F.relu(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            shortcut = x if self.proj is None else self.proj_bn(self.proj(x))
            return F.relu(y + shortcut)

    class SmallResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 16, 3, padding=1, bias=False)
            self.stem_bn = nn.BatchNorm2d(16)
            self.stage1 = Block(16, 16, 1)
            self.stage2 = Block(16, 32, 2)
            self.stage3 = Block(32, 64, 2)
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            x = F.relu(self.stem_bn(self.stem(x)))
            x = self.stage3(self.stage2(self.stage1(x)))
            return self.fc(x.mean(dim=(2, 3)))

    return SmallResNet()


RESNET_MACS = [
    conv_macs(3, 16, 3, 32, 32),
    conv_macs(16, 16, 3, 32, 32), conv_macs(16, 16, 3, 32, 32),
    conv_macs(16, 32, 3, 16, 16), conv_macs(32, 32, 3, 16, 16), conv_macs(16, 32, 1, 16, 16),
    conv_macs(32, 64, 3, 8, 8), conv_macs(64, 64, 3, 8, 8), conv_macs(32, 64, 1, 8, 8),
    64 * 10,
]


def mlp(fw: ModuleType):
    """MLP 784-512-512-10 with ReLU."""
    nn, F = fw.nn, fw.nn.functional

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 512)
            self.fc2 = nn.Linear(512, 512)
            self.fc3 = nn.Linear(512, 10)

        def forward(self, x):
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    return MLP()


MLP_MACS = [784 * 512, 512 * 512, 512 * 10]


# ---- steps -----------------------------------------------------------------------------------
TORCH_COMPILE_BACKEND = "inductor"  # torch.compile's default: generated C++ on the CPU


def through_compile(fw: ModuleType, obj: Callable, backend: str | None) -> Callable:
    """``fw.compile(obj, backend=backend)``; ``backend=None``: ``obj`` itself (eager). The step that
    calls it keeps chainrule's compiled object as its ``compiled`` attribute (see ``compiled_of``)."""
    if backend is None:
        return obj
    require(fw, "compile")
    return fw.compile(obj, backend=backend)


def compiled_of(fw: ModuleType, obj: Callable) -> object | None:
    """chainrule's ``CompiledFunction`` behind what ``chainrule.compile`` returned: its call counts,
    graphs and fallbacks; None for an eager callable and for PyTorch."""
    if fw.__name__ != "chainrule":
        return None
    return getattr(obj, "_compiled_call", None) or getattr(obj, "_compiled", None)


def _data(shape: tuple, classes: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape, dtype=np.float32), rng.integers(0, classes, shape[0])


def train_step(fw: ModuleType, make_model: Callable, needs: tuple, shape: tuple,
               backend: str | None = None) -> Callable[[], None]:
    """One SGD-momentum step on a random batch: forward, cross-entropy, backward, update; with
    ``backend``, the model is called through ``fw.compile`` (the rest of the step stays eager)."""
    require(fw, *TRAIN_NEEDS, *needs)
    model = make_model(fw)
    x_np, y_np = _data(shape)
    x, y = fw.from_numpy(x_np), fw.from_numpy(y_np)
    F = fw.nn.functional
    opt = fw.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    forward = through_compile(fw, model, backend)

    def step() -> None:
        opt.zero_grad()
        loss = F.cross_entropy(forward(x), y)
        loss.backward()
        opt.step()

    step.compiled = compiled_of(fw, forward)  # type: ignore[attr-defined]
    return step


def inference(fw: ModuleType, make_model: Callable, needs: tuple, shape: tuple) -> Callable[[], None]:
    """Forward pass under ``no_grad`` in eval mode."""
    require(fw, "no_grad", "from_numpy", *needs)
    model = make_model(fw)
    model.eval()
    x = fw.from_numpy(_data(shape)[0])

    def run() -> None:
        with fw.no_grad():
            model(x)

    return run


def conv_fwd_bwd(fw: ModuleType, n: int, c: int, hw: int) -> Callable[[], None]:
    """``nn.Conv2d(c, c, 3, padding=1)`` forward and backward (input, weight and bias grads)."""
    require(fw, "nn.Conv2d", "from_numpy")
    conv = fw.nn.Conv2d(c, c, 3, padding=1)
    x = fw.from_numpy(_data((n, c, hw, hw))[0]).requires_grad_(True)
    gy = fw.from_numpy(_data((n, c, hw, hw), seed=1)[0])

    def run() -> None:
        x.grad = None
        conv.zero_grad()
        conv(x).backward(gy)

    return run


def op_mix(fw: ModuleType, y, w, n_ops: int):
    """``n_ops`` element-wise ops on ``y`` (whole rounds of 4): tensor*tensor, tensor+tensor,
    tanh and tensor*python-float, in that order. Workload 6 and ``bench.overhead`` run this."""
    for _ in range(n_ops // 4):
        y = y * w
        y = y + w
        y = fw.tanh(y)
        y = y * 0.5
    return y


def overhead(fw: ModuleType, n_ops: int, backend: str | None = None) -> Callable[[], None]:
    """``n_ops`` element-wise ops (``op_mix``) on a 16-element tensor, then backward: the per-op fixed
    cost; with ``backend``, the function of the ``n_ops`` ops goes through ``fw.compile`` (the sum
    and backward stay eager)."""
    require(fw, "from_numpy", "tanh")
    rng = np.random.default_rng(0)
    x = fw.from_numpy(rng.standard_normal(16, dtype=np.float32)).requires_grad_(True)
    w = fw.from_numpy(rng.standard_normal(16, dtype=np.float32))

    def ops(x, w):
        return op_mix(fw, x, w, n_ops)

    fn = through_compile(fw, ops, backend)

    def run() -> None:
        x.grad = None
        fn(x, w).sum().backward()

    run.compiled = compiled_of(fw, fn)  # type: ignore[attr-defined]
    return run


# ---- the workloads ---------------------------------------------------------------------------
def _case(title: str, build: Callable[[ModuleType], Callable], flops: int | None) -> Case:
    import torch

    ours, missing = _ours_or_missing(build)
    return Case(title, ours, build(torch), flops, missing, build=build)


def lenet_train(batch: int) -> Case:
    return _case(f"LeNet-5 train step, 1x28x28, batch {batch}",
                 lambda fw: train_step(fw, lenet, LENET_NEEDS, (batch, 1, 28, 28)), train_flops(LENET_MACS, batch))


def lenet_infer(batch: int) -> Case:
    return _case(f"LeNet-5 inference, batch {batch}",
                 lambda fw: inference(fw, lenet, LENET_NEEDS, (batch, 1, 28, 28)), 2 * batch * sum(LENET_MACS))


def resnet_train(batch: int) -> Case:
    return _case(f"small ResNet train step, 3x32x32, batch {batch}",
                 lambda fw: train_step(fw, resnet, RESNET_NEEDS, (batch, 3, 32, 32)), train_flops(RESNET_MACS, batch))


def mlp_train(batch: int) -> Case:
    return _case(f"MLP 784-512-512-10 train step, batch {batch}",
                 lambda fw: train_step(fw, mlp, MLP_NEEDS, (batch, 784)), train_flops(MLP_MACS, batch))


def conv2d(n: int, c: int, hw: int) -> Case:
    # forward, input gradient and weight gradient are one GEMM each of the same size
    flops = 3 * 2 * n * conv_macs(c, c, 3, hw, hw)
    return _case(f"conv2d {c}->{c} 3x3 pad 1 on {n}x{c}x{hw}x{hw}, fwd+bwd",
                 lambda fw: conv_fwd_bwd(fw, n, c, hw), flops)


def autograd_overhead(n_ops: int) -> Case:
    return _case(f"autograd overhead: {n_ops} element-wise ops on 16 elements + backward",
                 lambda fw: overhead(fw, n_ops), None)


def _compiled_case(title: str, build: Callable[[ModuleType, str | None], Callable], flops: int | None,
                   backend: str) -> Case:
    """chainrule's step through ``chainrule.compile(backend=backend)`` against PyTorch's eager step,
    with chainrule's eager step and a builder of PyTorch's ``torch.compile`` step alongside."""
    import torch

    case = _case(title, lambda fw: build(fw, backend if fw.__name__ == "chainrule" else None), flops)
    ours_eager = None
    if case.ours is not None:
        ours_eager = _ours_or_missing(lambda fw: build(fw, None))[0]
    case.compiled = CompiledSides(backend, ours_eager, lambda: build(torch, TORCH_COMPILE_BACKEND))
    return case


def lenet_train_compiled(batch: int, backend: str = "inductor") -> Case:
    return _compiled_case(f"LeNet-5 train step, 1x28x28, batch {batch}, model through compile",
                          lambda fw, b: train_step(fw, lenet, LENET_NEEDS, (batch, 1, 28, 28), b),
                          train_flops(LENET_MACS, batch), backend)


def mlp_train_compiled(batch: int, backend: str = "inductor") -> Case:
    return _compiled_case(f"MLP 784-512-512-10 train step, batch {batch}, model through compile",
                          lambda fw, b: train_step(fw, mlp, MLP_NEEDS, (batch, 784), b),
                          train_flops(MLP_MACS, batch), backend)


def autograd_overhead_compiled(n_ops: int, backend: str = "inductor") -> Case:
    return _compiled_case(f"autograd overhead: {n_ops} element-wise ops on 16 elements through compile + backward",
                          lambda fw, b: overhead(fw, n_ops, b), None, backend)


@dataclasses.dataclass(frozen=True)
class Spec:
    """A named workload with its full-size and ``--quick`` arguments; ``compiled``: chainrule's side
    runs through ``chainrule.compile``, whose backend ``build`` passes on."""

    name: str
    make: Callable[..., Case]
    full: tuple
    quick: tuple
    compiled: bool = False

    def build(self, quick: bool, compile_backend: str = "inductor") -> Case:
        args = self.quick if quick else self.full
        return self.make(*args, backend=compile_backend) if self.compiled else self.make(*args)


WORKLOADS = [
    Spec("lenet_train_b64", lenet_train, (64,), (2,)),
    Spec("lenet_train_b256", lenet_train, (256,), (4,)),
    Spec("lenet_infer_b256", lenet_infer, (256,), (4,)),
    Spec("resnet_train_b64", resnet_train, (64,), (2,)),
    Spec("mlp_train_b128", mlp_train, (128,), (4,)),
    Spec("conv2d_fwd_bwd", conv2d, (8, 64, 56), (2, 8, 8)),
    Spec("autograd_overhead", autograd_overhead, (1000,), (40,)),
    Spec("lenet_train_b64_compiled", lenet_train_compiled, (64,), (2,), compiled=True),
    Spec("mlp_train_b128_compiled", mlp_train_compiled, (128,), (4,), compiled=True),
    Spec("autograd_overhead_compiled", autograd_overhead_compiled, (1000,), (40,), compiled=True),
]

