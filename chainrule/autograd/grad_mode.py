"""Grad mode: whether operators record the graph. Context managers that double as decorators."""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    enabled = True  # a class default: reading it in a fresh thread needs no getattr fallback
    inference = False  # inside inference_mode(True)


_state = _State()


def is_grad_enabled() -> bool:
    return _state.enabled


def _set_enabled(mode: bool) -> None:
    _state.enabled = bool(mode)


def is_inference_mode_enabled() -> bool:
    """Whether code runs inside ``inference_mode()`` (PyTorch's ``torch.is_inference_mode_enabled``)."""
    return _state.inference


class _GradModeContext:
    """Base for the three switches below: a context manager, and a decorator when called on a function."""

    _mode: bool

    def __enter__(self):
        self._prev = is_grad_enabled()
        _set_enabled(self._mode)
        return self

    def __exit__(self, *exc) -> None:
        _set_enabled(self._prev)

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)

        return wrapper

    def _args(self) -> tuple:
        return ()


class no_grad(_GradModeContext):
    """Nothing run inside records a graph or keeps inputs alive for backward."""

    _mode = False


class enable_grad(_GradModeContext):
    """Turn recording back on inside a ``no_grad`` block."""

    _mode = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode to ``mode``; takes effect immediately, and as a context it restores on exit."""

    def __init__(self, mode: bool):
        self._prev = is_grad_enabled()
        self._mode = bool(mode)
        _set_enabled(self._mode)

    def __enter__(self):
        return self

    def _args(self) -> tuple:
        return (self._mode,)

    def __call__(self, fn):
        _set_enabled(self._prev)  # used as a decorator: undo the immediate switch
        return super().__call__(fn)


class inference_mode(_GradModeContext):
    """PyTorch's ``inference_mode(mode=True)``: here the same as ``no_grad`` when ``mode`` is true.

    (PyTorch also skips version counting inside it; chainrule keeps counting, which is cheap.)
    """

    def __init__(self, mode: bool = True):
        self._mode = not bool(mode)

    def _args(self) -> tuple:
        return (not self._mode,)

    def __enter__(self):
        self._prev_inference = _state.inference
        _state.inference = not self._mode
        return super().__enter__()

    def __exit__(self, *exc) -> None:
        _state.inference = self._prev_inference
        super().__exit__(*exc)
