"""Every bundled model exported to ONNX and run in ONNX Runtime, with a dynamic batch axis."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import models, nn

from .helpers import export_and_session, max_difference, onnx

MODELS = {"mlp": (1, 8, 8), "lenet5": (1, 28, 28), "digits_cnn": (1, 8, 8), "resnet": (3, 32, 32),
          "nf_resnet": (3, 32, 32), "allconv": (1, 28, 28)}
DYNAMIC = {"input": {0: "batch"}, "output": {0: "batch"}}


def _randomise_statistics(model) -> None:
    """Batch-norm running statistics away from (0, 1), so that eval mode is not the identity."""
    rng = np.random.default_rng(1)
    with cr.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(cr.from_numpy(rng.normal(0, 0.5, m.num_features).astype(np.float32)))
                m.running_var.copy_(cr.from_numpy(rng.uniform(0.5, 2.0, m.num_features).astype(np.float32)))
                m.weight.copy_(cr.from_numpy(rng.uniform(0.5, 1.5, m.num_features).astype(np.float32)))
                m.bias.copy_(cr.from_numpy(rng.normal(0, 0.2, m.num_features).astype(np.float32)))


@pytest.mark.parametrize("fold", [True, False], ids=["folded", "unfolded"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_bundled_model_runs_in_onnxruntime(name, fold):
    cr.manual_seed(0)
    model = models.get_model(name)
    _randomise_statistics(model)
    shape = MODELS[name]
    model.train()  # the export runs in eval mode and restores the mode afterwards
    proto, sess = export_and_session(model, (cr.randn(2, *shape),), input_names=["input"], output_names=["output"],
                                     dynamic_axes=DYNAMIC, do_constant_folding=fold)
    assert model.training
    model.eval()
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    rng = np.random.default_rng(2)
    for batch in (2, 5):  # another batch size than the traced one, other values than the traced ones
        x = rng.standard_normal((batch, *shape)).astype(np.float32)
        assert max_difference(model, sess, [x], ["input"]) <= 1e-5
    if not fold and name == "nf_resnet":  # weight standardisation as ONNX operators on the raw weights
        assert {"ReduceSum", "Sub", "Mul"} <= {n.op_type for n in proto.graph.node}


class Composite(nn.Module):
    """Functional code in forward: the operators are mapped one by one."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, padding_mode="reflect")
        self.frn = nn.FilterResponseNorm2d(8)
        self.tlu = nn.TLU(8)
        self.ws = nn.WSConv2d(8, 8, 3, padding=1, groups=2)
        self.gn = nn.GroupNorm(4, 8)
        self.inorm = nn.InstanceNorm2d(8, affine=True)
        self.ln = nn.LayerNorm(8)
        self.head = nn.Linear(16, 5)

    def forward(self, x):
        a = self.tlu(self.frn(self.conv(x)))
        b = self.inorm(self.gn(self.ws(a))) * 0.5 + a
        c = cr.cat([F.relu(b), F.gelu(b)], 1).permute(0, 2, 3, 1)  # N, H, W, 16
        c = self.ln(c[..., :8]) + c[..., 8:].sigmoid()
        pooled = c.mean((1, 2))  # N, 8
        feats = cr.cat([pooled, pooled.abs().sqrt() - pooled.exp() / 3], 1).reshape(x.shape[0], -1)
        return F.log_softmax(self.head(feats), 1), F.softmax(feats, dim=-1)


def test_composite_forward_with_frn_tlu_wsconv_and_functional_ops():
    cr.manual_seed(0)
    model = Composite().eval()
    with cr.no_grad():
        model.tlu.tau.copy_(cr.randn(1, 8, 1, 1) * 0.1) if model.tlu.tau.ndim == 4 else \
            model.tlu.tau.copy_(cr.randn(8) * 0.1)
    dyn = {"x": {0: "n"}, "logp": {0: "n"}, "probs": {0: "n"}}
    proto, sess = export_and_session(model, cr.randn(2, 3, 6, 6), input_names=["x"], output_names=["logp", "probs"],
                                     dynamic_axes=dyn)
    rng = np.random.default_rng(3)
    for batch in (2, 3):
        x = rng.standard_normal((batch, 3, 6, 6)).astype(np.float32)
        assert max_difference(model, sess, [x], ["x"]) <= 1e-5
    ops = {n.op_type for n in proto.graph.node}
    assert {"Pad", "Conv", "Max", "Concat", "Transpose", "LayerNormalization", "Softmax", "LogSoftmax",
            "Gemm", "Erf", "Slice"} <= ops


def test_params_are_initializers_named_as_in_state_dict():
    model = models.get_model("lenet5").eval()
    proto = cr.onnx.export(model, cr.randn(1, 1, 28, 28))
    names = {i.name for i in proto.graph.initializer}
    assert set(model.state_dict()) <= names | {k for k in model.state_dict() if "num_batches" in k}
    proto = cr.onnx.export(model, cr.randn(1, 1, 28, 28), export_params=False)
    assert not {i.name for i in proto.graph.initializer} & set(model.state_dict())
    assert set(model.state_dict()) <= {i.name for i in proto.graph.input}


def test_opset_and_file_output(tmp_path):
    model = models.get_model("mlp").eval()
    path = tmp_path / "mlp.onnx"
    cr.onnx.export(model, (cr.randn(1, 1, 8, 8),), path, opset_version=17)
    loaded = onnx.load(str(path))
    assert loaded.opset_import[0].version == 17
    with pytest.raises(ValueError, match="opset_version must be in"):
        cr.onnx.export(model, (cr.randn(1, 1, 8, 8),), None, opset_version=9)


def test_unsupported_operator_names_itself_and_the_module():
    class Unpool(nn.Module):
        def __init__(self):
            super().__init__()
            self.pool = nn.MaxPool2d(2, return_indices=True)
            self.unpool = nn.MaxUnpool2d(2)

        def forward(self, x):
            return self.unpool(*self.pool(x))

    with pytest.raises(cr.onnx.UnsupportedOperatorError, match=r"'MaxPool2DWithIndicesBackward0' in module 'pool' "
                                                                r"\(MaxPool2d\)"):
        cr.onnx.export(Unpool(), cr.randn(1, 1, 4, 4))


def test_an_embedding_exports_as_a_gather_of_its_input():
    """The lookup takes the indices as a graph input (not baked in): new indices give new rows."""
    emb = nn.Embedding(6, 3)
    _, sess = export_and_session(emb, cr.tensor([[1, 2]]))
    idx = np.array([[5, 0]], dtype=np.int64)
    (got,) = sess.run(None, {sess.get_inputs()[0].name: idx})
    with cr.no_grad():
        np.testing.assert_array_equal(got, emb(cr.from_numpy(idx)).numpy())


def test_an_embedding_with_max_norm_is_refused_not_exported_without_its_renormalisation():
    emb = nn.Embedding(6, 3, max_norm=1.0)  # rescales the looked-up rows of its weight on every call
    with pytest.raises(cr.onnx.UnsupportedOperatorError, match="max_norm=1.0"):
        cr.onnx.export(emb, cr.tensor([[1, 2]]))


def test_where_with_a_mask_from_the_input_is_refused():
    class Masked(nn.Module):
        def forward(self, x):
            return cr.where(x > 0, x, x * 2)

    with pytest.raises(cr.onnx.UnsupportedOperatorError, match="mask"):
        cr.onnx.export(Masked(), cr.randn(2, 3))


def test_bad_arguments():
    with pytest.raises(TypeError, match="expected a chainrule.nn.Module"):
        cr.onnx.export(lambda x: x, cr.randn(2))
    with pytest.raises(TypeError, match="args must be a Tensor"):
        cr.onnx.export(nn.ReLU(), ([1.0],))


def test_comparisons_export():
    class Compare(nn.Module):
        def forward(self, x):
            return (x > 0.5).logical_and(x <= 2.0), x != 1.0

    _, sess = export_and_session(Compare(), (cr.randn(2, 3),))
    x = np.array([[0.0, 0.6, 1.0], [2.0, 2.5, -1.0]], dtype=np.float32)
    got = sess.run(None, {sess.get_inputs()[0].name: x})
    want = Compare()(cr.from_numpy(x))
    for g, w in zip(got, want):
        assert g.dtype == np.bool_ and (g == w.numpy()).all()


@pytest.mark.parametrize("dim,keepdim", [(None, False), (None, True), (1, False), (-1, True)])
def test_argmax_and_argmin_export(dim, keepdim):
    class Arg(nn.Module):
        def forward(self, x):
            return x.argmax(dim, keepdim=keepdim), x.argmin(dim=dim, keepdim=keepdim)

    _, sess = export_and_session(Arg(), (cr.randn(2, 3, 4),))
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    x[0, 0, :2] = 5.0  # a tie: the first index, in ONNX Runtime as in NumPy
    got = sess.run(None, {sess.get_inputs()[0].name: x})
    want = Arg()(cr.from_numpy(x))
    for g, w in zip(got, want):
        assert g.dtype == np.int64 and g.shape == tuple(w.shape) and (g == w.numpy()).all()
