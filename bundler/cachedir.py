"""Where bundler caches what it fetched and worked out (indexes, artifacts, help pages): one place,
read without importing anything heavy (`bundler --help` asks it before typer is loaded)."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir(option: Path | None = None) -> Path:
    """--cache-dir, else $BUNDLER_CACHE_DIR, else $XDG_CACHE_HOME/bundler, else ~/.cache/bundler."""
    if option is not None:
        return option
    env = os.environ.get("BUNDLER_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "bundler"
