"""Tools for looking inside a model: a layer-by-layer summary, receptive fields, and a
convolution written out as a matrix. (The autograd graph itself is drawn by
``chainrule.autograd.graph``.)"""

from .conv_matrix import SparseMatrix, conv_matrix, transposed_output_padding
from .receptive_field import LayerField, receptive_field
from .summary import ModelSummary, SummaryRow, SummaryTotals, summary

__all__ = [
    "summary", "ModelSummary", "SummaryRow", "SummaryTotals", "receptive_field", "LayerField",
    "conv_matrix", "SparseMatrix", "transposed_output_padding",
]
