"""A Debian problem: the roots, fixes, vetoes, pins and options a solve is asked, parsed from the
spec's words (Debian Policy §7.1 relations, apt-get's `name/release`), and the solution's shape."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..debversion import check as check_version
from ..debversion import satisfies
from ..errors import InputError
from ..model import DebCandidate, Dep, OrGroup
from ..relations import parse_relations
from .priorities import AptPin, AptRelease, parse_pin


@dataclass(frozen=True, slots=True)
class DebVeto:
    """A solver.veto.Veto compiled for the Debian solver (parse_veto): candidates called `package`
    whose version satisfies `op version` (all when op is None)."""

    package: str
    op: str | None
    version: str | None
    reason: str

    def covers(self, c: DebCandidate) -> bool:
        return c.name == self.package and satisfies(c.version, self.op, self.version)

    def __str__(self) -> str:
        return self.package if self.op is None else f"{self.package} ({self.op} {self.version})"


@dataclass(frozen=True, slots=True)
class DebProblem:
    roots: tuple[OrGroup, ...]
    fixes: tuple[Dep, ...] = ()
    vetoes: tuple[DebVeto, ...] = ()
    recommends: bool = False
    base: bool = False
    closure: str = "install"  # or "mirror"
    preferred: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (name, arch) -> version
    # apt's priorities (solver.deb.priorities): the Release of each Origin.repository, and the spec's pins.
    releases: Mapping[str, AptRelease] = field(default_factory=dict)
    pins: tuple[AptPin, ...] = ()
    # apt-get's `name/release` per root (None: any release), parallel to `roots`.
    root_releases: tuple[str | None, ...] = ()


@dataclass
class FixReport:
    fix: str
    chosen: DebCandidate | None
    changed: list[tuple[str, str | None, str]]  # (name:arch, version before the fix or None, version now)


@dataclass
class DebSolution:
    packages: list[DebCandidate]  # the install set (plus the mirror closure when asked), sorted
    roots: list[DebCandidate]
    edges: list[tuple[DebCandidate, DebCandidate, str]]  # (from, to, relation field)
    fixes: list[FixReport]
    vetoes_hit: list[tuple[DebVeto, list[DebCandidate]]]
    mirror_extra: list[DebCandidate]
    skipped_recommends: list[tuple[DebCandidate, str]]
    stats: dict[str, float]
    # What the answer was worked out from: the encoding, the solver with its model, the policy. Held
    # so that they are freed when the solution is, not as the solve returns: freeing an encoding of
    # 10,000 variables and its clauses takes 0.08 s, which a command that exits after the solve need
    # not pay at all (its process ends without tearing down the heap, bundler/cli.py).
    evidence: tuple[object, ...] = field(default=(), repr=False, compare=False)


# -- parsing the user's words ----------------------------------------------------------------------

def parse_requirement(text: str, native_arch: str = "amd64") -> OrGroup:
    """`"keystone (>= 2:23)"` or `"a | b"` → one OR group; InputError names the text when malformed."""
    try:
        groups = parse_relations(text, native_arch)
    except InputError as e:
        raise InputError(f"bad requirement {text!r}: {e.message}") from None
    if len(groups) != 1:
        raise InputError(f"bad requirement {text!r}: expected one package (alternatives with '|')")
    for dep in groups[0]:
        if dep.version is not None:
            try:
                check_version(dep.version)
            except InputError:
                raise InputError(f"bad requirement {text!r}: invalid version {dep.version!r}") from None
    return groups[0]


_RELEASE_ROOT = re.compile(r"^\s*([a-z0-9][a-z0-9+.\-]*(?::[a-z0-9\-]+)?)/([^\s/|()]+)\s*$")


def parse_root(text: str, native_arch: str = "amd64") -> tuple[OrGroup, str | None]:
    """A requirement, or apt-get's `name/release` (e.g. "foo/bookworm-backports": foo from the release
    whose Suite or Codename is bookworm-backports, and what it needs from there when nothing else fits)."""
    m = _RELEASE_ROOT.match(text)
    if m is None:
        return parse_requirement(text, native_arch), None
    return parse_requirement(m.group(1), native_arch), m.group(2)


def parse_fix(text: str) -> Dep:
    group = parse_requirement(text)
    if len(group) != 1 or group[0].op is None:
        raise InputError(f"bad fix {text!r}: expected 'name (= version)'")
    return group[0]


def parse_veto(package: str, version: str | None, reason: str) -> DebVeto:
    if not package or " " in package.strip():
        raise InputError(f"bad veto package name {package!r}")
    if version is None or not version.strip():
        return DebVeto(package.strip(), None, None, reason)
    text = version.strip()
    for op in ("<<", "<=", ">=", ">>", "="):
        if text.startswith(op):
            ver = text[len(op) :].strip()
            break
    else:
        op, ver = "=", text
    try:
        check_version(ver)
    except InputError:
        raise InputError(f"bad veto of {package}: invalid version {ver!r}") from None
    return DebVeto(package.strip(), op, ver, reason)


def problem_from_spec(
    require: Sequence[str],
    fix: Sequence[str],
    vetoes: Sequence[tuple[str, str | None, str]],
    *,
    native_arch: str,
    recommends: bool = False,
    base: bool = False,
    closure: str = "install",
    preferred: Mapping[tuple[str, str], str] | None = None,
    pins: Sequence[tuple[str, str | None, str | None, int]] = (),
    releases: Mapping[str, AptRelease] | None = None,
) -> DebProblem:
    """Parse the spec's words into a DebProblem; InputError names the faulty entry.

    `pins`: (package, release, version, priority) as apt preferences records; `releases`: the Release
    of each Origin.repository (what apt's priorities and release pins read)."""
    roots = [parse_root(r, native_arch) for r in require]
    return DebProblem(
        roots=tuple(group for group, _ in roots),
        root_releases=tuple(release for _, release in roots),
        fixes=tuple(parse_fix(f) for f in fix),
        vetoes=tuple(parse_veto(p, v, r) for p, v, r in vetoes),
        recommends=recommends,
        base=base,
        closure=closure,
        preferred=dict(preferred or {}),
        releases=dict(releases or {}),
        pins=tuple(parse_pin(*pin) for pin in pins),
    )
