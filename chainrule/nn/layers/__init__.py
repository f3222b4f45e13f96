"""Layer modules, one file per family; ``chainrule.nn`` re-exports their classes."""
