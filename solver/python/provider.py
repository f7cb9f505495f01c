"""The resolvelib provider for Python packages (resolvelib's `AbstractProvider`, as pip uses it).

Identifiers are canonical project names, `name[extra]` for an extra (which depends on `name==version`
itself, pip's approach) and `<python>` for the target interpreter (so Requires-Python from metadata
takes part in backtracking and in explanations). A candidate carries the set of target platforms it
must serve: it is usable only when every one of those platforms has an installable file (a wheel whose
tags the platform accepts, else an sdist with static PEP 643 metadata); a requirement applies to the
platforms where its PEP 508 marker holds. Vetoes, constraints and fixes filter candidates before
resolvelib sees them, and the reason each version was dropped is kept for the explanation.

The provider never blocks resolvelib on one request at a time: every name it meets is prefetched and,
as each project page arrives, the metadata of its newest usable release is prefetched too, and that
metadata's dependencies in turn (a speculative walk of the newest-version closure, like uv's).
"""

from __future__ import annotations

import bisect
import dataclasses
import operator
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version
from resolvelib import AbstractProvider

from .files import FileChoice
from .files import requires_python_spec as _spec_or_none
from .model import AHEAD, SPECULATIVE, ByPosition, CoreMetadata, DistFile, NewestFirst, PackageIndex, Release
from .predigest import from_payload, to_payload
from .requirements import requirement_or_none as _requirement_or_none
from .target import Target

PYTHON = "<python>"


@dataclass(frozen=True, slots=True)
class VetoRule:
    name: str  # canonical
    specifier: SpecifierSet | None  # None: every version
    reason: str

    @property
    def label(self) -> str:
        return f"{self.name}{self.specifier}" if self.specifier else self.name


@dataclass(frozen=True, slots=True)
class Req:
    key: str  # the resolvelib identifier
    name: str
    extra: str | None
    specifier: SpecifierSet
    platforms: frozenset[str]
    text: str  # for explanations, e.g. "b[x]>=2"
    kind: str = "dep"  # "root" | "fix" | "dep" | "base" (an extra's own package) | "python"
    # Read from `specifier` once: find_matches and get_preference ask them of every requirement on a
    # project each time another one is added, and SpecifierSet computes them on each access.
    pinned: bool = field(init=False, compare=False, repr=False)  # == one version (or ===)
    prereleases: bool = field(init=False, compare=False, repr=False)  # it admits pre-releases

    def __post_init__(self) -> None:
        pinned, prereleases = _spec_flags(self.specifier)
        object.__setattr__(self, "pinned", pinned)
        object.__setattr__(self, "prereleases", prereleases)


@dataclass(frozen=True, slots=True)
class Cand:
    key: str
    name: str
    extra: str | None
    version: Version
    platforms: frozenset[str]
    files: tuple[tuple[str, DistFile], ...] = field(compare=False, default=())
    release: Release | None = field(compare=False, default=None)

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    def file_for(self, platform: str) -> DistFile:
        return dict(self.files)[platform]


def _first_below(releases: Sequence[Release], version: Version, *, or_equal: bool) -> int:
    """In `releases`, sorted newest first, the first position whose version is older than
    `version` (or equal to it, with `or_equal`); len(releases) when none is. By bisection, reading
    the versions only (`ByPosition.version_at`: a NewestFirst of a digest makes no release for it)."""
    lo, hi = 0, len(releases)
    while lo < hi:
        mid = (lo + hi) // 2
        v = _version_at(releases, mid)
        if v > version or (v == version and not or_equal):
            lo = mid + 1
        else:
            hi = mid
    return lo


def _version_at(releases: Sequence[Release], i: int) -> Version:
    return releases.version_at(i) if isinstance(releases, ByPosition) else releases[i].version


def _positions_of(walk: Sequence[Release], key: _VersionKey, oldest: Version) -> list[int]:
    """The positions (ascending) in `walk` of the releases whose `_version_key` is `key`, `oldest`
    being the oldest version with that key. The walk (`_releases_walk`, or a `_MovedFirst` of it) is
    sorted newest first with no two versions equal, so those releases lie together just before the
    first release older than `oldest` (a local label sorts after the version without it, and a
    version with another key before or after them all): found by the text of `oldest` when the walk
    knows its versions' texts (a digest's), else by bisection, reading a dozen releases, and then
    the matching ones, instead of every release of the project."""
    releases, moved = (walk._releases, walk._position) if isinstance(walk, _MovedFirst) else (walk, None)
    # the release whose version is `oldest`, when the walk finds it by its text, is just before the
    # first older one (no two versions are equal); else bisect, parsing a dozen versions
    at = releases.position_of(oldest) if isinstance(releases, NewestFirst) else None
    lo = at + 1 if at is not None else _first_below(releases, oldest, or_equal=False)
    first = lo
    while first > 0 and _version_key(_version_at(releases, first - 1)) == key:
        first -= 1
    positions = list(range(first, lo))
    if moved is not None:  # the positions in the walk with the release at `moved` put first
        positions = sorted(0 if p == moved else p + 1 if p < moved else p for p in positions)
    return positions


class _MovedFirst(ByPosition):
    """`releases` with the one at `position` moved to the front, the others in their order."""

    __slots__ = ("_releases", "_position")

    def __init__(self, releases: Sequence[Release], position: int) -> None:
        self._releases = releases
        self._position = position

    def __len__(self) -> int:
        return len(self._releases)

    def _at(self, i: int) -> Release:
        if i == 0:
            return self._releases[self._position]
        return self._releases[i - 1 if i <= self._position else i]


def identifier(name: str, extra: str | None) -> str:
    return f"{name}[{extra}]" if extra else name


_FLAGS: dict[int, tuple[SpecifierSet, bool, bool]] = {}


def _spec_flags(spec: SpecifierSet) -> tuple[bool, bool]:
    """(pinned, admits pre-releases) of a specifier set, kept per object: a warm OpenStack solve
    makes 3,300 Reqs of a few hundred specifier objects (the provider shares one per text), and each
    flag cost a pass over the specifiers. By identity, not equality: SpecifierSets that differ only
    in an explicit `prereleases` compare equal. An entry holds its object, so the id is not reused;
    at 4,096 entries they are dropped."""
    hit = _FLAGS.get(id(spec))
    if hit is None:
        if len(_FLAGS) >= 4096:
            _FLAGS.clear()
        hit = _FLAGS[id(spec)] = (spec, _pinned(spec), bool(spec.prereleases))
    return hit[1], hit[2]


def _pinned(spec: SpecifierSet) -> bool:
    return any(s.operator == "===" or (s.operator == "==" and not s.version.endswith("*")) for s in spec)


_VersionKey = tuple[Any, ...]


def _version_key(v: Version) -> _VersionKey:
    """What PEP 440 `==` compares of a version: its public part, with trailing zeros of the release
    dropped (`1.0` == `1.0.0`). A local label is left out: `==1.0` admits `1.0+local`."""
    release = v.release
    end = len(release)
    while end > 1 and release[end - 1] == 0:
        end -= 1
    return (v.epoch, release[:end], v.pre, v.post, v.dev)


def _pin_key(spec: SpecifierSet) -> tuple[_VersionKey, Version] | None:
    """The `_version_key` every version `spec` admits must have, when it pins one (`==X`, `===X`),
    and X without its local label (the oldest version with that key).

    `==X` (no wildcard) admits only versions equal to X, up to zero padding and, when X has no local
    label, the candidate's local label; `===X` admits only versions whose text is X, and a Version's
    text is its normalised form, so they too are equal to Version(X). None: no such pin, or X does not
    parse as a version (left to the plain walk, where `contains` decides).
    """
    for s in spec:
        if s.operator == "===" or (s.operator == "==" and not s.version.endswith("*")):
            try:
                version = Version(s.version)
                return _version_key(version), (version if version.local is None else Version(version.public))
            except ValueError:
                return None
    return None


class _ReqsRead:
    """What find_matches reads of the requirements on one identifier, for the list it was read from.

    resolvelib adds a project's requirements one at a time and asks find_matches again with all of
    them each time, so a project many others require (pbr, oslo.i18n: over a hundred requirers in
    OpenStack's set) made each call pass over every requirement again. `extended` reads only the
    requirement added when the list is the last one read plus one (`PythonProvider._reqs_read`)."""

    __slots__ = ("reqs", "platforms", "pinned", "prereleases", "checks", "specs", "pin")

    def __init__(self) -> None:
        self.reqs: list[Req] = []
        self.platforms: frozenset[str] = frozenset()  # where some requirement applies
        self.pinned = False  # some requirement pins one version (PEP 592: a yanked release is usable)
        self.prereleases = False  # some requirement admits pre-releases
        # each distinct non-empty specifier object once, with its `_contains` memo, in order
        self.checks: list[tuple[SpecifierSet, dict[int, bool]]] = []
        self.specs: set[int] = set()
        self.pin: tuple[_VersionKey, Version] | None = None  # `_first_pin` of the requirements

    def extended(self, provider: PythonProvider, reqs: list[Req], start: int) -> _ReqsRead:
        """This read, taken on to `reqs[start:]` (it is the read of `reqs[:start]`)."""
        platforms, pinned, pre, pin = self.platforms, self.pinned, self.prereleases, self.pin
        checks, specs = list(self.checks), set(self.specs)
        for r in reqs[start:]:
            platforms = platforms | r.platforms
            pinned = pinned or r.pinned
            pre = pre or r.prereleases
            spec = r.specifier
            if id(spec) not in specs and len(spec):
                specs.add(id(spec))
                checks.append((spec, provider._contains_memo(spec)))
            if pin is None and r.pinned:
                pin = provider._first_pin((r,))
        read = _ReqsRead()
        read.reqs, read.platforms, read.pinned, read.prereleases = reqs, platforms, pinned, pre
        read.checks, read.specs, read.pin = checks, specs, pin
        return read


_NOTHING_READ = _ReqsRead()

_BATCH_STEP, _BATCH_MAX = 8, 32  # backtracking prefetch: 8 versions per version walked, at most 32
_SPECULATIVE_SDIST_SIZE = 2 << 20  # sdists are downloaded whole for their metadata: small ones only


class PythonProvider(AbstractProvider):  # type: ignore[type-arg]
    def __init__(
        self,
        index: PackageIndex,
        target: Target,
        *,
        roots: Sequence[Req] = (),
        constraints: Mapping[str, Sequence[Req]] | None = None,
        vetoes: Sequence[VetoRule] = (),
        preferred: Mapping[str, str] | None = None,
        legacy_sdists: bool = False,
    ) -> None:
        self.index = index
        # an index that fetches nothing ahead (offline: everything is local) is not told what to fetch
        self.prefetching = bool(getattr(index, "prefetches", True))
        self.legacy_sdists = legacy_sdists
        self.target = target
        self.all_platforms = frozenset(target.platforms)
        self.platform_targets = {p.platform: p for p in target.per_platform}
        self.choice = FileChoice(target)
        self.root_keys = {r.key for r in roots}
        self.root_reqs = list(roots)
        self.constraints = dict(constraints or {})
        self.vetoes: dict[str, list[VetoRule]] = defaultdict(list)
        for v in vetoes:
            self.vetoes[v.name].append(v)
        self.preferred: dict[str, Version] = {}
        for k, text in (preferred or {}).items():
            try:
                self.preferred[canonicalize_name(k)] = Version(text)
            except ValueError:
                pass
        self.python_cand = Cand(PYTHON, PYTHON, None, target.version, self.all_platforms)
        self.notes: list[str] = []
        self.excluded: dict[str, dict[Version, str]] = defaultdict(dict)  # name -> version -> why
        self.veto_removed: dict[tuple[str, Version], VetoRule] = {}
        self.tried: dict[str, set[Version]] = defaultdict(set)
        self._releases: dict[str, list[Release]] = {}
        self._usable: dict[tuple[str, Version, frozenset[str], bool], Cand | None] = {}
        self._contains_cache: dict[int, tuple[SpecifierSet, dict[int, bool]]] = {}
        self._keepalive: list[object] = []
        self._satisfied: dict[tuple[int, int], bool] = {}
        self._deps: dict[Cand, list[Req]] = {}
        self._sdist_ok: dict[tuple[str, Version, str], bool] = {}
        self._metadata: dict[Cand, CoreMetadata] = {}
        self._markers: dict[str, Marker | None] = {}  # marker text -> parsed (None: invalid)
        self._parsed: dict[str, Requirement | None] = {}
        self._specs: dict[str, SpecifierSet] = {}
        self._marker_cache: dict[int, tuple[Marker, dict[tuple[str, str], bool]]] = {}
        self._python_excluded = False  # some requirement on PYTHON excludes the target's version
        self._walk: dict[str, Sequence[Release]] = {}  # releases, newest first (`_releases_walk`)
        self._pref_walk: dict[str, Sequence[Release]] = {}  # the walk with the preferred version first
        # (name, in the preferred walk, a pin's _version_key) -> the positions in that walk
        self._pin_positions: dict[tuple[str, bool, _VersionKey], list[int]] = {}
        # projects whose walk a constraint's pin shortened, and those walked with pre-releases
        # (`exclusions` says what the full walk would have of the releases it skipped)
        self._skipped_by_constraint: set[str] = set()
        self._pin_keys: dict[int, tuple[SpecifierSet, tuple[_VersionKey, Version] | None]] = {}
        self._reads: dict[str, _ReqsRead] = {}  # identifier -> the last requirements find_matches read
        self._constraint_pins: dict[str, tuple[bool, tuple[_VersionKey, Version] | None]] = {}
        self._pre_walked: set[str] = set()
        # speculation state, touched from the index's threads
        self._spec_lock = threading.Lock()
        self._spec_seen: set[str] = set()
        self._spec_hint: dict[str, SpecifierSet] = {}
        self._spec_depth: dict[str, int] = {}
        self._spec_extras: dict[str, set[str]] = defaultdict(set)  # extras some requirer asked for
        self._spec_requires: dict[str, tuple[str, ...]] = {}  # the speculated release's Requires-Dist

    # ---- prefetch / speculation -------------------------------------------------------------
    def start(self) -> None:
        if not self.prefetching:  # nothing is fetched ahead: no speculation to set up
            return
        names = {r.name for r in self.root_reqs}
        with self._spec_lock:
            for r in self.root_reqs:
                self._spec_hint[r.name] = self._spec_hint.get(r.name, SpecifierSet()) & r.specifier
            for name, reqs in self.constraints.items():
                for r in reqs:
                    self._spec_hint[name] = self._spec_hint.get(name, SpecifierSet()) & r.specifier
            self._spec_seen |= names
            for n in names:
                self._spec_depth[n] = 0
            for r in self.root_reqs:
                if r.extra is not None:
                    self._spec_extras[r.name].add(r.extra)
        self.index.prefetch(sorted(names), self._speculate_page, priority=AHEAD)

    def _speculate_page(self, name: str, releases: Sequence[Release]) -> None:
        try:
            hint = self._spec_hint.get(name, SpecifierSet())
            depth = self._spec_depth.get(name, 0)
            # newest first; a NewestFirst is in that order already, and makes each release as it is
            # read: sorting it would make all of them (38,000 for OpenStack's pages)
            walk = (
                releases
                if isinstance(releases, NewestFirst)
                else sorted(releases, key=lambda r: r.version, reverse=True)
            )
            for rel in walk:
                if rel.version.is_prerelease or not hint.contains(rel.version, prereleases=True):
                    continue
                if self._vetoed(name, rel.version) is not None:
                    continue
                files = self._files_for(rel, self.all_platforms, allow_yanked=False)
                if files is None:
                    continue
                file = files[0][1]
                if file.is_wheel or (file.size is not None and file.size <= _SPECULATIVE_SDIST_SIZE):
                    self.index.prefetch_metadata(
                        [(rel, file)], self._speculate_metadata, priority=SPECULATIVE + depth
                    )
                return
        except Exception:  # speculation is only a hint; the real question will report errors
            return

    def _speculate_metadata(self, release: Release, file: DistFile, meta: CoreMetadata) -> None:
        try:
            requires = meta.requires_dist
            if not file.is_wheel and not meta.is_static and meta.legacy_requires_dist is not None:
                requires = meta.legacy_requires_dist
            with self._spec_lock:
                self._spec_requires[release.name] = tuple(requires)
                extras = frozenset(self._spec_extras.get(release.name, ()))
            self._speculate_deps(release.name, tuple(requires), extras | {""})
        except Exception:
            return

    def _speculate_deps(self, name: str, requires: Sequence[str], extras: Iterable[str]) -> None:
        """Prefetch the pages of what `name` requires with these extras ("" for the base)."""
        depth = self._spec_depth.get(name, 0) + 1
        new: list[str] = []
        again: list[tuple[str, tuple[str, ...], frozenset[str]]] = []  # seen before, now with more extras
        for text in requires:
            req = self._parse(text)
            if req is None:
                continue
            if req.marker is not None and not any(
                self._marker_true(req.marker, p, e) for p in self.all_platforms for e in extras
            ):
                continue
            dep: str = canonicalize_name(req.name)
            wanted: frozenset[str] = frozenset(canonicalize_name(e) for e in req.extras)
            with self._spec_lock:
                had = self._spec_extras.setdefault(dep, set())
                more = wanted - had
                had |= more
                if dep not in self._spec_seen:
                    self._spec_seen.add(dep)
                    self._spec_hint[dep] = req.specifier
                    self._spec_depth[dep] = depth
                    new.append(dep)
                elif more and dep in self._spec_requires:
                    again.append((dep, self._spec_requires[dep], more))
        if new:
            self.index.prefetch(new, self._speculate_page, priority=SPECULATIVE + depth)
        for again_name, again_requires, again_extras in again:
            self._speculate_deps(again_name, again_requires, again_extras)

    # ---- helpers ---------------------------------------------------------------------------
    def _parse(self, text: str) -> Requirement | None:
        if text not in self._parsed:
            req = self._parse_split(text)
            if req is not None:
                # one SpecifierSet per distinct text: `_contains` answers per specifier object, and
                # many projects state the same range for a common dependency
                req.specifier = self._specs.setdefault(str(req.specifier), req.specifier)
            self._parsed[text] = req
        return self._parsed[text]

    def _parse_split(self, text: str) -> Requirement | None:
        """`Requirement(text)`, or None when it is invalid; each distinct marker is parsed once.

        Thousands of Requires-Dist lines share a few hundred markers (`extra == "test"`, Python
        version bounds), and packaging's marker grammar is the costly part. Without a URL (which may
        hold a ";") the requirement is what precedes the first ";" and the marker what follows it,
        and a marker parses the same alone as after a requirement; anything that does not parse in
        two parts is left to the full parser, so errors are decided by it.
        """
        head, sep, marker_text = text.partition(";")
        if "@" not in head:
            if not sep:
                return _requirement_or_none(text)
            marker = self._markers.get(marker_text)
            if marker is None and marker_text not in self._markers:
                try:
                    marker = Marker(marker_text)
                except InvalidMarker:
                    marker = None
                self._markers[marker_text] = marker
            if marker is not None:
                req = _requirement_or_none(head)
                if req is not None:
                    req.marker = marker
                    return req
        return _requirement_or_none(text)

    def _marker_true(self, marker: Marker, platform: str, extra: str) -> bool:
        # each marker is evaluated once per platform and extra (the same requirement is read again for
        # every extra of a project); the entry holds the marker, so its id is not reused meanwhile
        entry = self._marker_cache.get(id(marker))
        if entry is None:
            entry = self._marker_cache.setdefault(id(marker), (marker, {}))
        hit = entry[1].get((platform, extra))
        if hit is None:
            env = dict(self.platform_targets[platform].environment)
            env["extra"] = extra
            hit = entry[1][(platform, extra)] = marker.evaluate(env)
        return hit

    def _vetoed(self, name: str, version: Version) -> VetoRule | None:
        for v in self.vetoes.get(name, ()):
            if v.specifier is None or v.specifier.contains(version, prereleases=True):
                return v
        return None

    def releases(self, name: str) -> list[Release]:
        """Every release of `name`, newest first."""
        if name not in self._releases:
            self._releases[name] = list(self._releases_walk(name))
        return self._releases[name]

    def _releases_walk(self, name: str) -> Sequence[Release]:
        """`releases(name)` as find_matches walks them: what the index gave when it is `NewestFirst`
        (in this order already, and its releases are made only as the walk reaches them), else sorted.
        """
        walk = self._walk.get(name)
        if walk is None:
            got = self.index.list_releases(name)
            if not isinstance(got, NewestFirst):
                got = sorted(got, key=lambda r: r.version, reverse=True)
            walk = self._walk[name] = got
        return walk

    def _preferred_walk(self, name: str, pref: Version) -> Sequence[Release]:
        """`_releases_walk(name)` with the preferred version first, the others in their order (made
        once per project: every project has a preferred version when a previous lock is kept).

        The walk is sorted newest first with no two versions equal, so the preferred release is found
        by bisection: a dozen releases read, not all of them (a NewestFirst makes each release read,
        and a re-solve of OpenStack's requirements with its previous lock made all 38,000)."""
        walk = self._pref_walk.get(name)
        if walk is None:
            releases = self._releases_walk(name)
            lo = _first_below(releases, pref, or_equal=True)
            found = lo < len(releases) and _version_at(releases, lo) == pref
            walk = self._pref_walk[name] = _MovedFirst(releases, lo) if found and lo else releases
        return walk

    def _first_pin(self, reqs: Iterable[Req]) -> tuple[_VersionKey, Version] | None:
        """`_pin_key` of the first of `reqs` that pins one version, or None (each specifier's once:
        find_matches asks on every call, and a Version parse per pin each time added up)."""
        for r in reqs:
            if r.pinned:
                spec = r.specifier
                entry = self._pin_keys.get(id(spec))
                if entry is None:
                    entry = self._pin_keys[id(spec)] = (spec, _pin_key(spec))  # holds spec: its id stays
                if entry[1] is not None:
                    return entry[1]
        return None

    def _reqs_read(self, identifier: str, reqs: list[Req]) -> _ReqsRead:
        """`_ReqsRead` of `reqs`, from the last one of `identifier` when `reqs` extends it."""
        last = self._reads.get(identifier)
        n = len(last.reqs) if last is not None else 0
        if last is None or n >= len(reqs) or not all(map(operator.is_, last.reqs, reqs)):
            last, n = _NOTHING_READ, 0
        read = self._reads[identifier] = last.extended(self, reqs, n)
        return read

    def _constraint_pin(self, name: str) -> tuple[bool, tuple[_VersionKey, Version] | None]:
        """(some constraint or fix on `name` pins one version, `_first_pin` of them), per project."""
        hit = self._constraint_pins.get(name)
        if hit is None:
            cons = self.constraints.get(name, ())
            hit = self._constraint_pins[name] = (any(c.pinned for c in cons), self._first_pin(cons))
        return hit

    def _pinned_positions(
        self, name: str, reqs: Sequence[Req], preferred: bool = False, read: _ReqsRead | None = None
    ) -> list[int] | None:
        """When some requirement pins one version: the positions in `_releases_walk(name)` (in
        `_preferred_walk(name, ...)` if `preferred`) of the releases it can admit (ascending); else
        the same for a constraint's pin (see below); None when nothing pins a version.

        find_matches walks a project's releases newest first, testing each against every requirement;
        a project pinned with `==` (say `apache-airflow==2.10.5`, and every `apache-airflow[extra]`
        that requires it) was walked down its hundreds of releases on each of the many times it was
        asked. A release outside these positions fails the pin's `contains`, so the walk would have
        dropped it before any other test or side effect (no `excluded` entry, no veto note): going
        straight to these positions gives the same candidates, in the same order.
        """
        pin = read.pin if read is not None else self._first_pin(reqs)
        if pin is None and not self.vetoes.get(name):
            # A constraint's (or a fix's) pin, the same way: a release outside it fails the
            # constraint in `_evaluate`, whose one side effect is the reason it records, which
            # `exclusions` gives such releases when asked (with a veto on the project, the walk's
            # veto notes count: it walks). OpenStack's upper-constraints pin every project, and its
            # walks went past 1,506 newer releases, each time find_matches was asked.
            pin = self._constraint_pin(name)[1]
            if pin is not None:
                self._skipped_by_constraint.add(name)
        if pin is None:
            return None
        key, oldest = pin
        positions = self._pin_positions.get((name, preferred, key))
        if positions is None:
            positions = _positions_of(
                self._pref_walk[name] if preferred else self._releases_walk(name), key, oldest
            )
            self._pin_positions[(name, preferred, key)] = positions
        return positions

    def _files_for(
        self, rel: Release, platforms: Iterable[str], allow_yanked: bool
    ) -> list[tuple[str, DistFile]] | None:
        """The best file per platform, or None when some platform has none."""
        out = []
        for platform in sorted(platforms):
            best = self.choice.best(rel.files, platform, allow_yanked)
            if best is None:
                return None
            out.append((platform, best))
        return out

    def _why_no_file(self, rel: Release, platforms: Iterable[str], allow_yanked: bool) -> str:
        if rel.files and all(f.yanked is not None for f in rel.files) and not allow_yanked:
            return "is yanked"
        rps = {f.requires_python for f in rel.files if f.requires_python}
        for rp in sorted(rps):
            spec = _spec_or_none(rp)
            if spec is not None and not spec.contains(self.target.version, prereleases=True):
                if all(f.requires_python == rp for f in rel.files):
                    return f"requires Python {rp} (the target is Python {self.target.python_version})"
        for platform in sorted(platforms):
            if self._files_for(rel, [platform], allow_yanked) is None:
                return f"has no file installable on {platform} for Python {self.target.python_version}"
        return "has no usable file"

    def _evaluate(self, rel: Release, platforms: frozenset[str], allow_yanked: bool) -> Cand | None:
        """The candidate for `rel` if it survives vetoes, constraints and file selection (cached)."""
        name = rel.name
        key = (name, rel.version, platforms, allow_yanked)
        if key in self._usable:
            return self._usable[key]
        cand: Cand | None = None
        veto = self._vetoed(name, rel.version)
        constrained = self._constraint_reason(name, rel.version)
        if veto is not None:
            self.excluded[name][rel.version] = f"is vetoed ({veto.reason})"
            self.veto_removed[(name, rel.version)] = veto
        elif constrained is not None:
            self.excluded[name].setdefault(rel.version, constrained)
        else:
            files = self._files_for(rel, platforms, allow_yanked)
            if files is None:
                self.excluded[name].setdefault(rel.version, self._why_no_file(rel, platforms, allow_yanked))
            else:
                cand = Cand(name, name, None, rel.version, platforms, tuple(files), rel)
        self._usable[key] = cand
        return cand

    def exclusions(self, name: str) -> dict[Version, str]:
        """Why releases of `name` could not be candidates (version -> reason), as walking its
        releases found them, which explanations read. A walk a constraint's pin shortened
        (`_pinned_positions`) did not test the releases outside the pin: they get the reason the
        full walk gave them, the first constraint they fail (its pre-releases only if the walk went
        on to pre-releases, as the full walk would have)."""
        excluded = self.excluded[name]
        if name in self._skipped_by_constraint:
            pre = name in self._pre_walked
            for rel in self._releases_walk(name):
                v = rel.version
                if v in excluded or (v.is_prerelease and not pre):
                    continue
                constrained = self._constraint_reason(name, v)
                if constrained is not None:
                    excluded[v] = constrained
        return excluded

    def _constraint_reason(self, name: str, version: Version) -> str | None:
        """Why the first constraint (or fix) on `name` that excludes `version` does, or None."""
        for c in self.constraints.get(name, ()):
            if not self._contains(c.specifier, version):
                return f"is excluded by {'the fix' if c.kind == 'fix' else 'the constraint'} {c.text}"
        return None

    def _contains(self, spec: SpecifierSet, version: Version) -> bool:
        memo = self._contains_memo(spec)
        hit = memo.get(id(version))
        if hit is None:
            self._keepalive.append(version)  # its id stays unique while it is alive
            hit = memo[id(version)] = spec.contains(version, prereleases=True)
        return hit

    def _contains_memo(self, spec: SpecifierSet) -> dict[int, bool]:
        """id(version) -> whether `spec` contains it (the entry holds `spec`, so its id is not reused)."""
        entry = self._contains_cache.get(id(spec))
        if entry is None:
            entry = self._contains_cache.setdefault(id(spec), (spec, {}))
        return entry[1]

    def _sdist_usable(self, cand: Cand) -> bool:
        for _platform, f in cand.files:
            if f.is_wheel or cand.release is None:
                continue
            key = (cand.name, cand.version, f.filename)
            if key not in self._sdist_ok:
                meta = self.index.get_metadata(cand.release, f)
                ok = meta.is_static
                if not ok and self.legacy_sdists and meta.legacy_requires_dist is not None:
                    ok = True
                    self.notes.append(
                        f"{f.filename}: dependencies taken from its egg-info (legacy sdist, not PEP 643 static)"
                    )
                self._sdist_ok[key] = ok
                if not ok:
                    why = (
                        f"metadata {meta.metadata_version} < 2.2"
                        if not _static_version(meta)
                        else "dynamic " + ", ".join(sorted(set(meta.dynamic)))
                    )
                    note = f"skipped {f.filename}: sdist-only release whose PKG-INFO is not static ({why})"
                    self.notes.append(note)
                    self.excluded[cand.name][cand.version] = (
                        "has only an sdist whose dependencies are not static (PEP 643)"
                    )
            if not self._sdist_ok[key]:
                return False
        return True

    def metadata(self, cand: Cand) -> CoreMetadata:
        if cand not in self._metadata:
            assert cand.release is not None
            platform, f = cand.files[0]
            meta = self.index.get_metadata(cand.release, f)
            if not f.is_wheel and not meta.is_static and meta.legacy_requires_dist is not None:
                meta = dataclasses.replace(meta, requires_dist=meta.legacy_requires_dist)
            self._metadata[cand] = meta
        return self._metadata[cand]

    # ---- resolvelib protocol ---------------------------------------------------------------
    def identify(self, requirement_or_candidate: Req | Cand) -> str:
        return requirement_or_candidate.key

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Cand],
        candidates: Mapping[str, Iterator[Cand]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> tuple[bool, bool, bool, bool, str]:
        # Reads only the identifier's requirement information: the resolution (resolution.py) keeps
        # the answer per criterion. Keep it so, or drop that memo.
        infos = list(information[identifier])
        pinned = any(i.requirement.pinned for i in infos)
        direct = any(i.parent is None for i in infos)
        return (identifier != PYTHON, not pinned, not direct, "[" not in identifier, identifier)

    def narrow_requirement_selection(
        self,
        identifiers: Iterable[str],
        resolutions: Mapping[str, Cand],
        candidates: Mapping[str, Iterator[Cand]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> Iterable[str]:
        ids = list(identifiers)
        if PYTHON in ids:
            return [PYTHON]
        causes = set()
        for c in backtrack_causes:
            causes.add(c.requirement.key)
            if c.parent is not None:
                causes.add(c.parent.key)
        if not causes:  # not backtracking: every name stays (asked each round, of every unpinned name)
            return ids
        hit = [i for i in ids if i in causes]
        return hit or ids

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Req]],
        incompatibilities: Mapping[str, Iterator[Cand]],
    ) -> Any:
        if identifier == PYTHON:
            # Every candidate's Requires-Python lands here, and each new one re-asks about all of
            # them: they are only looked at once some Requires-Python has excluded the target.
            version = self.target.version
            ok = not self._python_excluded or all(
                self._contains(r.specifier, version) for r in requirements[identifier]
            )
            bad = any(c.version == version for c in incompatibilities[identifier])
            return [self.python_cand] if ok and not bad else []
        reqs = list(requirements[identifier])
        name = reqs[0].name
        extra = reqs[0].extra
        if extra is not None:
            reqs += list(requirements.get(name, ()))
        read = self._reqs_read(identifier, reqs)
        platforms = read.platforms or self.all_platforms
        # PEP 592: a yanked release is used when pinned exactly, by a requirement or a constraint
        allow_yanked = read.pinned or self._constraint_pin(name)[0]
        bad_versions = {c.version for c in incompatibilities[identifier]}
        allow_pre = read.prereleases
        pref = self.preferred.get(name)
        walk = self._releases_walk(name) if pref is None else self._preferred_walk(name, pref)
        only = self._pinned_positions(name, reqs, pref is not None, read)  # None: every release is walked

        def next_position(i: int) -> int:
            """The first position from `i` on that the walk looks at (len(walk): none left)."""
            if only is None:
                return i
            j = bisect.bisect_left(only, i)
            return only[j] if j < len(only) else len(walk)

        # an empty specifier admits every version; the same specifier object need be asked once
        checks = read.checks

        def admissible(i: int, pre: bool) -> Cand | None:
            """The candidate for the i-th release by the cheap tests (no metadata is read)."""
            rel = walk[i]
            if not pre and rel.version.is_prerelease:
                return None
            v = rel.version
            if bad_versions and v in bad_versions:
                return None
            for spec, memo in checks:  # `_contains`, inlined: this runs for every release walked
                ok = memo.get(id(v))
                if ok is None:
                    ok = memo[id(v)] = spec.contains(v, prereleases=True)  # v: held by its release
                if not ok:
                    return None
            return self._evaluate(rel, platforms, allow_yanked)

        def prefetch_from(start: int, count: int, pre: bool) -> int:
            """Prefetch the metadata of the next `count` admissible releases; where it stopped."""
            ahead: list[tuple[Release, DistFile]] = []
            i = start
            while len(ahead) < count:
                i = next_position(i)
                if i >= len(walk):
                    break
                cand = admissible(i, pre)
                i += 1
                if cand is not None and cand.release is not None:
                    f = cand.files[0][1]
                    if f.is_wheel or (f.size is not None and f.size <= _SPECULATIVE_SDIST_SIZE):
                        ahead.append((cand.release, f))
            if ahead:
                self.index.prefetch_metadata(ahead, priority=AHEAD)
            return i

        # What resolvelib will ask next: the first candidate's metadata. When it comes back for
        # another candidate (the previous one conflicted) it is walking down the releases, one
        # metadata file per step: fetch a batch ahead, growing with the number walked (uv's batch
        # prefetch), so a walk down 40 releases does not wait for 40 round trips in a row.
        def candidates(pre: bool) -> Iterator[Cand]:
            # the releases already walked past: those found incompatible and, of those whose
            # dependencies were read, all but one (the one resolvelib may still hold: asked again
            # only because another requirement on the name came in, it walks nothing)
            walked = len(bad_versions) + max(len(self.tried[name]) - 1, 0)
            if not self.prefetching:
                walked, fetched_to = 0, len(walk)
            else:
                fetched_to = prefetch_from(0, min(_BATCH_MAX, _BATCH_STEP * walked) if walked else 1, pre)
            for i in range(len(walk)) if only is None else only:
                cand = admissible(i, pre)
                if cand is None:
                    continue
                rel = walk[i]
                if walked and i >= fetched_to - _BATCH_STEP // 2:
                    fetched_to = prefetch_from(max(i, fetched_to), min(_BATCH_MAX, _BATCH_STEP * walked), pre)
                if not self._sdist_usable(cand):
                    continue
                if extra is not None:
                    cand = Cand(
                        identifier, name, extra, rel.version, cand.platforms, cand.files, cand.release
                    )
                yield cand
                walked += 1

        def lazy() -> Iterator[Cand]:
            found = False
            if allow_pre:
                self._pre_walked.add(name)
            for cand in candidates(allow_pre):
                found = True
                yield cand
            if not found and not allow_pre:
                self._pre_walked.add(name)
                yield from candidates(True)

        if only is not None and len(only) <= 1:
            # A walk a pin cut to one release at most: walked now, whole. resolvelib asks for the first
            # candidate at once (`_add_to_criteria`), and walking past it does nothing more; as a
            # list, each later pass over the candidates reads it instead of walking again.
            return list(lazy())
        return lazy

    def is_satisfied_by(self, requirement: Req, candidate: Cand) -> bool:
        # resolvelib re-checks every pin against every criterion each round: millions of calls on a
        # large set (OpenStack's ~600 projects), so the answer per (requirement, candidate) is kept.
        key = (id(requirement), id(candidate))
        hit = self._satisfied.get(key)
        if hit is None:
            hit = self._contains(requirement.specifier, candidate.version) and (
                requirement.kind == "python" or requirement.platforms <= candidate.platforms
            )
            self._satisfied[key] = hit
            self._keepalive.append((requirement, candidate))  # ids stay unique while both live
        return hit

    def get_dependencies(self, candidate: Cand) -> list[Req]:
        if candidate.key == PYTHON:
            return []
        if candidate in self._deps:
            return self._deps[candidate]
        self.tried[candidate.name].add(candidate.version)
        deps = self._kept_dependencies(candidate)
        if deps is None:
            deps = self._derive_dependencies(candidate)
        self._deps[candidate] = deps
        names = sorted({d.name for d in deps if d.name != PYTHON}) if self.prefetching else ()
        if names:
            # resolvelib asks for these pages next: fetch them ahead of the speculation
            depth = self._spec_depth.get(candidate.name, 0) + 1
            with self._spec_lock:
                fresh = [n for n in names if n not in self._spec_seen]
                self._spec_seen.update(fresh)
                for n in fresh:
                    self._spec_depth[n] = depth
            known = [n for n in names if n not in fresh]
            self.index.prefetch(fresh, self._speculate_page, priority=AHEAD)
            self.index.prefetch(known, priority=AHEAD)
        return deps

    def _kept_dependencies(self, candidate: Cand) -> list[Req] | None:
        """The candidate's dependencies as the index kept them from an earlier derivation (predigest.py),
        with the notes that derivation made; None when the index keeps none for it."""
        kept = getattr(self.index, "digested_dependencies", None)
        if kept is None or candidate.release is None:
            return None
        payload = kept(
            candidate.release,
            candidate.files[0][1],
            candidate.extra or "",
            tuple(sorted(candidate.platforms)),
        )
        if payload is None:
            return None
        got = from_payload(payload, self._spec_of)
        if got is None:
            return None
        notes, rows = got
        deps = [Req(*row) for row in rows]
        for d in deps:
            if d.kind == "python" and not self._contains(d.specifier, self.target.version):
                self._python_excluded = True
        self.notes.extend(notes)
        return deps

    def _spec_of(self, text: str) -> SpecifierSet:
        spec = self._specs.get(text)
        if spec is None:
            spec = self._specs.setdefault(text, SpecifierSet(text))
        return spec

    def _derive_dependencies(self, candidate: Cand) -> list[Req]:
        """The candidate's dependencies from its core metadata, for the target's platforms (and kept by
        the index, when it keeps them, for the next run)."""
        first_note = len(self.notes)
        meta = self.metadata(candidate)
        deps: list[Req] = []
        if candidate.extra is not None:
            deps.append(
                Req(
                    candidate.name,
                    candidate.name,
                    None,
                    SpecifierSet(f"=={candidate.version}"),
                    candidate.platforms,
                    f"{candidate.name}=={candidate.version}",
                    "base",
                )
            )
        if meta.requires_python:
            spec = _spec_or_none(meta.requires_python)
            if spec is not None:
                deps.append(Req(PYTHON, PYTHON, None, spec, candidate.platforms, f"Python {spec}", "python"))
                if not self._contains(spec, self.target.version):
                    self._python_excluded = True
        extra = candidate.extra or ""
        for text in meta.requires_dist:
            req = self._parse(text)
            if req is None:
                self.notes.append(f"{candidate.label}: ignored the invalid dependency {text!r}")
                continue
            if req.url:
                self.notes.append(f"{candidate.label}: ignored the direct-URL dependency {text!r}")
                continue
            if req.marker is None:
                plats = candidate.platforms
            else:
                m = req.marker
                plats = frozenset(p for p in candidate.platforms if self._marker_true(m, p, extra))
            if not plats:
                continue
            if (
                candidate.extra is not None
                and req.marker is not None
                and plats == frozenset(p for p in candidate.platforms if self._marker_true(req.marker, p, ""))
            ):
                continue  # not specific to the extra: the base candidate already has it
            if candidate.extra is not None and req.marker is None:
                continue
            deps.extend(requirement_objects(req, plats, "dep"))
        keep = getattr(self.index, "store_digested_dependencies", None)
        if keep is not None and candidate.release is not None:
            payload = to_payload(self.notes[first_note:], deps)
            keep(
                candidate.release,
                candidate.files[0][1],
                candidate.extra or "",
                tuple(sorted(candidate.platforms)),
                payload,
            )
        return deps


def _static_version(meta: CoreMetadata) -> bool:
    try:
        return Version(meta.metadata_version) >= Version("2.2")
    except ValueError:
        return False


def requirement_objects(req: Requirement, platforms: frozenset[str], kind: str) -> list[Req]:
    """One Req for the project, plus one per extra (identifier `name[extra]`)."""
    name = canonicalize_name(req.name)
    spec = req.specifier
    # what str(Requirement(...)) of this text gives (name, sorted extras, the specifier's canonical
    # text), without parsing it again
    text = f"{req.name}{'[' + ','.join(sorted(req.extras)) + ']' if req.extras else ''}{spec}"
    out = [Req(name, name, None, spec, platforms, text, kind)]
    for extra in sorted(canonicalize_name(e) for e in req.extras):
        out.append(Req(identifier(name, extra), name, extra, spec, platforms, text, kind))
    return out
