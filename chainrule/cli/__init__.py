"""The ``chainrule`` command: training, evaluation and inspection from the shell."""
