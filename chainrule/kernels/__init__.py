"""How operators run: raw arrays in, raw arrays out.

Nothing here imports ``tensor``, ``autograd`` or ``ops`` (``tests/test_import_rules.py`` checks).
``numba/`` holds the compiled CPU loops; importing it imports numba, so the operators reach it
only when a compiled kernel is about to run (``chainrule/_jit.py`` says when).
"""
