"""The `blockgraph` command line: argument parsing and printing over the other layers."""
from .main import entry, main

__all__ = ["entry", "main"]
