"""Settings of ``chainrule.compile`` (PyTorch keeps these in ``torch._dynamo.config``)."""

cache_size_limit = 8  # graphs kept per compiled callable; new signatures beyond it run eagerly
# flat schedules write intermediates into buffers made once and kept (``buffers.py``); read when a
# graph is planned
reuse_buffers = True
buffer_min_bytes = 1 << 16  # smaller intermediates are allocated as in eager
