"""blockgraph: run TensorFlow-style block diagrams (YAML pages) on numpy, exact to TF."""
from .core.errors import BlockgraphError

__version__ = "0.1.0"


def load_page(path, **kwargs):
    """Load, validate and build a YAML page; see `blockgraph.api.Page`."""
    from .api import load_page as _load
    return _load(path, **kwargs)


__all__ = ["BlockgraphError", "load_page", "__version__"]
