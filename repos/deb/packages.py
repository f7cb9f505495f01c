"""Packages index files: deb822 stanzas of binary packages, and their conversion to `DebCandidate`s.

Format: wiki.debian.org/DebianRepository/Format ("Packages Indices") and Debian Policy §5.3 (binary
package fields). The stanzas are read by the one deb822 reader, `repos.deb822` (Policy §5.1); the
loader reads big indexes through the compact index (`repos/deb/cache.py`) and converts only the
stanzas a solve needs.
"""

from __future__ import annotations

from collections.abc import Mapping

from solver.debversion import check as check_version
from solver.errors import InputError
from solver.model import DebCandidate, Origin
from solver.relations import parse_dep_list, parse_relations

from ..deb822 import read_stanzas
from ..errors import ParseError


def to_candidate(
    fields: Mapping[str, str],
    *,
    where: str,
    repository: str,
    rank: int,
    native_arch: str,
) -> DebCandidate:
    """A `DebCandidate` from a stanza; ParseError(where) naming the package when a field is invalid."""
    name = fields.get("Package")
    if not name:
        raise ParseError("stanza without a Package field", where=where)
    version = fields.get("Version")
    arch = fields.get("Architecture")
    if not version or not arch:
        raise ParseError(f"package {name} has no {'Version' if not version else 'Architecture'}", where=where)
    try:
        check_version(version)
        rel_arch = native_arch if arch == "all" else arch
        get = fields.get
        depends = parse_relations(get("Depends", ""), rel_arch)
        pre_depends = parse_relations(get("Pre-Depends", ""), rel_arch)
        recommends = parse_relations(get("Recommends", ""), rel_arch)
        conflicts = parse_dep_list(get("Conflicts", ""), rel_arch)
        breaks = parse_dep_list(get("Breaks", ""), rel_arch)
        provides = parse_dep_list(get("Provides", ""), rel_arch)
        source, source_version = name, version
        src = get("Source")
        if src:
            source, _, rest = src.partition(" ")
            rest = rest.strip()
            if rest:
                if not (rest.startswith("(") and rest.endswith(")")):
                    raise InputError(f"malformed Source {src!r}")
                source_version = check_version(rest[1:-1].strip())
        size_text = get("Size", "")
        filename = get("Filename", "")
        sha256 = get("SHA256", "").lower()
        if not filename or not size_text.isdigit() or len(sha256) != 64:
            raise InputError("needs Filename, Size and SHA256")
    except InputError as e:
        raise ParseError(f"package {name} {version}: {e.message}", where=where) from None
    multi_arch = get("Multi-Arch", "no").lower() or "no"
    return DebCandidate(
        name=name,
        version=version,
        arch=arch,
        depends=depends,
        pre_depends=pre_depends,
        recommends=recommends,
        conflicts=conflicts,
        breaks=breaks,
        provides=provides,
        multi_arch=multi_arch,
        essential=get("Essential", "no").lower() == "yes",
        priority=get("Priority", "optional") or "optional",
        source=source,
        source_version=source_version,
        origin=Origin(
            repository=repository, filename=filename, size=int(size_text), sha256=sha256, rank=rank
        ),
    )


def parse_packages(
    data: bytes,
    where: str,
    *,
    repository: str,
    rank: int = 0,
    native_arch: str = "amd64",
) -> list[DebCandidate]:
    """Every candidate of a (decompressed) Packages file, parsed eagerly. For small indexes and tests;
    the loader goes through the lazy compact index instead."""
    out = []
    for n, fields in enumerate(read_stanzas(data, where), 1):
        out.append(
            to_candidate(
                fields,
                where=f"{where}: stanza {n}",
                repository=repository,
                rank=rank,
                native_arch=native_arch,
            )
        )
    return out
