"""Read the control file of a binary package without dpkg (deb(5), Debian Policy §5.3); its stanzas
are read by the project's one deb822 reader, `repos.deb822`.

A `.deb` is an ar(5) archive: `debian-binary`, then `control.tar[.gz|.xz|.zst]`, then `data.tar.*`.
Only the control member is read, so the cost does not grow with the package's payload.
"""

from __future__ import annotations

import gzip
import io
import lzma
import tarfile
from pathlib import Path

import zstandard

from repos.deb822 import read_stanza, read_stanzas
from solver.errors import InputError

_AR_MAGIC = b"!<arch>\n"
_HEADER = 60


def _members(f: io.BufferedReader, where: str) -> tuple[str, bytes]:
    if f.read(8) != _AR_MAGIC:
        raise InputError("not a Debian binary package (no ar header)", where=where)
    while True:
        header = f.read(_HEADER)
        if len(header) < _HEADER:
            raise InputError("no control member in the package", where=where)
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        try:
            size = int(header[48:58].decode("ascii").strip())
        except ValueError:
            raise InputError("corrupt ar member header", where=where) from None
        if name.startswith("control.tar"):
            data = f.read(size)
            if len(data) != size:
                raise InputError("truncated control member", where=where)
            return name, data
        f.seek(size + (size & 1), io.SEEK_CUR)


def _decompress(name: str, data: bytes, where: str) -> bytes:
    try:
        if name.endswith(".gz"):
            return gzip.decompress(data)
        if name.endswith(".xz"):
            return lzma.decompress(data)
        if name.endswith(".zst"):
            return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    except (OSError, lzma.LZMAError, zstandard.ZstdError, EOFError) as e:
        raise InputError(f"cannot decompress {name}: {e}", where=where) from None
    if name == "control.tar":
        return data
    raise InputError(f"unsupported control member {name}", where=where)


def read_control(path: Path) -> str:
    """The text of `./control` from the package at `path` (one stanza, trailing newline stripped)."""
    where = str(path)
    with open(path, "rb") as f:
        name, data = _members(f, where)
    raw = _decompress(name, data, where)
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            for member in tar:
                if member.name in ("./control", "control") and member.isfile():
                    fh = tar.extractfile(member)
                    assert fh is not None
                    return fh.read().decode("utf-8").strip("\n")
    except tarfile.TarError as e:
        raise InputError(f"corrupt control archive: {e}", where=where) from None
    raise InputError("the control archive has no ./control", where=where)


def parse_stanza(text: str, where: str = "control") -> list[tuple[str, str]]:
    """Fields of one deb822 stanza, in order (read by `repos.deb822`; ParseError naming `where`:line)."""
    return list(read_stanza(text, where).items())


def parse_stanzas(text: str, where: str = "deb822 file") -> list[list[tuple[str, str]]]:
    """Every stanza of a deb822 file (Packages, Release), each as its fields in order."""
    return [list(stanza.items()) for stanza in read_stanzas(text, where)]


def format_stanza(fields: list[tuple[str, str]]) -> str:
    out = []
    for name, value in fields:
        sep = "" if not value or value.startswith("\n") else " "
        out.append(f"{name}:{sep}{value}\n")
    return "".join(out)
