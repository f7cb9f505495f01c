"""Auditing against security advisories: a lock (`bundler audit`), vetoes for a solve (`[audit]` in the
spec), and what a re-solve kept although newer versions exist.

The advisories are read by `repos.advisories` (OSV records for PyPI, the Debian security tracker's JSON
for Debian). A lock's Python packages are matched by PEP 503 name and PEP 440 version; its Debian
packages by their SOURCE package and source version (the tracker is keyed by source) in the release
codename of the suite they came from ("bookworm-security" → "bookworm"), or the one the user names.

Vetoes (`[audit] veto`): "fixed-available" vetoes the affected versions of a package only when the
indexes hold some version of it that no advisory affects (so a solve moves to a fix when there is
one, and keeps what there is when there is none); "all" vetoes every affected version (the solve fails,
with the advisories named, when nothing clean is left); "none" only reports. A solve applies them to
what it picks: it solves, vetoes the affected versions of what the solution holds, and solves again
until the solution holds nothing to veto (each round only adds vetoes, so this ends); Python releases
are only known once their project page is read, and a Debian archive's universe is read lazily, so
a veto list up front would mean reading every package the advisories name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repos.advisories import DEB, PYTHON, Advisory, AdvisoryDb, comparator, load_advisories
from solver.errors import InputError

VETO_MODES = ("fixed-available", "all", "none")

# Suites of one release: "bookworm-security", "bookworm-updates", "bookworm/updates" (old security
# layout), "bookworm-backports"... all are the tracker's "bookworm".
_SUITE_SUFFIXES = ("-proposed-updates", "-backports-sloppy", "-backports", "-security", "-updates", "/updates", "-lts")
_ALIASES = {"unstable": "sid"}


def codename(suite: str) -> str:
    """The release codename of an apt suite name ("bookworm-security" → "bookworm")."""
    for suffix in _SUITE_SUFFIXES:
        if suite.endswith(suffix):
            suite = suite[: -len(suffix)]
            break
    return _ALIASES.get(suite, suite)


def _repository_suite(repository: str) -> str:
    parts = repository.split()
    return parts[1] if len(parts) > 1 else ""


def labels(found: Iterable[tuple[Advisory, str | None]]) -> str:
    """A veto reason: the advisories' ids (and aliases), e.g. "CVE-2023-5363" or "PYSEC-1 (CVE-2)"."""
    return "; ".join(sorted({a.label for a, _ in found}))


@dataclass(frozen=True, slots=True)
class Finding:
    """One advisory affecting one package version of a lock."""

    ecosystem: str
    package: str  # python: the name; deb: the source package
    version: str  # deb: the source version
    advisory: str
    aliases: tuple[str, ...]
    fixed: str | None
    binaries: tuple[str, ...] = ()  # deb: the lock's binaries built from that source version
    release: str | None = None
    status: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ecosystem": self.ecosystem,
            "package": self.package,
            "version": self.version,
            "advisory": self.advisory,
            "aliases": list(self.aliases),
            "fixed": self.fixed,
        }
        if self.ecosystem == DEB:
            out.update(binaries=list(self.binaries), release=self.release, status=self.status)
        return out


def load_db(paths: Sequence[Path]) -> AdvisoryDb:
    if not paths:
        raise InputError("no advisory database given (--db PATH, or [audit] db in the spec)")
    return load_advisories(paths)


class _Releases:
    """The release codename of each Debian package: the user's, else its suite's; checked against the
    advisories, because a codename the tracker never names would make every package look clean."""

    def __init__(self, db: AdvisoryDb, release: str | None) -> None:
        self.db = db
        self.release = release
        self.checked: set[str] = set()

    def of(self, repository: str, what: str) -> str:
        name = self.release or codename(_repository_suite(repository))
        if name not in self.checked:
            if self.db.releases and name not in self.db.releases:
                known = ", ".join(sorted(self.db.releases)[:8])
                hint = "name the release with --release (or release in [audit])"
                if self.release:
                    hint = f"the advisories speak of: {known}"
                raise InputError(
                    f"the Debian advisories say nothing about release {name!r} (of {what})", hint=hint
                )
            self.checked.add(name)
        return name


def audit_lock(lock: Any, db: AdvisoryDb, release: str | None = None) -> list[Finding]:
    """Every (package, advisory) of the lock that the advisories say is affected, sorted."""
    findings: list[Finding] = []
    deb_sources: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    releases = _Releases(db, release)
    has_deb = db.has(DEB)
    for p in lock.packages:
        if p.ecosystem == PYTHON:
            from packaging.utils import canonicalize_name

            name = canonicalize_name(p.name)
            for adv, fixed in db.matches(PYTHON, name, p.version):
                findings.append(Finding(PYTHON, name, p.version, adv.id, adv.aliases, fixed))
        elif p.ecosystem == DEB and has_deb:
            rel = releases.of(p.repository, f"{p.name} {p.version}")
            key = (p.source or p.name, p.source_version or p.version, rel)
            deb_sources[key].append(f"{p.name}:{p.architecture}")
    for (source, version, rel), binaries in deb_sources.items():
        for adv, fixed in db.matches(DEB, source, version, rel):
            findings.append(Finding(DEB, source, version, adv.id, adv.aliases, fixed, tuple(sorted(set(binaries))),
                                    rel, adv.status))
    findings.sort(key=lambda f: (f.ecosystem, f.package, f.version, f.advisory))
    return findings


# ---- vetoes and kept pins for a solve ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Kept:
    """A pin a re-solve kept from the previous lock although the indexes have a newer version."""

    ecosystem: str
    name: str  # deb: "name:arch"
    version: str
    newest: str
    fixes: tuple[str, ...]  # advisories affecting `version` that `newest` is clear of

    def to_json(self) -> dict[str, Any]:
        return {"ecosystem": self.ecosystem, "package": self.name, "version": self.version,
                "newest": self.newest, "fixes": list(self.fixes)}

    def __str__(self) -> str:
        fixes = f", which fixes {', '.join(self.fixes)}" if self.fixes else ""
        return f"{self.name} {self.version} (newer: {self.newest}{fixes})"


class AuditPolicy:
    """The spec's [audit]: the advisories, the veto mode and the Debian release (None: from the suites)."""

    def __init__(self, db: AdvisoryDb, mode: str = "fixed-available", release: str | None = None) -> None:
        if mode not in VETO_MODES:
            raise InputError(f"audit veto must be one of {', '.join(VETO_MODES)}, not {mode!r}")
        self.db = db
        self.mode = mode
        self.releases = _Releases(db, release)
        self.has_deb = db.has(DEB)
        self.added: list[tuple[str, str, str, str]] = []  # (ecosystem, package, version range, reason)

    # -- Debian ---------------------------------------------------------------------------------------
    def _deb_found(self, c: Any) -> list[tuple[Advisory, str | None]]:
        if not self.has_deb:
            return []
        o = c.origin
        rel = self.releases.of(o.repository if o is not None else "", f"{c.name} {c.version}")
        return self.db.matches(DEB, c.source or c.name, c.source_version or c.version, rel)

    def _reasons(self, found: Mapping[str, list[tuple[Advisory, str | None]]], usable: Iterable[str]) -> dict[str, str]:
        """The versions to veto (and why) among `found`: every version's hits, keyed by version.

        "all": every affected version. "fixed-available": a version for the advisories that some other
        (usable) version is clear of; if that left no version at all, none (keep what there is)."""
        if self.mode == "all":
            return {v: labels(hits) for v, hits in found.items() if hits}
        usable = list(usable)
        out = {}
        for v, hits in found.items():
            fixable = [(a, f) for a, f in hits if any(all(b.id != a.id for b, _ in found[u]) for u in usable)]
            if fixable:
                out[v] = labels(fixable)
        return {} if len(out) == len(found) else out

    def debian_vetoes(self, packages: Iterable[Any], universe: Any, done: set[str]) -> list[tuple[str, str, str]]:
        """Vetoes (package, "= version", reason) for the affected versions of the packages of a solution
        not yet looked at (`done` is updated); [] when there is nothing more to veto."""
        out: list[tuple[str, str, str]] = []
        if self.mode == "none":
            return out
        for c in packages:
            if c.name in done:
                continue
            done.add(c.name)
            if not self._deb_found(c):
                continue
            found: dict[str, list[tuple[Advisory, str | None]]] = {}
            for x in universe.candidates(c.name):  # the source version, hence the hits, is per version
                found.setdefault(x.version, self._deb_found(x))
            for version, reason in sorted(self._reasons(found, found).items()):
                out.append((c.name, f"= {version}", reason))
                self.added.append((DEB, c.name, f"= {version}", reason))
        return out

    def solve_debian(self, solve: Callable[[list[tuple[str, str, str]]], Any], base: list[tuple[str, str, str]],
                     universe: Any) -> Any:
        """`solve(vetoes)` until its solution holds no package left to veto."""
        vetoes = list(base)
        done: set[str] = set()
        while True:
            solution = solve(vetoes)
            more = self.debian_vetoes(solution.packages, universe, done)
            if not more:
                return solution
            vetoes += more

    def vetoes_json(self) -> list[dict[str, str]]:
        return [{"ecosystem": e, "package": p, "version": v, "reason": r} for e, p, v, r in self.added]

    # -- Python ---------------------------------------------------------------------------------------
    def python_vetoes(self, pins: Mapping[str, Any], releases: Callable[[str], Sequence[Any]], target: Any,
                      done: set[str]) -> list[tuple[str, str, str]]:
        """Vetoes (name, "==version", reason) for the affected releases of pinned projects not yet seen
        (`done` is updated); [] when there is nothing more to veto."""
        out: list[tuple[str, str, str]] = []
        if self.mode == "none":
            return out
        for name, pin in sorted(pins.items()):
            if name in done:
                continue
            done.add(name)
            if not self.db.matches(PYTHON, name, pin.version):
                continue
            rels = list(releases(name))
            found = {str(r.version): self.db.matches(PYTHON, name, str(r.version)) for r in rels}
            usable = usable_release(target, pin.version)
            for version, reason in sorted(self._reasons(found, [str(r.version) for r in rels if usable(r)]).items()):
                out.append((name, f"=={version}", reason))
                self.added.append((PYTHON, name, f"=={version}", reason))
        return out


def debian_kept(
    packages: Iterable[Any], universe: Any, preferred: Mapping[tuple[str, str], str], policy: AuditPolicy | None
) -> list[Kept]:
    """Packages of a re-solve at their previous lock's version although the indexes have a newer one."""
    from solver.debversion import compare

    out = []
    for c in packages:
        if preferred.get((c.name, c.arch)) != c.version:
            continue
        newer = [x for x in universe.candidates(c.name) if x.arch == c.arch and compare(x.version, c.version) > 0]
        if not newer:
            continue
        newest = max(newer, key=_deb_key)
        fixes: tuple[str, ...] = ()
        if policy is not None:
            clear = {a.id for a, _ in policy._deb_found(newest)}
            fixes = tuple(sorted({a.label for a, _ in policy._deb_found(c) if a.id not in clear}))
        out.append(Kept(DEB, f"{c.name}:{c.arch}", c.version, newest.version, fixes))
    return sorted(out, key=lambda k: k.name)


def _deb_key(c: Any) -> Any:
    from functools import cmp_to_key

    from solver.debversion import compare

    return cmp_to_key(compare)(c.version)


def python_kept(
    pins: Mapping[str, Any],
    releases: Callable[[str], Sequence[Any]],
    target: Any,
    preferred: Mapping[str, str],
    db: AdvisoryDb | None,
) -> list[Kept]:
    """Pins of a re-solve at their previous lock's version although a newer usable release exists."""
    from solver.python.model import NewestFirst

    cmp = comparator(PYTHON)
    out = []
    for name, pin in sorted(pins.items()):
        if preferred.get(name) is None or cmp(preferred[name], pin.version) != 0:
            continue
        usable = usable_release(target, pin.version)
        pinned = _version(pin.version)
        rels = releases(name)
        newer = []
        for r in rels:
            if r.version > pinned:
                if usable(r):
                    newer.append(r)
            elif isinstance(rels, NewestFirst):
                break  # newest first: none further on is newer (and each release read is made)
        if not newer:
            continue
        newest = str(max(newer, key=lambda r: r.version).version)
        fixes: tuple[str, ...] = ()
        if db is not None:
            clear = {a.id for a, _ in db.matches(PYTHON, name, newest)}
            fixes = tuple(sorted({a.label for a, _ in db.matches(PYTHON, name, pin.version) if a.id not in clear}))
        out.append(Kept(PYTHON, name, pin.version, newest, fixes))
    return out


def _version(text: str) -> Any:
    from packaging.version import Version

    return Version(text)


def usable_release(target: Any, pinned_version: str) -> Callable[[Any], bool]:
    """Whether a release could be installed on every target platform: a final release (or a pre-release
    when the pin is one), with a non-yanked file each platform can use."""
    from solver.python.files import FileChoice

    choice = FileChoice(target)
    pre_ok = _version(pinned_version).is_prerelease if pinned_version else False

    def usable(release: Any) -> bool:
        if release.version.is_prerelease and not pre_ok:
            return False
        return all(choice.best(release.files, p, allow_yanked=False) is not None for p in target.platforms)

    return usable


__all__ = ["AuditPolicy", "Finding", "Kept", "VETO_MODES", "audit_lock", "codename", "debian_kept", "load_db",
           "python_kept", "usable_release"]
