"""``python -m chainrule``: the command-line interface."""

try:
    from .cli.main import main
except KeyboardInterrupt:  # Ctrl-C while the command's modules load: one line, the usual status
    import sys

    print("chainrule: interrupted", file=sys.stderr)
    raise SystemExit(130) from None

raise SystemExit(main())
