"""Python package sources: pip configuration, simple-API indexes (PEP 503/691/658/714), find-links.

The names are loaded on first use (PEP 562): `repos.pypi.fresh` and `repos.pypi.cache` are read by the
lock fast path of `bundler solve`, which must not pay for the index and the resolver it imports.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import PipConfig, pip_default_index, read_pip_config
    from .index import PypiIndex

__all__ = ["PipConfig", "PypiIndex", "pip_default_index", "read_pip_config"]


def __getattr__(name: str) -> Any:
    if name == "PypiIndex":
        from .index import PypiIndex

        return PypiIndex
    if name in ("PipConfig", "pip_default_index", "read_pip_config"):
        from . import config

        return getattr(config, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
