"""`LazyDebUniverse`: the solver's `DebUniverse` protocol over compact indexes (DESIGN.md, "The model").

Several indexes (sources x suites x components x architectures) are merged. A name's stanzas are parsed
into `DebCandidate`s only when the solver first asks for that name, so a solve of a few roots
materialises only the reachable part of a 60,000-package archive. Duplicates — the same (name, version,
arch) in two indexes, e.g. an `Architecture: all` package listed for amd64 and for i386, or one version
in two suites — keep the candidate of the lowest rank (the source listed first), then the first loaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from solver.model import DebCandidate

from .cache import CompactIndex
from .packages import candidates_in


@dataclass(frozen=True)
class Shard:
    """One Packages index as the universe sees it."""

    index: CompactIndex
    repository: str  # "<uri> <suite> <component>", or "<uri> <suite>" for a flat repository
    where: str  # the Packages URL, for errors
    rank: int  # the source's position in the list (0 = preferred)


class LazyDebUniverse:
    """Implements `solver.universe.DebUniverse`; every method is cheap after its first call for a name."""

    def __init__(self, shards: Sequence[Shard], native_arch: str, architectures: Sequence[str]) -> None:
        self.native_arch = native_arch
        self.architectures = tuple(architectures) or (native_arch,)
        self.shards = tuple(sorted(shards, key=lambda s: s.rank))
        self._candidates: dict[str, tuple[DebCandidate, ...]] = {}
        self._providers: dict[str, tuple[DebCandidate, ...]] = {}

    def candidates(self, name: str) -> Sequence[DebCandidate]:
        found = self._candidates.get(name)
        if found is not None:
            return found
        chosen: dict[tuple[str, str, str], DebCandidate] = {}
        for shard in self.shards:
            made = candidates_in(shard.index, name, where=shard.where, repository=shard.repository,
                                 rank=shard.rank, native_arch=self.native_arch)  # fmt: skip
            for c in made:
                if c.arch != "all" and c.arch not in self.architectures:
                    continue
                if c.key not in chosen:  # shards are in rank order: the first one wins
                    chosen[c.key] = c
        result = self._candidates[name] = tuple(chosen.values())  # one store: atomic under the GIL
        return result

    def providers(self, name: str) -> Sequence[DebCandidate]:
        found = self._providers.get(name)
        if found is not None:
            return found
        # Asked of every relation's name (17,000 times at 2,000 random roots, 11,500 names, 9,600 of
        # them provided by nothing): the loops are written out, with no generator or lock per name.
        shards = self.shards
        if len(shards) == 1:
            names: Sequence[str] = shards[0].index.providers(name)  # sorted, unique
        else:
            names = sorted({pkg for shard in shards for pkg in shard.index.providers(name)})
        result: list[DebCandidate] = []
        for pkg in names:
            for c in self.candidates(pkg):
                for p in c.provides:
                    if p.name == name:
                        result.append(c)
                        break
        found = self._providers[name] = tuple(result)  # one store: atomic, as the lock-free read above
        return found

    def base_system(self) -> Iterable[str]:
        names = {n for shard in self.shards for n in shard.index.base}
        return sorted(
            n for n in names if any(c.essential or c.priority == "required" for c in self.candidates(n))
        )

    def names(self) -> list[str]:
        """Every package name of every index, sorted (for `bundler` listings and mirror closures)."""
        return sorted({n for shard in self.shards for n in shard.index.names})

    def __len__(self) -> int:
        return len(self.names())
