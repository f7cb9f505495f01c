"""The universe: every Debian candidate the solver may choose from, indexed by name and by Provides.

`DebUniverse` is the protocol the solver reads through; `repos/` implements it lazily over its cache
so that a solve of a few roots materialises only the packages reachable from them. `MemoryUniverse`
is the plain in-memory implementation used by tests and by callers that already hold candidates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Protocol

from .model import DebCandidate


class DebUniverse(Protocol):
    """Read access to the candidates. Every method is cheap after its first call for a name."""

    native_arch: str
    architectures: tuple[str, ...]  # the target architectures, native first

    def candidates(self, name: str) -> Sequence[DebCandidate]:
        """All candidates called `name`, every architecture and version, in no particular order."""
        ...

    def providers(self, name: str) -> Sequence[DebCandidate]:
        """All candidates whose Provides names `name` (not those merely called `name`)."""
        ...

    def base_system(self) -> Iterable[str]:
        """Names of the packages a fresh install has: Essential: yes or Priority: required."""
        ...

    def names(self) -> Iterable[str]:
        """Every real package name (for archive-wide checks; a solve never needs it)."""
        ...


class MemoryUniverse:
    """A universe over a list of candidates held in memory.

    Duplicates (same name, version and arch, e.g. one version in two suites) keep the candidate
    whose origin has the lowest rank, i.e. the source listed first in the spec.
    """

    def __init__(
        self,
        candidates: Iterable[DebCandidate],
        native_arch: str = "amd64",
        architectures: Sequence[str] | None = None,
    ) -> None:
        self.native_arch = native_arch
        self.architectures = tuple(architectures or (native_arch,))
        chosen: dict[tuple[str, str, str], DebCandidate] = {}
        for c in candidates:
            old = chosen.get(c.key)
            if old is None or _rank(c) < _rank(old):
                chosen[c.key] = c
        self._by_name: dict[str, list[DebCandidate]] = defaultdict(list)
        self._by_provides: dict[str, list[DebCandidate]] = defaultdict(list)
        for c in chosen.values():
            self._by_name[c.name].append(c)
            for p in c.provides:
                self._by_provides[p.name].append(c)

    def candidates(self, name: str) -> Sequence[DebCandidate]:
        return self._by_name.get(name, ())

    def providers(self, name: str) -> Sequence[DebCandidate]:
        return self._by_provides.get(name, ())

    def base_system(self) -> Iterable[str]:
        return sorted(
            {
                c.name
                for cs in self._by_name.values()
                for c in cs
                if c.essential or c.priority == "required"
            }
        )

    def names(self) -> Iterable[str]:
        return sorted(self._by_name)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_name.values())


def _rank(c: DebCandidate) -> int:
    return c.origin.rank if c.origin is not None else 0
