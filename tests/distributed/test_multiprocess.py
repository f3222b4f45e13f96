"""Multi-process tests: the scripts under scripts/ run under ``mpiexec -n 2`` and ``-n 4``.

Each script compares K ranks with one process (or with NumPy) itself and prints one CHECK line
per comparison; here every expected check must be present and 'ok', and the job must end in time.
"""

import pytest

from .mpirun import checks, run

DDP_CHECKS = ["mlp_sgd_momentum", "mlp_adam", "syncbn_sgd_momentum", "syncbn_adam", "no_sync_accumulate",
              "unused_parameters", "mismatched_models", "kept_gradients",
              "syncbn_gradients_float64"]


def assert_checks(proc, names):
    found = checks(proc.stdout)
    for name in names:
        assert name in found, f"check {name} missing; output:\n{proc.stdout[-3000:]}"
        assert " ok" in found[name], found[name]
    assert proc.returncode == 0, proc.stdout[-3000:]


@pytest.mark.parametrize("ranks", [2, 4])
def test_ddp_equals_one_process_with_the_whole_batch(ranks):
    proc, _ = run(ranks, ["ddp_checks.py"], timeout=90)
    assert_checks(proc, DDP_CHECKS)


def test_collectives_against_numpy_on_four_ranks():
    proc, _ = run(4, ["collectives_checks.py"], timeout=90)
    assert_checks(proc, ["all_reduce_every_op_and_dtype", "broadcast_gather_scatter_reduce_scatter_every_dtype",
                         "async_handles_any_wait_order", "new_group_and_shape_mismatch"])


def test_a_rank_that_raises_takes_the_job_down_with_its_message():
    proc, seconds = run(2, ["rank_raises.py"], timeout=30)
    assert proc.returncode != 0
    assert "[rank 1] ValueError: boom at step 3 on the last rank" in proc.stdout
    assert "UNREACHABLE" not in proc.stdout
    assert seconds < 20


@pytest.mark.parametrize("model,samples", [("bn", 13), ("nobn", 15)])
def test_cli_helpers_on_three_ranks_equal_one_process(model, samples):
    proc, _ = run(3, ["cli_helpers.py", model, str(samples)], timeout=90)
    assert_checks(proc, ["shards_partition_batches", "wrap_model_equals_global_batch", "evaluate_sharded",
                         "combine_epoch_counts"])


def test_a_rank_that_leaves_early_aborts_the_job():
    proc, seconds = run(2, ["rank_leaves_early.py"], timeout=30)
    assert proc.returncode != 0
    assert "[rank 1] chainrule: this rank stopped before the others" in proc.stdout
    assert "UNREACHABLE" not in proc.stdout
    assert seconds < 20
