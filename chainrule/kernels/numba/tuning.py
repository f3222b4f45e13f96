"""Thresholds of the compiled backend, in one place. Each says why it has its value; the
measurements behind them are in ``docs/perf-log.md`` (entry "tuning constants", 2026-12-02).
Kernels read them at call time (``tuning.NAME``), so a test or a benchmark may change one.
Importing this module imports no numba.
"""

from __future__ import annotations

# ---- convolution (``conv.py``) -------------------------------------------------------------------
# the first spatial axis is row-shifted when the copied depth Cg * kw is at least this (as the
# reference's CONV_SHIFT_MIN_DEPTH): shallower GEMMs lose more than the smaller copy saves
CONV_SHIFT_MIN_DEPTH = 8
# below this many multiply-adds in all a call stays on one thread: a hand-off to the pool's
# worker costs about as much as this much GEMM on one core (higher than the reference's
# per-sample threshold: these loops hold no GIL, so one thread already runs at full speed)
CONV_PARALLEL_MIN_MACS = 1 << 23
# samples whose output positions go through one GEMM together: enough for about this many
# columns (GEMMs over few positions run far below BLAS's speed), with the block's columns within
# CONV_BLOCK_BYTES (about half the L2 cache of a core)
CONV_BLOCK_COLUMNS = 1024
CONV_BLOCK_BYTES = 1 << 19

# ---- batch norm (``norm.py``) --------------------------------------------------------------------
# below this many bytes of input a call stays on one thread: each channel is one pass from the
# cache, and smaller inputs finish before a hand-off to the second thread pays off
NORM_PARALLEL_MIN_BYTES = 1 << 22

# ---- ReLU (``pointwise.py``) ---------------------------------------------------------------------
# below this many bytes per array a call stays on one thread: the loops are bound by memory, and
# below this a hand-off costs more than the second core gives
RELU_PARALLEL_MIN_BYTES = 1 << 23

# ---- fused element-wise chains (``fused.py``) ----------------------------------------------------
# below this much work (elements times instructions) a call stays on one thread: at about 1 ns per
# element-instruction of arithmetic (5-20 ns for exp, tanh ...) this is at least 0.25 ms, half of
# which the second thread takes, more than the 45-70 us a hand-off to the pool's worker costs
# (an estimate from those two figures, not a sweep)
FUSED_PARALLEL_MIN_WORK = 1 << 18

# ---- optimiser updates (``optim.py``) ------------------------------------------------------------
# below this many bytes per updated array a call stays on one thread: the loops are bound by
# memory, like ReLU's, and below this a hand-off costs more than the second core gives
OPTIM_PARALLEL_MIN_BYTES = 1 << 23
