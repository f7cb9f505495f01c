"""Metadata given by the spec instead of read from a file (what uv calls `dependency-metadata`).

Some releases ship only an sdist whose requirements are computed by running its build (PEP 643
"dynamic"), and the egg-info inside may have been written on another machine for another target (salt's
sdist says `cryptography<43` where its build for Python 3.11 would not). bundler never runs a package's
code, so the release engineer states those requirements in the spec, and this wrapper of a
`PackageIndex` answers with them. Everything else is passed through to the wrapped index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import Version

from .model import SPECULATIVE, CoreMetadata, DistFile, MetadataCallback, PackageIndex, Release


@dataclass(frozen=True, slots=True)
class MetadataOverride:
    name: str
    version: str | None  # None: every version
    requires_dist: tuple[str, ...]
    requires_python: str | None = None


class OverridingIndex:
    """A PackageIndex whose core metadata for the overridden releases comes from the spec."""

    def __init__(self, index: PackageIndex, overrides: Sequence[MetadataOverride]) -> None:
        self._index = index
        self._by_name: dict[str, list[MetadataOverride]] = {}
        for o in overrides:
            self._by_name.setdefault(canonicalize_name(o.name), []).append(o)

    def override_for(self, release: Release) -> MetadataOverride | None:
        for o in self._by_name.get(release.name, ()):
            if o.version is None or Version(o.version) == release.version:
                return o
        return None

    def _metadata(self, o: MetadataOverride, release: Release, file: DistFile) -> CoreMetadata:
        return CoreMetadata(
            name=release.name,
            version=str(release.version),
            metadata_version="2.2",
            requires_dist=o.requires_dist,
            requires_python=o.requires_python if o.requires_python is not None else file.requires_python,
            dynamic=(),
        )

    def get_metadata(self, release: Release, file: DistFile) -> CoreMetadata:
        o = self.override_for(release)
        if o is not None:
            return self._metadata(o, release, file)
        return self._index.get_metadata(release, file)

    def prefetch_metadata(
        self,
        items: Iterable[tuple[Release, DistFile]],
        on_metadata: MetadataCallback | None = None,
        *,
        priority: int = SPECULATIVE,
    ) -> None:
        rest = []
        for release, file in items:
            o = self.override_for(release)
            if o is None:
                rest.append((release, file))
            elif on_metadata is not None:
                on_metadata(release, file, self._metadata(o, release, file))
        if rest:
            self._index.prefetch_metadata(rest, on_metadata, priority=priority)

    # The index's kept dependencies (solver.python.predigest) derive from its own metadata: never for
    # a release whose metadata the spec states.
    def digested_dependencies(
        self, release: Release, file: DistFile, extra: str, platforms: tuple[str, ...]
    ) -> Any:
        if self.override_for(release) is not None:
            return None
        fn = getattr(self._index, "digested_dependencies", None)
        return fn(release, file, extra, platforms) if fn is not None else None

    def store_digested_dependencies(
        self, release: Release, file: DistFile, extra: str, platforms: tuple[str, ...], payload: Any
    ) -> None:
        fn = getattr(self._index, "store_digested_dependencies", None)
        if fn is not None and self.override_for(release) is None:
            fn(release, file, extra, platforms, payload)

    def __getattr__(self, name: str) -> Any:  # list_releases, prefetch, pages, notes, close, ...
        return getattr(self._index, name)
