"""The Python data model the resolver reads, and the protocol `repos/pypi` implements to supply it.

A `Release` is one version of one project on an index (PEP 503/691), with its distribution files; a
`DistFile` carries what the index says about the file (PEP 592 yanked, PEP 503 data-requires-python,
PEP 658/714 core metadata availability, the sha256). `CoreMetadata` is what the resolver needs from a
file's METADATA/PKG-INFO (core metadata spec 2.x: Requires-Dist, Requires-Python, PEP 643 Dynamic).
Metadata arrives through `PackageIndex`, so this package never does I/O itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any, Protocol, overload

from packaging.utils import canonicalize_name
from packaging.version import Version


@dataclass(frozen=True, slots=True)
class DistFile:
    """One file of a release as the index lists it."""

    filename: str
    url: str
    sha256: str  # "" when the index gives no sha256
    size: int | None
    requires_python: str | None
    yanked: str | None  # None: not yanked; else the reason ("" when none was given)
    core_metadata: str | None  # None: not advertised; "" advertised without hash; else its sha256
    index: str  # the index (or find-links directory) the file was listed by

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")


@dataclass(frozen=True, slots=True)
class Release:
    name: str  # canonical (PEP 503 normalised)
    version: Version
    files: tuple[DistFile, ...]


class ByPosition(Sequence[Release]):
    """Releases read by position, as a list reads them (slices, negative positions, IndexError past
    either end); a subclass says how many there are and which is at each position from 0."""

    __slots__ = ()

    def _at(self, i: int) -> Release:
        raise NotImplementedError

    @overload
    def __getitem__(self, i: int) -> Release: ...
    @overload
    def __getitem__(self, i: slice) -> list[Release]: ...
    def __getitem__(self, i: int | slice) -> Release | list[Release]:
        n = len(self)
        if isinstance(i, slice):
            return [self._at(j) for j in range(*i.indices(n))]
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        return self._at(i)

    def __iter__(self) -> Iterator[Release]:
        for i in range(len(self)):
            yield self._at(i)

    def version_at(self, i: int) -> Version:
        """The version of the release at position `i` (0 <= i < len)."""
        return self._at(i).version


class NewestFirst(ByPosition):
    """Releases already in the order the resolver walks them: newest version first, no two equal.

    An index may return its releases as this when it knows them sorted (a digest stores them so), and
    the resolver then skips sorting them again: sorting compares Versions in Python, tens of thousands
    of times for a large solve, even when the list is sorted already.

    Each release may also be made only when first read (`make(items[i])`): the resolver reads a few
    of each project's releases, the newest ones, and a large solve's pages list tens of thousands
    (38,000 for OpenStack's), each a Release and DistFiles to build. Every read of a position gives
    the same object, whichever thread reads it first.
    """

    __slots__ = ("_items", "_make", "_made", "_version_of", "_texts")

    def __init__(
        self,
        items: Sequence[Any],
        make: Callable[[Any], Release] | None = None,
        version_of: Callable[[Any], Version] | None = None,
        texts: list[str] | None = None,
    ) -> None:
        """`version_of(items[i])` (with `make`): the version of the release `make` would make of it,
        read without making it (a bisection over a project's releases reads a dozen versions).
        `texts[i]`: `str()` of the version at position i, when the index has them as text."""
        self._items = items
        self._make = make
        self._made: dict[int, Release] = {}
        self._version_of = version_of
        self._texts = texts

    def __len__(self) -> int:
        return len(self._items)

    def _at(self, i: int) -> Release:
        if self._make is None:
            return self._items[i]  # type: ignore[no-any-return]
        made = self._made.get(i)
        if made is None:
            made = self._made.setdefault(i, self._make(self._items[i]))  # atomic: the first one made is kept
        return made

    def version_at(self, i: int) -> Version:
        made = self._made.get(i) if self._make is not None else None
        if made is None and self._version_of is not None:
            return self._version_of(self._items[i])
        return (made or self._at(i)).version

    def position_of(self, version: Version) -> int | None:
        """The position of the release whose version is `version`, found by its text without
        parsing any; None when the texts are not known or none is that text (a version not listed,
        or listed in another spelling: then the caller bisects)."""
        if self._texts is None:
            return None
        try:
            return self._texts.index(str(version))
        except ValueError:
            return None

    def made_positions(self) -> set[int] | None:
        """The positions read so far, when releases are made on first read (None: they are not)."""
        return None if self._make is None else set(self._made)


@dataclass(frozen=True, slots=True)
class CoreMetadata:
    name: str
    version: str
    metadata_version: str
    requires_dist: tuple[str, ...]
    requires_python: str | None
    dynamic: tuple[str, ...]  # lower-cased field names (PEP 643)
    legacy_requires_dist: tuple[str, ...] | None = None  # an sdist's egg-info requires.txt, if any
    # What building an sdist needs (PEP 517/518), as `repos` read it from the sdist: None when not
    # known (a wheel, or an sdist whose metadata the index served apart); else "pyproject" (its
    # `[build-system] requires`), "default" (none declared: setuptools) or "invalid: <why>".
    build_system: str | None = None
    build_requires: tuple[str, ...] = ()

    @property
    def is_static(self) -> bool:
        """True when the dependencies can be trusted without building (PEP 643: 2.2+, not Dynamic)."""
        try:
            if Version(self.metadata_version) < Version("2.2"):
                return False
        except ValueError:
            return False
        return not {"requires-dist", "requires-python"} & set(self.dynamic)


# Bump when `parse_core_metadata` or the fields of `CoreMetadata` change: caches of parsed metadata
# are tagged with it.
CORE_METADATA_PARSER = 2

# Headers that `repos` adds to an sdist's PKG-INFO for what building it needs (not core metadata).
BUILD_SYSTEM = "X-Build-System"
BUILD_REQUIRES = "X-Build-Requires"


def core_metadata_fields(meta: CoreMetadata) -> tuple[object, ...]:
    """The fields of `meta` in order (plain str/tuple/None values): `CoreMetadata(*fields)` rebuilds it."""
    return tuple(getattr(meta, f.name) for f in fields(meta))


def parse_core_metadata(data: bytes) -> CoreMetadata:
    """Parse METADATA / PKG-INFO headers (RFC 822 style; the body is the description, skipped)."""
    from email.parser import BytesHeaderParser  # only for metadata not parsed before: cold runs

    msg = BytesHeaderParser().parsebytes(data)
    return CoreMetadata(
        name=canonicalize_name(str(msg.get("Name", ""))),
        version=str(msg.get("Version", "")),
        metadata_version=str(msg.get("Metadata-Version", "1.0")),
        requires_dist=tuple(str(v) for v in msg.get_all("Requires-Dist") or ()),
        requires_python=(str(msg["Requires-Python"]).strip() or None) if msg.get("Requires-Python") else None,
        dynamic=tuple(str(v).strip().lower() for v in msg.get_all("Dynamic") or ()),
        legacy_requires_dist=tuple(str(v) for v in msg.get_all("X-Legacy-Requires-Dist") or ())
        if msg.get("X-Legacy-Egg-Info")
        else None,
        build_system=str(msg[BUILD_SYSTEM]).strip() if msg.get(BUILD_SYSTEM) else None,
        build_requires=tuple(str(v) for v in msg.get_all(BUILD_REQUIRES) or ()),
    )


# Prefetch priorities, lower first: what the resolver asks now, what it will ask next (the next
# versions of a project it is backtracking through), and the speculative walk (plus its depth).
URGENT, AHEAD, SPECULATIVE = 0, 1, 2

PageCallback = Callable[[str, Sequence[Release]], None]
MetadataCallback = Callable[[Release, DistFile, CoreMetadata], None]


class PackageIndex(Protocol):
    """What the resolver needs from the indexes. `repos.pypi` implements it over HTTP and files.

    `list_releases` and `get_metadata` may block on the network; the `prefetch*` methods never block:
    they start fetches in the background and call the callback (from another thread) when done, so the
    resolver can run ahead of resolvelib's questions. An index may also have a `prefetches` attribute:
    when it is false (nothing would be fetched ahead), the resolver skips working out what to prefetch.
    """

    def list_releases(self, name: str) -> Sequence[Release]:
        """Every release of `name` (canonical) the indexes offer; [] when no index has it."""
        ...

    def get_metadata(self, release: Release, file: DistFile) -> CoreMetadata:
        """The core metadata of `file` (PEP 658 file, a range read of the wheel, or the whole file)."""
        ...

    def prefetch(
        self, names: Iterable[str], on_page: PageCallback | None = None, *, priority: int = SPECULATIVE
    ) -> None:
        """Start fetching the project pages of `names` (lower `priority` first; it may be raised later)."""
        ...

    def prefetch_metadata(
        self,
        items: Iterable[tuple[Release, DistFile]],
        on_metadata: MetadataCallback | None = None,
        *,
        priority: int = SPECULATIVE,
    ) -> None:
        """Start fetching the metadata of these files (lower `priority` first)."""
        ...
