"""The source packages of a bundle's Debian repository (Debian Policy §5.4 and §5.6.24;
wiki.debian.org/DebianRepository/Format, "Sources Indices").

    debian/pool/<component>/<prefix>/<source>/<source>_<version>.dsc (+ .orig.tar.*, .debian.tar.*, ...)
    debian/dists/<suite>/<component>/source/Sources{,.gz,.xz}   listed in dists/<suite>/Release

so that `apt-get source NAME` (with a `deb-src` line) and `dpkg-source -x` work from the bundle alone.
Every file was checked against the lock's sha256 when it was placed (download.py); here each .dsc is
also checked against the files beside it: a .dsc whose Checksums-Sha256 disagree with the files the
lock names is refused, naming the file. Each Sources stanza is the .dsc's own fields (Source renamed to
Package, as dak and apt-ftparchive do) plus Directory, Files (MD5) and Checksums-Sha256 of every file,
the .dsc included; stanzas are sorted by name and version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bundler.lock import Lock, LockedSource
from solver.debversion import sort_key as deb_version_key
from solver.errors import InputError

from .debfile import format_stanza
from .debrepo import pool_prefix

_SAFE_FILE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+~!%=-]*$")
_SAFE_WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+~-]*$")
_DROPPED = ("Source", "Files", "Checksums-Sha1", "Checksums-Sha256", "Checksums-Sha512")


def directory(s: LockedSource) -> str:
    """The pool directory of `s`, relative to the repository root (`debian/`)."""
    return f"pool/{s.component}/{pool_prefix(s.name)}/{s.name}"


def check_lock(lock: Lock) -> None:
    """Refuse names that could leave the bundle or break its layout."""
    for s in lock.sources:
        where = f"bundle.lock: {s.id}"
        if not _SAFE_WORD.match(s.name) or not s.repository_uri:
            raise InputError(f"bad source name or repository {s.name!r}", where=where)
        if any(not _SAFE_WORD.match(c) for c in s.component.split("/")):
            raise InputError(f"bad component {s.component!r}", where=where)
        if s.directory.startswith("/") or ".." in s.directory.split("/"):
            raise InputError(f"bad directory {s.directory!r}", where=where)
        if sum(f.name.endswith(".dsc") for f in s.files) != 1:
            raise InputError("a source package needs exactly one .dsc", where=where)
        for f in s.files:
            if not _SAFE_FILE.match(f.name) or not re.fullmatch(r"[0-9a-f]{64}", f.sha256) or f.size < 0:
                raise InputError(f"bad file entry {f.name!r}", where=where)


def url(s: LockedSource, name: str) -> str:
    from repos.deb.fetch import join_url

    return join_url(s.repository_uri, s.directory, name)


def dsc_of(s: LockedSource) -> str:
    return next(f.name for f in s.files if f.name.endswith(".dsc"))


def read_dsc(path: Path, where: str) -> list[tuple[str, str]]:
    """The fields of a .dsc, signed (clearsigned, RFC 4880 §7) or not."""
    data = path.read_bytes()
    if data.lstrip().startswith(b"-----BEGIN PGP SIGNED MESSAGE-----"):
        from repos.deb.release import strip_clearsign

        data = strip_clearsign(data, where)
    from repos.deb822 import read_stanzas

    try:
        first = next(read_stanzas(data, where), None)  # the first stanza: a .dsc has one
    except InputError as e:
        raise InputError(f"not a source control file: {e.message}", where=e.where or where) from None
    return list(first.items()) if first is not None else []


def check_dsc(s: LockedSource, fields: list[tuple[str, str]], where: str) -> None:
    """The .dsc's Checksums-Sha256 must list exactly the lock's other files, with their size and sha256."""
    d = dict(fields)
    if d.get("Source") != s.name or d.get("Version") != s.version:
        raise InputError(
            f"the .dsc is {d.get('Source', '?')} {d.get('Version', '?')}, the lock says {s.name} {s.version}",
            where=where,
        )
    listed: dict[str, tuple[int, str]] = {}
    for line in d.get("Checksums-Sha256", "").split("\n"):
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit():
            listed[parts[2]] = (int(parts[1]), parts[0].lower())
        elif parts:
            raise InputError(f"malformed Checksums-Sha256 line {line.strip()!r}", where=where)
    if not listed:
        raise InputError("the .dsc has no Checksums-Sha256", where=where)
    locked = {f.name: (f.size, f.sha256) for f in s.files if not f.name.endswith(".dsc")}
    for name in sorted(set(listed) | set(locked)):
        if name not in locked:
            raise InputError(f"{name}: listed in the .dsc but not in the Sources index", where=where)
        if name not in listed:
            raise InputError(f"{name}: in the Sources index but not listed in the .dsc", where=where)
        if listed[name] != locked[name]:
            size, sha = listed[name]
            raise InputError(
                f"{name}: checksum mismatch: the .dsc says {sha} ({size} bytes), "
                f"the file is {locked[name][1]} ({locked[name][0]} bytes)",
                where=where,
            )


@dataclass(frozen=True, slots=True)
class StagedSource:
    source: LockedSource
    fields: list[tuple[str, str]]  # the .dsc's
    md5: dict[str, str]  # sha256 -> MD5 (apt's Files field)


def stanza(s: StagedSource) -> str:
    files = sorted(s.source.files, key=lambda f: f.name)
    fields = [("Package", s.source.name)]
    fields += [(k, v) for k, v in s.fields if k not in _DROPPED]
    fields += [
        ("Directory", directory(s.source)),
        ("Files", "".join(f"\n {s.md5[f.sha256]} {f.size} {f.name}" for f in files)),
        ("Checksums-Sha256", "".join(f"\n {f.sha256} {f.size} {f.name}" for f in files)),
    ]
    return format_stanza(fields)


def sources_indexes(staged: list[StagedSource]) -> dict[str, bytes]:
    """{component: the text of its Sources file}."""
    out: dict[str, list[StagedSource]] = {}
    for s in staged:
        out.setdefault(s.source.component, []).append(s)
    return {
        comp: "\n".join(
            stanza(s) for s in sorted(items, key=lambda s: (s.source.name, deb_version_key(s.source.version)))
        ).encode("utf-8")
        for comp, items in sorted(out.items())
    }
