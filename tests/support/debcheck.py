"""An independent checker of Debian install sets: shares no code with `solver/`.

It re-parses relation strings with its own small parser and compares versions with
`dpkg --compare-versions`-equivalent `apt_pkg` (or the dpkg binary when apt_pkg is missing), so a bug
in the solver's parser or version code cannot hide itself.
"""

from __future__ import annotations

import functools
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

try:
    import apt_pkg

    apt_pkg.init_system()

    def vcmp(a: str, b: str) -> int:
        return apt_pkg.version_compare(a, b)
except ImportError:  # pragma: no cover

    @functools.cache
    def vcmp(a: str, b: str) -> int:
        if subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0:
            return -1
        return 0 if subprocess.run(["dpkg", "--compare-versions", a, "eq", b]).returncode == 0 else 1


@dataclass(frozen=True)
class Pkg:
    name: str
    version: str
    arch: str = "amd64"
    depends: str = ""
    pre_depends: str = ""
    conflicts: str = ""
    breaks: str = ""
    provides: str = ""
    multi_arch: str = "no"


_ATOM = re.compile(r"^\s*([a-z0-9][a-z0-9+.\-]*)(?::([a-z0-9\-]+))?\s*(?:\(\s*([<>=]+)\s*([^)\s]+)\s*\))?\s*(?:\[[^\]]*\])?\s*$")


def _atoms(text: str) -> list[list[tuple[str, str | None, str | None]]]:
    groups = []
    for part in text.split(","):
        if not part.strip():
            continue
        alts = []
        for alt in part.split("|"):
            m = _ATOM.match(alt)
            assert m, f"checker cannot parse {alt!r}"
            alts.append((m.group(1), m.group(3), m.group(4)))
        groups.append(alts)
    return groups


def _ok(version: str, op: str | None, want: str | None) -> bool:
    if op is None:
        return True
    assert want is not None
    c = vcmp(version, want)
    return {"<<": c < 0, "<": c <= 0, "<=": c <= 0, "=": c == 0, ">=": c >= 0, ">": c >= 0, ">>": c > 0}[op]


def _satisfiers(members: Iterable[Pkg], name: str, op: str | None, want: str | None) -> list[Pkg]:
    out = []
    for p in members:
        if p.name == name and _ok(p.version, op, want):
            out.append(p)
            continue
        for pname, pop, pver in (a[0] for a in _atoms(p.provides)):
            if pname == name and (op is None or (pop == "=" and pver is not None and _ok(pver, op, want))):
                out.append(p)
                break
    return out


def check_install_set(
    members: Iterable[Pkg],
    roots: Iterable[str] = (),
    vetoes: Mapping[str, tuple[str | None, str | None]] | None = None,
    check_conflicts: bool = True,
) -> list[str]:
    """Problems with a set (empty list: consistent). `roots` are relation strings; `vetoes` maps a
    package name to an (op, version) range that must not be in the set (op None: any version)."""
    members = list(members)
    problems: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    for p in members:
        key = (p.name, p.arch)
        if key in seen and seen[key] != p.version:
            problems.append(f"two versions of {p.name}:{p.arch}: {seen[key]} and {p.version}")
        seen[key] = p.version
    for root in roots:
        for group in _atoms(root):
            if not any(_satisfiers(members, *alt) for alt in group):
                problems.append(f"root {root!r} not satisfied")
    for p in members:
        for field in (p.pre_depends, p.depends):
            for group in _atoms(field):
                if not any(_satisfiers(members, *alt) for alt in group):
                    problems.append(f"{p.name} {p.version}: dependency {group} not satisfied")
        if check_conflicts:
            for field in (p.conflicts, p.breaks):
                for group in _atoms(field):
                    for alt in group:
                        for q in _satisfiers(members, *alt):
                            if q is not p and q.name != p.name:
                                problems.append(f"{p.name} {p.version} conflicts with {q.name} {q.version}")
    for name, (op, ver) in (vetoes or {}).items():
        for p in members:
            if p.name == name and _ok(p.version, op, ver):
                problems.append(f"vetoed {p.name} {p.version} is in the set")
    return problems
