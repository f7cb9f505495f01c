"""Reading core metadata out of distribution files: a wheel's `*.dist-info/METADATA` (PEP 427) and
an sdist's `PKG-INFO` (PEP 643), from whole files or, for wheels, from a remote file read by HTTP
range requests (the zip's end-of-central-directory and central directory from a suffix range, then the
one member). Also what an sdist needs to be built: its `pyproject.toml` `[build-system] requires`
(PEP 518), or PEP 517's default, setuptools, when it declares none.

This is the project's one place that finds a wheel's METADATA (the index client, the bundle's PEP 658
files and `bundler verify` all come here), with one rule: a wheel has exactly one
`{name}-{version}.dist-info` directory (PEP 427, "the .dist-info directory"), so a wheel with two
`*.dist-info/METADATA` members is an InputError, as is one with none.
"""

from __future__ import annotations

import io
import struct
import tomllib
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

from solver.errors import InputError
from solver.python.model import BUILD_REQUIRES, BUILD_SYSTEM

_EOCD = b"PK\x05\x06"
_EOCD64_LOC = b"PK\x06\x07"
_CDH = b"PK\x01\x02"
_LFH = b"PK\x03\x04"


def _is_metadata_member(name: str) -> bool:
    parts = name.split("/")
    return (
        len(parts) == 2
        and parts[1] == "METADATA"
        and parts[0].endswith(".dist-info")
        and parts[0] != ".dist-info"
    )


def metadata_member(names: Iterable[str], where: str) -> str:
    """The one `*.dist-info/METADATA` among a wheel's member names; InputError for none or several."""
    found = [n for n in names if _is_metadata_member(n)]
    if not found:
        raise InputError("wheel has no .dist-info/METADATA", where=where)
    if len(found) > 1:
        raise InputError(f"wheel has {len(found)} .dist-info/METADATA files: {', '.join(found)}", where=where)
    return found[0]


def wheel_metadata(wheel: bytes | Path, where: str) -> bytes:
    """The METADATA of a wheel, given as its bytes or its path."""
    import zipfile  # here: a warm solve reads no archive (zipfile and tarfile, ~5 ms to import)

    try:
        with zipfile.ZipFile(io.BytesIO(wheel) if isinstance(wheel, bytes) else wheel) as z:
            return z.read(metadata_member(z.namelist(), where))
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:
        raise InputError(f"not a readable wheel: {e}", where=where) from None


def sdist_metadata(data: bytes, filename: str, where: str) -> bytes:
    """The top-level PKG-INFO of an sdist (`<name>-<version>/PKG-INFO`).

    When the sdist also carries setuptools' `*.egg-info/requires.txt`, its requirements are added as
    `X-Legacy-Requires-Dist` headers (with `X-Legacy-Egg-Info: yes`): not trusted by default (PEP 643
    says only static metadata is), but usable when the caller opts in to legacy sdists. What building
    it needs is added as `X-Build-System` and `X-Build-Requires` headers (see `build_system`).
    """
    import tarfile
    import zipfile

    members: dict[str, bytes] = {}
    try:
        if filename.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for n in z.namelist():
                    if _wanted_sdist_member(n):
                        members[n] = z.read(n)
        else:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as t:
                for m in t:
                    if m.isfile() and _wanted_sdist_member(m.name):
                        f = t.extractfile(m)
                        if f is not None:
                            members[m.name] = f.read()
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as e:
        raise InputError(f"not a readable sdist: {e}", where=where) from None
    pkg_info = [b for n, b in sorted(members.items()) if n.count("/") == 1 and n.endswith("/PKG-INFO")]
    if not pkg_info:
        raise InputError("sdist has no PKG-INFO", where=where)
    pyproject = [b for n, b in sorted(members.items()) if n.count("/") == 1 and n.endswith("/pyproject.toml")]
    system, build_requires = build_system(pyproject[0] if pyproject else None)
    extra = f"{BUILD_SYSTEM}: {system}\n".encode()
    for req in build_requires:
        extra += f"{BUILD_REQUIRES}: {req}\n".encode()
    egg = [b for n, b in sorted(members.items()) if n.endswith(".egg-info/PKG-INFO")]
    requires = [b for n, b in sorted(members.items()) if n.endswith(".egg-info/requires.txt")]
    if not egg:
        return extra + pkg_info[0]
    extra += b"X-Legacy-Egg-Info: yes\n"
    for req in legacy_requires(requires[0].decode("utf-8", "replace") if requires else ""):
        extra += f"X-Legacy-Requires-Dist: {req}\n".encode()
    return extra + pkg_info[0]


# PEP 517: "If the pyproject.toml file is absent, or the build-backend key is missing, the source tree
# is not using this specification, and tools should revert to the legacy behaviour of running
# setup.py"; PEP 518 names what that needs. pip and uv install exactly this for such a tree.
DEFAULT_BUILD_REQUIRES = ("setuptools>=40.8.0",)


def build_system(pyproject: bytes | None) -> tuple[str, tuple[str, ...]]:
    """(kind, requirements) of an sdist's `pyproject.toml` (None: it has none): ("pyproject", its
    `[build-system] requires`), ("default", setuptools) when it declares no build system, or
    ("invalid: ...", ()) when the table is there but unusable (pip and uv refuse such an sdist)."""
    if pyproject is None:
        return "default", DEFAULT_BUILD_REQUIRES
    try:
        doc = tomllib.loads(pyproject.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        return f"invalid: pyproject.toml is not valid TOML ({str(e).splitlines()[0]})", ()
    table = doc.get("build-system")
    if table is None:
        return "default", DEFAULT_BUILD_REQUIRES
    requires = table.get("requires") if isinstance(table, dict) else None
    # PEP 518: a [build-system] table without `requires` is an error, not the default.
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        return "invalid: [build-system] has no list of strings `requires`", ()
    return "pyproject", tuple(r.replace("\n", " ").strip() for r in requires)


def _wanted_sdist_member(name: str) -> bool:
    depth = name.count("/")
    if depth == 1 and name.endswith(("/PKG-INFO", "/pyproject.toml")):
        return True
    return depth <= 3 and name.endswith((".egg-info/requires.txt", ".egg-info/PKG-INFO"))


def legacy_requires(text: str) -> list[str]:
    """setuptools' requires.txt (`[extra:marker]` sections) as PEP 508 strings."""
    out = []
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        extra, _, marker = section.partition(":")
        conds = []
        if marker:
            conds.append(f"({marker})")
        if extra:
            conds.append(f'extra == "{extra}"')
        out.append(f"{line}; {' and '.join(conds)}" if conds else line)
    return out


# (start, end inclusive) or (None, n) for the last n bytes -> (bytes, offset of first byte, total size)
RangeReader = Callable[[int | None, int], tuple[bytes, int, int]]


class RangesRefused(Exception):
    """The server answered a range request with the whole file; carries it."""

    def __init__(self, data: bytes) -> None:
        self.data = data


def remote_wheel_metadata(read: RangeReader, where: str, tail: int = 65536) -> tuple[bytes, int]:
    """METADATA of a remote wheel read by ranges; returns (metadata bytes, total file size)."""
    buf, start, total = read(None, tail)
    pos = buf.rfind(_EOCD)
    if pos < 0:
        raise InputError("not a zip file (no end of central directory)", where=where)
    cd_size, cd_offset = struct.unpack("<II", buf[pos + 12 : pos + 20])
    loc = buf.rfind(_EOCD64_LOC, 0, pos)
    if cd_offset == 0xFFFFFFFF or cd_size == 0xFFFFFFFF:
        if loc < 0:
            raise InputError("zip64 without locator", where=where)
        (eocd64_off,) = struct.unpack("<Q", buf[loc + 8 : loc + 16])
        if eocd64_off < start:
            more, _, _ = read(eocd64_off, start - 1)
            buf, start = more + buf, eocd64_off
        rec = eocd64_off - start
        cd_size, cd_offset = struct.unpack("<QQ", buf[rec + 40 : rec + 56])
    if cd_offset < start:
        more, _, _ = read(cd_offset, start - 1)
        buf, start = more + buf, cd_offset
    cd = buf[cd_offset - start : cd_offset - start + cd_size]
    members: dict[str, tuple[int, int, int]] = {}  # METADATA members: name -> (offset, size, method)
    i = 0
    while i + 46 <= len(cd) and cd[i : i + 4] == _CDH:
        (method, _t, _d, _crc, csize, usize, nlen, xlen, clen) = struct.unpack(
            "<HHHIIIHHH", cd[i + 10 : i + 34]
        )
        (local_off,) = struct.unpack("<I", cd[i + 42 : i + 46])
        name = cd[i + 46 : i + 46 + nlen].decode("utf-8", "replace")
        extra = cd[i + 46 + nlen : i + 46 + nlen + xlen]
        if csize == 0xFFFFFFFF or usize == 0xFFFFFFFF or local_off == 0xFFFFFFFF:
            csize, usize, local_off = _zip64_extra(extra, csize, usize, local_off)
        if _is_metadata_member(name):  # the whole directory is read: a second one is an error
            members[name] = (local_off, csize, method)
        i += 46 + nlen + xlen + clen
    local_off, csize, method = members[metadata_member(members, where)]
    return _read_member(read, local_off, csize, method, buf, start, where), total


def _zip64_extra(extra: bytes, csize: int, usize: int, off: int) -> tuple[int, int, int]:
    j = 0
    while j + 4 <= len(extra):
        hid, hlen = struct.unpack("<HH", extra[j : j + 4])
        body = extra[j + 4 : j + 4 + hlen]
        if hid == 1:
            vals = list(struct.unpack(f"<{hlen // 8}Q", body[: hlen // 8 * 8]))
            if usize == 0xFFFFFFFF and vals:
                usize = vals.pop(0)
            if csize == 0xFFFFFFFF and vals:
                csize = vals.pop(0)
            if off == 0xFFFFFFFF and vals:
                off = vals.pop(0)
        j += 4 + hlen
    return csize, usize, off


def _read_member(
    read: RangeReader, off: int, csize: int, method: int, buf: bytes, start: int, where: str
) -> bytes:
    want = off + 30 + 1024 + csize  # the local header's name+extra are rarely > 1 KiB
    if off >= start:
        chunk = buf[off - start :]
    else:
        chunk, _, _ = read(off, min(want, start) - 1)
        if len(chunk) < want - off and want > start:
            chunk += buf[: want - start]
    if chunk[:4] != _LFH:
        raise InputError("corrupt zip: bad local header", where=where)
    nlen, xlen = struct.unpack("<HH", chunk[26:30])
    begin = 30 + nlen + xlen
    if len(chunk) < begin + csize:
        more, _, _ = read(off + len(chunk), off + begin + csize - 1)
        chunk += more
    raw = chunk[begin : begin + csize]
    if method == 0:
        return raw
    if method == 8:
        try:
            return zlib.decompress(raw, -15)
        except zlib.error as e:
            raise InputError(f"corrupt zip member METADATA: {e}", where=where) from None
    raise InputError(f"unsupported zip compression method {method}", where=where)
