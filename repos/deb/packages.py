"""Packages index files: deb822 stanzas of binary packages, and their conversion to `DebCandidate`s.

Format: wiki.debian.org/DebianRepository/Format ("Packages Indices") and Debian Policy §5.1 (control
file syntax) / §5.3 (binary package fields). Two parsers give the same result: `apt_pkg.TagFile`
(python-apt, C++) when importable, and a pure-Python one. apt's TagFile is lenient — it takes a line
without a colon as part of the next field's name — so its output is checked here to be as strict as
the pure parser: a malformed stanza is a ParseError naming the file and the stanza (and line).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any

from solver.debversion import check as check_version
from solver.errors import InputError
from solver.model import DebCandidate, Origin
from solver.relations import parse_dep_list, parse_relations

from ..errors import ParseError

_apt_pkg: Any
try:
    import apt_pkg as _apt_pkg

    _apt_pkg.init_config()
    HAVE_APT_PKG = True
except ImportError:  # pragma: no cover - python-apt is optional
    _apt_pkg = None
    HAVE_APT_PKG = False

Stanza = dict[str, str]


def iter_stanzas(data: bytes, where: str, *, use_apt: bool | None = None) -> Iterator[Stanza]:
    """The stanzas of a Packages (or any deb822) file: {field: value}, continuation lines kept as apt does.

    `use_apt` None: apt_pkg when importable.
    """
    if use_apt is None:
        use_apt = HAVE_APT_PKG
    if use_apt:
        if not HAVE_APT_PKG:
            raise RuntimeError("python-apt is not importable")
        return _iter_apt(data, where)
    return _iter_pure(data, where)


def _iter_pure(data: bytes, where: str) -> Iterator[Stanza]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        bad = data.count(b"\n", 0, e.start) + 1
        raise ParseError("not UTF-8 text", where=f"{where}:{bad}") from None
    fields: Stanza = {}
    last: str | None = None
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line or line.isspace():
            if fields:
                yield _finish(fields)
                fields, last = {}, None
            continue
        first = line[0]
        if first == " " or first == "\t":
            if last is None:
                raise ParseError("continuation line outside a field", where=f"{where}:{lineno}")
            fields[last] += "\n" + line
            continue
        if first == "#":
            continue
        key, sep, value = line.partition(":")
        if not sep or not key or key != key.strip() or " " in key:
            raise ParseError(
                f"malformed line {line.strip()[:60]!r} (expected 'Field: value')",
                where=f"{where}:{lineno}",
            )
        fields[key] = value
        last = key
    if fields:
        yield _finish(fields)


def _finish(fields: Stanza) -> Stanza:
    return {k: v.strip() for k, v in fields.items()}


def _iter_apt(data: bytes, where: str) -> Iterator[Stanza]:
    assert _apt_pkg is not None
    # TagFile reads from a file descriptor; an anonymous in-memory file avoids touching the disk.
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("packages")
        f: Any = os.fdopen(fd, "w+b")
    else:  # pragma: no cover
        f = tempfile.TemporaryFile()
    with f:
        f.write(data)
        f.seek(0)
        for n, section in enumerate(_apt_pkg.TagFile(f), 1):
            keys = section.keys()
            for key in keys:
                if not key or any(c in key for c in " \t\n"):
                    bad = key.split("\n")[0]
                    raise ParseError(
                        f"malformed line {bad[:60]!r} (expected 'Field: value')",
                        where=f"{where}: stanza {n}",
                    )
            yield {key: section[key] for key in keys}


def parse_stanza(text: str, where: str) -> Stanza:
    """One stanza's fields (pure Python; the lazy universe calls this for the few stanzas it needs)."""
    fields: Stanza = {}
    last: str | None = None
    for line in text.split("\n"):
        if not line:
            continue
        if line[0] in " \t":
            if last is None:
                raise ParseError("continuation line outside a field", where=where)
            fields[last] += "\n" + line
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise ParseError(f"malformed line {line.strip()[:60]!r} (expected 'Field: value')", where=where)
        fields[key] = value
        last = key
    return _finish(fields)


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
    use_apt: bool | None = None,
) -> list[DebCandidate]:
    """Every candidate of a (decompressed) Packages file, parsed eagerly. For small indexes and tests;
    the loader goes through the lazy compact index instead."""
    out = []
    for n, fields in enumerate(iter_stanzas(data, where, use_apt=use_apt), 1):
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
