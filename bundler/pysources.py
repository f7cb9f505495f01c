"""Where a [python] section's files come from: its indexes and find-links, else the host's pip
configuration (repos/pypi/config.py). Shared by the solve (bundler/python_solve.py) and the lock fast
path (bundler/fastpath.py), which must agree on them and which loads none of the resolver.
"""

from __future__ import annotations

import os

from bundler.spec import PythonSpec


def python_sources(spec: PythonSpec) -> tuple[list[str], list[str], str | None, list[str]]:
    """(indexes, find-links, CA bundle or None, notes) of the section; find-links paths are made
    relative to the spec."""
    notes: list[str] = []
    cert = None
    find_links = [str(spec.base_dir / f) if "://" not in f else f for f in spec.find_links]
    if spec.indexes is not None:
        indexes = list(spec.indexes)
    else:
        from repos.pypi.config import read_pip_config

        cfg = read_pip_config()
        indexes = list(cfg.indexes())
        find_links += [f for f in cfg.find_links if f not in find_links]
        cert = cfg.cert or os.environ.get("SSL_CERT_FILE")
        if not indexes and not find_links:
            notes.append("pip configuration has no-index and no find-links")
    return indexes, find_links, cert, notes
