"""Parser for Debian relationship fields (Debian Policy §7.1).

    Depends: libc6 (>= 2.34), python3:any, default-mta | mail-transport-agent,
             foo [amd64 !i386] <!nocheck>

Architecture restrictions (`[...]`) are resolved for the target architecture at parse time; build
profiles (`<...>`) only occur in source stanzas and are dropped. Relations that do not apply to the
target disappear; an OR group whose alternatives all disappear disappears too.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .errors import InputError
from .model import Dep, OrGroup

_ATOM = re.compile(
    r"""^\s*(?P<name>[a-z0-9][a-z0-9+.\-]*)(?::(?P<arch>[a-z0-9\-]+))?\s*
        (?:\(\s*(?P<op><<|<=|>=|>>|=|<|>)\s*(?P<version>[^\s)]+)\s*\))?\s*
        (?:\[(?P<archs>[^\]]*)\])?\s*(?:<[^>]*>\s*)*$""",
    re.VERBOSE,
)
_OLD_OPS = {"<": "<=", ">": ">="}


def _arch_applies(restriction: str, arch: str) -> bool:
    words = restriction.split()
    if not words:
        return True
    negated = [w[1:] for w in words if w.startswith("!")]
    if negated:
        return not any(_arch_matches(arch, w) for w in negated)
    return any(_arch_matches(arch, w) for w in words)


def _arch_matches(arch: str, pattern: str) -> bool:
    # Wildcards such as linux-any / any-amd64 (Policy §11.1); the OS part of a bare Debian arch is linux.
    if pattern in ("any", arch):
        return True
    if "-" in pattern:
        os_part, cpu_part = pattern.split("-", 1)
        return os_part in ("any", "linux") and cpu_part in ("any", arch)
    return False


@lru_cache(maxsize=200_000)
def parse_dep(text: str, arch: str = "amd64") -> Dep | None:
    """One atom, or None when its `[arch]` restriction excludes `arch`. Raises InputError if malformed."""
    m = _ATOM.match(text)
    if m is None:
        raise InputError(f"malformed relation {text.strip()!r}")
    archs = m.group("archs")
    if archs is not None and not _arch_applies(archs, arch):
        return None
    op = m.group("op")
    if op is not None:
        op = _OLD_OPS.get(op, op)
    return Dep(m.group("name"), op, m.group("version"), m.group("arch"))


@lru_cache(maxsize=100_000)
def parse_relations(text: str, arch: str = "amd64") -> tuple[OrGroup, ...]:
    """A Depends-like field: comma-separated OR groups."""
    groups: list[OrGroup] = []
    for part in text.split(","):
        # Atoms are looked up stripped: " libc6 (>= 2.34)" after a comma and "libc6 (>= 2.34)" at the
        # start of a field are one cache entry and one Dep (the pattern ignores the spaces anyway).
        if "|" not in part:
            atom = part.strip()
            if atom and (dep := parse_dep(atom, arch)) is not None:
                groups.append((dep,))
            continue
        alts = []
        for a in part.split("|"):
            if (dep := parse_dep(a.strip(), arch)) is not None:
                alts.append(dep)
        if alts:
            groups.append(tuple(alts))
    return tuple(groups)


@lru_cache(maxsize=100_000)
def parse_dep_list(text: str, arch: str = "amd64") -> tuple[Dep, ...]:
    """A Conflicts/Breaks/Provides-like field: comma-separated atoms, no alternatives allowed."""
    out: list[Dep] = []
    for part in text.split(","):
        if not part.strip():
            continue
        if "|" in part:
            raise InputError(f"alternatives are not allowed here: {part.strip()!r}")
        dep = parse_dep(part.strip(), arch)
        if dep is not None:
            out.append(dep)
    return tuple(out)
