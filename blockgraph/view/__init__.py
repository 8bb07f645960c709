"""Seeing pages and results: text tables, Graphviz diagrams, the HTML inspector, `show`."""
