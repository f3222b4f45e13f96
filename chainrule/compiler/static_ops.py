"""Which operators a recorded backward may replay: those whose backward is shape-static.

``flat.py`` records the operators the engine runs to differentiate a call once and replays that
schedule on later calls' values. That is right only for a forward operator whose ``backward``
runs the same operators with the same constants whatever the values are: decided by shapes,
dtypes, ``needs_input_grad`` and hyper-parameters alone. Arrays it computes in forward and hands
on (masks, pooling routes, target tables) are fine: the schedule reads them from the node of the
call. Not so, and so not listed:

* a backward that branches on values read in NumPy, which no capture hook sees: ``Prod`` (a zero
  factor), ``Det`` (a singular matrix);
* a backward that builds an array from values in raw NumPy (``lu_factor``'s permutation, a max
  pool's second derivative): the recorder refuses those arrays (and a 0-d one unless it is a
  number of the code), so listing them would gain nothing.

Each listed class's backward was read for this (following the helpers it calls); where a mask was
built in NumPy, or a cheaper path taken when the values allowed it, it is now made by operators
(``Elu``, ``Softplus``, ``Norm``, ``Pow``, ``NanToNum``, ``Fmod``, ``Logit``, ``I0e``/``I1e``,
``xlogy``/``xlog1py`` (``_XLog``), ``logcumsumexp``: a comparison, a sign, a ``trunc``, a cast),
always on the general path where that gives the same values bit for bit (``Pow``'s ``log`` of a
base with its zeros replaced, ``NanToNum``'s product with the finite mask), or by a node of its
own (``LeakyReluGrad``, ``ClampGrad``, ``Amax``'s ``TieShare``, ``Maximum``'s and ``Minimum``'s
``TieWeight``, ``Frexp``'s ``FrexpGrad``, ``EmbeddingGradScale``, ``Draw``, which has no input);
``fmax``/``fmin`` (``_FMaxMin``) cast the mask their forward keeps with an
operator. A constant a backward builds from sizes alone is marked ``kernels.tables.size_only``,
which the recorder keeps as it is: ``Einsum``'s ones vectors and identities, the identities and
zero blocks of ``Svd``, ``Eigh``, ``Cholesky`` and ``Lu``, ``ScatterReduce``'s starting counts
and zeros, ``IndexPut``'s zeros, the zeros of an unused ``Split`` piece and ``Unfold``'s window
index. The set holds exact classes, so a subclass is not admitted by its base. A class not
listed keeps its graph replaying on nodes, as before.
"""

from __future__ import annotations

from .op_tables import classes

_STATIC = {
    "chainrule.ops.activation": "Elu LeakyRelu LeakyReluGrad Relu ReluGrad Softplus",
    "chainrule.ops.conv": "Conv ConvInput ConvWeight",
    "chainrule.ops.dropout": "Dropout",
    "chainrule.ops.elementwise": "Abs Add Clamp ClampGrad Cos Div Erf Exp Expm1 Log Log1p Maximum Minimum Mul Neg "
                                 "Pow PowScalar RPowScalar Rsqrt Sigmoid SigmoidGrad Sin Sqrt Sub Tanh TanhGrad "
                                 "TieWeight Where",
    "chainrule.ops.draw": "Draw",
    "chainrule.ops.embedding": "EmbeddingGradScale",
    "chainrule.ops.fold": "Fold Unfold",
    "chainrule.ops.index_extra": "ScatterReduce",
    "chainrule.ops.indexing": "GetItem IndexAccumulate IndexPut SetItem",
    "chainrule.ops.join": "Cat Split",
    "chainrule.ops.linalg": "Einsum Matmul",
    "chainrule.ops.linalg_composite": "Cross Diagonal DiagonalScatter",
    "chainrule.ops.linalg_decomp": "Cholesky Eigh Inv MatrixExp Qr Slogdet Solve SolveTriangular Svd",
    "chainrule.ops.linalg_lu": "Lu",
    "chainrule.ops.linear": "Linear LinearGrad",
    "chainrule.ops.loss": "BinaryCrossEntropy",
    "chainrule.ops.math_extra": "Acos Acosh Asin Asinh Atan Atan2 Atanh Cosh Fmod Frac Hypot NanToNum Sinh",
    "chainrule.ops.math_misc": "Angle Frexp FrexpGrad",
    "chainrule.ops.nll": "NllLoss NllLossGrad NllLossPick NllTables",
    "chainrule.ops.normalization": "Normalize NormalizeGrad WindowSum",
    "chainrule.ops.pad": "ConstantPad IndexPad IndexPadFold",
    "chainrule.ops.pooling": "AdaptiveMaxPool AvgPool AvgPoolTranspose MaxPool MaxUnpool PlaneGather PlaneScatter",
    "chainrule.ops.random": "NormalFloatTensor NormalTensorFloat NormalTensorTensor",
    "chainrule.ops.random_extra": "BernoulliSample PoissonSample",
    "chainrule.ops.reduction": "Amax Cumsum ExtremumPick Mean Norm ProdOthers ProdOthersVjp RevCumsum Sum "
                               "TieShare Var",
    "chainrule.ops.reshaping": "AsStrided Diagonal DiagonalFill Unfold",
    "chainrule.ops.scatter": "Gather IndexAdd IndexSelect IndexSelectBy Scatter ScatterAdd",
    "chainrule.ops.shape": "Cast Clone Flip Permute Repeat Reshape Roll Tri",
    "chainrule.ops.softmax": "LogSoftmax LogSumExp Softmax",
    "chainrule.ops.sorting": "Cumprod OrderPick",
    "chainrule.ops.statistics": "Logcumsumexp NonNegative",
    "chainrule.ops.special_extra": "_Igamma _Zeta",
    "chainrule.ops.special_math": "Copysign Digamma Entr Erfc Erfcx Erfinv I0 I0e I1 I1e Lgamma LogNdtr Logit Ndtri "
                                  "Polygamma Sinc _FMaxMin _XLog",
    "chainrule.autograd.broadcast": "BroadcastTo SumTo",
    "chainrule.compiler.fuse": "FusedNode",
}

# operators that draw random numbers in forward: a recomputation of the forward (``create_graph``
# through a flat call) restores the generator first, so that it draws the same numbers
_RANDOM = {
    "chainrule.ops.dropout": "Dropout",
    "chainrule.ops.draw": "Draw",
    "chainrule.ops.random": "NormalFloatTensor NormalTensorFloat NormalTensorTensor",
    "chainrule.ops.random_extra": "BernoulliSample PoissonSample",
}


STATIC_BACKWARD: frozenset = classes(_STATIC)
RANDOM: frozenset = classes(_RANDOM)
