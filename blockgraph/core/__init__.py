"""The runtime core: a page from source text to a Scope of checked blocks, and its Results.

Nothing here runs a page, draws it or parses a command line (those are `run`, `view`, `cli`).
"""
