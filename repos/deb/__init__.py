"""repos.deb: Debian repositories — apt sources, fetching, Release verification, Packages parsing, cache.

from repos.deb import load_debian, read_apt_sources
loaded = load_debian(read_apt_sources(), architectures=None, cache_dir=cache)
loaded.universe.candidates("bash")      # -> DebCandidate, parsed on first use
loaded.indexes                          # [("<uri> <suite>", sha256 of its InRelease), ...] for the lock
"""

from .load import LoadedDebian, load_debian
from .sources import AptSource, host_architecture, read_apt_sources
from .universe import LazyDebUniverse

__all__ = [
    "AptSource",
    "LazyDebUniverse",
    "LoadedDebian",
    "host_architecture",
    "load_debian",
    "read_apt_sources",
]
