"""Pure-Python algorithms. Nothing in this package imports Django (see docs/architecture.md)."""
