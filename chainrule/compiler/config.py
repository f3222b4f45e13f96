"""Settings of ``chainrule.compile`` (PyTorch keeps these in ``torch._dynamo.config``)."""

cache_size_limit = 8  # graphs kept per compiled callable; new signatures beyond it run eagerly
