"""The reference backend: every kernel family written with the array module ``xp`` it is given
(NumPy, and any array module with NumPy's API). It never declines, so it is always last in
``kernels.select``. Families: ``conv``, ``fused``, ``matmul``, ``norm``, ``optim``, ``pointwise``, ``pool``;
``tuning`` holds the backend's thresholds."""
