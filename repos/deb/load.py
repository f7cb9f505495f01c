"""Loading Debian repositories into a `LazyDebUniverse`: the one entry point of `repos.deb`.

For each source and suite (wiki.debian.org/DebianRepository/Format): fetch `dists/<suite>/InRelease`
(else `Release` + `Release.gpg`) — all suites concurrently — verify them, then fetch every
`<component>/binary-<arch>/Packages` they list (and `binary-all` when listed), concurrently, in the
cheapest compression listed, by hash when the Release offers `Acquire-By-Hash`, check each against the
Release's SHA256, and build (or reuse from the cache) its compact index. A flat repository
(`deb uri dir/`) has `Release` and `Packages` directly in `<uri>/<dir>`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from solver.deb.priorities import AptRelease

from ..background import Background
from ..errors import FetchError, NotFound, OfflineMiss, ParseError
from .cache import Cache, CompactIndex, build_compact
from .decompress import choose, decompress, extensions_of
from .fetch import Fetcher, file_path, join_url
from .release import Release, keyring_identity, load_release
from .sources import AptSource, host_architecture
from .universe import LazyDebUniverse, Shard


@dataclass(frozen=True)
class LoadedDebian:
    universe: LazyDebUniverse
    indexes: list[tuple[str, str]]  # ("<uri> <suite>", sha256 of its InRelease/Release), in source order
    # What apt's priorities read (solver.deb.priorities), per Origin.repository ("<uri> <suite> <component>").
    releases: dict[str, AptRelease] = field(default_factory=dict)
    suites: tuple[LoadedSuite, ...] = ()  # the verified Releases, for what else they list (Sources)


@dataclass(frozen=True)
class _Suite:
    source: AptSource
    rank: int
    suite: str

    @property
    def url(self) -> str:  # the identity recorded in the lock
        return f"{self.source.uri} {self.suite}"

    @property
    def base(self) -> str:  # the directory holding the Release
        if self.source.is_flat:
            return join_url(self.source.uri, self.suite)
        return join_url(self.source.uri, "dists", self.suite)


@dataclass(frozen=True)
class LoadedSuite(_Suite):
    """A suite as loaded: its source, rank, name and verified Release."""

    release: Release


@dataclass(frozen=True)
class _Index:
    suite: _Suite
    release: Release
    path: str  # relative to the Release's directory, without compression extension
    component: str
    arch: str

    @property
    def repository(self) -> str:
        if self.suite.source.is_flat:
            return self.suite.url
        return f"{self.suite.url} {self.component}"


def load_debian(
    sources: Sequence[AptSource],
    *,
    architectures: Sequence[str] | None,
    cache_dir: Path,
    offline: bool = False,
    progress: Any | None = None,
    fetcher: Fetcher | None = None,
) -> LoadedDebian:
    """Fetch, verify and index `sources` (rank = position in the list) for `architectures`.

    `architectures`: the target architectures, native first; None = the sources' own (each source's
    `architectures`), else the host's. Raises a `repos.errors.RepoError` naming the URL or file at fault.
    """
    cache = Cache(Path(cache_dir))
    own = fetcher is None
    f = fetcher or Fetcher(progress=progress)
    try:
        suites = [_Suite(src, rank, suite) for rank, src in enumerate(sources) for suite in src.suites]
        releases = f.map(lambda s: _release(f, cache, s, offline), suites, description="Release files")
        targets = list(architectures or _union(s.architectures for s in sources) or (host_architecture(),))
        plan: list[_Index] = []
        for s, rel in zip(suites, releases, strict=True):
            plan.extend(_plan(s, rel, architectures))
        _check_components(sources, plan, architectures)
        indexes = f.map(lambda i: _index(f, cache, i, offline), plan, description="Packages files")
    finally:
        if own:
            f.close()
    shards = [
        Shard(idx, i.repository, join_url(i.suite.base, i.path), i.suite.rank)
        for i, idx in zip(plan, indexes, strict=True)
    ]
    universe = LazyDebUniverse(shards, native_arch=targets[0], architectures=targets)
    pairs = list(zip(suites, releases, strict=True))
    return LoadedDebian(
        universe,
        [(s.url, r.sha256) for s, r in pairs],
        {i.repository: _apt_release(i) for i in plan},
        tuple(LoadedSuite(s.source, s.rank, s.suite, r) for s, r in pairs),
    )


def release_digests(
    sources: Sequence[AptSource], *, cache_dir: Path, offline: bool = False, fetcher: Fetcher | None = None
) -> list[tuple[str, str]]:
    """("<uri> <suite>", sha256) of each suite's InRelease/Release, fetched (or, offline, cached),
    verified and checked for expiry exactly as `load_debian` does, in its order: the `indexes` a load
    would report, without reading a Packages index (what the lock fast path of `bundler solve` needs)."""
    cache = Cache(Path(cache_dir))
    own = fetcher is None
    f = fetcher or Fetcher()
    try:
        suites = [_Suite(src, rank, suite) for rank, src in enumerate(sources) for suite in src.suites]
        releases = f.map(lambda s: _release(f, cache, s, offline), suites, description="Release files")
    finally:
        if own:
            f.close()
    return [(s.url, r.sha256) for s, r in zip(suites, releases, strict=True)]


def _apt_release(i: _Index) -> AptRelease:
    fields = i.release.fields
    return AptRelease(
        archive=fields.get("Suite", ""),
        codename=fields.get("Codename", ""),
        origin=fields.get("Origin", ""),
        label=fields.get("Label", ""),
        version=fields.get("Version", ""),
        component=i.component,
        not_automatic=i.release.not_automatic,
        but_automatic_upgrades=i.release.but_automatic_upgrades,
    )


def _union(groups: Any) -> list[str]:
    out: list[str] = []
    for group in groups:
        out.extend(a for a in group if a not in out)
    return out


def _release(f: Fetcher, cache: Cache, s: _Suite, offline: bool) -> Release:
    src = s.source
    if offline:
        files = cache.read_release(s.url)
        if not files:
            raise OfflineMiss("no cached Release for this suite (run once without --offline)", where=s.url)
    else:
        files = {}
        try:
            files["InRelease"] = f.get(join_url(s.base, "InRelease"))
        except NotFound:
            try:
                files["Release"] = f.get(join_url(s.base, "Release"))
            except NotFound:
                raise FetchError(
                    join_url(s.base, "InRelease"), "the repository has neither InRelease nor Release"
                ) from None
            try:
                files["Release.gpg"] = f.get(join_url(s.base, "Release.gpg"))
            except NotFound:
                pass
    signed = files.get("InRelease") or (files.get("Release", b"") + b"\0" + files.get("Release.gpg", b"-"))
    # A Release byte-identical to one already verified with the same keyrings needs no second gpgv run
    # (~50 ms for Debian's 150 kB InRelease): the warm path then stays in memory and on the cache.
    seal = hashlib.sha256(signed + b"\0" + keyring_identity(src.signed_by).encode()).hexdigest()
    already = not src.trusted and cache.is_verified(seal)
    rel = load_release(
        inrelease=files.get("InRelease"),
        release=files.get("Release"),
        release_gpg=files.get("Release.gpg"),
        signed_by=src.signed_by,
        trusted=src.trusted or already,
        check_valid_until=src.check_valid_until,
        where=join_url(s.base, "InRelease" if "InRelease" in files else "Release"),
    )
    if not src.trusted and not already:
        cache.mark_verified(seal)
    if not offline:
        cache.write_release(s.url, files)
    return rel


def _plan(s: _Suite, rel: Release, architectures: Sequence[str] | None) -> list[_Index]:
    src = s.source
    listed = set(rel.files)
    if src.is_flat:
        if not extensions_of(listed, "Packages"):
            raise ParseError("the Release lists no Packages file", where=join_url(s.base, "Release"))
        return [_Index(s, rel, "Packages", "", "")]
    archs = list(architectures or src.architectures or (host_architecture(),))
    out = []
    for comp in src.components:
        found = []
        # apt reads binary-all only when the Release lists "all" among its Architectures, and not when
        # "No-Support-for-Architecture-all: Packages" says arch-all packages are also in every
        # architecture's Packages (the Debian archive does this). Mirrors may carry a stale binary-all
        # that apt never reads (seen on a security mirror): reading it would fail for nothing.
        wants_all = "all" in rel.architectures or not rel.architectures
        redundant_all = rel.fields.get("No-Support-for-Architecture-all", "") == "Packages"
        for arch in [*archs, "all"] if wants_all and not redundant_all else archs:
            path = f"{comp}/binary-{arch}/Packages"
            if extensions_of(listed, path):
                found.append(_Index(s, rel, path, comp, arch))
        out.extend(found)
    return out


def _check_components(
    sources: Sequence[AptSource], plan: list[_Index], architectures: Sequence[str] | None
) -> None:
    # Like apt, a suite may lack a component another suite of the same entry has (e.g. an -updates
    # suite); a component that no suite of the entry has is a mistake worth stopping for.
    for rank, src in enumerate(sources):
        have = {i.component for i in plan if i.suite.rank == rank}
        for comp in src.components:
            if comp not in have:
                archs = ", ".join(architectures or src.architectures or (host_architecture(),))
                raise ParseError(
                    f"no suite of this source has a Packages index of component {comp!r} for {archs}",
                    where=f"{src.uri} {' '.join(src.suites)}",
                )


def _index(f: Fetcher, cache: Cache, i: _Index, offline: bool) -> CompactIndex:
    rel = i.release
    cached = cache.read_index(rel.sha256, i.path)
    if cached is not None:
        return cached
    where = join_url(i.suite.base, i.path)
    if offline:
        raise OfflineMiss(f"{i.path} of this Release is not in the cache", where=i.suite.url)
    variants = extensions_of(rel.files, i.path)
    sizes = {ext: rel.files[p].size for ext, p in variants.items()}
    plain = rel.files.get(i.path)
    local = file_path(i.suite.base) is not None
    order = choose(sizes, uncompressed_size=plain.size if plain else None, local=local)
    last_error: FetchError | None = None
    for ext in order:
        rel_path = variants[ext]
        url = join_url(i.suite.base, rel_path)
        data = _get_listed(f, i, rel_path, url)
        if data is None:
            last_error = NotFound(url, "listed in the Release but missing")
            continue
        # The checksum is computed on a thread of its own (hashlib releases the GIL for large data) while
        # the index is built; nothing is kept unless it matches, and a damaged file is reported as
        # failing its checksum rather than as unparsable.
        checking = Background(rel.check, rel_path, data, url)
        try:
            index = build_compact(decompress(data, ext, url), url)
        except ParseError:
            checking.result()
            raise
        checking.result()
        cache.write_index_behind(rel.sha256, i.path, index)
        return index
    raise last_error or FetchError(where, "no usable Packages file")


def _get_listed(f: Fetcher, i: _Index, rel_path: str, url: str) -> bytes | None:
    """A file listed in the Release: by hash when offered (consistent during mirror updates), else by name."""
    if i.release.acquire_by_hash:
        digest = i.release.files[rel_path].sha256
        directory = rel_path.rsplit("/", 1)[0] if "/" in rel_path else ""
        try:
            data = f.get(join_url(i.suite.base, directory, "by-hash", "SHA256", digest))
            if hashlib.sha256(data).hexdigest() == digest:
                return data
        except NotFound:
            pass
    try:
        return f.get(url)
    except NotFound:
        return None
