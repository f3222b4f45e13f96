"""Export a chainrule model, check it with onnx.checker and run it in ONNX Runtime."""

import io

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import chainrule as cr  # noqa: E402
import chainrule.onnx  # noqa: E402,F401


def export_and_session(model, args, **kwargs):
    f = io.BytesIO()
    proto = cr.onnx.export(model, args, f, **kwargs)
    loaded = onnx.load_from_string(f.getvalue())
    onnx.checker.check_model(loaded, full_check=True)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    sess = ort.InferenceSession(f.getvalue(), options, providers=["CPUExecutionProvider"])
    return proto, sess


def max_difference(model, sess, arrays: list, names: list) -> float:
    """Largest |chainrule - ONNX Runtime| over all outputs, for inputs ``arrays``."""
    with cr.no_grad():
        ref = model(*[cr.from_numpy(a) for a in arrays])
    refs = [ref] if isinstance(ref, cr.Tensor) else list(ref)
    got = sess.run(None, dict(zip(names, arrays)))
    worst = 0.0
    for r, o in zip(refs, got):
        assert tuple(r.shape) == o.shape
        if r.numel():
            worst = max(worst, float(np.abs(r.numpy().astype(np.float64) - o).max()))
    return worst
