"""Sources indexes: where each binary package's source package lives (wiki.debian.org/DebianRepository/Format,
"Sources Indices"; Debian Policy §5.4, source package control files, and §5.6.24 Checksums-Sha256).

A suite's Release lists `<component>/source/Sources{,.gz,.xz,...}` (a flat repository: `Sources` beside
its Release). Each stanza names a source package (`Package`, `Version`), the directory of its files
relative to the repository URI (`Directory`), and those files with their size and SHA256
(`Checksums-Sha256`): the `.dsc` and what the .dsc lists (.orig.tar.*, .debian.tar.*, or one native
.tar.*). The GPL asks that whoever ships the binaries can ship their sources: `locate` finds, for every
binary of a solve, the stanza of its source, the same repository first.

A binary names its source in the Packages `Source` field; `Source: name (version)` when the source's
version differs from the binary's, as after a binNMU (`1.0-1+b1` built from source `1.0-1`).

    suites = load_debian(...).suites            # the verified Releases the solve used
    found = locate(suites, [Need("hello", "1.0-1", "hello 1.0-1+b1 (amd64)", "<uri> <suite> main")],
                   cache_dir=cache)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from repos.files import write_atomic

from ..deb822 import read_stanzas
from ..errors import NotFound, OfflineMiss, ParseError, RepoError
from .decompress import choose, decompress, extensions_of
from .fetch import Fetcher, file_path, join_url

if TYPE_CHECKING:
    from .load import LoadedSuite


class MissingSource(RepoError):
    """A binary's source package is in no Sources index of the sources."""


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file of a source package: its name (no directory), size and SHA256."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class SourcePackage:
    """One Sources stanza, located: the files are at `uri`/`directory`/`name`."""

    name: str
    version: str
    uri: str  # the repository URI (sources.list's), which Directory is relative to
    repository: str  # "<uri> <suite> <component>" (or "<uri> <dir>/" when flat), as for binaries
    directory: str
    files: tuple[SourceFile, ...]  # sorted by name; the .dsc among them

    @property
    def dsc(self) -> SourceFile:
        return next(f for f in self.files if f.name.endswith(".dsc"))

    def url(self, f: SourceFile) -> str:
        return join_url(self.uri, self.directory, f.name)


@dataclass(frozen=True, slots=True)
class Need:
    """A source package some binaries need: name, version, who needs it (for errors), preferred repository."""

    source: str
    version: str
    needed_by: str  # e.g. "hello 1.0-1+b1 (amd64)"
    repository: str  # the binary's "<uri> <suite> [component]": searched first


def parse_checksums(value: str, where: str) -> tuple[SourceFile, ...]:
    """The lines of a Checksums-Sha256 (or Files, for any digest) field: "<digest> <size> <name>"."""
    out = []
    for line in value.split("\n"):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3 or not parts[1].isdigit() or "/" in parts[2] or parts[2] in (".", ".."):
            raise ParseError(f"malformed checksum line {line.strip()!r}", where=where)
        out.append(SourceFile(parts[2], int(parts[1]), parts[0].lower()))
    return tuple(sorted(out, key=lambda f: f.name))


def _wanted_stanzas(data: bytes, wanted: set[str]) -> bytes:
    """The stanzas of `data` whose Package is in `wanted` (perhaps with a neighbour, which the caller
    filters out): a solve needs a few hundred of Debian's 36,000 sources, and parsing only those is
    several times faster than parsing all 40 MB."""
    parts = []
    data = b"\n" + data
    at = data.find(b"\nPackage:")
    while at >= 0:
        eol = data.find(b"\n", at + 9)
        eol = len(data) if eol < 0 else eol
        if data[at + 9 : eol].strip().decode("utf-8", "replace") in wanted:
            start = data.rfind(b"\n\n", 0, at + 1)
            end = data.find(b"\n\n", eol)
            parts.append(data[start + 2 if start >= 0 else 1 : end if end >= 0 else len(data)])
        at = data.find(b"\nPackage:", eol)
    return b"\n\n".join(parts) + b"\n"


def parse_sources(
    data: bytes, where: str, *, uri: str, repository: str, wanted: set[str] | None = None
) -> list[SourcePackage]:
    """The stanzas of a (decompressed) Sources file; only those named in `wanted` when given (then
    the other stanzas are not parsed, and errors name the stanza by its number among those read)."""
    out = []
    if wanted is not None:
        data = _wanted_stanzas(data, wanted)
    # A filtered text has other line numbers than the file: its errors name the file alone.
    first_line = 1 if wanted is None else None
    for n, fields in enumerate(read_stanzas(data, where, first_line=first_line), 1):
        name = fields.get("Package", "")
        if wanted is not None and name not in wanted:
            continue
        at = f"{where}: stanza {n}"
        version, directory = fields.get("Version", ""), fields.get("Directory", "")
        if not name or not version or not directory:
            raise ParseError(f"source {name or '?'} lacks Package, Version or Directory", where=at)
        if directory.startswith("/") or ".." in directory.split("/"):
            raise ParseError(f"source {name} {version}: Directory {directory!r} leaves the repository", where=at)
        checksums = fields.get("Checksums-Sha256")
        if not checksums:
            raise ParseError(f"source {name} {version} has no Checksums-Sha256", where=at)
        files = parse_checksums(checksums, at)
        if any(len(f.sha256) != 64 for f in files) or not any(f.name.endswith(".dsc") for f in files):
            raise ParseError(f"source {name} {version}: bad Checksums-Sha256 (or no .dsc)", where=at)
        out.append(SourcePackage(name, version, uri, repository, directory, files))
    return out


def _sources_path(s: LoadedSuite, component: str) -> str:
    return "Sources" if s.source.is_flat else f"{component}/source/Sources"


def _repository(s: LoadedSuite, component: str) -> str:
    return s.url if s.source.is_flat else f"{s.url} {component}"


def _cache_path(cache_dir: Path, release_sha256: str, path: str) -> Path:
    return cache_dir / "deb" / "sources" / release_sha256 / path.replace("/", "_")


def _read_index(f: Fetcher, s: LoadedSuite, path: str, cache_dir: Path, offline: bool) -> bytes | None:
    """The decompressed Sources file `path` of suite `s`, checked against its Release; None if unlisted."""
    rel = s.release
    variants = extensions_of(rel.files, path)
    if not variants:
        return None
    sizes = {ext: rel.files[p].size for ext, p in variants.items()}
    plain = rel.files.get(path)
    order = choose(sizes, uncompressed_size=plain.size if plain else None, local=file_path(s.base) is not None)
    cached = _cache_path(cache_dir, rel.sha256, path)
    for ext in order:  # a verified copy kept by an earlier solve: offline works, online saves a fetch
        p = cached.with_name(cached.name + (ext or ".plain"))
        if p.is_file():
            data = p.read_bytes()
            if hashlib.sha256(data).hexdigest() == rel.files[variants[ext]].sha256:
                return decompress(data, ext, str(p))
    if offline:
        raise OfflineMiss(f"{path} of this Release is not in the cache (run once without --offline)", where=s.url)
    last: Exception | None = None
    for ext in order:
        url = join_url(s.base, variants[ext])
        try:
            data = f.get(url)
        except NotFound as e:
            last = e
            continue
        rel.check(variants[ext], data, url)
        out = decompress(data, ext, url)
        try:
            write_atomic(cached.with_name(cached.name + (ext or ".plain")), data)
        except OSError:
            pass  # the cache only saves work
        return out
    assert last is not None
    raise last


def _version_key(version: str) -> str:
    # A Packages `Source: x (v)` may carry or drop the epoch the Sources stanza has: compare without it.
    return version.split(":", 1)[1] if ":" in version else version


def locate(
    suites: Sequence[LoadedSuite],
    needs: Iterable[Need],
    *,
    cache_dir: Path,
    offline: bool = False,
    fetcher: Fetcher | None = None,
) -> list[SourcePackage]:
    """The Sources stanza of each needed source, once per (name, version), sorted by name and version.

    Searched in the binary's own repository first, then in every suite in source order. Raises
    MissingSource naming the source, its version and a binary that needs it when no index has it,
    and ParseError/IntegrityError/FetchError for a bad, damaged or unreadable Sources file.
    """
    todo: dict[tuple[str, str], Need] = {}
    for need in needs:
        todo.setdefault((need.source, need.version), need)
    if not todo:
        return []
    wanted = {name for name, _ in todo}
    jobs = [
        (s, comp)
        for s in sorted(suites, key=lambda s: s.rank)
        for comp in (("",) if s.source.is_flat else s.source.components)
    ]
    own = fetcher is None
    f = fetcher or Fetcher()
    try:

        def load(job: tuple[LoadedSuite, str]) -> list[SourcePackage]:
            s, comp = job
            path = _sources_path(s, comp)
            data = _read_index(f, s, path, Path(cache_dir), offline)
            if data is None:
                return []
            where = join_url(s.base, path)
            return parse_sources(data, where, uri=s.source.uri, repository=_repository(s, comp), wanted=wanted)

        found = f.map(load, jobs, description="Sources files")
    finally:
        if own:
            f.close()
    index: dict[tuple[str, str], list[SourcePackage]] = {}
    for stanzas in found:  # in source order: the first suite that has a source wins a tie
        for sp in stanzas:
            index.setdefault((sp.name, _version_key(sp.version)), []).append(sp)
    out = []
    for (name, version), need in sorted(todo.items()):
        hits = index.get((name, _version_key(version)), [])
        if not hits:
            where = ", ".join(sorted({s.url for s in suites})) or None
            raise MissingSource(
                f"source package {name} {version}, needed by {need.needed_by}, is in no Sources index",
                where=where,
                hint="the repository must publish <component>/source/Sources, or turn source-packages off",
            )
        same = [sp for sp in hits if sp.repository == need.repository]
        out.append((same or hits)[0])
    return out
