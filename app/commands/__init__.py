"""Command-line sub-commands. Each module has `register(subparsers)`; app.cli wires them."""
