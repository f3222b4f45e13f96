"""``mpiexec -n 2 python -m chainrule train --compile``: the model inside DDP is compiled, and the run is
bitwise the two-rank run without ``--compile``.

DDP resets its gradient reduction on every forward call and the share weighting registers a hook
on the output; had DDP itself been compiled, a replay would skip both (the weights then differ).
300 images over two ranks in batches of 32 end with a smaller batch, so the shares are uneven.
"""

import numpy as np

import chainrule as cr

from .mpirun import run

ARGS = ["-m", "chainrule", "train", "--model", "digits_cnn", "--data", "digits", "--epochs", "2", "--no-plots",
        "--threads", "1", "--train-limit", "300", "--test-limit", "100", "--no-progress"]


def test_two_ranks_compiled_equal_two_ranks_eager(tmp_path):
    outputs = {}
    for name, extra in (("eager", []), ("compiled", ["--compile", "eager"])):
        proc, _ = run(2, [*ARGS, "--out", str(tmp_path / name), *extra], timeout=180, cwd=str(tmp_path))
        assert proc.returncode == 0, proc.stdout[-3000:]
        outputs[name] = proc.stdout
    line = [x for x in outputs["compiled"].splitlines() if x.startswith("compiled (")]
    assert len(line) == 1 and "0 eager; no input signature fell back to eager" in line[0], outputs["compiled"][-2000:]
    a = cr.load(str(tmp_path / "eager" / "checkpoint.safetensors"))
    b = cr.load(str(tmp_path / "compiled" / "checkpoint.safetensors"))
    assert list(a["model"]) == list(b["model"])
    for k in a["model"]:
        np.testing.assert_array_equal(a["model"][k].numpy(), b["model"][k].numpy(), err_msg=k)
    test_line = [x for x in outputs["eager"].splitlines() if x.startswith("test:")]
    assert test_line and test_line[0] in outputs["compiled"]
