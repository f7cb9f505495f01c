"""The Debian repository of a bundle: pool, Packages indexes, Release (DebianRepository/Format).

    debian/pool/<component>/<prefix>/<source>/<file>.deb     prefix: first letter, "libx" for lib*
    debian/dists/<suite>/<component>/binary-<arch>/Packages{,.gz,.xz}
    debian/dists/<suite>/<component>/source/Sources{,.gz,.xz}   with source packages (see debsrc.py)
    debian/dists/<suite>/Release  (+ InRelease and Release.gpg when signing, see signing.py)
    debian/bundle.gpg  (the signer's public key, when signing)

Each Packages stanza is the package's own control file (read from the .deb, see debfile.py) plus
Filename, Size, MD5sum and SHA256, as apt-ftparchive writes them; stanzas are sorted by name, version
and architecture. `Architecture: all` packages appear in every architecture's index and in
`binary-all`, and Release says `No-Support-for-Architecture-all: Packages` so apt does not need the
latter (https://wiki.debian.org/DebianRepository/Format#No-Support-for-Architecture-all); a component
without `all` packages has no `binary-all`.
Release also says `Acquire-By-Hash: yes` (DebianRepository/Format#Acquire-By-Hash): apt then fetches each
index as `<dir>/by-hash/SHA256/<digest>`, so a mirror that keeps the indexes also under those names
(`bundler publish` uploads them) can be updated in place while clients holding the old Release still
read the old indexes; where those names are missing (a plain bundle directory), apt falls back to the
plain file names.
Compression is fixed (gzip level 9 with mtime 0 and no name, xz preset 6 with CRC64) so the same
input gives the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import lzma
import os
import posixpath
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

from bundler.lock import LockedPackage
from solver.debversion import sort_key as deb_version_key
from solver.errors import InputError

from .debfile import format_stanza, parse_stanza, read_control

_ADDED = ("Filename", "Size", "MD5sum", "SHA1", "SHA256", "SHA512", "Description-md5")


def pool_prefix(source: str) -> str:
    """The pool's directory hash: "libx" for library sources (lib*), else the first letter."""
    return source[:4] if source.startswith("lib") and len(source) > 3 else source[:1]


def pool_path(p: LockedPackage) -> str:
    """Where `p` lives, relative to the repository root (`debian/`)."""
    source = p.source or p.name
    return f"pool/{p.component}/{pool_prefix(source)}/{source}/{posixpath.basename(p.filename)}"


@dataclass(frozen=True, slots=True)
class PoolFile:
    package: LockedPackage
    path: Path  # the staged file
    relpath: str  # relative to the repository root
    md5: str


def _stanza(f: PoolFile) -> tuple[tuple[str, str, str], str]:
    fields = [(k, v) for k, v in parse_stanza(read_control(f.path), str(f.path)) if k not in _ADDED]
    names = {k for k, _ in fields}
    for needed in ("Package", "Version", "Architecture"):
        if needed not in names:
            raise InputError(f"control file has no {needed} field", where=str(f.path))
    fields += [
        ("Filename", f.relpath),
        ("Size", str(f.package.size)),
        ("MD5sum", f.md5),
        ("SHA256", f.package.sha256),
    ]
    d = dict(fields)
    return (d["Package"], d["Version"], d["Architecture"]), format_stanza(fields)


def _sort(items: Iterable[tuple[tuple[str, str, str], str]]) -> list[str]:
    return [
        text for _key, text in sorted(items, key=lambda kv: (kv[0][0], deb_version_key(kv[0][1]), kv[0][2]))
    ]


def compress_gzip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def compress_xz(data: bytes) -> bytes:
    return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=6)


def release_date(epoch: int) -> str:
    """RFC 2822 in UTC, the form apt and dak write ("Sat, 01 Jan 2000 00:00:00 UTC")."""
    return formatdate(epoch, usegmt=True).replace("GMT", "UTC")


def write_repository(
    root: Path,
    suite: str,
    files: list[PoolFile],
    *,
    epoch: int,
    origin: str,
    architectures: Iterable[str] = (),
    description: str | None = None,
    sources: dict[str, bytes] | None = None,
    signed_by: str | None = None,
) -> dict[str, str]:
    """Write dists/ for the pool files already staged under `root`; returns {relpath: sha256}
    of every file written (paths relative to `root`). `sources`: {component: Sources text} (debsrc.py)."""
    # Reading each .deb's control (an xz or gzip member) releases the GIL: in parallel.
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as readers:
        stanzas = dict(zip((f.relpath for f in files), readers.map(_stanza, files), strict=True))
    archs = {f.package.architecture for f in files if f.package.architecture != "all"}
    archs.update(a for a in architectures if a != "all")
    has_all = any(f.package.architecture == "all" for f in files)
    if not archs:
        archs = {"amd64"}
    components = sorted({f.package.component for f in files} | set(sources or ())) or ["main"]
    index_archs = sorted(archs) + (["all"] if has_all else [])

    written: dict[str, str] = {}
    checksums: list[tuple[str, bytes]] = []  # (path relative to dists/<suite>, content)
    # xz and gzip release the GIL: the indexes of all architectures are compressed side by side
    # (xz -6 of a 1 MB Packages takes half a second; it was the largest fixed cost of a build).
    pool = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1))
    pending: list[tuple[str, Future[bytes]]] = []
    for component in components:
        for arch in index_archs:
            chosen = [
                stanzas[f.relpath]
                for f in files
                if f.package.component == component and f.package.architecture in (arch, "all")
            ]
            if arch == "all" and not chosen:
                # An empty binary-all is redundant (see above) and apt-cdrom, finding no package in it,
                # would add it to sources.list as a flat repository of its own, which apt-get update
                # then fails to fetch.
                continue
            text = "\n".join(_sort(chosen)).encode("utf-8")
            base = f"{component}/binary-{arch}/Packages"
            checksums.append((base, text))
            pending.append((base + ".xz", pool.submit(compress_xz, text)))
            pending.append((base + ".gz", pool.submit(compress_gzip, text)))
            sub_release = (
                f"Archive: {suite}\nOrigin: {origin}\nLabel: {origin}\nComponent: {component}\n"
                f"Architecture: {arch}\n"
            ).encode()
            checksums.append((f"{component}/binary-{arch}/Release", sub_release))
    for component, text in sorted((sources or {}).items()):
        base = f"{component}/source/Sources"
        checksums.append((base, text))
        pending.append((base + ".xz", pool.submit(compress_xz, text)))
        pending.append((base + ".gz", pool.submit(compress_gzip, text)))
        checksums.append((
            f"{component}/source/Release",
            f"Archive: {suite}\nOrigin: {origin}\nLabel: {origin}\nComponent: {component}\nArchitecture: source\n".encode(),
        ))  # fmt: skip
    checksums.extend((rel, future.result()) for rel, future in pending)
    pool.shutdown()
    checksums.sort()
    dists = root / "dists" / suite
    for rel, data in checksums:
        path = dists / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written[f"dists/{suite}/{rel}"] = hashlib.sha256(data).hexdigest()

    fields = [
        ("Origin", origin),
        ("Label", origin),
        ("Suite", suite),
        ("Codename", suite),
        ("Date", release_date(epoch)),
        ("Acquire-By-Hash", "yes"),
        ("Architectures", " ".join(index_archs)),
        ("Components", " ".join(components)),
    ]
    if has_all:
        fields.append(("No-Support-for-Architecture-all", "Packages"))
    if description:
        fields.append(("Description", description))
    if signed_by:
        # The fingerprint of the key that signs this Release (DebianRepository/Format#Signed-By):
        # apt takes only that key for the next Release; bundler verify refuses any other signer.
        fields.append(("Signed-By", signed_by))
    lines = [format_stanza(fields)]
    for title, algo in (("MD5Sum", "md5"), ("SHA256", "sha256")):
        lines.append(f"{title}:\n")
        for rel, data in checksums:
            lines.append(f" {hashlib.new(algo, data).hexdigest()} {len(data):16d} {rel}\n")
    release_bytes = "".join(lines).encode("utf-8")
    (dists / "Release").write_bytes(release_bytes)
    written[f"dists/{suite}/Release"] = hashlib.sha256(release_bytes).hexdigest()
    return written
