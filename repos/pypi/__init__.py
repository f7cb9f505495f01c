"""Python package sources: pip configuration, simple-API indexes (PEP 503/691/658/714), find-links."""

from .config import PipConfig, pip_default_index, read_pip_config
from .index import PypiIndex

__all__ = ["PipConfig", "PypiIndex", "pip_default_index", "read_pip_config"]
