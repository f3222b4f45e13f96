"""The module table (tests/nn/moduleinfo.py) through ONNX: every row with an ONNX form exports,
passes the checker and matches chainrule in ONNX Runtime; every other row is refused with an
error that names the operator or module, never exported wrong."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

from ..nn.moduleinfo import all_module_cases
from .helpers import export_and_session, max_difference

# rows whose operators have no ONNX mapping here (data-dependent indices or masks, losses with
# class indices, unequal adaptive windows, im2col); each must raise UnsupportedOperatorError
UNSUPPORTED = {
    "MaxPool2d.indices", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
    "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool2d.output_size", "MaxUnpool3d",
    "SmoothL1Loss", "HuberLoss", "KLDivLoss", "BCELoss", "NLLLoss", "CrossEntropyLoss",
    "CrossEntropyLoss.spatial_weight", "Unfold", "Fold", "Embedding.max_norm",
}
NEEDS_OPSET_19 = {"Conv1d.groups_dilation_circular", "CircularPad1d", "CircularPad2d", "CircularPad3d"}
CASES = all_module_cases()


class _Call(nn.Module):
    """A row whose forward needs keyword arguments (``output_size=``)."""

    def __init__(self, inner, call):
        super().__init__()
        self.inner, self.call = inner, call

    def forward(self, *xs):
        return self.call(self.inner, *xs)


def _model(case):
    cr.manual_seed(0)
    m = case.build(nn)
    return (_Call(m, case.call) if case.call else m).eval()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_module_row_in_onnxruntime(case):
    model = _model(case)
    arrays = case.inputs(np.float32)
    names = [f"in{i}" for i in range(len(arrays))]
    args = tuple(cr.from_numpy(a) for a in arrays)
    opset = 19 if case.name in NEEDS_OPSET_19 else None
    if case.name in UNSUPPORTED:
        with pytest.raises(cr.onnx.UnsupportedOperatorError, match="chainrule.onnx.export: .*("
                                                                    "operator|input|module|model)"):
            export_and_session(model, args, input_names=names, opset_version=opset)
        return
    _, sess = export_and_session(model, args, input_names=names, opset_version=opset)
    assert max_difference(model, sess, arrays, names) <= 1e-5
    other = [a * 0.7 + 0.1 if a.dtype.kind == "f" else a for a in case.inputs(np.float32, seed=1)]
    assert max_difference(model, sess, other, names) <= 1e-5  # values other than the traced ones


def test_circular_padding_needs_opset_19():
    with pytest.raises(cr.onnx.UnsupportedOperatorError, match="opset 19"):
        cr.onnx.export(nn.CircularPad1d(1), cr.randn(1, 2, 4))
