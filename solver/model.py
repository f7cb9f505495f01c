"""The Debian data model: candidates and the relations between them (DESIGN.md, "The model").

A candidate is one concrete binary package that can be in the bundle, identified by
`(name, version, arch)`. Its relation fields follow Debian Policy §7.1 (syntax) and §7.2-7.6
(Depends, Pre-Depends, Recommends, Conflicts, Breaks, Provides); Multi-Arch follows the
MultiArch spec (wiki.debian.org/Multiarch/Implementation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Relation operators of Policy §7.1, after normalising the obsolete "<" and ">" to "<=" and ">=".
OPERATORS = ("<<", "<=", "=", ">=", ">>")


@dataclass(frozen=True, slots=True)
class Dep:
    """One relation atom: `name[:arch] [(op version)]`.

    `arch` is the qualifier after the colon (`any`, `native` or an architecture name), not the
    `[arch list]` restriction, which is applied for the target when the field is parsed.
    """

    name: str
    op: str | None = None
    version: str | None = None
    arch: str | None = None

    def __str__(self) -> str:
        text = self.name if self.arch is None else f"{self.name}:{self.arch}"
        if self.op is not None:
            text += f" ({self.op} {self.version})"
        return text


# One element of Depends: alternatives separated by "|"; satisfied by any one of them.
OrGroup = tuple[Dep, ...]


def format_group(group: OrGroup) -> str:
    return " | ".join(str(dep) for dep in group)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a candidate's file comes from.

    `repository` is the source's uri, suite and component joined by spaces (for a flat repository the
    suite is the directory, e.g. "./", and there is no component); `filename` is relative to the uri;
    `rank` is the position of the source in the spec (0 = listed first = preferred, apt's pin order).
    """

    repository: str
    filename: str
    size: int
    sha256: str
    rank: int = 0


@dataclass(frozen=True, slots=True)
class DebCandidate:
    """One binary package version for one architecture (or `all`)."""

    name: str
    version: str
    arch: str
    depends: tuple[OrGroup, ...] = ()
    pre_depends: tuple[OrGroup, ...] = ()
    recommends: tuple[OrGroup, ...] = ()
    conflicts: tuple[Dep, ...] = ()
    breaks: tuple[Dep, ...] = ()
    provides: tuple[Dep, ...] = ()  # op is None or "=" (versioned Provides, Policy §7.5)
    multi_arch: str = "no"  # "no" | "same" | "foreign" | "allowed"
    essential: bool = False
    priority: str = "optional"
    source: str = ""  # source package name; defaults to `name` when the stanza has no Source
    source_version: str = ""  # defaults to `version`
    origin: Origin | None = field(default=None, compare=False, hash=False)
    # (name, version, arch), the identity the solver keys everything by. Stored, not a property: an
    # encoding of bookworm main asks for it 680,000 times, and a property builds the tuple each time.
    key: tuple[str, str, str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.name, self.version, self.arch))

    def __str__(self) -> str:
        return f"{self.name} {self.version} ({self.arch})"
