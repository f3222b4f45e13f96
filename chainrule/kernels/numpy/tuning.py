"""Thresholds of the reference backend, in one place. Each says why it has its value; the
measurements behind them are in ``docs/perf-log.md`` (entry "tuning constants", 2026-12-02).
Kernels read them at call time (``tuning.NAME``), so a test or a benchmark may change one.
"""

from __future__ import annotations

# ---- convolution (``conv.py``) -------------------------------------------------------------------
# the shift layout (first kernel axis as row shifts) needs GEMMs of depth Cg * prod(k[1:]) at
# least this: shallower GEMMs lose more than the smaller copy saves
CONV_SHIFT_MIN_DEPTH = 8
# the batch is folded into the GEMMs' long dimension below this many output positions per
# sample: above it the per-sample GEMMs are as fast and save two transposes
CONV_FOLD_BELOW = 64
# the weight gradient, whose folded GEMMs also sum over the batch, stays folded up to 4x
# CONV_FOLD_BELOW positions, and up to 16x for GEMMs of at least this many Og * depth entries
CONV_WIDE_GEMM = 2048
# bytes of columns per chunk of the batch: about the L2 cache of one core, so that the copy and
# the GEMMs reading it do not go to memory
CONV_CHUNK_BYTES = 1 << 20
# the same with the chunks spread over threads: fewer, larger chunks mean fewer hand-offs of the
# GIL between the threads, which cost more than the cache misses
CONV_PARALLEL_CHUNK_BYTES = 1 << 22
# convolutions with fewer multiply-adds per sample stay on one thread: below this the hand-offs
# cost more than the second core gives (LeNet-5's convolutions are below, ResNet's 3x3 above)
CONV_PARALLEL_MIN_MACS = 1 << 20
# OpenBLAS multiplies small matrices without packing them when M*N*K is at most this (0.3.31,
# SkylakeX kernels); below CONV_SMALL_GEMM_BELOW output channels per group the folded GEMMs are
# cut to fit, and the weight gradient's product is transposed only for larger GEMMs
SMALL_GEMM_MNK = 100 ** 3
CONV_SMALL_GEMM_BELOW = 32
# depthwise convolutions (one input and one output channel per group) run one multiply-add per
# kernel tap instead of GEMMs, whose matrices are then too small to pay off
CONV_DEPTHWISE_PER_TAP = True

# ---- matrix products (``matmul.py``) -------------------------------------------------------------
# below this many multiply-adds a product stays on one thread: a hand-off to the pool's worker
# costs about as much as this much GEMM on one core
MATMUL_PARALLEL_MIN_MACS = 1 << 23
# below this many multiply-adds a product is handed to BLAS as it is: OpenBLAS itself runs products
# under 4 x 65536 multiply-adds on one thread (interface/gemm.c, GEMM_MULTITHREAD_THRESHOLD), so
# holding it to one thread first (``single_blas``: two thread-count calls, about 12 us measured)
# would cost more than the product
MATMUL_AS_IS_MAX_MACS = 1 << 16
