"""``chainrule.onnx``: export a model to ONNX (``pip install 'chainrule[onnx]'``).

``chainrule.onnx.export(model, x, "model.onnx", input_names=["input"], output_names=["output"],
dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})`` as with ``torch.onnx.export``.
"""

from ._graph import UnsupportedOperatorError
from .export import export

__all__ = ["export", "UnsupportedOperatorError"]
