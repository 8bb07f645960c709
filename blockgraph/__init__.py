"""blockgraph: run TensorFlow-style block diagrams (YAML pages) on numpy, exact to TF."""
__version__ = "0.1.0"


def load_page(path, **kwargs):
    """Load, validate and build a YAML page; see `blockgraph.api.Page`."""
    from .api import load_page as _load
    return _load(path, **kwargs)


def sweep(page, **kwargs):
    """Run a page once per grid setting or feeds file; see `blockgraph.api.sweep`."""
    from .api import sweep as _sweep
    return _sweep(page, **kwargs)


from .core.errors import BlockgraphError, PageError  # noqa: E402  (light: no numpy)

__all__ = ["load_page", "sweep", "BlockgraphError", "PageError", "__version__"]
