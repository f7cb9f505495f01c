"""What changed between two locks: packages added, removed, and moved to another version.

Release engineers review this before shipping an update of a bundle ("which versions does this
re-solve change, and why?"): with `--why`, each change is traced to a root through the new lock's graph.
"""

from __future__ import annotations

from dataclasses import dataclass

from bundler.lock import Lock


@dataclass(frozen=True, slots=True)
class Change:
    id: str  # the lock id: deb:name:arch or python:name
    old: str | None  # None: added
    new: str | None  # None: removed

    @property
    def kind(self) -> str:
        return "added" if self.old is None else "removed" if self.new is None else "changed"


def _versions(lock: Lock) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in lock.packages:
        out.setdefault(p.id, p.version)  # a Python project has one version whatever its platforms
    return out


def diff_locks(old: Lock, new: Lock) -> list[Change]:
    """Changes from `old` to `new`, sorted by id."""
    a, b = _versions(old), _versions(new)
    return [Change(i, a.get(i), b.get(i)) for i in sorted(a.keys() | b.keys()) if a.get(i) != b.get(i)]
