"""``detect_anomaly``: find the forward operation whose backward produced NaN or inf."""

from __future__ import annotations

import threading


class _State(threading.local):
    enabled = False  # a class default, so the check on every recorded node stays cheap


_state = _State()


def is_anomaly_enabled() -> bool:
    return _state.enabled


class detect_anomaly:
    """Inside this context every recorded node remembers where it was created (file and line);
    a backward that returns NaN or inf raises, naming the operator and that place."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = is_anomaly_enabled()
        _state.enabled = self.check_nan
        return self

    def __exit__(self, *exc) -> None:
        _state.enabled = self._prev

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly(detect_anomaly):
    def __init__(self, mode: bool, check_nan: bool = True):
        super().__init__(check_nan=mode and check_nan)


def _origin(trace) -> str:
    # the innermost frame outside chainrule itself is the user's line that ran the operator
    for frame in reversed(trace):
        if "/chainrule/" not in frame.filename.replace("\\", "/"):
            return f'File "{frame.filename}", line {frame.lineno}, in {frame.name}\n    {frame.line}'
    frame = trace[-1]
    return f'File "{frame.filename}", line {frame.lineno}, in {frame.name}'


def check_gradients(node, grads: tuple) -> None:
    """Raise if any gradient returned by ``node``'s backward holds NaN or inf."""
    import numpy as np

    for i, g in enumerate(grads):
        if g is None:
            continue
        data = g._data
        if data.dtype.kind == "f" and not np.isfinite(data).all():
            what = "nan" if np.isnan(data).any() else "inf"
            raise RuntimeError(
                f"Function '{node.name()}' returned {what} values in its {i}th output.\n"
                f"The forward call that created it:\n  {_origin(node._trace)}")
